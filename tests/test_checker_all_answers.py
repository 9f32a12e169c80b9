"""check() judges every answer: a student with two wrong answers learns of both at once."""
import pytest

from esxlab import checks, problems
from esxlab.checks import CheckFailed
from esxlab.problems.instructor import expect, solve

MULTI = [c for c in (problems.RhoVictim, problems.TaxTargets, problems.BalloonSplit, problems.FreeMemoryWalk,
                     problems.Admission, problems.SamplingEstimate, problems.HotPageRemap, problems.DoublePaging,
                     problems.KsmCounters, problems.LimitTargets, problems.SharingStopped)
         if len(expect(c(0))) > 1]
WRONG = {"number": "3.5", "numbers": "1, 2", "choice": 1, "choices": "high"}    # wrong types: always wrong


def _raised(problem, answers, exc):
    with pytest.raises(exc) as err:
        checks.check(problem, **answers)
    return str(err.value)


@pytest.mark.parametrize("cls", MULTI, ids=lambda c: c.__name__)
def test_every_wrong_answer_is_named(cls):
    p = cls(0)
    es = expect(p)
    msg = _raised(p, {e.name: WRONG[e.kind] for e in es}, CheckFailed)
    for e in es:
        assert f"`{e.name}` must be" in msg, (e.name, msg)
    assert msg.splitlines()[0] == ("Both answers need another look:" if len(es) == 2
                                   else f"All {len(es)} answers need another look:")
    assert len(msg.splitlines()) == len(es) + 1


@pytest.mark.parametrize("cls", MULTI, ids=lambda c: c.__name__)
def test_one_wrong_answer_reads_alone(cls):
    p = cls(0)
    e, *_ = expect(p)
    msg = _raised(p, {**solve(p), e.name: WRONG[e.kind]}, CheckFailed)
    assert msg.startswith(f"`{e.name}` must be") and "\n" not in msg


def test_wrong_and_unanswered_are_told_together_as_wrong():
    p = problems.RhoVictim(0)
    msg = _raised(p, {"rhos": [1.0, 2.0, 3.0], "victim": None}, CheckFailed)
    assert msg.startswith("Both answers need another look:")
    assert "`rhos` is not right" in msg and "`victim` is not answered yet" in msg


def test_unanswered_only_is_not_wrong_and_names_each():
    p = problems.TaxTargets(0)
    es = expect(p)
    msg = _raised(p, {e.name: None for e in es}, NotImplementedError)
    assert all(f"`{e.name}` is not answered yet" in msg for e in es)
    right = solve(p)
    msg = _raised(p, {**right, es[-1].name: None}, NotImplementedError)
    assert msg.startswith(f"`{es[-1].name}` is not answered yet: replace None with your answer") and "\n" not in msg


def test_a_problem_defined_outside_the_package_is_told_where_problems_live():
    """A fresh instructor's course-local Problem was refused with "pass the problem object the exercise
    created", which it was: the message now names the rule (a module under esxlab/problems/) and why."""
    class Reserve(problems.RhoVictim):
        pass

    msg = _raised(Reserve(3), {"rhos": [1.0], "victim": "web"}, checks.ConfigError)
    assert f"Reserve is defined in {__name__}" in msg and "modules under esxlab/problems/" in msg
    assert "Adding a problem" in msg


def test_unanswered_says_the_answer_cell_may_have_stopped_first():
    p = problems.RhoVictim(0)
    msg = _raised(p, {**solve(p), "rhos": None}, NotImplementedError)
    assert "run it again and read its error" in msg
