"""Exercise: free-memory states and admission control (paper §6.2–6.3; exercises/source/free_memory_states.ipynb,
esxlab/problems/free_memory_states.py): its checks' feedback on right and wrong answers, its text and its solution."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from esxlab import checks, problems
from esxlab.checks import CheckFailed
from esxlab.problems.instructor import expect, solve

from answers import exercise_cells, fails, feedback as _feedback, line


SEEDS = range(200)
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _from_thresholds(p) -> list[str]:
    """Each reading's state from the thresholds alone, forgetting the state before: the lowest state whose
    threshold free memory is below (soft 4 %, hard 2 %, low 1 %), else high."""
    pct = 100 * np.asarray(p.free_mb) / p.memory_mb
    return [next((s for s, t in (("low", 1), ("hard", 2), ("soft", 4)) if x < t), "high") for x in pct]


def test_a_walk_without_hysteresis_is_named_seed_0():
    """Seed 0's walk by the thresholds alone, first wrong at states[3], got the general rule."""
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


def test_a_verdict_that_leaves_out_the_new_vm_is_told_so_not_only_the_overhead():
    """A student's trial: reserved_mb right (overhead included), the verdict 'admit' from the running VMs' sums alone
    (the new VM's reservations not added), was told only "the overhead (frame buffer, pmap...) counts" where dropping
    the overheads also admits (11 of seeds 0–59). A verdict that leaves out the new VM is named so (§6.2: the VM
    powering on must be guaranteed its own reservations), beside the overhead hint where both give that verdict."""
    alone = "the new VM's own reservations count in the verdict"
    told = both = 0
    for seed in range(60):
        q = problems.Admission(seed)
        right = solve(q)
        memory, swap = right["reserved_mb"]
        left_out = "memory" if memory > q.memory_mb else "swap" if swap > q.swap_mb else "admit"   # 'new' not added
        if left_out == right["verdict"]:
            continue
        msg = line(_feedback(q, reserved_mb=right["reserved_mb"], verdict=left_out), "verdict")
        assert alone in msg, (seed, msg)
        told += 1
        both += "the overhead (frame buffer, pmap...) counts" in msg
        # a 'swap' refusal answered 'admit' may as well come from never checking host swap: both are told
        assert (right["verdict"] == "swap") == ("checks host swap as well as machine memory" in msg), (seed, msg)
    assert told >= 20 and both >= 5


def test_each_state_walk_mistake_gets_its_own_hint():
    p = problems.FreeMemoryWalk(0)            # [54, 31, 3, 24, 3, 29, 45, 27] MB of 1024, margin 0.5 %
    hints = {
        "no hysteresis": fails(p, dict(states=["high", "soft", "low", "hard", "low", "hard", "soft", "soft"])),
        "soft below 6 %": fails(p, dict(states=["soft", "soft", "low", "low", "low", "hard", "hard", "hard"])),
        "one rung at a time": fails(p, dict(states=["high", "soft", "hard", "hard", "low", "hard", "hard", "hard"])),
    }
    assert "*plus* the hysteresis margin" in hints["no hysteresis"]
    assert "not below high's 6 %" in hints["soft below 6 %"]
    assert "does not step one state at a time" in hints["one rung at a time"]
    assert len(set(hints.values())) == 3
    generic = expect(p)[0].hint
    assert not any(generic in h for h in hints.values()), hints


@pytest.mark.parametrize("seed", range(0, 200, 10))
def test_the_new_state_walk_mistakes_are_named_and_never_give_the_answer(seed):
    p = problems.FreeMemoryWalk(seed)
    right = solve(p)["states"]
    for wrong, words in ((p._states(rungs=(1, 5)), "does not step one state"),
                         (p._states(soft_below_high=True), "not below high's 6 %")):
        if wrong != right:
            assert words in fails(p, dict(states=wrong)), (seed, wrong)
    assert all(m.value != right for m in expect(p)[0].mistakes)


def test_the_admission_problem_names_the_variable_its_exercise_gives_it():
    """free_memory_states names its second problem `q`; its text said `p.running, p.new` (p is the states walk)."""
    from esxlab.problems.free_memory_states import Admission
    text = Admission(seed=0).describe()
    assert "(q.running, q.new)" in text and "p.running" not in text
    source = (NOTEBOOKS.parent / "exercises" / "source" / "free_memory_states.ipynb").read_text()
    assert "q = problems.Admission(seed=SEED)" in source


def test_free_memory_states_memoryless_hint_covers_leaving_low():
    q = problems.FreeMemoryWalk(0)
    right = solve(q)["states"]
    with pytest.raises(CheckFailed) as err:
        checks.check(q, states=q._states(forget=True))
    assert right != q._states(forget=True) and "from low, above 2 % + it" in str(err.value)


def test_a_states_list_of_the_wrong_length_names_the_readings():
    p = problems.FreeMemoryWalk(0)
    right = solve(p)["states"]
    for wrong in ([], ["high", *right]):
        msg = fails(p, {"states": wrong})
        assert "one value is wanted per reading, in the order of p.free_mb" in msg, msg
        assert "entry of the problem" not in msg, msg
    assert "Did your answer cell stop" in fails(p, {"states": []})
    assert "If your answer cell fills it in a loop, check that the cell ran to" in fails(p, {"states": right[:3]})
    assert "stop" not in fails(p, {"states": ["high", *right]})                      # too many: no crash to ask about
    q = problems.Admission(0)
    assert "in the order [memory, swap]" in fails(q, {**solve(q), "reserved_mb": [1.0]})


def test_a_reservation_exactly_at_capacity_is_admitted_and_the_exercise_says_so():
    """Admission control admits a VM whose reservations exactly fill what is left (≤, not <: esxlab.admission).
    Students refused it at exactly the host's memory, and nothing told them otherwise: the statement (the
    notebook's Admission control cell, source and release, and the problem's text) says so, and a verdict that
    refuses at exactly capacity is told so (41 of seeds 0–599; computed here from the problem's own VMs)."""
    import esxlab as esx
    host = esx.Host(esx.HostConfig(memory_mb=256, swap_mb=64), seed=0)
    host.power_on(esx.VMConfig(name="full", max_mb=256, min_mb=192, overhead_mb=64))     # 192 + 64 = 256: fits
    with pytest.raises(esx.AdmissionError, match="memory reservation short"):
        esx.Host(esx.HostConfig(memory_mb=248, swap_mb=64), seed=0).power_on(
            esx.VMConfig(name="over", max_mb=256, min_mb=192, overhead_mb=64))
    for folder in ("exercises/source", "exercises/release"):
        cell = next(c.source for c in exercise_cells("free_memory_states", folder) if "## Admission control" in c.source)
        assert "exactly uses up what is left still fits (≤, not <)" in cell, folder
    exact = "exactly fills what is left still fits"
    told = 0
    for seed in range(600):
        q = problems.Admission(seed)
        assert "exactly equal to the host's memory (or swap) still fits" in q.describe(), seed
        vms = [*q.running, q.new]
        memory, swap = sum(c.min_mb + c.overhead_mb for c in vms), sum(c.max_mb - c.min_mb for c in vms)
        refused = "memory" if memory >= q.memory_mb else "swap" if swap >= q.swap_mb else "admit"   # < for ≤
        right = solve(q)
        if refused != right["verdict"]:
            assert memory == q.memory_mb or swap == q.swap_mb, seed
            assert exact in line(_feedback(q, reserved_mb=right["reserved_mb"], verdict=refused), "verdict"), seed
            told += 1
        else:                                  # not at capacity: no wrong verdict is told about it
            for wrong in set(q.VERDICTS) - {right["verdict"]}:
                assert exact not in _feedback(q, reserved_mb=right["reserved_mb"], verdict=wrong), seed
    assert told >= 20


def test_the_background_states_each_way_up_as_the_model_applies_it():
    """The Background said a state is left for the next higher one above "that threshold plus a hysteresis margin",
    which a student read as the state's own threshold: only one mistake's hint gave the rule per state. It now states
    it for each state, and each rule is checked against esxlab's state machine (esxlab.reclaim), just above and just
    below; it points to lesson 07's worked table."""
    import esxlab as esx
    from esxlab.reclaim import STATES, FreeMemoryStates

    cfg = esx.HostConfig(memory_mb=1000, hysteresis_pct=1)
    pages = cfg.memory_mb * esx.PAGES_PER_MB
    lesson = NOTEBOOKS / "07_states_and_admission.ipynb"
    assert "**(a) The ladder on a 240 MB host.**" in lesson.read_text()
    for folder in ("exercises/source", "exercises/release"):
        (text,) = [c.source for c in exercise_cells("free_memory_states", folder) if "## Background" in c.source]
        flat = " ".join(text.split())
        assert "Lesson notebook 07 (`07_states_and_admission`, section 3(a))" in flat, folder
        for lower, higher in (("soft", "high"), ("hard", "soft"), ("low", "hard")):
            pct = getattr(cfg, f"{higher}_pct")
            assert re.search(rf"from {lower} (back )?to {higher} above {pct:g} % \+ the margin", flat), (folder, lower)
            for step, expected in ((+1, higher), (-1, lower)):
                states = FreeMemoryStates(cfg, pages)
                states.update(int(getattr(cfg, f"{lower}_pct") / 100 * pages) - 1)        # down into `lower`
                assert STATES[states.state] == lower
                states.update(int((pct + cfg.hysteresis_pct) / 100 * pages) + step)      # just above, or below
                assert STATES[states.state] == expected, (lower, step)
