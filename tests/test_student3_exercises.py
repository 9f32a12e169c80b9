"""Exercises as a third student-tester found them (ballooning, sampling, page_sharing, free_memory_states).

ballooning gave the generic hint to the paper's plain reading of the high state (§6.3: no reclamation), while
esxlab reads it as 'converge'; sampling's Background named a third average the problem never gives, and an
estimate that was both the smaller average and the right one rounded was told only the first; swapped
answers were named on one line only (page_sharing, sampling); a walk without hysteresis and an Admission that
counts the new VM in `reserved_mb` got only the general rule; a choice typed in another case ('High', 'Admit',
'DB') was refused where the lesson Questions take it.
"""
from pathlib import Path

import nbformat
import numpy as np
import pytest

from esxlab import checks, problems
from esxlab.checks import ALSO, CheckFailed, Expect, Mistake
from esxlab.problems.instructor import solve
from answers import line as _line

ROOT = Path(__file__).resolve().parents[1]
SEEDS = range(200)
FOLDERS = ["exercises/source", "exercises/release"]


def _feedback(problem, **answers) -> str:
    with pytest.raises(CheckFailed) as err:
        checks.check(problem, **answers)
    return str(err.value)


def _background(name: str, folder: str) -> str:
    cells = nbformat.read(ROOT / folder / f"{name}.ipynb", as_version=4).cells
    return " ".join(next(c.source for c in cells if c.source.startswith("## Background")).split())


# -- ballooning (item 4) -------------------------------------------------------------------------------------
def _paper_balloon_mb(p) -> float:
    """The paper's plain reading of high (no reclamation): a working balloon keeps what it holds, never more
    than its cap nor max − target."""
    return min(p.balloon_mb, p.max_mb * p.cap_pct / 100, p.max_mb - p.target_mb)


def test_the_papers_reading_of_high_is_a_named_mistake_seed_12():
    """Seed 12: high, a working driver, 222 MB allocated over a 160 MB target, a balloon of 8 MB. A student
    who follows §6.3 literally keeps the balloon at 8 MB and pages nothing; the generic hint ("high pages
    nothing") told them they were right."""
    p = problems.BalloonSplit(seed=12)
    assert (p.state, p.driver, p.balloon_mb, p.alloc_mb, round(p.target_mb)) == ("high", "cooperative", 8, 222, 160)
    msg = _feedback(p, balloon_mb=8, swap_mb=0)
    assert "`swap_mb`" not in msg
    assert "esxlab reads §6.3 as 'converge'" in msg and "a working balloon still takes the VM's excess over its " \
        "target; only paging waits for soft." in msg


def test_the_papers_reading_of_high_is_named_wherever_it_differs():
    """Every draw in high whose working balloon the converge reading grows beyond the tolerance names the paper's
    reading, whose value the test computes on its own."""
    named = 0
    for seed in SEEDS:
        p = problems.BalloonSplit(seed=seed)
        right = solve(p)
        paper = _paper_balloon_mb(p)
        if p.state != "high" or abs(paper - right["balloon_mb"]) <= 0.5:
            continue
        assert p.driver == "cooperative", seed
        assert "'converge'" in _feedback(p, balloon_mb=paper, swap_mb=0.0), seed
        named += 1
    assert named >= 10


@pytest.mark.parametrize("folder", FOLDERS)
def test_ballooning_background_states_the_converge_reading(folder):
    text = _background("ballooning", folder)
    assert "no reclamation is performed" in text and "*converge*" in text
    assert "in high the host pages nothing, but a working balloon still takes a VM's excess over its target; only " \
           "paging waits for soft" in text


# -- sampling (item 6) ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("folder", FOLDERS)
def test_sampling_background_says_why_the_third_average_is_not_asked(folder):
    text = _background("sampling", folder)
    assert "(plus a fast average that includes the unfinished period)" not in text
    assert "at a period's end, where this exercise asks, it equals the fast average" in text
    assert "the estimate is the larger of `slow` and `fast`" in text


def test_at_a_periods_end_the_third_average_is_the_fast_one():
    """What the Background now says, as esxlab.sampling does it, for the problem's own runs."""
    for seed in range(20):
        s = problems.SamplingEstimate(seed=seed)._run()
        assert s.fast_current == s.fast and s.estimate == max(s.slow, s.fast)


def test_a_mistake_that_is_also_the_right_value_rounded_gets_both_hints():
    """0.4 for an estimate of 0.442 is the smaller average (0.398) and 0.442 rounded: the mistake first, then
    the rounding, joined as two mistakes of one value are."""
    p = problems.SamplingEstimate(seed=0)
    right = solve(p)
    assert (round(right["estimate"], 3), round(min(right["slow"], right["fast"]), 3)) == (0.442, 0.398)
    line = _line(_feedback(p, **{**right, "estimate": 0.4}), "estimate")
    assert line.endswith("ESX takes the largest." + ALSO + "that looks like the right answer cut or rounded to 1 "
                         "decimal place, which is outside the tolerance: give more significant figures.")


def test_the_rounding_hint_follows_any_mistake_of_the_same_value():
    e = Expect("x", "number", 0.442, hint="H", tol=0.005, mistakes=(Mistake(0.398, "M."),))
    with pytest.raises(CheckFailed, match=r": M\. Another mistake gives the same answer: that looks like the right "
                                          r"answer cut or rounded to 1 decimal place"):
        checks.verify(e, 0.4)
    with pytest.raises(CheckFailed) as err:
        checks.verify(e, 0.398)                          # the mistake alone: 0.398 is no rounding of 0.442
    assert str(err.value).endswith(": M.")
    no_rounding = Expect("x", "number", 0.442, hint="H", tol=0.005, mistakes=e.mistakes, rounded_hint=None)
    with pytest.raises(CheckFailed) as err:
        checks.verify(no_rounding, 0.4)
    assert str(err.value).endswith(": M.")


# -- swapped answers on both lines (item 7) ------------------------------------------------------------------
def test_page_sharing_names_swapped_answers_on_both_lines():
    p = problems.SharingPrediction(seed=0)
    right = solve(p)
    msg = _feedback(p, shared_mb=right["reclaimed_mb"], reclaimed_mb=right["shared_mb"])
    swap = "`shared_mb` and `reclaimed_mb` look swapped"
    for name in ("shared_mb", "reclaimed_mb"):
        line = _line(msg, name)
        assert line.count(swap) == 1 and ALSO not in line, line
    # one answer in the other's place, the other right: each line keeps its own hint
    assert "that is the reclaimed memory" in _feedback(p, shared_mb=right["reclaimed_mb"],
                                                       reclaimed_mb=right["reclaimed_mb"])
    assert "not every shared page is reclaimed" in _feedback(p, shared_mb=right["shared_mb"],
                                                             reclaimed_mb=right["shared_mb"])


def test_sampling_names_swapped_averages_on_both_lines():
    p = problems.SamplingEstimate(seed=0)
    right = solve(p)
    msg = _feedback(p, **{**right, "slow": right["fast"], "fast": right["slow"]})
    for name in ("slow", "fast"):
        line = _line(msg, name)
        assert line.count("`slow` and `fast` look swapped") == 1 and "an EWMA moves" not in line, line


# -- free_memory_states (item 8) -----------------------------------------------------------------------------
def _from_thresholds(p) -> list[str]:
    """Each reading's state from the thresholds alone, forgetting the state before: the lowest state whose
    threshold free memory is below (soft 4 %, hard 2 %, low 1 %), else high."""
    pct = 100 * np.asarray(p.free_mb) / p.memory_mb
    return [next((s for s, t in (("low", 1), ("hard", 2), ("soft", 4)) if x < t), "high") for x in pct]


def test_a_walk_without_hysteresis_is_named_seed_0():
    """The tester's walk for seed 0, first wrong at states[3], got the general rule."""
    p = problems.FreeMemoryWalk(seed=0)
    walk = _from_thresholds(p)
    assert walk == ["high", "soft", "low", "soft", "low", "soft", "high", "soft"]
    msg = _feedback(p, states=walk)
    assert "first wrong item: `states[3]`" in msg and "the host remembers where it is" in msg


def test_a_walk_without_hysteresis_is_named_wherever_it_is_wrong():
    named = 0
    for seed in SEEDS:
        p = problems.FreeMemoryWalk(seed=seed)
        walk = _from_thresholds(p)
        if walk != solve(p)["states"]:
            assert "the host remembers where it is" in _feedback(p, states=walk), seed
            named += 1
    assert named >= 150


def test_counting_the_new_vm_in_reserved_mb_is_named():
    """Seed 0: the running VMs reserve [448, 608] MB; with 'new' counted too, [496, 736]."""
    q = problems.Admission(seed=0)
    right = solve(q)
    assert right["reserved_mb"] == [448, 608]
    msg = _feedback(q, reserved_mb=[496, 736], verdict=right["verdict"])
    assert "only the running VMs' reservations count: 'new' is not powered on yet" in msg
    for seed in range(1, 50):                                      # computed from the problem's own VMs
        q = problems.Admission(seed=seed)
        vms = [*q.running, q.new]
        counted = [sum(c.min_mb + c.overhead_mb for c in vms), sum(c.max_mb - c.min_mb for c in vms)]
        assert "only the running VMs'" in _feedback(q, reserved_mb=counted, verdict=solve(q)["verdict"]), seed


# -- choices in another case (item 9) ------------------------------------------------------------------------
def test_a_choice_in_another_case_is_that_choice():
    """'High', 'Admit', 'DB' (and spaces around them) are the choices they spell, as in the lesson Questions."""
    walk = problems.FreeMemoryWalk(seed=0)
    checks.check(walk, states=[f" {s.title()} " for s in solve(walk)["states"]])
    checks.check(walk, states=tuple(s.upper() for s in solve(walk)["states"]))
    q = problems.Admission(seed=0)
    checks.check(q, reserved_mb=solve(q)["reserved_mb"], verdict=solve(q)["verdict"].title())
    victim = next(p for p in map(problems.RhoVictim, range(50)) if solve(p)["victim"] == "db")
    checks.check(victim, **{**solve(victim), "victim": "DB"})


def test_a_choice_in_another_case_is_judged_as_that_choice():
    """A wrong choice in capitals is wrong, with its mistake's hint, not refused for its spelling."""
    q = problems.Admission(seed=0)
    msg = _feedback(q, reserved_mb=solve(q)["reserved_mb"], verdict="Swap")
    assert "`verdict` is not right" in msg and "must be one of" not in msg


@pytest.mark.parametrize("typed", ["Adm", "admit!", "ad mit", ""])
def test_a_value_that_is_no_choice_in_any_case_is_refused_as_before(typed):
    q = problems.Admission(seed=0)
    msg = _feedback(q, reserved_mb=solve(q)["reserved_mb"], verdict=typed)
    assert msg == f"`verdict` must be one of 'admit', 'memory', 'swap'; got {typed!r}."
