"""Hypervisor demand paging (paper §3.3): the swap area's slots, paging out victims chosen at
random among a VM's private pages (or by the clock policy, for comparison), paging back in
with the contents intact, and slots released."""
from __future__ import annotations

import numpy as np
import pytest

import esxlab as esx
from esxlab import swap
from esxlab.config import SharingConfig
from esxlab.errors import ConfigError, Error, PolicyError
from esxlab.pmap import PRIVATE, SHARED, SWAPPED
from esxlab.swap import RandomReplacement, Stage, SwapFile
from esxlab.workloads import HotCold

from invariants import check_conservation
from policies import ILLEGAL, Oldest, bad_policy as _bad, paging_host as _host

MB = esx.PAGES_PER_MB


def swapping_host(replacement="random", swap_mb=128, min_mb=0):
    """One 64 MB VM that wrote 40 MB, then kept touching only its first 10 MB (from 30 s), at 60 s."""
    host = esx.Host(esx.HostConfig(memory_mb=256, swap_mb=swap_mb, sharing=SharingConfig(mode="off"),
                                   replacement=replacement), seed=0)
    vm = host.power_on(esx.VMConfig(name="g", max_mb=64, min_mb=min_mb, overhead_mb=1, balloon="absent"),
                       workload=esx.workloads.Toucher([(0, 40), (30, 10)], sweep_s=5))
    host.run(seconds=60)
    return host, vm


def test_store_puts_each_token_in_a_slot_of_its_own_and_release_frees_them():
    """Three tokens in an 8-slot area: three distinct slots holding them, five free; released, eight free."""
    area = SwapFile(8)
    tokens = np.array([5, 6, 7], dtype=np.uint64)
    slots = area.store(tokens)
    assert len(set(slots.tolist())) == 3 and ((0 <= slots) & (slots < 8)).all()
    assert area.content[slots].tolist() == [5, 6, 7] and (area.used, area.free) == (3, 5)
    area.release(slots)
    assert (area.used, area.free) == (0, 8)


def test_resize_grows_the_area_and_keeps_what_is_stored():
    """4 slots, 2 used, grown by 8: 12 slots, 10 free, the two tokens intact; all 12 can be filled, each once."""
    area = SwapFile(4)
    kept = area.store(np.array([11, 12], dtype=np.uint64))
    area.resize(8)
    assert (area.capacity, area.used, area.free) == (12, 2, 10)
    assert area.content[kept].tolist() == [11, 12]
    more = area.store(np.arange(10, dtype=np.uint64))
    assert sorted(np.r_[kept, more].tolist()) == list(range(12)) and area.free == 0
    area.release(np.r_[kept, more])
    area.resize(-8)
    assert (area.capacity, area.free) == (4, 4)


def test_per_vm_swap_files_grow_at_power_on_and_shrink_at_power_off():
    """swap_mb = None: each VM brings max − min of swap (64 − 16 = 48 MB, then 32 MB more), gone at power-off."""
    host = esx.Host(esx.HostConfig(memory_mb=256), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=64, min_mb=16, overhead_mb=1))
    assert host.swapfile.capacity == 48 * MB
    host.power_on(esx.VMConfig(name="b", max_mb=32, overhead_mb=1))
    assert host.swapfile.capacity == 80 * MB
    host.power_off("a")
    assert host.swapfile.capacity == 32 * MB


def test_swap_out_pages_out_private_pages_at_random():
    """Victims are uniform over the VM's private pages, recently touched ones included (§3.3)."""
    # 1000 victims: ≈ 250 per quarter of the private pages (± 4 sd), recently touched pages in
    # proportion to their share (the paper's random choice ignores recency)
    host, vm = swapping_host()
    private = np.flatnonzero(vm.pmap.state == PRIVATE)
    hot_share = np.mean(vm.last_touch[private] >= vm.vm_time - 10)
    free = host.machine.free
    assert host.swapper.swap_out(vm, 1000) == 1000 == host.machine.free - free
    out = np.flatnonzero(vm.pmap.state == SWAPPED)
    assert len(out) == 1000 == host.swapfile.used == vm.counters.swap_outs
    assert np.isin(out, private).all()
    quarters = np.bincount(np.searchsorted(private, out) * 4 // len(private), minlength=4)
    assert (abs(quarters - 250) < 4 * np.sqrt(1000 * 0.25 * 0.75)).all(), quarters
    hot = np.count_nonzero(vm.last_touch[out] >= vm.vm_time - 10)
    assert abs(hot - 1000 * hot_share) < 4 * np.sqrt(1000 * hot_share * (1 - hot_share)), (hot, hot_share)
    check_conservation(host)


def test_the_clock_policy_pages_out_only_pages_not_touched_lately():
    """With replacement="clock" none of the victims was touched in the last 10 s of VM time."""
    host, vm = swapping_host("clock")
    assert host.swapper.swap_out(vm, 1000) == 1000
    out = np.flatnonzero(vm.pmap.state == SWAPPED)
    assert len(out) == 1000 and (vm.last_touch[out] < vm.vm_time - 10).all()


def test_protected_pages_are_never_victims():
    """Pages the caller protects (e.g. those a fault is bringing in) are never paged out."""
    host, vm = swapping_host()
    protect = np.flatnonzero(vm.pmap.state == PRIVATE)[:8000]
    assert host.swapper.swap_out(vm, 1000, protect) == 1000
    assert not np.isin(np.flatnonzero(vm.pmap.state == SWAPPED), protect).any()


def test_swap_out_stops_when_the_swap_area_is_full():
    """A 1 MB shared area (256 slots) takes 256 of 1000 victims; the rest stay in memory."""
    host, vm = swapping_host(swap_mb=1, min_mb=63)
    assert host.swapper.swap_out(vm, 1000) == 256
    assert vm.pmap.count(SWAPPED) == 256 and host.swapfile.free == 0


def test_swap_in_restores_the_contents_and_frees_the_slots():
    """The guest reads its 1000 paged-out pages: the tokens it wrote, 1000 swap-ins, no slot in use."""
    host, vm = swapping_host()
    private = np.flatnonzero(vm.pmap.state == PRIVATE)
    before = vm.peek(private)
    host.swapper.swap_out(vm, 1000)
    out = np.flatnonzero(vm.pmap.state == SWAPPED)
    assert (vm.read(out) == before[np.searchsorted(private, out)]).all()
    assert (vm.pmap.state[out] == PRIVATE).all() and vm.counters.swap_ins == 1000 and host.swapfile.used == 0
    check_conservation(host)


def test_a_page_out_runs_the_stages_in_order_and_names_those_that_took_pages():
    """Each stage gets what the one before left; the swap area takes the rest; the log's action names
    the stages that took pages, then "page out" (a stage that took nothing, or has no name, is not named)."""
    host, vm = swapping_host()
    seen = []

    def keep_ten(vm, ppns):                 # a probe: "takes" the first 10 victims (they stay private)
        seen.append(("keep", len(ppns)))
        return ppns[10:]

    def keep_none(vm, ppns):
        seen.append(("none", len(ppns)))
        return ppns

    host.swapper.stages = (Stage("keep", keep_ten), Stage("none", keep_none), Stage("", keep_ten))
    host.swapper.swap_out(vm, 100)
    assert seen == [("keep", 100), ("none", 90), ("keep", 90)]
    assert vm.pmap.count(SWAPPED) == 80 and host.swapper.action == "keep / page out"
    host.swapper.stages = (Stage("none", keep_none),)
    assert host.swapper.swap_out(vm, 100) == 100 and host.swapper.action == "page out"


def test_the_swapper_is_the_store_of_swapped_pages():
    """The VM reaches swapped pages through VMEnv.stores (state → store): the swapper serves SWAPPED,
    charging the VM no machine memory; no other store without a later mechanism switched on."""
    host, vm = swapping_host()
    assert vm.env.stores == {SWAPPED: host.swapper}
    host.swapper.swap_out(vm, 1000)
    out = np.flatnonzero(vm.pmap.state == SWAPPED)
    assert (host.swapper.peek(vm, out) == vm.peek(out)).all() and host.swapper.charged_pages(vm) == 0


def test_power_off_releases_every_swap_slot():
    """A VM powered off with 1000 pages in swap leaves the shared area empty."""
    host, vm = swapping_host()
    host.swapper.swap_out(vm, 1000)
    host.power_off("g")
    assert host.swapfile.used == 0 and host.swapfile.free == 128 * MB


def test_the_replacement_policy_is_configuration():
    """HostConfig.replacement picks the hypervisor's victim policy (default: the paper's random, §3.3)."""
    from esxlab.swap import ClockReplacement, RandomReplacement
    assert isinstance(esx.Host(esx.HostConfig(memory_mb=64)).swapper.policy, RandomReplacement)
    assert isinstance(esx.Host(esx.HostConfig(memory_mb=64, replacement="clock")).swapper.policy, ClockReplacement)
    with pytest.raises(esx.ConfigError, match=r"HostConfig.replacement = 'lru'.*'random'.*'clock'"):
        esx.HostConfig(replacement="lru")


def test_host_replacement_argument_takes_a_policy_object_and_deprecates_names():
    """A policy object of one's own still goes to Host; a name there warns and lands in host.config."""
    from esxlab.swap import ClockReplacement
    mine = ClockReplacement()
    assert esx.Host(esx.HostConfig(memory_mb=64), replacement=mine).swapper.policy is mine
    with pytest.warns(DeprecationWarning, match="HostConfig"):
        host = esx.Host(esx.HostConfig(memory_mb=64), replacement="clock")
    assert host.config.replacement == "clock" and isinstance(host.swapper.policy, ClockReplacement)


def test_the_clock_sizes_its_windows_by_how_many_private_pages_there_are(monkeypatch):
    """A 1 GB VM that wrote 880 MB, then holding 8 MB of it privately (under 1 % of its pages): the clock finds 100 cold victims
    in a few windows, not one 512-page window after another across the VM (≈ 500 of them)."""
    host = esx.Host(esx.HostConfig(memory_mb=1280, swap_mb=2048, sharing=SharingConfig(mode="off"),
                                   replacement="clock"), seed=0)
    vm = host.power_on(esx.VMConfig(name="g", max_mb=1024, overhead_mb=1, balloon="absent"),
                       workload=esx.workloads.Toucher([(0, 880)], sweep_s=30))
    host.run(seconds=40)
    host.swapper.swap_out(vm, vm.pmap.count(PRIVATE) - 8 * MB)     # 8 MB left, spread over the VM
    windows = []                                    # one np.arange per window
    real = np.arange
    monkeypatch.setattr(np, "arange", lambda *a, **k: windows.append(1) or real(*a, **k))
    victims = host.swapper.policy.victims(vm, 100, None, None)
    monkeypatch.undo()
    assert len(victims) == 100 and (vm.pmap.state[victims] == PRIVATE).all()
    assert len(windows) <= 8, len(windows)


class _Counting:
    """A Generator that counts the elements it is asked to draw (a scan of the pmap draws from all
    the pages it finds in the state; rejection sampling draws a few per page wanted)."""

    def __init__(self, seed):
        self.rng, self.drawn = np.random.default_rng(seed), 0

    def integers(self, lo, hi, size):
        self.drawn += size
        return self.rng.integers(lo, hi, size=size)

    def permutation(self, x):
        return self.rng.permutation(x)

    def choice(self, pool, size, replace):
        self.drawn += len(pool)
        return self.rng.choice(pool, size=size, replace=replace)


def test_random_victims_among_few_private_pages_cost_what_they_draw_not_the_vm_size():
    """A 4 GB pmap with 1 % of its pages private: one victim draws ≈ 210 candidates, not the
    41,943 private pages a scan finds; victims are private, distinct and uniform over them."""
    from esxlab.pmap import Pmap
    pm = Pmap(4096 * MB)
    private = np.random.default_rng(1).choice(pm.pages, size=pm.pages // 100, replace=False)
    pm.set_state(private, PRIVATE)
    rng = _Counting(0)
    picks = np.concatenate([pm.random_in_state(rng, PRIVATE, 1) for _ in range(2000)])
    assert rng.drawn <= 2000 * 300, rng.drawn              # a scan: 2000 × 41,943
    assert (pm.state[picks] == PRIVATE).all()
    quarters = np.bincount(np.searchsorted(np.sort(private), picks) * 4 // len(private), minlength=4)
    assert (abs(quarters - 500) < 4 * np.sqrt(2000 * 0.25 * 0.75)).all(), quarters
    assert len(np.unique(pm.random_in_state(rng, PRIVATE, 500))) == 500


def test_events_one_vm_causes_another_after_it_ran_reach_the_others_totals():
    """a runs first each tick, then b's faults page a out (no balloons, sharing off). Every page
    of a in swap went there by a page-out and leaves by a swap-in, so at every tick a's swapped
    pages are its swap-outs less its swap-ins since power-on. Before, events after a VM had
    stepped were lost from its totals (the ksm golden run's linux2 lost 1,961 of 3,868 page-outs)."""
    host = esx.Host(esx.HostConfig(memory_mb=64, swap_mb=128, sharing=SharingConfig(mode="off")), seed=0)
    a = host.power_on(esx.VMConfig(name="a", max_mb=40, overhead_mb=1, balloon="absent"),
                      workload=esx.workloads.Toucher([(0, 24)], sweep_s=4))
    b = host.power_on(esx.VMConfig(name="b", max_mb=48, overhead_mb=1, balloon="absent"),
                      workload=esx.workloads.Toucher([(20, 40)], sweep_s=2))
    for _ in range(60):
        host.step()
        for vm in (a, b):
            assert vm.swapped_pages == vm.totals.swap_outs - vm.totals.swap_ins, (host.time, vm.name)
    assert a.totals.swap_outs > 0, "b's faults paged a"


# kind → (what victims() returns, given vm, n, the legal answer and protect; a part of the sentence)


@pytest.mark.parametrize("kind", list(ILLEGAL))
def test_a_host_refuses_illegal_victims_with_a_sentence(kind):
    """Each illegal answer raises PolicyError (an esxlab Error) naming the policy's class and the rule it broke."""
    with pytest.raises(PolicyError) as raised:
        _host(_bad(kind))
    assert isinstance(raised.value, Error)
    assert str(raised.value).startswith("Bad.victims() for VM 'app' ") and ILLEGAL[kind][1] in str(raised.value), \
        raised.value


def test_refused_victims_leave_the_accounting_whole():
    """A policy that returns negative PPNs made a host hold more than its memory; the check comes before anything
    moves."""
    host = esx.Host(esx.HostConfig(memory_mb=200, sharing=esx.SharingConfig(mode="off")), seed=0,
                    replacement=_bad("negative"))
    host.power_on(esx.VMConfig(name="a", max_mb=256, balloon="absent"), workload="dbench")
    with pytest.raises(PolicyError, match=r"outside 0 ≤ PPN < 65536"):
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


def test_a_policy_instance_serves_one_host():
    """A policy may keep state for its host's VMs (ClockReplacement's hands, keyed by VM uid, which every host numbers
    from 1): one instance reused by a second host gave the same seed another run, and a sweep whose experiment kept
    one module-level policy gave results that depended on --jobs. A second host refuses it, saying what to do; a
    copy of a host (a fork) keeps its own copy and runs on as the original does."""
    import copy
    policy = swap.ClockReplacement()
    host = _host(policy)
    with pytest.raises(ConfigError, match=r"has already served a host.*replacement=ClockReplacement\(\)"):
        esx.Host(esx.HostConfig(memory_mb=40), seed=0, replacement=policy)
    fork = copy.deepcopy(host)
    assert fork.run(seconds=20).vm("app").swapped.tolist() == host.run(seconds=20).vm("app").swapped.tolist()
    assert host.vm("app").totals.swap_outs > 0
    assert _host(swap.ClockReplacement()).vm("app").totals == _host(swap.ClockReplacement()).vm("app").totals


class _Nothing(swap.ReplacementPolicy):
    def victims(self, vm, n, rng, protect):
        return np.empty(0, dtype=np.int64)


def test_a_policy_that_returns_too_few_victims_is_refused_with_a_sentence():
    """A policy that always returned nothing ran without an error: the host stayed in low with its VM blocked, and
    neither an error nor the decision log pointed at the policy (victims() may return fewer than n only when no more
    private pages qualify)."""
    with pytest.raises(PolicyError, match=r"^_Nothing\.victims\(\) for VM 'app' was asked for \d+ pages and returned 0, "
                                          r"while \d+ private pages outside `protect` could be chosen: it must "
                                          r"return n pages \(fewer only when fewer qualify\)\.$"):
        _host(_Nothing())
    assert swap.short_answer(np.arange(3), _host(Oldest()).vm("app"), 3, None) is None


class _TwoArguments(swap.ReplacementPolicy):
    def victims(self, vm, n):
        return np.empty(0, dtype=np.int64)


class _Flexible(swap.ReplacementPolicy):
    def victims(self, vm, n, *rest, extra=3):
        return np.empty(0, dtype=np.int64)


def test_a_policy_whose_victims_takes_other_arguments_is_refused_when_the_host_is_built():
    """victims(self, vm, n) passed Host(replacement=…) and the run raised Python's own TypeError ("takes 3 positional
    arguments but 5 were given") from deep in the swapper, at the first page-out (a new user's trial)."""
    with pytest.raises(PolicyError, match=r"^replacement = _TwoArguments\(\): its victims\(vm, n\) cannot be called as "
                                          r"the swapper calls it, victims\(vm, n, rng, protect\): "):
        esx.Host(replacement=_TwoArguments())
    esx.Host(replacement=_Flexible())             # what can be called so is allowed


class _Misspelled(swap.ReplacementPolicy):
    def victim(self, vm, n, rng, protect):
        return np.empty(0, dtype=np.int64)


def test_a_policy_without_victims_or_given_as_its_class_is_refused_with_a_sentence():
    """A policy whose victims() was misspelled ran until the first page-out raised a bare NotImplementedError; the class
    given for an instance was called "unknown" (a new user's second trial)."""
    with pytest.raises(PolicyError, match=r"^replacement = _Misspelled\(\): it defines no victims\(self, vm, n, rng, "
                                          r"protect\) \(misspelled\?\)"):
        esx.Host(replacement=_Misspelled())
    with pytest.raises(ConfigError, match=r"^replacement = _Flexible is the class; give an instance: "
                                          r"replacement=_Flexible\(\)\.$"):
        esx.Host(replacement=_Flexible)


def test_a_vm_with_no_private_page_left_pages_out_its_shared_mappings():
    """A shared page counts in the alloc of every VM that maps it (§4.3): once a VM has no private page
    left, a page-out takes its shared mappings, touched longest ago first, to the swap area (the share
    stage's spill), each lowering its alloc by a page, freeing a frame's machine page with its last
    mapping, and keeping its contents. Two VMs running the same application image share all they hold;
    before, a page-out of one took nothing (no victims: 20 MB above a target of 0 out of every page-out's
    reach, and a VM blocked in low with only shared pages above its target stayed blocked)."""
    sharing = SharingConfig(mode="esx", scan_vm_pages_s=20000, scan_total_pages_s=80000, scan_period_s=1)
    host = esx.Host(esx.HostConfig(memory_mb=64, swap_mb=256, sharing=sharing), seed=0)
    a, b = (host.power_on(esx.VMConfig(name=n, max_mb=24, balloon="absent", overhead_mb=0, shares=0),
                          workload=esx.workloads.Contents(app="a", app_mb=16, zero_mb=4, private_mb=0))
            for n in ("a", "b"))
    host.run(seconds=60)
    host.swapper.swap_out(a, a.pmap.count(PRIVATE))          # its private pages (kernel data) go first
    assert a.pmap.count(PRIVATE) == 0 and a.pmap.count(SHARED) > 16 * MB, "all it holds is shared"
    everything = np.arange(a.pages)
    before, alloc, free = a.peek(everything), a.alloc_pages, host.machine.free
    freed = host.swapper.swap_out(a, 100)
    assert a.alloc_pages == alloc - 100 and a.pmap.count(SWAPPED) >= 100
    assert (a.peek(everything) == before).all(), "contents kept"
    assert freed == host.machine.free - free >= 0
    check_conservation(host)
    for vm in (b, a):                   # b lets go of all it holds, then a: a frame's last mapping frees it
        frames, free = host.sharing.n_frames, host.machine.free
        for _ in range(10):
            host.swapper.swap_out(vm, vm.alloc_pages)
        assert vm.alloc_pages == 0
        check_conservation(host)
    assert host.sharing.n_frames == 0 and host.machine.free - free == frames > 0


class _WritesState(Oldest):
    """Leaves its last candidate out by marking it in the VM's own page states (a new user's trial)."""

    def victims(self, vm, n, rng, protect):
        c = np.flatnonzero(vm.pmap.state == PRIVATE)
        vm.pmap.state[c[-1]] = 0                            # the bug: the host's own array
        return super().victims(vm, n, rng, protect)


def test_a_policy_of_ones_own_cannot_write_what_the_hypervisor_sees():
    """On any host (not only in the capstone's check), a victims() that wrote into vm.pmap.state ran on and changed
    the run; it is a PolicyError naming what it may do, and the arrays are writable again for the host."""
    with pytest.raises(PolicyError, match=r"^_WritesState.victims\(\) for VM 'app' wrote into what the hypervisor "
                                          r"sees \(numpy: assignment destination is read-only\): victims\(\) may only "
                                          r"read vm.pmap.state, vm.last_touch and protect; to change one, change a "
                                          r"copy, e.g. `state = vm.pmap.state.copy\(\)`."):
        _host(_WritesState())
    host = esx.Host(esx.HostConfig(memory_mb=40, swap_mb=256, sharing=SharingConfig(mode="off")), seed=0,
                    replacement=_WritesState())
    vm = host.power_on(esx.VMConfig(name="app", max_mb=80, overhead_mb=4, balloon="absent"),
                       workload=HotCold(8, 32, 10))
    with pytest.raises(PolicyError):
        host.run(seconds=100)
    assert vm.pmap.state.flags.writeable and vm.pmap.counts.flags.writeable and vm.last_touch.flags.writeable
