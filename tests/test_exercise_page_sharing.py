"""Exercise: content-based page sharing (paper §4, Figure 4; exercises/source/page_sharing.ipynb,
esxlab/problems/page_sharing.py): its checks' feedback on right and wrong answers, its text and its solution."""
from __future__ import annotations

import pytest

import esxlab as esx
from esxlab import checks, problems
from esxlab.checks import ALSO
from esxlab.problems.instructor import expect, solve

from answers import (answer_line as _answer_line, exercise_markdown as _markdown, fails, feedback as _feedback, line,
                     line as _line)


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


def test_page_sharing_names_the_salting_mode_it_uses():
    text = _markdown("page_sharing")
    assert "by default" not in text and "`force_salting = 1`" in text and "ESXi 6.0's default, 2" in text
    assert "force_salting = 1" in problems.SharingPrediction(0).describe()


def test_swapped_sharing_answers_explain_the_swap_once():
    p = problems.SharingPrediction(0)
    right = solve(p)
    msg = fails(p, dict(shared_mb=right["reclaimed_mb"], reclaimed_mb=right["shared_mb"]))
    assert msg.count("shared memory counts every guest page") == 1, msg
    assert "see `shared_mb` above" in _answer_line(msg, "reclaimed_mb")


def test_the_zero_page_slip_within_the_tolerance_is_accepted_on_purpose_and_says_why():
    p = problems.SharingPrediction(0)
    right = solve(p)
    checks.check(p, shared_mb=right["shared_mb"], reclaimed_mb=16.0)      # the zero-page slip passes
    assert "one zero frame" in problems.SharingPrediction.__doc__ and "n − 1" in problems.SharingPrediction.__doc__


def test_sharing_answered_in_pages_gets_the_units_hint():
    p = problems.SharingPrediction(0)
    right = solve(p)
    pages = {k: v * esx.PAGES_PER_MB for k, v in right.items()}
    assert "those look like pages; give MB" in _feedback(p, shared_mb=6400, reclaimed_mb=4094)   # both in pages
    assert "`shared_mb`" in _feedback(p, **pages)
    msg = _feedback(p, shared_mb=right["shared_mb"], reclaimed_mb=pages["reclaimed_mb"])
    assert "`reclaimed_mb`" in msg and "those look like pages; give MB" in msg


def test_sharing_answers_swapped_get_the_swapped_hint():
    p = problems.SharingPrediction(0)
    right = solve(p)
    msg = _feedback(p, shared_mb=15.99, reclaimed_mb=25)              # the two answers swapped
    assert "look swapped" in msg and "`shared_mb`" in msg
    msg = _feedback(p, shared_mb=right["reclaimed_mb"], reclaimed_mb=right["shared_mb"])
    assert "look swapped" in msg


def test_sharing_none_salt_taken_as_no_sharing_is_named_where_it_changes_the_answer():
    """A VM without a salt shares with the other unsalted VMs (None is one common salt), not with
    nobody (ShareForceSalting = 2); listed only where that changes the answer."""
    seen = 0
    for seed in range(4):
        p = problems.SharingPrediction(seed)
        alone = p._run(force_salting=2)
        right = solve(p)
        for e, value in zip(expect(p), alone):
            listed = any("None" in m.hint for m in e.mistakes)
            assert listed == (abs(value - right[e.name]) > 0.1), (seed, e.name)
            if listed:
                assert "one common salt" in _feedback(p, **{**right, e.name: value})
                seen += 1
    assert seen >= 2
