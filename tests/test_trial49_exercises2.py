"""Findings of session 49's second student trial (ballooning, demand_paging, page_sharing, idle_memory_tax,
esx_today, capstone_policy). Each test fails on the code before.

1. A check of a problem of another seed than the notebook's SEED said "Correct" with no word that grading uses SEED.
2. capstone: ``p.measure(policy)`` accepted illegal victims, and a stateful policy's state carried into the check.
3. capstone: a policy returning fewer than n victims was told to reconsider vm.last_touch.
4. demand_paging: the backed memory rounded to whole MB got hints about which pages are touched.
5. idle_memory_tax: the victim hint named the untaxed victim whatever the student's rhos.
6. esx_today: busy_mb and idle_mb swapped were not named as swapped.
7. page_sharing in GB, compute_targets' None, the capstone's boolean-mask hint.
"""
from __future__ import annotations

import json
from pathlib import Path

import nbclient
import nbformat
import numpy as np
import pytest

from esxlab import checks, problems
from esxlab.problems.instructor import solve
from answers import fails, line

ROOT = Path(__file__).resolve().parents[1]
CAREFUL = "grading checks your answers with SEED = 0"


# -- 1: a problem of another seed than the notebook's SEED ---------------------------------------------------------
def _run(sources: list[str]) -> list[str]:
    """The text each cell of a notebook made of ``sources`` showed (stdout and errors), run in a kernel."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbclient.NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=120).execute()
    return ["".join(o.get("text", "") + o.get("evalue", "") for o in c.outputs) for c in nb.cells]


def test_a_check_in_a_notebook_of_another_seed_than_SEED_says_grading_uses_SEED():
    """The ballooning student named seed 5's problem p and saw Correct for seed 5's answers; grade.py gave 0/3."""
    five = solve(problems.BalloonSplit(5))
    wrong = dict(five, swap_mb=five["swap_mb"] + 50)
    shown = _run(["SEED = 0\nfrom esxlab import checks, problems\np = problems.BalloonSplit(seed=SEED)",
                  "p = problems.BalloonSplit(seed=5)",
                  f"checks.check(p, **{five!r})",
                  f"checks.check(p, **{wrong!r})",
                  f"checks.check(problems.BalloonSplit(seed=SEED), **{solve(problems.BalloonSplit(0))!r})"])
    assert shown[2].startswith("Correct:") and CAREFUL in shown[2]          # a right answer for its own p passes
    assert "`p` is BalloonSplit(seed=5)" in shown[2] and "p = problems.BalloonSplit(seed=SEED)" in shown[2]
    assert "is not right" in shown[3] and CAREFUL in shown[3]
    assert shown[4].startswith("Correct:") and "Careful" not in shown[4]


def test_outside_a_notebook_the_seed_is_not_compared(capsys):
    checks.check(problems.BalloonSplit(5), **solve(problems.BalloonSplit(5)))
    assert "Careful" not in capsys.readouterr().out


def test_ballooning_suggests_another_seed_under_another_name():
    for folder in ("source", "release"):
        text = (ROOT / "exercises" / folder / "ballooning.ipynb").read_text()
        assert "`other = problems.BalloonSplit(seed=5)`" in text
        assert "(`problems.BalloonSplit(seed=5)`)" not in text


# -- 2 and 3: the capstone's measure validates as the check does; fresh copies; too few victims --------------------
from esxlab.pmap import PRIVATE                                   # noqa: E402
from esxlab.swap import ReplacementPolicy, private_outside        # noqa: E402


class LRU(ReplacementPolicy):
    def victims(self, vm, n, rng, protect):
        c = private_outside(vm, protect)
        return c[np.argsort(vm.last_touch[c], kind="stable")[:n]]


class AnyState(ReplacementPolicy):                  # non-private pages: 0 swap-ins under the old measure
    def victims(self, vm, n, rng, protect):
        return np.argsort(vm.last_touch, kind="stable")[:n]


class Duplicate(LRU):
    def victims(self, vm, n, rng, protect):
        v = super().victims(vm, n, rng, protect)
        v[1] = v[0]
        return v


class Negative(LRU):
    def victims(self, vm, n, rng, protect):
        v = super().victims(vm, n, rng, protect)
        v[-1] = -1
        return v


class TooMany(ReplacementPolicy):
    def victims(self, vm, n, rng, protect):
        return private_outside(vm, protect)[:n + 5]


class IgnoresProtect(ReplacementPolicy):
    def victims(self, vm, n, rng, protect):
        c = np.flatnonzero(vm.pmap.state == PRIVATE)
        if protect is not None and len(protect):
            p = np.asarray(protect)
            p = p[vm.pmap.state[p] == PRIVATE]
            return np.concatenate([p, c[~np.isin(c, p)]])[:n]
        return c[:n]


class FirstCallDuplicates(LRU):
    """A stateful policy whose bug shows on its first call only (a clock hand's first lap)."""

    def __init__(self):
        self.calls = 0

    def victims(self, vm, n, rng, protect):
        self.calls += 1
        v = super().victims(vm, n, rng, protect)
        if self.calls == 1:
            v[1] = v[0]
        return v


class Quarter(LRU):
    def victims(self, vm, n, rng, protect):
        return super().victims(vm, n, rng, protect)[:max(1, n // 4)]


class Half(LRU):
    def victims(self, vm, n, rng, protect):
        return super().victims(vm, n, rng, protect)[:max(1, n // 2)]


class Mask(LRU):
    def victims(self, vm, n, rng, protect):
        mask = np.zeros(vm.pages, bool)
        mask[super().victims(vm, n, rng, protect)] = True
        return mask


@pytest.mark.parametrize("policy", [AnyState, Duplicate, Negative, TooMany, IgnoresProtect])
def test_measure_rejects_illegal_victims_with_the_checks_sentence(policy):
    p = problems.BeatRandom(0)
    with pytest.raises(checks.CheckFailed) as measured:
        p.measure(policy())
    assert str(measured.value) == fails(p, dict(policy=policy()))


def test_measure_still_runs_a_legal_policy_and_the_built_in_ones():
    from esxlab.swap import ClockReplacement
    p = problems.BeatRandom(0)
    assert p.measure(LRU())[0] < p.measure("random")[0]
    assert p.measure(ClockReplacement())[0] > 0                  # esxlab's own, to compare with: measure runs it


def test_a_stateful_policys_earlier_runs_do_not_decide_its_check():
    """After two measures the student's clock-hand policy passed a check it failed fresh."""
    p = problems.BeatRandom(0)
    h = FirstCallDuplicates()
    for _ in range(2):
        with pytest.raises(checks.CheckFailed, match="same page twice"):
            p.measure(h)
    assert h.calls == 0                                            # each run had a fresh copy
    assert "same page twice" in fails(p, dict(policy=h))
    assert h.calls == 0


def test_too_few_victims_are_named_not_last_touch():
    p = problems.BeatRandom(0)
    message = fails(p, dict(policy=Quarter()))
    assert "it must return n pages" in message and "vm.last_touch" not in message


def test_too_few_victims_fail_even_where_they_met_the_goal(capsys):
    message = fails(problems.BeatRandom(0), dict(policy=Half()))      # it met the goal by freeing less (session 49)
    assert "it must return n pages" in message and "do not count" in message, message
    checks.check(problems.BeatRandom(0), policy=LRU())
    assert "it must return n pages" not in capsys.readouterr().out


def test_a_boolean_mask_is_pointed_to_flatnonzero_first():
    message = fails(problems.BeatRandom(0), dict(policy=Mask()))
    assert message.index("np.flatnonzero") < message.index("astype(int)")


# -- 4: demand_paging with the backed memory rounded to whole MB ----------------------------------------------------
WHOLE_MB = "backed memory (p.private_pages) cut or rounded to whole MB"


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_backed_memory_rounded_to_whole_mb_is_named(seed):
    """Seed 0: s = 20/55 for 55.4 MB got 'every page touched that second ...'; seed 2 gives s to 2 places too."""
    p = problems.DoublePaging(seed)
    s = p.swap_mb / round(p.private_pages / 256)
    n = p.grow_mb * 256 - p.guest_free_pages
    message = fails(p, dict(solve(p), swap_ins=(n + p.background_pages_s) * s, double_paged=n * s))
    assert WHOLE_MB in line(message, "swap_ins") and WHOLE_MB in line(message, "double_paged")


# -- 5: idle_memory_tax's untaxed victim only beside untaxed rhos ----------------------------------------------------
NO_TAX_VICTIM = "the victim without the idle memory tax"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_untaxed_victim_is_named_only_beside_untaxed_rhos(seed):
    p = problems.RhoVictim(seed)
    right, untaxed = solve(p)["rhos"], p._rhos(0.0)
    victim = p._victim(untaxed)
    assert NO_TAX_VICTIM not in fails(p, dict(rhos=right, victim=victim))
    assert NO_TAX_VICTIM in line(fails(p, dict(rhos=untaxed, victim=victim)), "victim")


# -- 6: esx_today's busy_mb and idle_mb swapped ------------------------------------------------------------------------
def test_busy_and_idle_targets_swapped_are_named_on_both_lines():
    p = problems.LimitTargets(0)
    right = solve(p)
    message = fails(p, dict(busy_mb=right["idle_mb"], idle_mb=right["busy_mb"]))
    assert "look swapped" in line(message, "busy_mb") and "look swapped" in line(message, "idle_mb")
    assert "look swapped" not in fails(p, dict(right, busy_mb=right["idle_mb"]))      # one list alone: not a swap


# -- 7: page_sharing's answers in GB ---------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 3])
def test_page_sharing_answers_in_gb_are_named(seed):
    p = problems.SharingPrediction(seed)
    message = fails(p, {k: round(v / 1024, 3) for k, v in solve(p).items()})
    for name in ("shared_mb", "reclaimed_mb"):
        assert "that looks like the answer in GB" in line(message, name)


def test_a_problem_of_ones_own_name_is_told_it_is_not_the_graded_one():
    """`other = problems.BalloonSplit(seed=5)`, as ballooning suggests: the Note does not tell the student to pose
    `other` again at SEED (a fresh user's check)."""
    five = solve(problems.BalloonSplit(5))
    shown = _run(["SEED = 0\nfrom esxlab import checks, problems\np = problems.BalloonSplit(seed=SEED)",
                  "other = problems.BalloonSplit(seed=5)",
                  f"checks.check(other, **{five!r})"])
    assert shown[2].startswith("Correct:"), shown[2]
    assert "Note: `other` is BalloonSplit(seed=5), not this notebook's graded problem" in shown[2], shown[2]
    assert "which checks `p` (SEED = 0)" in shown[2] and "other = problems" not in shown[2], shown[2]
