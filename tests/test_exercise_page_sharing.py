"""Exercise: content-based page sharing (paper §4, Figure 4; exercises/source/page_sharing.ipynb,
esxlab/problems/page_sharing.py): its checks' feedback on right and wrong answers, its text and its solution."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from esxlab import checks, problems
from esxlab.checks import ALSO, CheckFailed
from esxlab.problems.instructor import solve

from answers import fails, line, line as _line


SOURCE = Path(__file__).parents[1] / "exercises" / "source"


def _feedback(problem, **answers) -> str:
    with pytest.raises(CheckFailed) as err:
        checks.check(problem, **answers)
    return str(err.value)


def _markdown(notebook: str) -> str:
    cells = json.loads((SOURCE / f"{notebook}.ipynb").read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells)


def _answer_line(message: str, name: str) -> str:
    """The line of a check's message about answer ``name``."""
    return next(line for line in message.splitlines() if line.lstrip("- ").startswith(f"`{name}` "))


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


def test_page_sharing_names_a_shared_page_counted_once():
    """"A shared page counts once" (lab 3's misconception, exercises/README.md) got only the generic hint."""
    from esxlab.problems.page_sharing import SharingPrediction
    p = SharingPrediction(seed=0)
    r = p._solve()
    with pytest.raises(checks.CheckFailed, match="counts each shared content once"):
        checks.check(p, shared_mb=r["shared_mb"] - r["reclaimed_mb"], reclaimed_mb=r["reclaimed_mb"])


@pytest.mark.parametrize("seed", [0, 3])
def test_page_sharing_answers_in_gb_are_named(seed):
    p = problems.SharingPrediction(seed)
    message = fails(p, {k: round(v / 1024, 3) for k, v in solve(p).items()})
    for name in ("shared_mb", "reclaimed_mb"):
        assert "that looks like the answer in GB" in line(message, name)


# finding 3
def test_page_sharing_names_the_salting_mode_it_uses():
    text = _markdown("page_sharing")
    assert "by default" not in text and "`force_salting = 1`" in text and "ESXi 6.0's default, 2" in text
    assert "force_salting = 1" in problems.SharingPrediction(0).describe()


# finding 12
def test_swapped_sharing_answers_explain_the_swap_once():
    p = problems.SharingPrediction(0)
    right = solve(p)
    msg = fails(p, dict(shared_mb=right["reclaimed_mb"], reclaimed_mb=right["shared_mb"]))
    assert msg.count("shared memory counts every guest page") == 1, msg
    assert "see `shared_mb` above" in _answer_line(msg, "reclaimed_mb")


def test_the_zero_page_slip_within_the_tolerance_is_accepted_on_purpose_and_says_why():
    p = problems.SharingPrediction(0)
    right = solve(p)
    checks.check(p, shared_mb=right["shared_mb"], reclaimed_mb=16.0)      # the tester's slip passes
    assert "one zero frame" in problems.SharingPrediction.__doc__ and "n − 1" in problems.SharingPrediction.__doc__
