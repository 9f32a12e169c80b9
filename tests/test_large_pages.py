"""Large pages (issue 15; later ESX 3.5+ with a hardware MMU, not in the paper): page sharing
shares nothing inside a 2 MB large page; large pages are broken under memory pressure only."""
import numpy as np

import esxlab as esx
from esxlab.compression import COMPRESSED
from esxlab.pmap import SWAPPED
from esxlab.vm import LARGE_PAGE
from invariants import ReadLog, check_conservation

MB = esx.PAGES_PER_MB
W = esx.workloads


def host_with(preset, memory_mb, large_pages=True, grow=False, minutes=2.0):
    """Two Spec95 guests (zero pages and duplicated files to share) and, if ``grow``, a VM whose
    working set grows from 8 to 240 MB at 90 s (``grow="slowly"``: 2 MB a second from 90 s, so free
    memory passes through each state's band); fast scanners so sharing shows within a minute."""
    cfg = getattr(esx.HostConfig, preset)(memory_mb=memory_mb, swap_mb=1024, large_pages=large_pages)
    cfg = cfg.replace(sharing=cfg.sharing.replace(scan_vm_pages_s=2000, scan_total_pages_s=8000))
    host = esx.Host(cfg, seed=0)
    with ReadLog(host) as log:
        for n in "ab":
            host.power_on(esx.VMConfig(name=n, max_mb=192, overhead_mb=8), workload=W.Spec95(warm_s=30))
        if grow:
            steps = [(90 + t, 8 + 2 * t) for t in range(1, 117)] if grow == "slowly" else [(90, 240)]
            host.power_on(esx.VMConfig(name="grow", max_mb=256, overhead_mb=8), workload=W.Toucher([(0, 8)] + steps))
        tr = host.run(minutes=minutes)
        log.check()
    check_conservation(host)
    return host, tr


def test_break_up_by_hand():
    host = esx.Host(esx.HostConfig.esxi6(memory_mb=256), seed=0)
    vm = host.power_on(esx.VMConfig(name="v", max_mb=40, overhead_mb=1))          # 10240 pages = 20 large pages
    assert len(vm.large) == 20 and LARGE_PAGE == 512
    assert vm.break_large(np.array([0, 1, 513])) == 2                            # regions 0 and 1
    assert list(vm.in_large(np.array([0, 600, 1100]))) == [False, False, True]
    assert vm.break_large(np.array([5])) == 0                                    # already broken
    assert vm.break_large() == 18 and vm.large_left == 0
    assert host.stats().large_pages_broken == 20


def test_off_in_esx2002_nothing_is_large():
    host = esx.Host(esx.HostConfig.esx2002(memory_mb=256), seed=0)
    vm = host.power_on(esx.VMConfig(name="v", max_mb=40, overhead_mb=1))
    assert not vm.in_large(np.arange(vm.pages)).any() and vm.break_large() == 0


def test_reclaiming_a_page_breaks_its_large_page():
    host = esx.Host(esx.HostConfig.esxi6(memory_mb=256), seed=0)
    vm = host.power_on(esx.VMConfig(name="v", max_mb=40, overhead_mb=1, balloon="disabled"))
    vm.write(np.arange(2048), vm.mint.take(2048))
    host.swapper.swap_out(vm, 10)
    reclaimed = np.flatnonzero((vm.pmap.state == SWAPPED) | (vm.pmap.state == COMPRESSED))
    assert len(reclaimed) == 10 and not vm.in_large(reclaimed).any()
    assert vm.large_broken == len(np.unique(reclaimed // LARGE_PAGE))


def test_no_sharing_with_large_pages_and_no_pressure():
    lp_host, lp = host_with("esxi6", 1024)
    small_host, small = host_with("esxi6", 1024, large_pages=False)
    assert set(lp.state_names()) == {"high"}
    assert lp.host.shared_saved.max() == 0 and lp.host.large_pages_broken.max() == 0
    assert small.host.shared_saved[-1] > 4, "the same guests share with small pages"
    assert lp_host.sharing.stats().scanned > 0, "the scanner still hashes the small pages inside"


def test_esxi6_breaks_large_pages_in_clear_and_sharing_rises():
    host, tr = host_with("esxi6", 400, grow="slowly", minutes=4)
    before = tr.t < 90
    assert tr.host.shared_saved[before].max() == 0 and tr.host.large_pages_broken[before].max() == 0
    first = next(d for d in tr.decisions if d.action == "break large pages")
    assert first.why.startswith("clear state")
    assert tr.host.large_pages_broken[-1] > 0
    assert tr.host.shared_saved[-1] > 4, "sharing saves memory once the large pages are broken"


def test_esx2002_with_large_pages_breaks_them_in_soft_or_below_only():
    host, tr = host_with("esx2002", 300, grow=True, minutes=3)
    breaks = [d for d in tr.decisions if d.action == "break large pages"]
    assert breaks and all(d.why.split()[0] in ("soft", "hard", "low") for d in breaks)
    assert tr.host.shared_saved[-1] > 4
