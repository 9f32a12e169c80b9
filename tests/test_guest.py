"""The guest OS model (§3.1–3.2): its own free list, page replacement and free-memory target."""
from __future__ import annotations

import numpy as np
import pytest

import esxlab as esx
from esxlab.config import SharingConfig
from esxlab.experiments import fig6
from esxlab.guest import PROFILES
from esxlab.pmap import SHARED
from esxlab.workloads import Toucher

from conftest import short_guest as _short_guest

MB = esx.PAGES_PER_MB


def ballooned_windows(sharing="off"):
    """One 64 MB Windows VM (21 MB of kernel) that wrote 32 MB of data, on a host that never pages,
    whose balloon then took every page on its free lists."""
    host = esx.Host(esx.HostConfig(memory_mb=256, sharing=SharingConfig(mode=sharing)), seed=3)
    vm = host.power_on(esx.VMConfig(name="w", max_mb=64, guest_os="windows"),
                       workload=esx.workloads.Toucher([(0, 32)], sweep_s=10))
    host.run(minutes=2)
    taken, _ = vm.guest.balloon_take(vm.guest.free_pages())     # the balloon empties the free lists
    vm.balloon_pages(taken)
    return host, vm


def test_windows_keeps_ten_percent_of_its_memory_free():
    """The profile's free target is 10 % of memory for Windows, none for Linux."""
    assert PROFILES["windows"].free_target(64) == int(0.1 * 64 * MB)
    assert PROFILES["linux"].free_target(64) == 0


def test_a_balloon_that_takes_the_free_list_makes_the_guest_evict_to_refill_it():
    """After the balloon takes the free pages, the guest evicts cold pages until free + standby
    reach its target again (writing the dirty ones to its disk)."""
    host, vm = ballooned_windows()
    g = vm.guest
    target = g.free_target
    assert target > 0
    assert g.free_pages() == 0
    writes = vm.counters.guest_disk_writes
    g.keep_free_step()
    assert g.free_pages() == target
    assert vm.counters.guest_disk_writes > writes, "the evicted data went to the guest's disk"


def test_zeroed_free_pages_are_what_page_sharing_reclaims():
    """With sharing on, a ballooned Windows guest's refilled free list ends up as shared zero pages."""
    host, vm = ballooned_windows(sharing="esx")
    g = vm.guest
    host.run(minutes=30)
    free = np.concatenate([g.free.items[:g.free.n], g.standby.items[:g.standby.n]])
    assert len(free) >= g.free_target
    zero_shared = np.count_nonzero((vm.pmap.state[free] == SHARED) & (vm.peek(free) == 0))
    assert zero_shared >= 0.5 * len(free)


def evict_from_copy(host, n, passed_per_evict):
    """Evict ``n`` pages from a copy of ``host``'s VM "w" with the clock's windows sized by
    ``passed_per_evict``: (the evicted PPNs in order, the hand after, the referenced PPNs after)."""
    import copy
    g = copy.deepcopy(host).vm("w").guest
    g._passed_per_evict = passed_per_evict
    taken = []
    g._evict(n, taken)
    return np.concatenate(taken).tolist(), g.hand, np.flatnonzero(g.ref).tolist()


def test_the_clock_evicts_the_same_pages_whatever_its_window_size():
    """The clock's windows are sized for speed only: tiny or huge windows evict the same pages, in
    the same order, and leave the same hand and reference bits (a page short of its need included)."""
    host, vm = ballooned_windows()
    host.run(seconds=3)                                # some pages referenced again
    resident = vm.guest.resident
    for n in (1, 37, 600, resident, resident + 50):    # the last asks for more than there is
        runs = {p: evict_from_copy(host, n, p) for p in (0.001, 1.0, 4.0, 1e9)}
        first = runs[0.001]
        assert len(first[0]) == min(n, resident)
        assert all(r == first for r in runs.values()), n


def test_a_batch_larger_than_memory_accesses_only_the_pages_it_kept():
    """A batch that holds every resident page and asks for more: the clock passes the batch once
    (clearing its reference bits), then evicts some of it to page the rest in. What it evicted is
    not accessed (not written, not dirty), and every page it wrote is resident and dirty."""
    host, vm = ballooned_windows()
    g = vm.guest
    lps = np.arange(len(g.lp_ppn))
    g.free_lps(lps[len(lps) // 2:])                    # half the data freed…
    taken, _ = g.balloon_take(g.free_pages())          # …and ballooned: no free page left
    vm.balloon_pages(taken)
    assert g.free_pages() == 0 and g.resident == len(lps) // 2
    passed = g.passed
    g.access(lps, np.ones(len(lps), dtype=bool))       # all of it, written
    assert g.passed - passed > vm.pages                # the hand went round more than once
    resident = g.lp_ppn >= 0
    assert 0 < resident.sum() < len(lps)
    assert not (g.lp_dirty & ~resident).any()          # an evicted page was not written
    assert g.lp_dirty[resident].all()
    assert (g.ppn_lp[g.lp_ppn[resident]] == lps[resident]).all()


def test_the_background_sweep_faults_back_in_the_kernel_pages_esx_swapped_out():
    """The OS's background sweep touches a run of kernel pages; where ESX swapped some of them out,
    the sweep faults them back in (swap-ins), their contents intact, and notes the touch (§3.3, §5.3)."""
    host = esx.Host(esx.HostConfig(memory_mb=256), seed=1)
    vm = host.power_on(esx.VMConfig(name="v", max_mb=64))
    host.run(seconds=5)
    g = vm.guest
    start = g._bg_cursor
    run = np.arange(start, start + g._bg_per_tick)
    before = vm.peek(run)
    host.swapper.page_out(vm, run[::3])
    assert vm.swapped_pages == len(run[::3])
    vm.counters = type(vm.counters)()
    vm.vm_time += 1
    g.background_step()
    assert vm.counters.swap_ins == len(run[::3]) and vm.swapped_pages == 0
    assert vm.counters.accesses == len(run)
    assert (vm.last_touch[run] == vm.vm_time).all()
    np.testing.assert_array_equal(vm.peek(run), before)


def test_a_vm_short_of_memory_pages_its_kernel_out_a_megabyte_at_a_time(monkeypatch):
    """A 2 GB Linux VM booting on a 160 MB host writes more kernel than fits (§6.2): it pages its
    own kernel out a megabyte at a time (one fault per MB of kernel), not one page per fault
    once memory is full (≈ 9,000 faults, 1.5 s; a 4 GB VM took 38 s)."""
    faults = []
    real = esx.Host._make_free
    monkeypatch.setattr(esx.Host, "_make_free", lambda self, n, *a, **k: faults.append(n) or real(self, n, *a, **k))
    host = esx.Host(esx.HostConfig(memory_mb=160, swap_mb=4096, sharing=SharingConfig(mode="off")), seed=0)
    vm = host.power_on(esx.VMConfig(name="big", max_mb=2048, overhead_mb=1, balloon="absent"))
    kernel = vm.guest.kernel_pages
    assert kernel > host.config.total_pages and vm.pmap.count(esx.pmap.SWAPPED) > 0
    assert len(faults) <= kernel / esx.PAGES_PER_MB + 2, len(faults)
    assert (vm.peek(np.arange(kernel)) != 0).all()      # every kernel page holds what boot wrote


def test_accesses_the_guest_had_no_room_for_are_not_counted_as_work():
    """A 16 MB guest asked to touch ≈ 11,700 pages a tick serves only what fits; the rest were dropped but still
    counted in its throughput."""
    host = esx.Host(esx.HostConfig(memory_mb=512, sharing=esx.SharingConfig(mode="off")), seed=0)
    vm = host.power_on(esx.VMConfig(name="d", max_mb=16),
                       workload=esx.workloads.Dbench(clients=40, accesses_per_s=20000))
    served, shorts = [], []
    access = vm.guest.access

    def counted(lps, writes):
        shorts.append(access(lps, writes))
        served.append(len(lps) - shorts[-1])
        return shorts[-1]
    vm.guest.access = counted
    host.run(seconds=5)
    assert served[-1] < 0.5 * vm.workload.accesses_per_s       # the guest is short of pages
    assert vm.throughput == vm._throughput(served[-1])
    assert vm.counters.guest_oom == shorts[-1] and vm.totals.guest_oom == sum(shorts)     # and counts them


def test_only_windows_zeroes_what_a_program_frees_so_only_its_sampler_sees_a_spike():
    """Two VMs whose toucher frees 80 MB at 5 min: in the 25 s after, Windows' zero page thread has written zeros
    into most of it (pages the sampler sees touched, Figure 6's spike), Linux only its 2 MB background."""
    assert PROFILES["linux"].zero_page_thread_mb_s == 0 < PROFILES["windows"].zero_page_thread_mb_s
    host = esx.Host(esx.HostConfig(memory_mb=512), seed=0)
    vms = {os: host.power_on(esx.VMConfig(name=os, max_mb=128, guest_os=os),
                             workload=Toucher([(0, 0), (60, 80), (300, 0)], sweep_s=5)) for os in ("linux", "windows")}
    host.run(minutes=5.5)
    touched = {os: np.count_nonzero(vm.last_touch >= 305) / esx.PAGES_PER_MB for os, vm in vms.items()}
    assert touched["linux"] <= PROFILES["linux"].background_mb and touched["windows"] > 40, touched
    assert fig6.run(0).row("zero page thread spike (fast EWMA peak after exit)").within


def test_kernel_pages_refuses_a_negative_or_text_size():
    with pytest.raises(esx.ConfigError, match="max_mb = -1 is out of range"):
        PROFILES["linux"].kernel_pages(-1)
    with pytest.raises(esx.ConfigError, match="must be a number"):
        PROFILES["linux"].kernel_pages("128")


def test_a_short_guest_counts_every_tick_and_since_power_on():
    vm, per_tick = _short_guest(5)
    assert min(per_tick[1:]) > 4096 and vm.totals.guest_oom == sum(per_tick)


def test_a_guest_with_room_counts_none():
    host = esx.Host(esx.HostConfig(memory_mb=512), seed=0)
    vm = host.power_on(esx.VMConfig(name="d", max_mb=256), workload=esx.workloads.Dbench())
    host.run(seconds=120)
    assert vm.totals.accesses > 0 and vm.totals.guest_oom == 0
