"""Unit slips (the right answer in another unit) are named where they can be told from 0 and from the
other typical mistakes, in every exercise whose answers have a unit.

From a tester's night report: BalloonSplit told a student who answered 0 "that looks like the answer in
GB" (any answer below 512 MB is within ±0.5 MB of 0 in GB), and LimitTargets, TaxTargets,
SamplingEstimate, Admission and RhoVictim had no hint for an answer in GB, pages, MB or per cent.
"""
import math

import pytest

from esxlab import checks, problems
from esxlab.checks import CheckFailed, Expect, Mistake, _close
from esxlab.problems.base import UNIT_SLIPS, slip
from esxlab.problems.instructor import expect, solve

GB, PAGES = UNIT_SLIPS["MB", "GB"][1], UNIT_SLIPS["MB", "pages"][1]
WITH_SLIPS = [problems.BalloonSplit, problems.DoublePaging, problems.RhoVictim, problems.TaxTargets,
              problems.LimitTargets, problems.SamplingEstimate, problems.Admission, problems.SharingPrediction]


def _feedback(problem, **answers) -> str:
    with pytest.raises(CheckFailed) as err:
        checks.check(problem, **answers)
    return str(err.value)


def _message(e: Expect, value) -> str:
    with pytest.raises(CheckFailed) as err:
        checks.verify(e, value)
    return str(err.value)


def _significant(x, figures: int):
    """``x`` (a number or a list of them) rounded to ``figures`` significant figures."""
    if isinstance(x, list):
        return [_significant(v, figures) for v in x]
    return round(x, figures - 1 - math.floor(math.log10(abs(x)))) if x else 0.0


# -- finding 1: 0 is 0 in every unit -----------------------------------------------------------------------
def test_the_testers_zero_answers_do_not_read_as_gb():
    """Seed 1 (hard, working driver, balloon 75.67 MB) and seed 3 (hard, no driver, swap 96 MB) answered 0:
    the state rule's hint (the general one: no typical mistake is 0 there), not "in GB"."""
    p = problems.BalloonSplit(1)
    msg = _feedback(p, balloon_mb=0, swap_mb=59.668)
    assert "GB" not in msg and "hard pages the whole excess and still asks a loaded driver's balloon" in msg
    q = problems.BalloonSplit(3)
    msg = _feedback(q, **{**solve(q), "swap_mb": 0})
    assert "GB" not in msg and "hard pages the whole excess" in msg


def test_a_slip_is_named_only_for_an_answer_nearer_it_than_0():
    """0.19 GB (197 MB) is within ±0.5 MB of 0, yet an answer of 0.19 reads as GB (the earlier tester's
    F8); 0 reads as the typical mistake whose value is 0, or gets the general hint; a mistake that is
    not a slip is named for 0 as before."""
    slip = Mistake(197 / 1024, GB, slip=True)
    e = Expect("x", "number", 197.0, hint="H", tol=0.5, unit="MB", mistakes=(slip, Mistake(0.0, "M")))
    assert _message(e, 0.19).endswith(GB) and _message(e, 0).endswith(": M")
    alone = Expect("x", "number", 197.0, hint="H", tol=0.5, unit="MB", mistakes=(slip,))
    assert _message(alone, 0).endswith(": H") and _message(alone, 0.09).endswith(": H")
    assert _message(alone, 0.1).endswith(GB)
    plain = Expect("x", "number", 197.0, hint="H", tol=0.5, unit="MB", mistakes=(Mistake(0.19, "M"),))
    assert _message(plain, 0).endswith(": M")
    xs = Expect("xs", "numbers", [96.0, 160.0], hint="H", tol=1.0, unit="MB",
                mistakes=(Mistake([96 / 1024, 160 / 1024], GB, slip=True),))
    assert _message(xs, [0, 0]).endswith(": H") and _message(xs, [0.09, 0.16]).endswith(GB)


# -- finding 5: the slips each exercise was missing ---------------------------------------------------------
def test_the_testers_unit_answers_get_a_units_hint():
    """The tester's answers, each of which got a concept hint or the general one."""
    p = problems.LimitTargets(0)
    right = solve(p)
    assert _feedback(p, **{**right, "idle_mb": [x / 1024 for x in right["idle_mb"]]}).endswith(GB)
    assert _feedback(p, **{**right, "busy_mb": [x * 256 for x in right["busy_mb"]]}).endswith(PAGES)
    assert _feedback(p, **{**right, "busy_mb": [x / 1024 for x in right["busy_mb"]]}).endswith(GB)
    q = problems.TaxTargets(0)
    assert _feedback(q, **{**solve(q), "targets_mb": [x / 1024 for x in solve(q)["targets_mb"]]}).endswith(GB)
    s = problems.SamplingEstimate(0)
    assert s.max_mb == 512 and solve(s)["estimate"] == pytest.approx(0.442)
    assert "the estimate in MB; give it as a fraction" in _feedback(s, **{**solve(s), "estimate": 0.442 * 512})
    a = problems.Admission(0)
    assert _feedback(a, **{**solve(a), "reserved_mb": [x / 1024 for x in solve(a)["reserved_mb"]]}).endswith(GB)
    r = problems.RhoVictim(0)
    rhos = solve(r)["rhos"]
    assert "P was counted in GB" in _feedback(r, **{**solve(r), "rhos": [x * 256 * 1024 for x in rhos]})
    assert "a percentage" in _feedback(r, **{**solve(r), "rhos": [round(100 * x, 2) for x in rhos]})
    assert "P was counted in MB" in _feedback(r, **{**solve(r), "rhos": [x * 256 for x in rhos]})


def test_a_fraction_given_as_a_percentage_gets_the_percentage_hint():
    s = problems.SamplingEstimate(0)
    right = solve(s)
    for name in ("f", "slow", "fast", "estimate"):
        assert "a percentage; give a fraction" in _feedback(s, **{**right, name: 100 * right[name]}), name


# -- the guards, over seeds 0–99 ----------------------------------------------------------------------------
@pytest.mark.parametrize("cls", WITH_SLIPS, ids=lambda c: c.__name__)
def test_every_slip_reads_as_itself_and_never_as_0_seeds_0_to_99(cls):
    """Seeds 0–99: no slip lies within the tolerance of the right answer; every typical mistake, given as
    it is (with the other answers it names), gets its own hint, and every slip also rounded to 2 or 3
    significant figures (where that stays within its tolerance): BalloonSplit's GB and fraction-of-max
    slips lie within ±0.5 MB of each other and of mistakes whose value is 0, and the nearest one is
    named; 0 (every item 0) never reads as a slip."""
    slips = 0
    for seed in range(100):
        p = cls(seed)
        expected = expect(p)
        right = {e.name: (e, v) for e, v in zip(expected, solve(p).values())}
        for e in expected:
            if e.kind not in ("number", "numbers"):
                continue
            zero = [0] * len(e.value) if e.kind == "numbers" else 0
            if not _close(e, zero, e.value):
                assert not any(m.slip and m.hint in _message(e, zero) for m in e.mistakes), (seed, e.name)
            for m in e.mistakes:
                given = {**right, **{name: (right[name][0], v) for name, v in m.given.items()}}
                answers = [m.value] + [_significant(m.value, n) for n in (2, 3)] * m.slip
                for answer in answers:
                    if not _close(e, answer, m.value):
                        continue
                    with pytest.raises(CheckFailed) as err:
                        checks.verify(e, answer, given)
                    assert m.hint in str(err.value), (seed, e.name, answer, m.hint)
                slips += m.slip
                assert not (m.slip and _close(e, m.value, e.value)), (seed, e.name, m.hint)
    assert slips >= 100


def test_slip_scales_a_number_or_a_list_and_skips_zero():
    (m,) = slip(3.0, 256, "H")
    assert (m.value, m.hint, m.slip) == (768.0, "H", True)
    assert [m.value for m in slip([1.0, 2.0], 0.5, "H")] == [[0.5, 1.0]]
    assert slip(0.0, 256, "H") == () and slip([0, 0], 256, "H") == ()


def test_the_fraction_of_max_and_estimate_in_mb_slips_come_from_slip():
    """BalloonSplit's fraction of max and SamplingEstimate's estimate in MB are slip()'s mistakes, and like
    every slip none is listed for a right answer of 0 (SamplingEstimate listed 0 × max_mb)."""
    for seed in range(10):
        p = problems.BalloonSplit(seed)
        for e in expect(p):
            fraction = slip(e.value, 1 / p.max_mb, "that looks like a fraction of max; give it in MB.")
            assert all(m in e.mistakes for m in fraction), (seed, e.name)
        q = problems.SamplingEstimate(seed)
        estimate = expect(q)[3]
        in_mb = slip(estimate.value, q.max_mb, "that looks like the estimate in MB; give it as a fraction of the "
                                               "VM's memory (MB / p.max_mb).")
        assert in_mb and in_mb[0] in estimate.mistakes, seed
    q = problems.SamplingEstimate(0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(problems.SamplingEstimate, "_solve", lambda self: dict(f=0.0, slow=0.1, fast=0.1, estimate=0.0))
        q._expected = None
        assert not any("estimate in MB" in m.hint for m in q._expectations()[3].mistakes)


def test_sampling_f_given_in_mb_is_told_it_is_a_fraction_of_the_sampled_pages():
    """A tester gave f = 66.6 (the active memory in MB) and got only "f is the fraction of the sampled
    pages that were touched"; seeds 0–199 keep their draws (this slip is never within f's tolerance)."""
    for seed in range(40):
        p = problems.SamplingEstimate(seed)
        right = solve(p)
        msg = _feedback(p, **{**right, "f": round(right["f"] * p.max_mb, 1)})
        assert "looks like the active memory in MB (f × p.max_mb)" in msg and "t / n" in msg, seed
