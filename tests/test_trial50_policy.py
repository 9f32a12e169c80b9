"""Trial 50: a replacement policy of one's own plugged into ``Host(replacement=...)`` is checked on every call (§3.3).

The bad-input trial (sections 1 and 8): illegal victims corrupted the host's accounting (a 200 MB host holding 302 MB)
or crashed inside swap.py with numpy errors; the capstone's ``measure`` had three gaps. The rules now live in one
place, :func:`esxlab.swap.legal_victims`; the swapper applies them to every policy that is not esxlab's own, and the
capstone's ``_Validated`` turns the same sentences into its CheckFailed.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest

import esxlab as esx
from esxlab import checks, problems, swap
from esxlab.errors import ConfigError, Error, PolicyError
from esxlab.pmap import PRIVATE
from esxlab.problems import capstone_policy
from esxlab.swap import RandomReplacement, ReplacementPolicy, legal_victims, private_outside
from esxlab.workloads import HotCold


class Oldest(ReplacementPolicy):
    """A legal policy of one's own: the private pages touched longest ago."""

    name = "oldest"

    def victims(self, vm, n, rng, protect):
        c = private_outside(vm, protect)
        return c[np.argsort(vm.last_touch[c], kind="stable")[:n]]


def _protected(vm, n, good, protect):
    mapped = [] if protect is None else protect[vm.pmap.state[protect] == PRIVATE]
    return mapped[:1] if len(mapped) else good


# kind → (what victims() returns, given vm, n, the legal answer and protect; a part of the sentence)
ILLEGAL = {
    "negative": (lambda vm, n, good, protect: -1 - np.arange(n), "returned PPN -1, outside 0..20479, the VM's PPNs."),
    "not private": (lambda vm, n, good, protect: np.flatnonzero(vm.pmap.state != PRIVATE)[:n],
                    "only private pages can be paged out."),
    "None": (lambda vm, n, good, protect: None,
             "must return a 1-D array of page numbers (PPNs); got None (NoneType) with 0 dimensions."),
    "2-D": (lambda vm, n, good, protect: good.reshape(1, -1), "with 2 dimensions."),
    "ragged": (lambda vm, n, good, protect: [[1, 2], [3]], "got [[1, 2], [3]] (list), which is not an array."),
    "out of range": (lambda vm, n, good, protect: np.arange(vm.pages, vm.pages + n), "PPN 20480, outside 0..20479"),
    "floats": (lambda vm, n, good, protect: good + 0.5,
               "must return integer page numbers (PPNs); got an array of float64"),
    "boolean mask": (lambda vm, n, good, protect: np.isin(np.arange(vm.pages), good),
                     "got an array of bool (a boolean mask: its True positions are np.flatnonzero(mask)"),
    "empty floats": (lambda vm, n, good, protect: np.array([]),
                     "got an empty array of float64 (np.array([]) holds floats: write np.array([], dtype=int))."),
    "2**62": (lambda vm, n, good, protect: np.array([2 ** 62]), "PPN 4611686018427387904, outside"),
    "duplicates": (lambda vm, n, good, protect: np.r_[good[:1], good[:n - 1]] if n > 1 else good,
                   "returned the same page twice; each victim must be distinct."),
    "protected": (lambda vm, n, good, protect: _protected(vm, n, good, protect),
                  "returned a page in `protect`: those are being faulted in right now."),
    "too many": (lambda vm, n, good, protect: private_outside(vm, protect)[:n + 1], "return at most n."),
}


def _bad(kind: str) -> ReplacementPolicy:
    answer = ILLEGAL[kind][0]

    class Bad(Oldest):
        def victims(self, vm, n, rng, protect):
            return answer(vm, n, super().victims(vm, n, rng, protect), protect)
    return Bad()


def _host(policy, seconds: int = 100) -> esx.Host:
    """The capstone's paging host (40 MB, an 80 MB VM, sharing off): the policy is asked for victims, and, past
    the warm-up, on the fault path with pages in ``protect``."""
    host = esx.Host(esx.HostConfig(memory_mb=40, swap_mb=256, sharing=esx.SharingConfig(mode="off")), seed=0,
                    replacement=policy)
    host.power_on(esx.VMConfig(name="app", max_mb=80, overhead_mb=4, balloon="absent"), workload=HotCold(8, 32, 10))
    host.run(seconds=seconds)
    return host


@pytest.mark.parametrize("kind", list(ILLEGAL))
def test_a_host_refuses_illegal_victims_with_a_sentence(kind):
    """Each illegal answer raises PolicyError (an esxlab Error) naming the policy's class and the rule it broke."""
    with pytest.raises(PolicyError) as raised:
        _host(_bad(kind))
    assert isinstance(raised.value, Error)
    assert str(raised.value).startswith("Bad.victims() ") and ILLEGAL[kind][1] in str(raised.value), raised.value


def test_refused_victims_leave_the_accounting_whole():
    """The trial's Neg policy made a host hold more than its memory; the check comes before anything moves."""
    host = esx.Host(esx.HostConfig(memory_mb=200, sharing=esx.SharingConfig(mode="off")), seed=0,
                    replacement=_bad("negative"))
    host.power_on(esx.VMConfig(name="a", max_mb=256, balloon="absent"), workload="dbench")
    with pytest.raises(PolicyError, match=r"outside 0\.\.65535"):
        host.run(minutes=2)
    vm, hs = host.vm("a").stats(), host.stats()
    assert vm.alloc + hs.overhead + hs.free <= 200 + 1e-6 and hs.swap_used == vm.swapped == 0


def test_a_legal_policy_of_ones_own_runs_as_before():
    """Checked, a policy that chooses as RandomReplacement does gives the built-in's run bit for bit; a legal answer
    as a list, int32 or uint64 gives the int64 answer's run."""
    class MyRandom(RandomReplacement):
        name = "mine"

    def run(policy):
        host = _host(policy, seconds=120)
        series = host.trace.vm("app")
        return series.alloc, series.swapped, host.vm("app").totals.swap_ins

    for mine, built_in in zip(run(MyRandom()), run(RandomReplacement())):
        assert np.array_equal(mine, built_in)
    oldest = run(Oldest())
    assert oldest[2] > 0
    for convert in (list, lambda v: v.astype(np.int32), lambda v: v.astype(np.uint64)):
        class Converted(Oldest):
            def victims(self, vm, n, rng, protect):
                return convert(super().victims(vm, n, rng, protect))
        for got, want in zip(run(Converted()), oldest):
            assert np.array_equal(got, want)


def test_the_host_keeps_the_policy_it_was_given():
    mine = Oldest()
    assert _host(mine, seconds=1).swapper.policy is mine


def test_only_policies_of_ones_own_are_checked(monkeypatch):
    """esxlab's own policies are trusted (no cost on their path); a subclass of one is checked."""
    calls = []
    real = swap.legal_victims
    monkeypatch.setattr(swap, "legal_victims", lambda *a, **k: calls.append(1) or real(*a, **k))
    for name in swap.POLICIES:
        host = esx.Host(esx.HostConfig(memory_mb=40, swap_mb=256, sharing=esx.SharingConfig(mode="off"),
                                       replacement=name), seed=0)
        host.power_on(esx.VMConfig(name="app", max_mb=80, overhead_mb=4, balloon="absent"),
                      workload=HotCold(8, 32, 10))
        host.run(seconds=60)
    assert calls == []

    class Sub(RandomReplacement):
        pass
    _host(Sub(), seconds=60)
    assert calls


# -- the capstone reuses the engine's rules -------------------------------------------------------------------------
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
    for sentence in ("only private pages can be paged out", "return at most n", "the same page twice",
                     "must return integer page numbers", "the VM's PPNs"):
        assert sentence not in source


# -- section 8: BeatRandom.measure's three gaps ----------------------------------------------------------------------
class EmptyFloats(ReplacementPolicy):
    def victims(self, vm, n, rng, protect):
        return np.array([])            # a common start: an empty (float64) array


def test_measure_names_an_empty_float_array():
    with pytest.raises(checks.CheckFailed, match=r"integer page numbers \(PPNs\); got an empty array of float64"):
        problems.BeatRandom(0).measure(EmptyFloats())


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
