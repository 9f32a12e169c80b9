"""The balloon driver (paper §3.2): inflating and deflating at its rates, its cap (65 % of max,
later ESX's ``Mem.CtlMaxPercent``), the driver modes ESX cannot tell apart except by progress,
and ``hold()``. Unless said otherwise: one 64 MB Linux VM (boot 20 s, so the driver loads at
t = 20 s) with 11.4 MB of kernel, a 40 MB toucher, sharing off, on a host with room to spare."""
import numpy as np
import pytest

import esxlab as esx
from conftest import small_host
from esxlab.config import SharingConfig
from esxlab.pmap import BALLOONED
from invariants import check_conservation

MB = esx.PAGES_PER_MB
LOADED = 19          # trace row of t = 20 s, the first poll of a Linux guest's driver


def one_vm(mode="cooperative", toucher_mb=40, memory_mb=256, swap_mb=None, **vm_kw):
    host = esx.Host(esx.HostConfig(memory_mb=memory_mb, swap_mb=swap_mb, sharing=SharingConfig(mode="off")), seed=0)
    vm = host.power_on(esx.VMConfig(name="g", max_mb=64, overhead_mb=1, balloon=mode, **vm_kw),
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
    """56 MB touched of 64: every inflation past the free pages makes the guest page, so the rate
    goes 4, 2, 1, 1 … MB/s (halved each time, never below a quarter of the maximum)."""
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
    """On a 48 MB host the VM is above its target: the driver takes nothing, so after
    balloon_stuck_s (5 s) ESX stops counting on it and pages the VM instead (§3.3)."""
    host, vm = one_vm("uncooperative", memory_mb=48, swap_mb=128)
    tr = host.run(seconds=60)
    assert (tr.vm("g").balloon == 0).all()
    assert vm.balloon.why_unusable(vm.vm_time) == "no machine memory freed by the balloon for 5 s or more"
    assert vm.totals.swap_outs > 0


def test_a_lying_driver_reports_pages_the_guest_keeps_using():
    """The lying driver's 4 MB are ballooned for ESX but back on the guest's free list: when the
    guest grows (at 40 s) it touches them and pops the balloon; a truthful one never pops."""
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
