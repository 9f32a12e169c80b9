"""The checker says when a numeric answer is the right one cut or rounded to too few decimal places.

It used to be RhoVictim's alone: its ``_rounded`` listed every mix of right and rounded ρ as a
typical mistake (up to 125 per problem). Now ``esxlab.checks`` tells it for every "number" and
"numbers" answer, item by item, after the typical mistakes, with the problem's own wording if it
gives one (``Expect.rounded_hint``).
"""
import itertools
import math
import re

import pytest

from esxlab import checks, problems
from esxlab.checks import CheckFailed, Expect, Mistake, _close
from esxlab.problems.instructor import expect, solve

NUMERIC = [problems.RhoVictim, problems.TaxTargets, problems.BalloonSplit, problems.Admission,
           problems.SamplingEstimate, problems.HotPageRemap, problems.SharingPrediction, problems.DoublePaging,
           problems.KsmCounters, problems.LimitTargets]


def _message(e: Expect, value) -> str:
    with pytest.raises(CheckFailed) as err:
        checks.verify(e, value)
    return str(err.value)


def _places_named(msg: str) -> set[int]:
    """The decimal places a rounding hint names ("cut or rounded to 2 or 3 decimal places" → {2, 3})."""
    found = re.search(r"cut or rounded to ([\d, or]+) decimal place", msg)
    return {int(x) for x in re.findall(r"\d+", found.group(1))} if found else set()


def _cut(w: float, p: int) -> float:
    return math.trunc(w * 10 ** p + math.copysign(1e-9, w)) / 10 ** p


# -- RhoVictim: every answer the old enumeration named still gets its hint ---------------------------------
def _old_rounded_answers(rhos: list[float]) -> list[list[float]]:
    """The answers RhoVictim._rounded listed (removed) that are cut or rounded: each item right, or cut
    or rounded to 3 or 4 places where that lies outside ±1 %; at least one item not right. (It also
    listed the 3- or 4-place neighbour above a value that rounds down, 0.022 for 0.02149: neither a
    cut nor a rounding, so no longer called one.)"""
    item = Expect("rhos", "number", None, "", tol=problems.RhoVictim.RHO_TOL, rel=True)
    options = []
    for w in rhos:
        near = {c for p in (3, 4) for c in (round(w, p), _cut(w, p))}
        options.append([w, *sorted(c for c in near if not _close(item, c, w))])
    return [list(mix) for mix in itertools.product(*options) if list(mix) != rhos]


def test_rho_answers_the_old_enumeration_named_rounded_still_get_the_rounding_hint():
    """Seeds 0–99: every answer the old enumeration recognised that is cut or rounded gets RhoVictim's
    rounding hint, naming the same decimal places or fewer (0.030 is a 2-place number); one a
    neighbour above instead does not; and the enumeration is gone: ρ lists its 3 typical mistakes (no tax, f
    as the idle fraction, τ as the idle page cost) and its 3 unit slips (per MB, per GB, per cent) only."""
    seen = 0
    for seed in range(100):
        p = problems.RhoVictim(seed)
        e = expect(p)[0]
        assert len(e.mistakes) == 6, seed
        for answer in _old_rounded_answers(e.value):
            msg = _message(e, answer)
            assert "3 significant figures" in msg and _places_named(msg), (seed, answer, msg)
            assert max(_places_named(msg)) <= 4, (seed, answer, msg)
            seen += 1
    assert seen == 795
    e = expect(problems.RhoVictim(0))[0]
    above = [math.ceil(w * 1000) / 1000 if round(w, 3) < w else w for w in e.value]
    assert above != e.value and not any(math.isclose(a, round(w, 3)) for a, w in zip(above, e.value) if a != w)
    assert "significant figures" not in _message(e, above)


def test_the_tester_s_rho_answer_names_3_decimal_places():
    p = problems.RhoVictim(0)
    msg = _message(expect(p)[0], [0.024, 0.021, 0.025])
    assert msg == ("`rhos` is not right (each within ±1 %; first wrong item: `rhos[1]`): those are the right "
                   "values cut or rounded to 3 decimal places, which leaves ρ this small with fewer than 3 "
                   "significant figures: give each ρ to 3 significant figures (three digits from the first nonzero "
                   "one, 0.0xyz or 0.00xyz), which the ±1 % allows.")


# -- every numeric exercise -------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", NUMERIC, ids=lambda c: c.__name__)
def test_an_answer_rounded_or_cut_too_far_is_told_so_in_every_numeric_exercise(cls):
    """Each right item (alone, the others right) rounded or cut to 0–6 decimal places, keeping a
    significant figure: where that falls outside the tolerance and matches no typical mistake, the
    message names the places (or fewer) and asks for more significant figures. Before, only
    RhoVictim said so, for 3 or 4 places."""
    for seed in range(4):
        p = cls(seed)
        for e in expect(p):
            if e.kind not in ("number", "numbers") or e.rounded_hint is None:
                continue
            values = e.value if e.kind == "numbers" else [e.value]
            for i, w in enumerate(values):
                for places in range(7):
                    if 10 ** -places > abs(w):
                        continue
                    for item in {round(w, places), _cut(w, places)}:
                        answer = [*values[:i], item, *values[i + 1:]] if e.kind == "numbers" else item
                        if _close(e, answer, e.value) or any(_close(e, answer, m.value) for m in e.mistakes):
                            continue
                        msg = _message(e, answer)
                        assert "cut or rounded to" in msg and max(_places_named(msg)) <= places, (seed, answer, msg)
                        assert e.tolerance.rstrip(")") in msg and ("significant figures" in msg), msg


def test_an_exercise_s_answer_rounded_reads_so():
    """BalloonSplit seed 1 (75.67 MB) answered 75, and SamplingEstimate seed 0 (slow 0.442) answered
    0.4: before, the general hint."""
    e = expect(problems.BalloonSplit(1))[0]
    assert e.value == pytest.approx(75.668, abs=1e-3)
    assert _message(e, 75) == ("`balloon_mb` is not right (within ±0.5 MB): that looks like the right answer cut or "
                               "rounded to 0 decimal places, which is outside the tolerance: give more significant "
                               "figures.")
    e = next(x for x in expect(problems.SamplingEstimate(0)) if x.name == "slow")
    assert "cut or rounded to 1 decimal place, which" in _message(e, 0.4)


# -- where it must not fire -------------------------------------------------------------------------------
def test_a_whole_unit_off_or_a_number_without_a_figure_of_the_answer_is_no_rounding():
    """An integer answer off by one, a value a whole unit off one that already is a p-place number
    (also through float noise: 0.1 + 0.2, a bisection's 0.8000000000000226), and 0 for 0.4 or 1 for
    0.6 (no significant figure kept) get the general hint."""
    general = "`x` is not right (exact): H"
    for right, wrong in [(52, 51), (52, 53), (52.0, 51.0), (1072.23, 1071), (1072.23, 1070), (1072.23, 1072.1),
                         (0.1 + 0.2, 0.2), (0.1 + 0.2, 0.4), (0.8000000000000226, 0.9), (0.8000000000000226, 0.7)]:
        assert _message(Expect("x", "number", right, hint="H", unit="pages"), wrong) == general, (right, wrong)
    for right, wrong in [(0.4, 0), (0.6, 1), (0.04, 0.1), (0.04, 0)]:
        assert _message(Expect("x", "number", right, hint="H", tol=0.005), wrong).endswith(": H"), (right, wrong)
    x = Expect("x", "number", 1072.23, hint="H", unit="pages")
    assert _places_named(_message(x, 1072)) == {0} and not _places_named(_message(x, 1073))     # cut; not a rounding
    assert _places_named(_message(x, 1072.2)) == {1}
    assert _places_named(_message(Expect("x", "number", 0.54, hint="H", tol=0.005), 0.5)) == {1}


def test_exercises_with_whole_numbers_never_read_a_slip_of_one_as_a_rounding():
    """KsmCounters and HotPageRemap (integers, exact), TaxTargets' τ (bisection noise) and page_sharing's
    reclaimed memory (16 MB less two pages: 15 is a content missed, so it opts out) keep their hints."""
    for cls, name in [(problems.KsmCounters, "pages_shared"), (problems.KsmCounters, "pages_sharing"),
                      (problems.HotPageRemap, "remap_s"), (problems.HotPageRemap, "bounce_copies")]:
        for seed in range(4):
            e = next(x for x in expect(cls(seed)) if x.name == name)
            for wrong in (e.value - 1, e.value + 1):
                assert "cut or rounded" not in _message(e, wrong), (cls, seed, wrong)
    e = expect(problems.TaxTargets(0))[1]
    assert e.value == pytest.approx(0.8, abs=1e-12) and e.value != 0.8
    assert not any("cut or rounded" in _message(e, w) for w in (0.7, 0.9))
    for seed in range(4):
        p = problems.SharingPrediction(seed)
        e = expect(p)[1]
        assert e.name == "reclaimed_mb" and e.rounded_hint is None and e.value % 1 > 0.99
        assert _message(e, math.floor(e.value)).endswith(e.hint), seed
        checks.verify(e, round(e.value, 1))


# -- the interface ----------------------------------------------------------------------------------------
def test_typical_mistakes_come_before_the_rounding_hint():
    """An answer that is a typical mistake and also the right value rounded gets both, the mistake first."""
    e = Expect("x", "number", 0.1234, hint="H", tol=0.001, mistakes=(Mistake(0.12, "M"),))
    assert _message(e, 0.12) == ("`x` is not right (within ±0.001): M" + checks.ALSO
                                 + checks.ROUNDED.format(places="2 decimal places"))
    assert _places_named(_message(e, 0.1)) == {1} and not _places_named(_message(e, 0.13))


def test_a_problem_words_its_own_rounding_hint_or_none_and_lists_name_their_places():
    assert checks.ROUNDED.format(places="2 decimal places") == (
        "that looks like the right answer cut or rounded to 2 decimal places, which is outside the tolerance: give "
        "more significant figures.")
    own = Expect("x", "number", 0.1234, hint="H", tol=0.001, rounded_hint="cut to {places}: more digits.")
    assert _message(own, 0.12) == "`x` is not right (within ±0.001): cut to 2 decimal places: more digits."
    assert _message(Expect("x", "number", 0.1234, hint="H", tol=0.001, rounded_hint=None), 0.12).endswith(": H")
    xs = Expect("xs", "numbers", [0.1234, 12.3456, 5.0], hint="H", tol=0.0001)
    msg = _message(xs, [0.12, 12.3, 5.0])
    assert msg.startswith("`xs` is not right (each within ±0.0001; first wrong item: `xs[0]`): that looks like")
    assert "cut or rounded to 1 or 2 decimal places," in msg
    assert "to 1 decimal place," in _message(xs, [0.1234, 12.3, 5.0])
    assert _message(xs, [0.12, 12.0, 5.0]).endswith("0 or 2 decimal places, which is outside the tolerance: give "
                                                    "more significant figures.")
    assert _message(xs, [0.12, 12.0345, 5.0]).endswith(": H")         # every wrong item must be a rounding


def test_a_choice_in_other_letters_is_read_as_that_choice():
    """A tester answered DoublePaging's lru_double_paging with " More": refused then, with no word on why; now read
    as 'more', as the lesson widgets read a choice typed in another case."""
    p = problems.DoublePaging(seed=0)
    checks.check(p, **{**solve(p), "lru_double_paging": " More"})
