"""The balloon driver (paper §3.2): inflating and deflating at its rates, its cap (65 % of max,
later ESX's ``Mem.CtlMaxPercent``), the driver modes ESX cannot tell apart except by progress,
and ``hold()``. Unless said otherwise: one 64 MB Linux VM (boot 20 s, so the driver loads at
t = 20 s) with 11.4 MB of kernel, a 40 MB toucher, a 4 MB/s balloon, sharing off, on a host with
room to spare."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import esxlab as esx
from esxlab.config import SharingConfig
from esxlab.errors import Stall
from esxlab.guest import PROFILES
from esxlab.pmap import BALLOONED

from conftest import small_host
from invariants import check_conservation

MB = esx.PAGES_PER_MB
LOADED = int(PROFILES["linux"].boot_s) - 1      # trace row of the driver's first poll (t = 20 s today)


def one_vm(mode="cooperative", toucher_mb=40, memory_mb=256, swap_mb=None, **vm_kw):
    host = esx.Host(esx.HostConfig(memory_mb=memory_mb, swap_mb=swap_mb, sharing=SharingConfig(mode="off")), seed=0)
    vm = host.power_on(esx.VMConfig(name="g", max_mb=64, overhead_mb=1, balloon=mode, balloon_rate_mb_s=4, **vm_kw),
                       workload=esx.workloads.Toucher([(0, toucher_mb)], sweep_s=5))
    return host, vm


def test_inflates_at_its_rate_to_the_held_size_once_the_guest_has_booted():
    """Nothing before the driver loads; then 4 MB per second (balloon_rate_mb_s) up to the 16 MB held."""
    host, vm = one_vm()
    vm.balloon.hold(16 * MB)
    assert vm.balloon.why_unusable(0) == "driver not loaded yet: the guest is booting"
    balloon = host.run(seconds=30).vm("g").balloon
    assert (balloon[:LOADED] == 0).all()
    assert balloon[LOADED:LOADED + 6].tolist() == [4, 8, 12, 16, 16, 16]
    assert vm.pmap.count(BALLOONED) == vm.balloon.size == 16 * MB
    check_conservation(host)


def test_deflates_at_its_max_rate_and_gives_back_to_the_host_when_released():
    """16 → 6 MB at 4 MB/s; hold(None) hands the balloon back to a host with room, which empties it."""
    host, vm = one_vm()
    vm.balloon.hold(16 * MB)
    host.run(seconds=30)
    vm.balloon.hold(6 * MB)
    assert host.run(seconds=5).vm("g").balloon[-5:].tolist() == [12, 8, 6, 6, 6]
    vm.balloon.hold(None)
    host.run(seconds=20)
    assert vm.balloon.size == 0 and vm.pmap.count(BALLOONED) == 0


def test_a_guest_that_must_page_to_inflate_halves_the_rate_down_to_a_quarter():
    """Inflating into a guest that must page halves the rate each second, down to a quarter of the maximum."""
    # 56 MB touched of 64: every inflation past the free pages makes the guest page: 4, 2, 1, 1 … MB/s
    host, vm = one_vm(toucher_mb=56)
    vm.balloon.hold(30 * MB)
    balloon = host.run(seconds=30).vm("g").balloon
    assert np.diff(balloon[LOADED - 1:LOADED + 6]).tolist() == [4, 2, 1, 1, 1, 1]


@pytest.mark.parametrize("pct,cap_pages", [(65, int(64 * MB * 0.65)), (25, 16 * MB)])
def test_the_balloon_stops_at_its_cap(pct, cap_pages):
    """A cap of balloon_max_pct % of max (65 % = 10,649 pages of 64 MB): held at 64 MB, it stops there."""
    host, vm = one_vm(toucher_mb=10, balloon_max_pct=pct)
    vm.balloon.hold(64 * MB)
    balloon = host.run(seconds=60).vm("g").balloon
    assert vm.balloon.size == cap_pages and balloon.max() == cap_pages / MB
    assert not vm.balloon.usable(vm.vm_time)
    assert vm.balloon.why_unusable(vm.vm_time) == f"balloon at its cap of {cap_pages / MB:.0f} MB"


@pytest.mark.parametrize("mode", ["absent", "disabled"])
def test_an_absent_or_disabled_driver_never_inflates(mode):
    """Held at 16 MB, the balloon stays empty and ESX is told why."""
    host, vm = one_vm(mode)
    vm.balloon.hold(16 * MB)
    assert (host.run(seconds=40).vm("g").balloon == 0).all()
    assert not vm.balloon.usable(vm.vm_time) and vm.balloon.why_unusable(vm.vm_time) == f"driver {mode}"


def test_an_uncooperative_driver_polls_but_never_inflates_and_is_judged_stuck():
    """An uncooperative driver never inflates; after balloon_stuck_s (5 s) ESX pages the VM instead (§3.3)."""
    # on a 48 MB host the VM is above its target, so the balloon is asked for pages every second
    host, vm = one_vm("uncooperative", memory_mb=48, swap_mb=128)
    tr = host.run(seconds=60)
    assert (tr.vm("g").balloon == 0).all()
    assert vm.balloon.why_unusable(vm.vm_time) == "no machine memory freed by the balloon for 5 s or more"
    assert vm.totals.swap_outs > 0


def test_a_lying_driver_that_frees_nothing_more_is_not_counted_on():
    """A lying driver re-reporting pages already ballooned frees nothing: ESX stops counting on it and pages."""
    # 48 MB host, the 64 MB VM's 40 MB toucher: after the driver's first batch every inflation
    # reports pages already in the balloon; after balloon_stuck_s ESX pages the VM to its target
    host, vm = one_vm("lying", memory_mb=48, swap_mb=128)
    g = host.run(seconds=300).vm("g")
    assert not vm.balloon.usable(vm.vm_time) and "no machine memory freed" in vm.balloon.why_unusable(vm.vm_time)
    assert g.alloc[-1] <= g.target[-1] + 0.5, (g.alloc[-1], g.target[-1])


def test_a_lying_driver_reports_pages_the_guest_keeps_using():
    """A lying driver's pages stay the guest's: when the guest grows it touches them and pops the balloon."""
    # the lying driver's 4 MB are ballooned for ESX but back on the guest's free list; the toucher
    # grows at 40 s; a truthful driver's pages are pinned, so its balloon never pops
    pops = {}
    for mode in ("lying", "cooperative"):
        host = esx.Host(esx.HostConfig(memory_mb=256, sharing=SharingConfig(mode="off")), seed=0)
        vm = host.power_on(esx.VMConfig(name="g", max_mb=64, overhead_mb=1, balloon=mode),
                           workload=esx.workloads.Toucher([(0, 20), (40, 50)], sweep_s=5))
        vm.balloon.hold(16 * MB)
        host.run(seconds=39)
        assert vm.balloon.size >= 4 * MB and vm.balloon.pops == 0, mode
        host.run(seconds=30)
        pops[mode] = vm.balloon.pops
        check_conservation(host)
    assert pops["lying"] > 0 and pops["cooperative"] == 0


@pytest.mark.parametrize("pages", [-1, 1.5, "8"])
def test_hold_refuses_what_is_not_a_whole_number_of_pages(pages):
    """hold() takes a whole number ≥ 0, or None."""
    host, vm = one_vm()
    with pytest.raises(esx.ConfigError, match="pages"):
        vm.balloon.hold(pages)


def test_ballooning_reclaims_and_no_driver_means_paging():
    """Under pressure a cooperative balloon inflates; an absent or uncooperative one cannot, and the host pages."""
    for mode, expect_balloon in (("cooperative", True), ("absent", False), ("uncooperative", False)):
        host = small_host(memory_mb=80)
        host.power_on(esx.VMConfig(name="big", max_mb=64, overhead_mb=2, balloon=mode),
                      workload=esx.workloads.Toucher([(0, 20), (60, 0)]))
        host.power_on(esx.VMConfig(name="hog", max_mb=64, overhead_mb=2),
                      workload=esx.workloads.Toucher([(90, 60)]))
        tr = host.run(minutes=8)
        big = tr.vm("big")
        assert (np.nanmax(big.balloon) > 4) == expect_balloon, mode
        if not expect_balloon:
            # the hog's balloon takes most of the pressure; what big's missing balloon cannot give, the
            # host pages once free memory falls to soft (3.4 MB at ≈ 6 min with this seed)
            assert np.nanmax(big.swapped) > 2, f"{mode}: the host must fall back to paging"
        check_conservation(host)


def test_the_balloon_progress_window_is_configuration():
    """``HostConfig.balloon_stuck_s`` is how long a balloon that frees no machine memory is counted on."""
    host = esx.Host(esx.HostConfig(memory_mb=128, balloon_stuck_s=7), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=32))
    host.run(seconds=30)
    b = vm.balloon
    b.stuck_for = 6
    assert b.usable(vm.vm_time)
    b.stuck_for = 7
    assert not b.usable(vm.vm_time) and "for 7 s" in b.why_unusable(vm.vm_time)


W = esx.workloads


def test_a_fault_served_in_pieces_pops_the_balloon_once():
    """When a fault is served in pieces, each piece used the page states read before the first: after the first
    piece popped the balloon, the next saw its pages still ballooned and popped it again (0 pages)."""
    host = esx.Host(esx.HostConfig(memory_mb=512, sharing=esx.SharingConfig(mode="off")), seed=0)
    vm = host.power_on(esx.VMConfig(name="v", max_mb=64), workload=esx.workloads.Idle())
    host.run(seconds=5)
    free = (vm.guest.ppn_lp < 0).nonzero()[0][:64]
    vm.balloon_pages(free)
    vm.balloon.held = free.astype(np.int64)
    make_free = vm.env.make_free

    def in_pieces(n, requester=None, protect=None, partial=False, grows=None):
        if not partial:
            raise Stall("pieces, please")
        return make_free(min(n, 16), requester, protect, partial, grows)
    vm.env = dataclasses.replace(vm.env, make_free=in_pieces)
    assert (vm.pmap.state[free] == BALLOONED).all()
    vm.touch(free)
    assert vm.balloon.pops == 1 and vm.balloon.unlogged_pops == [64]


def test_pop_reason_cites_the_paper_for_the_pop_only():
    host = esx.Host(esx.HostConfig(memory_mb=176, swap_mb=512), seed=0)
    host.power_on(esx.VMConfig(name="honest", max_mb=96), workload=W.Dbench(clients=12))
    host.power_on(esx.VMConfig(name="guest", max_mb=96, balloon="lying"),
                  workload=W.Delayed(W.Dbench(clients=12), start_s=30))
    host.run(seconds=60, progress=False)
    pops = [d for d in host.trace.decisions if d.action == "balloon popped"]
    assert pops
    assert all("rather than count on the driver (§3.2)" not in d.why and "(invented)" in d.why
               and "(a pop, §3.2" in d.why for d in pops)
    caught = [d for d in host.trace.decisions if "not counted on again" in d.why]
    assert caught and all("by esxlab's rule (invented)" in d.why for d in caught)


def test_a_balloon_pop_is_a_decision_the_why_panel_shows():
    """A lying driver's pops showed only in the counters; each is now a decision-log line (pages released)."""
    import esxlab as esx
    for mode, popped in (("lying", True), ("cooperative", False)):
        host = esx.Host(esx.HostConfig(memory_mb=176, swap_mb=512), seed=0)
        host.power_on(esx.VMConfig(name="honest", max_mb=96), workload=esx.workloads.Dbench(clients=12))
        host.power_on(esx.VMConfig(name="guest", max_mb=96, balloon=mode), workload=esx.workloads.Dbench(clients=12))
        host.run(minutes=2)
        pops = [d for d in host.recorder.decisions if d.vm == "guest" and d.action == "balloon popped"]
        assert bool(pops) == popped == (host.vm("guest").balloon.pops > 0), mode
        assert sum(d.pages for d in pops) == host.vm("guest").balloon.popped_pages
