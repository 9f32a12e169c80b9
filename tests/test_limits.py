"""Limits, reservations and the balloon ceiling (issue 15; later ESX, not the paper)."""
import numpy as np
import pytest

import esxlab as esx
from esxlab.pmap import SHARED
from esxlab.policy import compute_targets

MB = esx.PAGES_PER_MB


def test_target_never_exceeds_the_limit_by_hand():
    # two VMs, equal shares, all active, 1000 pages to hand out: 500 each without limits;
    # a limit of 300 on the first gives the second the rest (700), within its max of 800
    shares, mins, maxs, active = [1, 1], [0, 0], [800, 800], [800, 800]
    assert list(compute_targets(shares, mins, maxs, active, 1000, 0.0)) == [500, 500]
    assert list(compute_targets(shares, mins, maxs, active, 1000, 0.0, limit_pages=[300, 800])) == [300, 700]
    # plenty of memory: each VM gets its max, or its limit
    assert list(compute_targets(shares, mins, maxs, active, 5000, 0.0, limit_pages=[300, 2000])) == [300, 800]


def test_limit_and_balloon_ceiling_in_pages():
    v = esx.VMConfig(max_mb=256, limit_mb=100, balloon_max_mb=50)
    assert v.limit_pages == 100 * MB and v.balloon_cap_pages == 50 * MB       # 50 MB < 65 % of 256 = 166.4 MB
    assert esx.VMConfig(max_mb=256).limit_pages == 256 * MB                   # no limit: max
    assert esx.VMConfig(max_mb=256, limit_mb=1000).limit_pages == 256 * MB    # a limit above max changes nothing
    assert esx.VMConfig(max_mb=256).balloon_cap_pages == int(256 * MB * 0.65)
    assert esx.VMConfig(max_mb=256, balloon_max_mb=500).balloon_cap_pages == int(256 * MB * 0.65)


def test_limit_on_an_idle_host_balloon_first():
    """A 256 MB VM limited to 128 MB wants 160 MB on a 1 GB host that stays in high: its alloc
    settles at the limit; once the balloon driver loads it takes the excess and nothing more is paged."""
    host = esx.Host(esx.HostConfig(memory_mb=1024), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=256, limit_mb=128), workload=esx.workloads.Toucher([(0, 160)]))
    tr = host.run(minutes=4)
    v, late = tr.vm("a"), tr.t >= 120
    assert (tr.host.state == esx.STATES.index("high")).all(), "the host is idle: always high"
    assert (v.target == 128).all()
    assert np.abs(v.alloc[late] - 128).max() <= 1, "alloc settles at the limit"
    assert v.balloon[-1] > 64 and v.balloon[-1] > 2 * v.swapped[-1], "the balloon takes most of it"
    assert v.swapped[late].max() <= v.swapped[tr.t == 60][0], "after the driver loaded, nothing more is paged"
    why = [d.why for d in tr.decisions if d.vm == "a" and d.action == "inflate balloon"]
    assert why and all("limit of 128 MB" in w for w in why)
    first = next(d for d in tr.decisions if d.vm == "a" and d.action == "target down")
    assert "its limit of 128 MB caps it" in first.why, "the target's first move names the limit, not only ρ"


def test_no_limit_same_host_keeps_its_memory():
    host = esx.Host(esx.HostConfig(memory_mb=1024), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=256), workload=esx.workloads.Toucher([(0, 160)]))
    tr = host.run(minutes=2)
    assert tr.vm("a").balloon.max() == 0 and tr.vm("a").swapped.max() == 0 and tr.vm("a").alloc[-1] > 160


def test_balloon_ceiling_caps_the_balloon_then_swap_takes_over():
    host = esx.Host(esx.HostConfig(memory_mb=1024), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=256, limit_mb=128, balloon_max_mb=16),
                  workload=esx.workloads.Toucher([(0, 160)]))
    tr = host.run(minutes=4)
    v = tr.vm("a")
    assert v.balloon.max() <= 16
    assert np.abs(v.alloc[tr.t >= 120] - 128).max() <= 1 and v.swapped[-1] > 16


def test_a_limit_is_met_with_compression_on():
    """A compressed page frees only part of one: the fault path keeps paging its own VM until it is
    within its limit, and the cache charged to the VM fits inside the limit."""
    host = esx.Host(esx.HostConfig.esxi6(memory_mb=1024), seed=0)
    host.power_on(esx.VMConfig(name="z", max_mb=256, limit_mb=32), workload=esx.workloads.Toucher(schedule=((0, 100),)))
    host.run(minutes=5)
    vm, s = host.vm("z"), host.vm("z").stats()
    slack = 0 if vm.balloon.cannot_help(vm.vm_time) else vm.balloon.rate     # a fault's allowance (make_free)
    assert s.alloc <= 32 + slack / MB + 0.5 and s.compressed > 0, s
    assert host.compression.cap_pages(host.vm("z")) == int(32 * esx.PAGES_PER_MB * 10 / 100)


@pytest.mark.parametrize("touched_mb", [200, 240])
def test_a_lying_balloon_does_not_let_its_vm_escape_its_limit(touched_mb):
    """A lying driver caught out (it reports pages it had ballooned before, at 200 MB; its guest
    touches them and pops the balloon, at 240 MB) is not counted on again: the limit is kept by
    paging, as with no driver (later ESX). Such a VM used to be trusted anew each time paging
    brought it back to its limit, and held up to 224 MB of a 128 MB limit."""
    host = esx.Host(esx.HostConfig(memory_mb=1024), seed=0)
    vm = host.power_on(esx.VMConfig(name="lim", max_mb=256, limit_mb=128, balloon="lying"),
                       workload=esx.workloads.Toucher(schedule=[(0, touched_mb)]))
    alloc = host.run(minutes=6).vm("lim").alloc
    assert alloc[120:].max() <= 128 + 0.5, alloc[120:].max()
    assert not vm.balloon.usable(vm.vm_time)
    assert vm.balloon.why_unusable(vm.vm_time).endswith("not counted on again")
    host.set_balloon("lim", "lying")                      # the same driver again: still not trusted
    assert vm.balloon.caught is not None
    host.set_balloon("lim", "cooperative")                # a new driver is trusted afresh
    assert vm.balloon.caught is None


def test_a_limit_set_mid_run_is_met_and_lifted():
    """A 256 MB VM touching 150 MB on an idle 512 MB host: set_limit(64) brings its alloc to 64 MB
    (balloon to its cap, then paging, the log saying why); set_limit(None) lets it grow back."""
    host = esx.Host(esx.HostConfig(memory_mb=512), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=256), workload=esx.workloads.Toucher([(0, 150)], sweep_s=10))
    host.run(minutes=1)
    assert vm.stats().alloc > 150
    host.set_limit("a", 64)
    assert vm.config.limit_mb == 64
    tr = host.run(minutes=2)
    assert tr.vm("a").alloc[-1] <= 64.5 and tr.vm("a").target[-1] == 64
    why = {d.why for d in tr.decisions if d.vm == "a" and d.action == "page out"}
    assert why and all("above its limit of 64 MB" in w for w in why)
    assert not any("(usable)" in w for w in why), why              # the log says why the balloon cannot take it
    assert any("more than it may hold: its cap of 166 MB" in w for w in why), why
    assert any("a limit set to 64 MB" in d.why for d in tr.decisions if d.action == "target down")
    host.set_limit("a", None)
    host.run(minutes=2)
    assert vm.config.limit_mb is None and vm.stats().alloc > 150


def test_a_vm_whose_balloon_is_slower_than_its_demand_still_keeps_to_its_limit():
    """A 512 MB VM limited to 64 MB grows a 400 MB working set (13 MB a second) on an idle host.
    Its balloon (4 MB/s at most, less while its guest pages) cannot keep up, so the VM replaces its
    own pages: at no tick does it hold more than its limit plus one second of its balloon's rate, as
    the tick's faults read it, and one page (later ESX: vSphere never lets a VM consume more than its
    limit, and swaps what ballooning is too slow to reclaim; the page: ESXi 6 compresses, two pages to
    a cache page charged to the VM, and whether a decompression frees one depends on the parity the
    fault's own page-outs leave). Before, a fault exceeded the limit freely while the balloon was
    usable: the VM held 344 MB."""
    host = esx.Host(esx.HostConfig.esxi6(memory_mb=4096), seed=0)
    vm = host.power_on(esx.VMConfig(name="big", max_mb=512, limit_mb=64),
                       workload=esx.workloads.Toucher([(0, 400)], sweep_s=30))
    for _ in range(240):
        # the allowance as the tick's faults read it: the balloon polls (and may halve its rate) after them
        slack = 0 if vm.balloon.cannot_help(vm.vm_time) else vm.balloon.rate
        host.step()
        assert vm.alloc_pages <= vm.config.limit_pages + slack + 1, (host.time, vm.alloc_pages / MB)
    tr = host.trace
    assert tr.vm("big").balloon[-1] > 100 and tr.vm("big").swapped[-1] > 100, "both the balloon and swap hold it"
    assert any("its balloon takes back only" in d.why for d in tr.decisions if d.vm == "big")


def test_a_balloon_never_takes_a_vm_whose_limit_is_its_min_below_its_min():
    """The balloon decides how much to take before the guest frees it; the guest's evictions can
    fault (it reads pages the host swapped), and that fault pages a VM at its limit down to it, here
    its min. What the guest gave beyond the min then goes back to it (seed 115: v1 fell
    5 pages below its min at t = 34 while v0 was above its own)."""
    host = esx.Host(esx.HostConfig.esxi6(memory_mb=96), seed=115)
    host.power_on(esx.VMConfig(name="v0", max_mb=64, min_mb=16, limit_mb=16, overhead_mb=1),
                  workload=esx.workloads.Toucher([(0, 19.2), (60, 64), (150, 12.8)], sweep_s=3))
    host.power_on(esx.VMConfig(name="v1", max_mb=48, min_mb=16, limit_mb=16, overhead_mb=1),
                  workload=esx.workloads.Toucher([(0, 43.2)], sweep_s=2))
    host.power_on(esx.VMConfig(name="v2", max_mb=32, overhead_mb=1), workload=esx.workloads.Toucher([(0, 28.8)], sweep_s=5))
    for _ in range(120):
        host.step()
        for v in host.vms.values():
            assert v.alloc_pages >= v.config.min_pages, (host.time, v.name, v.alloc_pages)
    assert host.vm("v1").balloon.size > 0, "the balloon did inflate"


def test_a_copy_on_write_fault_at_a_limit_is_not_paid_below_the_min():
    """A copy-on-write break needs a machine page but adds nothing to the VM's alloc (it was charged
    for the shared page). An 8 MB Windows guest, min 2 MB, no balloon, alone on a 64 MB host whose
    scanner is off (only share before swap shares), is paged down to its limit (2 MB, its min); its
    writes break shared pages. Before, the fault counted those
    breaks as growth and paged the VM's own pages for them: it ended ticks below its min (508 pages
    of 512 at t = 1) and by t = 5 had 1,538 pages swapped, more than its swap reservation max − min
    = 1,536 (§6.2)."""
    sharing = esx.SharingConfig(mode="esx", scan_vm_pages_s=0, scan_total_pages_s=0)
    host = esx.Host(esx.HostConfig.esx2002(memory_mb=64, swap_mb=32, tax_rate=0.0, large_pages=False,
                                           sharing=sharing), seed=0)
    vm = host.power_on(esx.VMConfig(name="w", max_mb=8, min_mb=2, limit_mb=2, overhead_mb=0,
                                    guest_os="windows", balloon="absent"),
                       workload=esx.workloads.Spec95(files_mb=2.0, dup_mb=0.5, zero_mb=1.0, data_mb=4.0, warm_s=5))
    cow_breaks = 0
    for _ in range(8):
        host.step()
        if vm.alloc_pages:
            assert vm.alloc_pages >= vm.config.min_pages, (host.time, vm.alloc_pages)
        assert vm.swapped_pages <= vm.pages - vm.config.min_pages, (host.time, vm.swapped_pages)
        cow_breaks = vm.counters.cow_breaks
    assert cow_breaks > 0 and vm.pmap.count(SHARED) > 0, "the scenario breaks shared pages"


def test_a_vm_whose_pages_are_shared_is_held_to_its_limit_without_a_balloon():
    """A shared page counts in the alloc of every VM that maps it (§4.3), so a VM at its limit must be
    able to page its shared mappings: a 32 MB Windows guest limited to 8 MB, no balloon, touching
    24 MB on a host whose scanner shares its zeroed pages. Before, only private pages could be paged
    (share before swap even turned its victims into shared mappings, freeing machine memory but none
    of its alloc), so its faults went through once no private page was left: it held 11.0 to 11.8 MB
    from t = 20 on; now its shared mappings go to swap once its private pages are gone
    (the share stage's spill) and it holds at most its limit."""
    sharing = esx.SharingConfig(mode="esx", scan_vm_pages_s=2000, scan_total_pages_s=8000, scan_period_s=1)
    host = esx.Host(esx.HostConfig.esx2002(memory_mb=256, swap_mb=256, sharing=sharing), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=32, limit_mb=8, guest_os="windows", balloon="absent",
                                    overhead_mb=0), workload=esx.workloads.Toucher([(0, 24)], sweep_s=10))
    host.power_on(esx.VMConfig(name="b", max_mb=32, guest_os="windows", overhead_mb=0), workload="idle")
    shared = 0
    for _ in range(120):
        host.step()
        assert vm.alloc_pages <= vm.config.limit_pages, (host.time, vm.alloc_pages / MB)   # no balloon: no slack
        shared = max(shared, vm.pmap.count(SHARED))
    assert shared > 4 * MB, "the scenario's VM maps shared pages"
