"""Admission control (paper §6.2): a VM powers on only if min + overhead fits in unreserved machine
memory and max − min in unreserved host swap (a shared area; per-VM swap files never refuse),
and some memory is left for guest pages beyond every VM's overhead. A refusal is an
``AdmissionError`` whose sentence names the reservation and how many MB it is short."""
import re

import numpy as np
import pytest

import esxlab as esx

MB = esx.PAGES_PER_MB


def test_min_plus_overhead_may_fill_memory_exactly_and_not_a_megabyte_more():
    """100 MB: a holds 40 + 8; b with 44 + 8 fills the rest exactly; c with 1 MB more is refused."""
    host = esx.Host(esx.HostConfig(memory_mb=100, swap_mb=1000))
    host.power_on(esx.VMConfig(name="a", max_mb=64, min_mb=40, overhead_mb=8))
    with pytest.raises(esx.AdmissionError) as e:
        host.power_on(esx.VMConfig(name="c", max_mb=64, min_mb=45, overhead_mb=8))
    assert str(e.value) == ("cannot power on 'c': memory reservation short by 1.0 MB (it needs min + overhead = "
                            "53.0 MB; 52.0 MB of machine memory is unreserved).")
    host.power_on(esx.VMConfig(name="b", max_mb=64, min_mb=44, overhead_mb=8))


def test_max_minus_min_may_fill_a_shared_swap_area_exactly_and_not_a_megabyte_more():
    """100 MB of host swap: 64 + 36 MB of max − min fill it; one more MB is refused."""
    host = esx.Host(esx.HostConfig(memory_mb=256, swap_mb=100))
    host.power_on(esx.VMConfig(name="a", max_mb=64, overhead_mb=1))
    host.power_on(esx.VMConfig(name="b", max_mb=40, min_mb=4, overhead_mb=1))
    with pytest.raises(esx.AdmissionError) as e:
        host.power_on(esx.VMConfig(name="c", max_mb=1, overhead_mb=1))
    assert str(e.value) == ("cannot power on 'c': swap reservation short by 1.0 MB (it needs max − min = 1.0 MB; "
                            "0.0 MB of host swap is unreserved).")


def test_per_vm_swap_files_never_refuse_a_vm():
    """swap_mb = None: a 1024 MB VM on a 256 MB host is admitted, with a 1024 MB swap file of its own."""
    host = esx.Host(esx.HostConfig(memory_mb=256))
    host.power_on(esx.VMConfig(name="big", max_mb=1024, overhead_mb=1))
    assert host.swapfile.capacity == 1024 * MB


def test_a_refused_vm_leaves_the_host_as_it_was():
    """After a refusal the running VMs, free memory and swap are unchanged, and the host runs on."""
    host = esx.Host(esx.HostConfig(memory_mb=100, swap_mb=100), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=64, min_mb=40, overhead_mb=8))
    before = (list(host.vms), host.machine.free, host.swapfile.capacity, host.swapfile.used)
    with pytest.raises(esx.AdmissionError):
        host.power_on(esx.VMConfig(name="b", max_mb=64, min_mb=56, overhead_mb=8))
    assert (list(host.vms), host.machine.free, host.swapfile.capacity, host.swapfile.used) == before
    assert len(host.run(seconds=5)) == 5


def test_admission_control_names_the_short_reservation():
    """The refusal names the reservation that is short, memory or swap, and by how many MB."""
    # 100 MB host, 100 MB swap, a (40 + 8 MB) running: b (56 + 8) is 12 MB short of memory, c (max − min
    # = 88 of the 100 − 24 left) 12 MB short of swap; d fits
    host = esx.Host(esx.HostConfig(memory_mb=100, swap_mb=100))
    host.power_on(esx.VMConfig(name="a", max_mb=64, min_mb=40, overhead_mb=8))
    with pytest.raises(esx.AdmissionError, match=r"memory reservation short by 12\.0 MB"):
        host.power_on(esx.VMConfig(name="b", max_mb=64, min_mb=56, overhead_mb=8))
    with pytest.raises(esx.AdmissionError, match=r"swap reservation short by 12\.0 MB"):
        host.power_on(esx.VMConfig(name="c", max_mb=100, min_mb=12, overhead_mb=8))
    host.power_on(esx.VMConfig(name="d", max_mb=64, min_mb=0, overhead_mb=8))


def test_default_swap_admits_the_papers_own_setups():
    """Per-VM swap files by default (later ESX): Figure 7 on 424 MB, Figure 8's five VMs on 1 GB."""
    host = esx.Host(esx.HostConfig(memory_mb=424))
    host.power_on(esx.VMConfig(name="idle", max_mb=256, guest_os="windows"))
    host.power_on(esx.VMConfig(name="dbench", max_mb=256))
    assert host.swapfile.capacity == 512 * MB
    from esxlab.experiments.fig8 import VMS
    host = esx.Host(esx.HostConfig(memory_mb=1024))
    for name, (mx, mn, edition) in VMS.items():
        host.power_on(esx.VMConfig(name=name, max_mb=mx, min_mb=mn, guest_os="windows", os_version=edition))
    host.run(seconds=5)
    host.power_off("sql")
    assert host.swapfile.capacity == (1472 - 736 - 160) * MB
    short = esx.Host(esx.HostConfig(memory_mb=424, swap_mb=300))
    short.power_on(esx.VMConfig(name="a", max_mb=256))
    with pytest.raises(esx.AdmissionError, match="swap reservation short by 212.0 MB"):
        short.power_on(esx.VMConfig(name="b", max_mb=256))


def test_a_vm_that_leaves_no_memory_beyond_overheads_is_refused_at_power_on():
    """A VM whose overhead would leave no memory for guest pages is refused with a sentence on overhead."""
    # sixteen 64 MB VMs on 512 MB, fifteen 8 MB VMs on the default host; the host keeps running
    host = esx.Host(esx.HostConfig(memory_mb=512, swap_mb=65536))
    with pytest.raises(esx.AdmissionError, match="overhead memory would leave no machine memory"):
        for i in range(16):
            host.power_on(esx.VMConfig(name=f"v{i}", max_mb=64))
    assert len(host.vms) == 14
    host.run(seconds=5)
    host = esx.Host()
    with pytest.raises(esx.AdmissionError, match="overhead"):
        for i in range(15):
            host.power_on(esx.VMConfig(name=f"v{i}", max_mb=8))
    host.run(seconds=5)


def test_set_min_refused_speaks_of_the_reservation():
    """Raising a min is admission again: refused, the sentence says it is the memory reservation."""
    host = esx.Host(esx.HostConfig(memory_mb=200, swap_mb=400))
    host.power_on(esx.VMConfig(name="a", max_mb=196, overhead_mb=8))
    with pytest.raises(esx.AdmissionError, match=r"cannot change the min \(its memory reservation\) of 'a'"):
        host.set_min("a", 196)


def test_a_host_refuses_a_power_on_beyond_the_vms_its_owner_codes_can_name():
    """Machine pages' owner codes are 16-bit: a host powers on at most MAX_UID VMs in its life."""
    from esxlab.machine import MAX_UID
    host = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    host._next_uid = MAX_UID                       # as if 32,766 VMs had come and gone
    vm = host.power_on(esx.VMConfig(name="last", max_mb=16))
    host.run(seconds=2)
    assert (host.machine.owner == MAX_UID).sum() == vm.pmap.count(esx.pmap.PRIVATE) > 0
    with pytest.raises(esx.AdmissionError, match="a new Host"):
        host.power_on(esx.VMConfig(name="one more", max_mb=16))


def test_set_min_is_refused_when_the_vms_swapped_pages_would_not_fit_its_smaller_swap_file():
    """With per-VM swap files (max − min, later ESX) a higher min shrinks the VM's file: refused,
    with the highest min allowed now, while more of its pages are swapped out than would fit. It
    used to shrink the host's swap below the swap in use."""
    host = esx.Host(esx.HostConfig(memory_mb=512), seed=2)
    for name in ("a", "b"):
        host.power_on(esx.VMConfig(name=name, max_mb=256, balloon="absent"),
                      workload=esx.workloads.Toucher(schedule=[(0, 200)]))
    host.run(minutes=2)
    host.power_off("b")
    a = host.vm("a")
    swapped_mb = a.swapped_pages / esx.PAGES_PER_MB
    assert swapped_mb > 16
    capacity = host.swapfile.capacity
    with pytest.raises(esx.AdmissionError, match=r"cannot change the min of 'a' to 240 MB: .* swap file, which would "
                                                 r"shrink to max − min = 16\.0 MB; allowed now: a min of at most") as e:
        host.set_min("a", 240)
    assert host.swapfile.capacity == capacity and a.config.min_mb == 0
    allowed = float(re.search(r"a min of at most ([0-9.]+) MB", str(e.value)).group(1))
    host.set_min("a", allowed)                              # what the sentence allows is admitted (rounded down)
    assert host.swapfile.used <= host.swapfile.capacity


def two_vms(**host):
    h = esx.Host(esx.HostConfig.esx2002(memory_mb=512, **host), seed=0)
    for name in ("a", "b"):
        h.power_on(esx.VMConfig(name=name, max_mb=128))
    return h


def test_d6_the_docstrings_claim_holds_per_vm_swap_files_never_refuse_a_shared_area_does():
    """swap_mb=None: 256 MB of max − min with no swap area is admitted; §6.2's one area of 200 MB refuses the second."""
    assert len(two_vms().vms) == 2
    with pytest.raises(esx.AdmissionError, match="swap reservation short"):
        two_vms(swap_mb=200)


@pytest.mark.parametrize("stage", ["overhead", "kernel"])
def test_a_power_on_refused_for_memory_right_now_leaves_its_workload_free_for_the_next_try(stage):
    """A power-on refused after its VM was built (no machine memory for its overhead, or for its
    kernel, right now: the host swap is full) never ran its workload, so the same instance may be
    given again once memory is back. It used to stay claimed: the retry was refused with "has already
    driven a VM" (ConfigError), for a VM that never ran."""
    host = esx.Host(esx.HostConfig(memory_mb=64, swap_mb=128), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=60, overhead_mb=0), workload=esx.workloads.Toucher([(0, 60)], sweep_s=1))
    host.run(seconds=5)
    junk = host.swapfile.store(np.zeros(host.swapfile.free, dtype=np.uint64))      # another user fills the swap
    w = esx.workloads.Dbench(clients=1)
    big = 12 if stage == "overhead" else 0
    with pytest.raises(esx.AdmissionError, match="overhead" if stage == "overhead" else "kernel"):
        host.power_on(esx.VMConfig(name="b", max_mb=32, overhead_mb=big), workload=w)
    assert list(host.vms) == ["a"]
    host.swapfile.release(junk)
    vm = host.power_on(esx.VMConfig(name="b", max_mb=32, overhead_mb=big), workload=w)
    host.run(seconds=3)
    assert vm.workload is w and vm.counters.accesses > 0


def _crowded_host() -> esx.Host:
    """A 32 MB ESXi 6 host with KSM, compression, large pages and limits, after 63 s of API calls (a fuzzed sequence
    of an API hunt, seed 252), where every VM is at or near its min and machine memory is all in use."""
    W = esx.workloads
    host = esx.Host(esx.HostConfig.esxi6(memory_mb=32, tax_rate=0.95, large_pages=True, compression=True,
                                         sharing=esx.SharingConfig(mode="ksm")), seed=252)
    host.power_on(esx.VMConfig(name="v0", max_mb=19, overhead_mb=0, guest_os="windows", balloon="absent", salt=1),
                  workload=W.Contents(app_mb=4, zero_mb=1, private_mb=1))
    host.set_limit("v0", 2.375)
    host.power_on(esx.VMConfig(name="v1", max_mb=38, overhead_mb=0, guest_os="windows", balloon="absent", salt=0))
    host.power_off("v1")
    host.run(seconds=2)
    host.set_shares("v0", 0.5)
    host.power_on(esx.VMConfig(name="v2", max_mb=19, overhead_mb=0, guest_os="windows", balloon="absent", limit_mb=38,
                               salt=1), workload=W.Toucher([(0, 12), (60, 2)], sweep_s=3))
    host.run(seconds=30)
    host.set_min("v2", 19.0)
    host.power_on(esx.VMConfig(name="v3", max_mb=4, overhead_mb=4, min_mb=2.0, shares=1, balloon="absent"),
                  workload=W.Toucher([(0, 30), (20, 2)], sweep_s=5))
    host.run(seconds=1)
    host.power_on(esx.VMConfig(name="v4", max_mb=4, overhead_mb=0), workload=W.Contents(app_mb=4, zero_mb=1,
                                                                                       private_mb=1))
    host.power_on(esx.VMConfig(name="v5", max_mb=38, overhead_mb=1), workload=W.Toucher([(0, 12), (60, 2)], sweep_s=3))
    host.set_limit("v4", 0)
    host.power_on(esx.VMConfig(name="v6", max_mb=4, overhead_mb=4, guest_os="windows", salt=0),
                  workload=W.Dbench(clients=2, mb_per_client=8, accesses_per_s=800))
    host.run(seconds=30)
    host.set_limit("v3", 2.0)
    return host


def test_a_power_on_paging_could_never_serve_is_refused_before_it_pages():
    """A refused power-on paged a running VM first (v6: 1.4 MB to swap), logged it as "a fault of the host" and
    spent a VM uid, then said no VM had pages paging may take (an API hunt): when even all the memory charged to
    the VMs above their min cannot cover the overhead, it is refused before anything moves, and the next VM is
    numbered, and draws, as if the call had never been made."""
    host, twin = _crowded_host(), _crowded_host()
    before, vms, decisions = host.stats(), host.vm_stats(), len(host.trace.decisions)
    with pytest.raises(esx.AdmissionError, match=r"^cannot power on 'v7': no machine memory for its 2 MB of overhead "
                                                 r"right now \(512 machine pages short: the VMs above their min are "
                                                 r"charged only \d+ pages, the most paging could free\)\.$"):
        host.power_on(esx.VMConfig(name="v7", max_mb=4, overhead_mb=2))
    assert (host.stats(), host.vm_stats(), len(host.trace.decisions)) == (before, vms, decisions)
    host.power_off("v5"), twin.power_off("v5")
    v8 = esx.VMConfig(name="v8", max_mb=4, overhead_mb=0)
    assert host.power_on(v8).uid == twin.power_on(v8).uid
    host.run(seconds=5), twin.run(seconds=5)
    assert all(np.array_equal(getattr(host.trace.vm("v8"), f), getattr(twin.trace.vm("v8"), f), equal_nan=True)
               for f in ("alloc", "private", "shared", "swapped", "active"))


def test_a_power_on_refused_after_paging_says_what_the_paging_freed():
    """A power-on that paging could serve in part (the host swap fills first) says how much it made free, which
    stays free, instead of only that no VM had pages to give."""
    host = esx.Host(esx.HostConfig(memory_mb=64, swap_mb=128, sharing=esx.SharingConfig(mode="off")), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=60, overhead_mb=0),
                  workload=esx.workloads.Toucher([(0, 60)], sweep_s=1))
    host.run(seconds=5)
    host.swapfile.store(np.zeros(host.swapfile.free - 4 * MB, dtype=np.uint64))      # room for 4 MB left
    free = host.machine.free
    with pytest.raises(esx.AdmissionError, match=r"host swap is full\); paging freed 4\.0 MB before it ran short, "
                                                 r"which stays free \(the decision log has the page-outs\)\.$"):
        host.power_on(esx.VMConfig(name="b", max_mb=32, overhead_mb=12))
    assert host.machine.free == free + 4 * MB
    last = host.trace.decisions[-1]
    assert (last.action, last.why) == ("page out (power-on)",
                                       "no free machine memory for the overhead of a VM powering on")
