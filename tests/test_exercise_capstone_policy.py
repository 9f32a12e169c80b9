"""Capstone: design your own reclamation policy (paper §3.1, §3.3; exercises/source/capstone_policy.ipynb,
esxlab/problems/capstone_policy.py): its checks' feedback on right and wrong answers, its text and its solution."""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import nbformat
import numpy as np
import pytest

from esxlab import checks, problems, swap
from esxlab.errors import ConfigError, PolicyError
from esxlab.pmap import PRIVATE
from esxlab.problems import capstone_policy
from esxlab.swap import ReplacementPolicy, legal_victims, private_outside

from answers import EXERCISES, fails
from notebook_cells import markdown
from policies import ILLEGAL, Oldest, bad_policy as _bad, paging_host as _host

pytest.importorskip("nbclient")                         # the "exercises" extra; the "test" extra installs it


HINT = "where the hot pages sit at particular PPNs"
SEEDS = range(6)
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _cands(vm, protect):
    cands = np.flatnonzero(vm.pmap.state == PRIVATE)
    if protect is not None and len(protect):
        cands = cands[~np.isin(cands, protect)]
    return cands


class Highest(ReplacementPolicy):
    """The student's weak policy: the highest-numbered private PPNs, no access information."""

    def victims(self, vm, n, rng, protect):
        return _cands(vm, protect)[-n:]


class Lowest(ReplacementPolicy):
    def victims(self, vm, n, rng, protect):
        return _cands(vm, protect)[:n]


class LRU(ReplacementPolicy):
    def victims(self, vm, n, rng, protect):
        cands = _cands(vm, protect)
        return cands[np.argsort(vm.last_touch[cands], kind="stable")[:n]]


def _solution() -> type:
    """The exercise's own solution, ``MyPolicy`` from exercises/source/capstone_policy.ipynb."""
    nb = json.loads((EXERCISES / "source" / "capstone_policy.ipynb").read_text())
    code = next("".join(c["source"]) for c in nb["cells"]
                if c["cell_type"] == "code" and "class MyPolicy" in "".join(c["source"]))
    code = code.split("policy = MyPolicy()")[0]
    namespace = dict(np=np, PRIVATE=PRIVATE, ReplacementPolicy=ReplacementPolicy)
    exec(code, namespace)                                                      # noqa: S102 (the repo's own notebook)
    return namespace["MyPolicy"]


class Random(ReplacementPolicy):
    def victims(self, vm, n, rng, protect):
        return rng.permutation(_cands(vm, protect))[:n]


# kind → (what victims() returns, given vm, n, the legal answer and protect; a part of the sentence)


class EmptyFloats(ReplacementPolicy):
    def victims(self, vm, n, rng, protect):
        return np.array([])            # a common start: an empty (float64) array


class AnyState(ReplacementPolicy):                  # non-private pages: 0 swap-ins under the old measure
    def victims(self, vm, n, rng, protect):
        return np.argsort(vm.last_touch, kind="stable")[:n]


class Duplicate(LRU):
    def victims(self, vm, n, rng, protect):
        v = super().victims(vm, n, rng, protect)
        v[1] = v[0]
        return v


class IgnoresProtect(ReplacementPolicy):
    def victims(self, vm, n, rng, protect):
        c = np.flatnonzero(vm.pmap.state == PRIVATE)
        if protect is not None and len(protect):
            p = np.asarray(protect)
            p = p[vm.pmap.state[p] == PRIVATE]
            return np.concatenate([p, c[~np.isin(c, p)]])[:n]
        return c[:n]


class Negative(LRU):
    def victims(self, vm, n, rng, protect):
        v = super().victims(vm, n, rng, protect)
        v[-1] = -1
        return v


class TooMany(ReplacementPolicy):
    def victims(self, vm, n, rng, protect):
        return private_outside(vm, protect)[:n + 5]


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


def assert_asks_for_the_signal(message: str) -> None:
    """The hint asks which signal tells the pages apart and points to the interface paragraph, but names no field of
    what the hypervisor sees (an instructor's trial: it named `vm.last_touch`, and an argsort of it passes)."""
    assert problems.BeatRandom.SIGNAL in message, message
    for field in ("last_touch", "vm_time", "pmap.state", "vm.pages"):
        assert field not in message, (field, message)


def test_the_hint_points_to_a_section_the_notebook_has_that_lists_what_the_hypervisor_sees():
    release = nbformat.read(EXERCISES / "release" / "capstone_policy.ipynb", as_version=4)
    heading = f"## {problems.BeatRandom.INTERFACE}\n"
    section = next(c.source for c in release.cells if c.cell_type == "markdown" and c.source.startswith(heading))
    assert "What the hypervisor can see:" in section and "`vm.last_touch[ppn]`" in section


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("policy", [Highest, Lowest], ids=lambda c: c.__name__)
def test_a_policy_by_page_number_fails_with_the_layout_hint(policy, seed):
    message = fails(problems.BeatRandom(seed), dict(policy=policy()))
    assert HINT in message and "other PPNs" in message


@pytest.mark.parametrize("seed", [0, 3, 4])
def test_the_weak_policy_is_told_it_beat_random_only_on_the_drawn_layout(seed):
    """On these seeds cands[-n:] passed before; now the message says what happened, with both layouts' numbers."""
    p = problems.BeatRandom(seed)
    drawn, _ = p.measure(Highest())
    assert drawn <= int(p.GOAL * p.measure("random")[0])                          # it does beat random there
    message = fails(p, dict(policy=Highest()))
    assert "on the drawn workload your policy beat random" in message
    assert "it beat random only where the hot pages sit at particular PPNs" in message
    assert str(p.measure(Highest(), shuffled=True)[0]) in message
    assert_asks_for_the_signal(message)


@pytest.mark.parametrize("seed", SEEDS)
def test_lru_by_last_touch_passes(seed, capsys):
    checks.check(problems.BeatRandom(seed), policy=LRU())
    out = capsys.readouterr().out
    assert "Correct" in out and "With the same accesses at other PPNs" in out


@pytest.mark.parametrize("seed", range(10))
def test_the_exercises_own_solution_passes(seed, capsys):
    checks.check(problems.BeatRandom(seed), policy=_solution()())
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize("seed", SEEDS)
def test_random_replacement_still_fails(seed):
    message = fails(problems.BeatRandom(seed), dict(policy=Random()))
    assert "random replacement caused" in message
    assert_asks_for_the_signal(message)


@pytest.mark.parametrize("seed", SEEDS)
def test_the_other_layout_is_the_same_workload_and_the_drawn_one_is_unchanged(seed):
    """Random does about as well on both layouts (the same accesses); LRU beats it on both; the drawn layout's runs are
    those of before (seed 0: random 2621, the weak policy 1848)."""
    p = problems.BeatRandom(seed)
    random, other = p.measure("random")[0], p.measure("random", shuffled=True)[0]
    assert abs(random - other) <= 0.15 * random
    assert p.measure(LRU(), shuffled=True)[0] <= p.GOAL * other
    assert p.measure(Highest(), shuffled=True)[0] > 5 * other
    if seed == 0:
        assert (random, p.measure(Highest())[0]) == (2621, 1848)


class Sweep(ReplacementPolicy):
    """A hand sweeping the private PPNs (FIFO): no per-page signal at all (an instructor's trial)."""

    def __init__(self):
        self.hand = 0

    def victims(self, vm, n, rng, protect):
        cands = _cands(vm, protect)
        if not len(cands):
            return cands
        out = np.roll(cands, -int(np.searchsorted(cands, self.hand)))[:n]
        self.hand = int(out[-1]) + 1
        return out


def test_the_notebook_says_the_check_measures_only_the_goal_and_the_signal_is_for_the_write_up(capsys):
    """The text said a policy passes by telling the pages apart by what the hypervisor sees; a hand sweeping the PPNs,
    which reads no per-page signal, passes all the same (a legitimate policy: it keeps each page resident for a whole
    sweep). The text now says the check measures the goal alone, and the signal is for a write-up graded by hand."""
    release = nbformat.read(EXERCISES / "release" / "capstone_policy.ipynb", as_version=4)
    text = " ".join(markdown(release).split())
    p = problems.BeatRandom(0)
    assert (p.GOAL, p.PROGRESS) == (0.75, 0.5)
    assert ("**What the check measures.** Only that goal: at most 75 % of random's swap-ins, with at least half "
            "random's work done, on the drawn layout and on the shuffled one. Beyond refusing illegal victims and a "
            "`victims()` that calls esxlab's own policies, it does not look at how your policy chooses its victims.") \
        in text
    assert "Which signal your policy uses" in text and "graded by hand" in text
    assert "by what the hypervisor sees, not by where they happen to sit" not in text
    answer = next(c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "policy-answer")
    assert "`MyPolicy`'s docstring" in text and '"""My hypervisor replacement policy. Write-up: which signal' in answer
    checks.check(p, policy=Sweep())                                   # what the text says: the goal alone is judged
    assert "Correct" in capsys.readouterr().out


def test_the_notebook_names_both_layouts():
    text = (EXERCISES / "release" / "capstone_policy.ipynb").read_text()
    assert "p.measure(policy, shuffled=True)" in text
    assert "other PPNs" in (EXERCISES / "README.md").read_text()


def test_the_capstone_says_what_the_engine_says():
    """For each illegal answer, _Validated's CheckFailed carries the sentence legal_victims gives (the check's own
    wording: ``victims() …``)."""
    vm = _host(Oldest(), seconds=60).vm("app")
    n, protect = 50, private_outside(vm, None)[:3]
    for kind in ILLEGAL:
        policy = _bad(kind)
        answer = policy.victims(vm, n, np.random.default_rng(0), protect)
        with pytest.raises(PolicyError) as engine:
            legal_victims(answer, vm, n, protect)
        with pytest.raises(checks.CheckFailed) as check:
            capstone_policy._Validated(policy, own=False).victims(vm, n, np.random.default_rng(0), protect)
        assert str(check.value) == str(engine.value) and str(engine.value).startswith("victims() "), kind


def test_the_capstone_holds_no_copy_of_the_rules():
    source = inspect.getsource(capstone_policy)
    assert capstone_policy.legal_victims is swap.legal_victims
    for sentence in ("only private pages can be paged out", "return at most n", "twice (np.unique",
                     "not integers", "outside 0 ≤"):
        assert sentence not in source


def test_an_empty_float_array_is_no_victims_and_is_told_it_is_short():
    """np.array([]) is float64: as an answer it means no pages (arrays.page_numbers), legal where none qualify; a
    policy that always returns it is told it returned fewer than asked."""
    assert legal_victims(np.array([]), _host(Oldest(), seconds=5).vm("app"), 5, None).shape == (0,)
    message = fails(problems.BeatRandom(0), dict(policy=EmptyFloats()))
    assert "victims() was asked for 264 pages and returned 0, while 10708 private pages" in message, message


@pytest.mark.parametrize("policy, sentence", [
    (None, "BeatRandom.measure: `policy` must be an instance of ReplacementPolicy or the name of one of esxlab's "
           "('random', 'clock'); got None (NoneType)."),
    (lambda vm, n, rng, protect: [], "must be an instance of ReplacementPolicy or the name of one of esxlab's"),
    (Oldest, "BeatRandom.measure: `policy` must be an instance of ReplacementPolicy: call your class, e.g. "
             "`Oldest()`.")])
def test_measure_wants_a_policy(policy, sentence):
    with pytest.raises(ConfigError) as raised:
        problems.BeatRandom(0).measure(policy)
    assert sentence in str(raised.value)


@pytest.mark.parametrize("shuffled", ["yes", 1, None])
def test_measure_wants_shuffled_true_or_false(shuffled):
    with pytest.raises(ConfigError, match=r"BeatRandom.measure.shuffled = .* is not allowed; choose one of False, "
                                          r"True\."):
        problems.BeatRandom(0).measure("random", shuffled=shuffled)


def test_measure_takes_a_numpy_bool():
    p = problems.BeatRandom(0)
    assert p.measure("random", shuffled=np.bool_(True)) == p.measure("random", shuffled=True)


def test_capstone_says_what_the_measured_minute_is_and_how_to_measure():
    from esxlab.problems.capstone_policy import BeatRandom
    release = nbformat.read(NOTEBOOKS.parent / "exercises" / "release" / "capstone_policy.ipynb", as_version=4)
    text = " ".join(markdown(release).split())
    assert f"the minute after a {BeatRandom.WARM_S} s warm-up" in text and BeatRandom.MEASURE_S == 60
    assert "`p.measure(policy)`" in text and "a `esx.workloads" not in text


def test_the_capstone_wants_a_policy_of_ones_own():
    """`policy = esx.swap.ClockReplacement()`, the model's own LRU-like policy, earned the capstone's 4 points."""
    import esxlab as esx
    from esxlab import checks, problems

    class Renamed(esx.swap.ClockReplacement):
        name = "mine"

    class Delegating(esx.swap.ReplacementPolicy):         # (the class check once let it pass)
        def victims(self, vm, n, rng, protect):
            return esx.swap.ClockReplacement().victims(vm, n, rng, protect)

    for policy in (esx.swap.ClockReplacement(), Renamed(), Delegating()):
        with pytest.raises(checks.CheckFailed, match="victims\\(\\) calls esxlab's own ClockReplacement; the "
                                                     "capstone asks for a policy of your own"):
            checks.check(problems.BeatRandom(0), policy=policy)
    assert esx.swap.ClockReplacement.victims.__qualname__ == "ClockReplacement.victims", "the spy is gone after"


def test_a_policy_whose_victims_is_esxlabs_own_function_is_not_of_ones_own():
    """An integrity trial: ``victims = ClockReplacement.victims`` in a class of one's own (with the two attributes it
    reads) is esxlab's clock, but the spy on ClockReplacement.victims never saw it called, and it earned the 4 points
    (1262 swap-ins, random 2621)."""
    class Aliased(swap.ReplacementPolicy):
        """Uses vm.last_touch."""

        def __init__(self):
            self.window, self.hands = 10, {}

        victims = swap.ClockReplacement.victims

    with pytest.raises(checks.CheckFailed, match="victims\\(\\) is esxlab's own ClockReplacement's; the capstone asks "
                                                 "for a policy of your own"):
        checks.check(problems.BeatRandom(0), policy=Aliased())
    assert problems.BeatRandom(0).measure(Aliased())[0] > 0           # measure still runs it, to compare


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
        with pytest.raises(checks.CheckFailed, match=r"twice \(np.unique keeps each once\)"):
            p.measure(h)
    assert h.calls == 0                                            # each run had a fresh copy
    assert "twice (np.unique keeps each once)" in fails(p, dict(policy=h))
    assert h.calls == 0


def test_too_few_victims_are_named_not_the_signal_question():
    p = problems.BeatRandom(0)
    message = fails(p, dict(policy=Quarter()))
    assert "it must return n pages" in message and problems.BeatRandom.SIGNAL not in message


def test_too_few_victims_fail_even_where_they_met_the_goal(capsys):
    message = fails(problems.BeatRandom(0), dict(policy=Half()))      # it met the goal by freeing less
    assert "it must return n pages" in message and "do not count" in message, message
    checks.check(problems.BeatRandom(0), policy=LRU())
    assert "it must return n pages" not in capsys.readouterr().out


class Misspelt(ReplacementPolicy):
    def victims(self, vm, n, rng, protect):
        cands = _cands(vm, protect)
        return cands[np.argsort(vm.last_access[cands], kind="stable")[:n]]          # the bug: no such field


class BadAxis(ReplacementPolicy):
    def victims(self, vm, n, rng, protect):
        return np.argsort(vm.last_touch, axis=3)[:n]                                 # numpy raises, below this line


def _line_of(text: str) -> int:
    """The line number of this file's one line that holds ``text``."""
    lines = Path(__file__).read_text().splitlines()
    found = [i + 1 for i, line in enumerate(lines) if text in line and "_line_of" not in line]
    assert len(found) == 1, found
    return found[0]


def test_a_bug_in_the_students_victims_is_told_in_a_sentence_with_their_line():
    """An instructor's trial: a misspelt field in victims() showed about 20 frames of esxlab's internals. The check
    and measure now say which error, its message and the student's own line (measure's keeps the error as its
    cause, for %tb and %debug)."""
    p = problems.BeatRandom(0)
    here = Path(__file__).name
    with pytest.raises(checks.CheckFailed) as raised:
        checks.check(p, policy=Misspelt())
    assert str(raised.value) == (
        "your policy's victims() raised AttributeError: 'VM' object has no attribute 'last_access' (your file "
        f"{here}, line {_line_of('vm.last_access[cands]')}: `return cands[np.argsort(vm.last_access[cands], "
        "kind=\"stable\")[:n]]          # the bug: no such field`). Fix it, reload your module (or restart the "
        "kernel), then run this check again.")       # (a policy in a file; one in a notebook cell: run that cell again)
    with pytest.raises(checks.CheckFailed) as measured:
        p.measure(Misspelt())
    assert str(measured.value) == str(raised.value) and isinstance(measured.value.__cause__, AttributeError)
    with pytest.raises(checks.CheckFailed) as measured:
        p.measure(BadAxis())
    message = str(measured.value)                              # numpy's own frames below the student's line say less
    assert message.startswith("your policy's victims() raised AxisError: axis 3 is out of bounds"), message
    assert f"(your file {here}, line {_line_of('axis=3)[:n]')}: `return np.argsort(vm.last_touch, axis=3)" in message


def test_a_boolean_mask_is_pointed_to_flatnonzero_and_only_floats_to_astype():
    """An instructor's trial: a float array was told of a boolean mask it was not given; now each its own hint."""
    message = fails(problems.BeatRandom(0), dict(policy=Mask()))
    assert "np.flatnonzero(mask)" in message and "astype" not in message, message
    message = fails(problems.BeatRandom(0), dict(policy=_bad("floats")))
    assert ".astype(int)" in message and "mask" not in message, message


def test_a_policy_tried_in_a_host_of_ones_own_still_checks(capsys):
    """A host refuses a policy instance that served another host; the check gives its hosts fresh copies (inside its
    own validating policy), so a policy the student first tried in a host of their own is still checked."""
    policy = LRU()
    _host(policy)
    checks.check(problems.BeatRandom(0), policy=policy)
    assert "Correct" in capsys.readouterr().out


class ObjectArray(LRU):
    """LRU's victims as an object array of Python ints (``np.array(ppns.tolist(), dtype=object)``, a pandas column)."""

    def victims(self, vm, n, rng, protect):
        return np.array(super().victims(vm, n, rng, protect).tolist(), dtype=object)


def test_an_object_array_of_whole_numbers_is_read_as_ppns_not_a_crash(capsys):
    """A student's trial: victims as an object array of in-range PPNs raised StopIteration from inside
    esxlab.arrays.page_numbers (it looked for an out-of-range item that was not there)."""
    from esxlab.arrays import page_numbers
    assert page_numbers(np.array([3, 1], dtype=object), 5).tolist() == [3, 1]
    assert page_numbers(np.array([1, 1], dtype=object), 5, once=True) == "holds PPN 1 twice (np.unique keeps each once)"
    assert page_numbers(np.array([1, 7], dtype=object), 5) == "holds PPN 7, outside 0 ≤ PPN < 5"
    checks.check(problems.BeatRandom(0), policy=ObjectArray())
    assert "Correct" in capsys.readouterr().out


class WritesState(ReplacementPolicy):
    """Leaves `protect` out by marking it in the VM's own page states (a student's trial)."""

    def victims(self, vm, n, rng, protect):
        state = vm.pmap.state
        if protect is not None:
            state[protect] = 0                              # the bug: the host's own array
        cands = np.flatnonzero(state == PRIVATE)
        return cands[np.argsort(vm.last_touch[cands], kind="stable")[:n]]


class SortsLastTouch(LRU):
    def victims(self, vm, n, rng, protect):
        vm.last_touch.sort()                                # the bug: sorts the host's own array
        return super().victims(vm, n, rng, protect)


@pytest.mark.parametrize("policy, error", [(WritesState(), "assignment destination is read-only"),
                                           (SortsLastTouch(), "sort array is read-only")])
def test_a_policy_that_writes_into_what_the_hypervisor_sees_is_told_its_line(policy, error, capsys):
    """A student's trial: a policy that wrote into vm.pmap.state changed the host's own pages, and the check blamed its
    choice of pages ("it beat random only where the hot pages sit at particular PPNs"); one that wrote a 7 crashed
    inside esxlab. Inside victims() those arrays are read-only: numpy's error at the student's line, and what to do."""
    p = problems.BeatRandom(0)
    message = fails(p, dict(policy=policy))
    assert message.startswith(f"your policy's victims() raised ValueError: {error} (your file "), message
    assert "change a copy, e.g. `state = vm.pmap.state.copy()`" in message and HINT not in message, message
    checks.check(p, policy=LRU())                           # the arrays are writable again for the host's own use
    assert "Correct" in capsys.readouterr().out


class Victim(ReplacementPolicy):
    def victim(self, vm, n, rng, protect):                  # misspelled: the base class's victims() is called
        return LRU().victims(vm, n, rng, protect)


def test_a_misspelled_victims_is_named_not_told_to_replace_raise():
    """A student's trial: a policy whose method was named `victim` was told "`victims` is not written yet: replace
    `raise NotImplementedError()`", a line it did not have, and grading counted it as not answered."""
    with pytest.raises(checks.CheckFailed) as raised:
        checks.check(problems.BeatRandom(0), policy=Victim())
    assert str(raised.value) == ("your policy Victim() defines no victims(self, vm, n, rng, protect), the method the "
                                 "host calls for the pages to page out; rename your victim() to victims.")


class GlobalNumpy(LRU):
    """LRU with ties broken by numpy's global generator (a student's trial: its swap-ins 1249 / 1278 / 1269 with three
    global seeds)."""

    def victims(self, vm, n, rng, protect):
        cands = _cands(vm, protect)
        return cands[np.lexsort((np.random.rand(len(cands)), vm.last_touch[cands]))[:n]]


class GlobalPython(LRU):
    def victims(self, vm, n, rng, protect):
        import random
        random.random()
        return super().victims(vm, n, rng, protect)


class SeedsNumpy(LRU):
    """Seeds numpy's global generator in every call, then draws as many numbers each time."""

    def victims(self, vm, n, rng, protect):
        np.random.seed(7)
        np.random.rand()
        return super().victims(vm, n, rng, protect)


class SeedsPython(LRU):
    def victims(self, vm, n, rng, protect):
        import random
        random.seed(7)
        random.random()
        return super().victims(vm, n, rng, protect)


@pytest.mark.parametrize("policy, call", [(SeedsNumpy(), "np.random.seed(7)"), (SeedsPython(), "random.seed(7)")])
def test_a_policy_seeding_a_global_generator_is_told_so(policy, call):
    """A review: one that seeds the same way in every call draws the same in every call, so the state after a call
    changed only after the first, and it passed; one that seeded was told its pages could change from run to run."""
    with pytest.raises(checks.CheckFailed) as raised:
        checks.check(problems.BeatRandom(0), policy=policy)
    assert str(raised.value) == capstone_policy.GLOBAL_SEEDS.format(call)
    assert str(raised.value).startswith(f"your policy's victims() calls {call}, which seeds a global random generator")


@pytest.mark.parametrize("policy", [GlobalNumpy(), GlobalPython()])
def test_a_policy_drawing_from_a_global_generator_is_told_to_use_rng(policy):
    """It passed, though its pages (and so the check's verdict and the grade's) changed from run to run."""
    with pytest.raises(checks.CheckFailed) as raised:
        checks.check(problems.BeatRandom(0), policy=policy)
    assert str(raised.value) == capstone_policy.GLOBAL_DRAWS
    assert "draw from the rng victims() is given" in str(raised.value)


class Exits(LRU):
    def victims(self, vm, n, rng, protect):
        import sys
        sys.exit("no pages for you")


def test_a_policy_that_calls_sys_exit_is_told_its_line():
    """SystemExit is not an Exception: it left the check (and the grader) with no sentence (a helper's trial)."""
    with pytest.raises(checks.CheckFailed) as raised:
        checks.check(problems.BeatRandom(0), policy=Exits())
    assert str(raised.value).startswith("your policy's victims() called sys.exit() (or exit()), which would stop the "
                                        "check (your file "), str(raised.value)
    assert "`sys.exit(\"no pages for you\")`" in str(raised.value)


class TwoArguments(ReplacementPolicy):
    def victims(self, vm, n):                               # the signature of an older handout
        return np.flatnonzero(vm.pmap.state == PRIVATE)[:n]


def test_a_victims_of_the_wrong_signature_gets_the_engines_sentence():
    """It got Python's 'victims() takes 3 positional arguments but 5 were given', naming no signature to write."""
    with pytest.raises(checks.CheckFailed) as raised:
        checks.check(problems.BeatRandom(0), policy=TwoArguments())
    assert str(raised.value).startswith("your policy TwoArguments(): its victims(vm, n) cannot be called as the "
                                        "swapper calls it, victims(vm, n, rng, protect)"), str(raised.value)


class OneGlobalDraw(LRU):
    """Never draws itself; during its first call another thread (a Dask client's jitter) draws from Python's random."""

    def __init__(self):
        self.first = True

    def victims(self, vm, n, rng, protect):
        if self.first:
            import random
            random.random()
            self.first = False
        return super().victims(vm, n, rng, protect)


def test_one_global_draw_during_a_call_is_not_the_policys(capsys):
    checks.check(problems.BeatRandom(0), policy=OneGlobalDraw())
    assert "Correct" in capsys.readouterr().out


def test_the_arrays_made_read_only_are_writable_again_after_an_error():
    from esxlab.swap import read_only
    a, b = np.zeros(3), np.zeros(3)
    b.flags.writeable = False
    with pytest.raises(ValueError), read_only(a, b, None):
        a[0] = 1
    assert a.flags.writeable and not b.flags.writeable, "restored as they were, also after an error"
