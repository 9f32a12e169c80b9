"""A fifth student-tester's findings on the page_sharing, ballooning and security exercises (findings 3, 8, 11, 12
and the checker parts of 13).

page_sharing said VMs share only with equal salts "by default" (that is force_salting = 1, not ESXi 6's default);
ballooning's driver was "stuck" where lesson 10 and config.BALLOON_MODES say "uncooperative"; a wrong swap got the
whole rulebook; swapped page_sharing answers printed one long sentence twice; a nan or negative answer got the rule
paragraph; ``check(None, ...)`` named RhoVictim in every exercise."""
import json
import math
from pathlib import Path

import pytest

from esxlab import checks, problems
from esxlab.config import BALLOON_MODES
from esxlab.problems.instructor import expect, solve
from answers import fails as _fails

SOURCE = Path(__file__).parents[1] / "exercises" / "source"


def _line(message: str, name: str) -> str:
    """The line of a check's message about answer ``name``."""
    return next(line for line in message.splitlines() if line.lstrip("- ").startswith(f"`{name}` "))


def _markdown(notebook: str) -> str:
    cells = json.loads((SOURCE / f"{notebook}.ipynb").read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells)


# finding 3
def test_page_sharing_names_the_salting_mode_it_uses():
    text = _markdown("page_sharing")
    assert "by default" not in text and "`force_salting = 1`" in text and "ESXi 6.0's default, 2" in text
    assert "force_salting = 1" in problems.SharingPrediction(0).describe()


# finding 8
def test_ballooning_drivers_use_the_balloon_modes_names():
    drivers = {problems.BalloonSplit(s).driver for s in range(60)}
    assert drivers - {"booting"} <= set(BALLOON_MODES) and "uncooperative" in drivers
    assert set(problems.BalloonSplit.DRIVERS) - {"booting"} <= set(BALLOON_MODES)
    assert "stuck" not in _markdown("ballooning").replace("balloon_stuck_s", "")
    p = next(problems.BalloonSplit(s) for s in range(60) if problems.BalloonSplit(s).driver == "uncooperative")
    assert "uncooperative" in p.describe() and "stuck" not in p.describe()


# finding 11
def test_a_swap_of_max_minus_target_is_told_the_excess_comes_from_the_allocation():
    p = problems.BalloonSplit(0)                       # the tester's: swap 288 = max − target
    right = solve(p)
    assert p.max_mb - p.target_mb == 288 != right["swap_mb"]
    line = _line(_fails(p, dict(right, swap_mb=288)), "swap_mb")
    assert "the excess is the allocation minus the target; max − target is only the most" in line, line


def test_a_swap_that_forgets_the_current_balloon_is_told_so():
    p = problems.BalloonSplit(9)                       # the tester's: swap 9.2
    right = solve(p)
    assert p.balloon_mb > 0 and p.state == "soft"
    line = _line(_fails(p, dict(right, swap_mb=9.2)), "swap_mb")
    assert "the balloon already holds p.balloon_mb" in line, line


def test_the_fallback_hint_lists_the_steps_and_only_this_states_rule():
    p = problems.BalloonSplit(0)                       # soft
    line = _line(_fails(p, dict(solve(p), swap_mb=150)), "swap_mb")
    assert line.split(": ", 1)[1].startswith("check each step: the excess is the allocation minus the target;")
    assert line.endswith("then the state's rule: soft balloons and pages only what a working balloon cannot take.")
    assert "hard" not in line and "high" not in line, line


def test_the_new_step_mistakes_never_lie_within_the_tolerance_of_the_right_answer():
    """On seeds 0–599 each is named somewhere, and never where it would fail a right answer."""
    named = set()
    for seed in range(600):
        p = problems.BalloonSplit(seed)
        for e in expect(p):
            for m in e.mistakes:
                if m.hint in (p.FROM_MAX, p.FORGOT):
                    named.add((e.name, m.hint))
                    assert abs(m.value - e.value) > e.tol, (seed, e.name, m)
    assert named == {("balloon_mb", problems.BalloonSplit.FROM_MAX), ("swap_mb", problems.BalloonSplit.FROM_MAX),
                     ("swap_mb", problems.BalloonSplit.FORGOT)}


# finding 12
def test_swapped_sharing_answers_explain_the_swap_once():
    p = problems.SharingPrediction(0)
    right = solve(p)
    msg = _fails(p, dict(shared_mb=right["reclaimed_mb"], reclaimed_mb=right["shared_mb"]))
    assert msg.count("shared memory counts every guest page") == 1, msg
    assert "see `shared_mb` above" in _line(msg, "reclaimed_mb")


def test_the_zero_page_slip_within_the_tolerance_is_accepted_on_purpose_and_says_why():
    p = problems.SharingPrediction(0)
    right = solve(p)
    checks.check(p, shared_mb=right["shared_mb"], reclaimed_mb=16.0)      # the tester's slip passes
    assert "one zero frame" in problems.SharingPrediction.__doc__ and "n − 1" in problems.SharingPrediction.__doc__


# finding 13
@pytest.mark.parametrize("cls", [problems.BalloonSplit, problems.SharingPrediction])
def test_nan_infinite_and_negative_amounts_get_one_sentence(cls):
    p = cls(0)
    right = solve(p)
    first, second = list(right)
    msg = _fails(p, {first: math.nan, second: right[second]})
    assert msg == f"`{first}` is nan (not a number): give a finite number (int or float).", msg
    assert "(infinite)" in _fails(p, {first: -math.inf, second: right[second]})
    msg = _fails(p, {first: right[first], second: -3})
    assert msg == f"`{second}` cannot be negative: it is an amount in MB; got -3 (int).", msg


def test_a_negative_answer_elsewhere_keeps_its_feedback():
    """Only answers marked as amounts are refused for their sign (a ρ or a target of another exercise is not)."""
    p = problems.TaxTargets(0)
    msg = _fails(p, dict(solve(p), goal_tax_rate=-0.5))
    assert "cannot be negative" not in msg


@pytest.mark.parametrize("cls", [problems.BalloonSplit, problems.SharingPrediction, problems.SideChannel])
def test_check_of_none_suggests_the_exercises_own_problem(cls):
    names = [e.name for e in expect(cls(0))]
    assert tuple(names) == cls.ANSWER_NAMES
    with pytest.raises(checks.ConfigError) as err:
        checks.check(None, **dict.fromkeys(names, 1))
    assert f"e.g. `p = problems.{cls.__name__}(seed=SEED)`" in str(err.value)


def test_check_of_none_with_other_answers_still_suggests_rho_victim():
    with pytest.raises(checks.ConfigError) as err:
        checks.check(None, rhos=[1], victim="a")
    assert "e.g. `p = problems.RhoVictim(seed=SEED)`" in str(err.value)


def test_every_problem_names_the_answers_it_checks():
    """``checks.check(None, …)`` finds the exercise's class by ``ANSWER_NAMES``: each must be its answers' names."""
    for name in problems.__all__:
        cls = getattr(problems, name)
        if cls is not problems.Problem:
            for seed in range(3):
                assert cls.ANSWER_NAMES == tuple(e.name for e in cls(seed)._expectations()), (name, seed)
