"""Linux KSM-style page sharing alone (``esxlab/sharing/ksm.py``, beyond the paper): the scan
rate, the checksum wait before a page enters the unstable tree, the stable tree that merges at
once, ``max_page_sharing``, and the ``/sys/kernel/mm/ksm`` counters ``pages_shared`` (shared
frames) and ``pages_sharing`` (the further pages mapping them).

The hand counts use 16 MB Linux VMs running ``Contents(app_mb=2, zero_mb=1, private_mb=1)``:
each maps ``IMAGE`` pages of the Linux kernel image (today 768: 3 MB, identical in every Linux VM),
512 of the application (identical), 256 zero pages and ``OWN`` pages of its own (today 1178: the
rest of its 6.6 MB kernel and its 1 MB of data); its other pages are never touched."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import esxlab as esx
import esxlab.sharing as sharing
from esxlab.config import SharingConfig
from esxlab.sharing import ksm
from esxlab.sharing.hashtable import HashTable
from esxlab.guest import PROFILES
from esxlab.pmap import SHARED
from invariants import check_conservation

MB = esx.PAGES_PER_MB
W = esx.workloads
PPNS = 16 * MB                 # positions the scanner walks per VM, touched or not
IMAGE, APP, ZERO = PROFILES["linux"].image_pages(16), 512, 256
OWN = PROFILES["linux"].kernel_pages(16) - IMAGE + 256


def ksm_host(vms=2, **ksm):
    cfg = SharingConfig(mode="ksm", **dict(dict(ksm_pages_to_scan=100, ksm_sleep_ms=30), **ksm))
    host = esx.Host(esx.HostConfig(memory_mb=128, sharing=cfg), seed=0)
    for i in range(vms):
        add_vm(host, f"v{i}")
    return host


def add_vm(host, name):
    return host.power_on(esx.VMConfig(name=name, max_mb=16, overhead_mb=1),
                         workload=W.Contents(app="x", app_mb=2, zero_mb=1, private_mb=1))


def test_the_scanner_walks_pages_to_scan_per_sleep_millisecs():
    """100 pages per 30 ms = 3,333⅓ PPNs a second over 2 × 4,096: ⌊t · 3333⅓ / 8192⌋ full scans at t s."""
    host = ksm_host()
    for t in (10, 30, 55):
        host.run(seconds=t - host.time)
        assert host.sharing.full_scans == int(t * (100 * 1000 / 30) // (2 * PPNS)), t


def test_counters_count_frames_and_the_further_pages_mapping_them():
    """pages_shared counts shared frames and pages_sharing the further mappings, the memory saved."""
    # two VMs: frames 768 + 512 + 2 zero frames (512 zero mappings, 256 per frame) = 1282;
    # pages_sharing = 2 × 1536 mappings − 1282 frames = 1790 (with today's 768-page kernel image)
    host = ksm_host()
    host.run(seconds=40)
    st = host.sharing.stats()
    frames = IMAGE + APP + 2
    assert (st.pages_shared, st.pages_sharing) == (frames, 2 * (IMAGE + APP + ZERO) - frames)
    assert st.saved_mb == pytest.approx(st.pages_sharing / MB)
    assert st.shared_mb == pytest.approx(2 * (IMAGE + APP + ZERO) / MB)
    assert [v.pmap.count(SHARED) for v in host.vms.values()] == [IMAGE + APP + ZERO] * 2
    check_conservation(host)


def test_max_page_sharing_decides_how_many_zero_frames_there_are():
    """With max_page_sharing = 1024 the 512 zero mappings fit one frame: one frame fewer, one page more saved."""
    host = ksm_host(ksm_max_page_sharing=1024)
    host.run(seconds=40)
    st = host.sharing.stats()
    assert (st.pages_shared, st.pages_sharing) == (IMAGE + APP + 1, 2 * (IMAGE + APP + ZERO) - (IMAGE + APP + 1))


def test_nothing_merges_before_a_page_was_seen_unchanged_by_one_full_scan():
    """The first full scan only records checksums: when it ends, no page is shared."""
    host = ksm_host(ksm_pages_to_scan=50)
    while host.sharing.full_scans == 0:
        host.step()
    assert host.sharing.stats().pages_shared == 0
    host.run(seconds=20)
    assert host.sharing.stats().pages_shared > 0


def test_a_new_vm_joins_the_stable_tree_at_once_and_the_unstable_tree_a_scan_later():
    """A page whose content is in the stable tree merges at its first scan; others wait a scan."""
    # a third VM's first scan merges the kernel image and application pages (768 + 512); its zero
    # pages find both zero frames full and wait for its second scan, which starts a third zero frame:
    # 1283 frames, 3 × 1536 − 1283 = 3325 saved (with today's 768-page kernel image)
    host = ksm_host()
    host.run(seconds=30)
    c = add_vm(host, "c")
    passes = lambda: host.sharing.vm_stats(c).passes
    while passes() < 1:
        host.step()
    assert c.pmap.count(SHARED) == IMAGE + APP
    while passes() < 2:
        host.step()
    st = host.sharing.stats()
    frames = IMAGE + APP + 3
    assert c.pmap.count(SHARED) == IMAGE + APP + ZERO and (st.pages_shared, st.pages_sharing) == (
        frames, 3 * (IMAGE + APP + ZERO) - frames)


def test_the_unstable_tree_holds_only_pages_waiting_for_a_partner():
    """The unstable tree is emptied after every full scan, so it never accumulates."""
    # once everything shareable is shared, it holds at most the two VMs' OWN + OWN pages of their own,
    # and far fewer early in a scan
    host = ksm_host()
    host.run(seconds=20)
    seen = []
    for _ in range(40):
        host.step()
        seen.append(host.sharing.stats().pages_unshared)
    assert max(seen) == 2 * OWN and min(seen) < OWN


def test_ksm_volatile_pages_are_not_merged_and_max_page_sharing_holds():
    """A page rewritten every second is volatile, never merged; no frame holds more than max_page_sharing."""
    cfg = SharingConfig(mode="ksm", ksm_pages_to_scan=40, ksm_max_page_sharing=8)
    host = esx.Host(esx.HostConfig(memory_mb=96, sharing=cfg), seed=1)
    host.power_on(esx.VMConfig(name="w", max_mb=16, overhead_mb=1, guest_os="windows"))     # many zero pages
    host.power_on(esx.VMConfig(name="t", max_mb=16, overhead_mb=1),
                  workload=esx.workloads.Toucher([(0, 6)], sweep_s=1))                     # rewrites 6 MB/s
    host.run(seconds=90)
    check_conservation(host)
    s = host.sharing
    frames = np.flatnonzero(s.f_kind == sharing.FRAME)
    assert len(frames) and s._refs(frames).max() <= 8
    zero_frames = frames[s.f_token[frames] == 0]
    assert len(zero_frames) > 10, "past max_page_sharing the zero page needs more copies"
    t = host.vm("t")
    assert s.stats().pages_volatile > MB
    touched = t.guest.lp_ppn[t.guest.lp_ppn >= 0]
    assert not (t.pmap.state[touched] == SHARED).any(), "a page rewritten every second was merged"


def test_ksm_power_off_before_the_scan_position_keeps_the_budget_and_the_passes():
    """Powering off a VM the scanner already passed neither grants extra scan budget nor credits passes."""
    host = esx.Host(esx.HostConfig(memory_mb=256, sharing=SharingConfig(mode="ksm", ksm_pages_to_scan=20)), seed=0)
    for name, mb in (("a", 16), ("b", 64), ("c", 16)):
        host.power_on(esx.VMConfig(name=name, max_mb=mb, overhead_mb=1), workload=W.Toucher([(0, mb / 2)]))
    ksm = host.sharing
    budget = 20 * 1000 // 20                       # pages_to_scan per sleep_millisecs, per second
    b = host.vm("b")
    while ksm._uid != b.uid or ksm._ppn <= 16 * MB + 1000:  # inside b, beyond the size of c
        host.step()
    host.power_off("a")                            # a VM before the scanner's position
    scanned, passes, full = ksm.scanned, {n: ksm._state(v).passes for n, v in host.vms.items()}, ksm.full_scans
    for _ in range(3):
        host.step()
        assert ksm.scanned - scanned <= budget, "the scan budget is a budget"
        scanned = ksm.scanned
        assert ksm.entries <= ksm.table_pages * ksm._per_page, "every table entry is charged"
    assert {n: ksm._state(v).passes for n, v in host.vms.items()} == passes and ksm.full_scans == full, \
        "no VM is credited a pass it never had"
    check_conservation(host)


def test_full_scans_of_a_tick_that_change_nothing_are_counted_not_scanned():
    """A budget of many full scans a tick (100,000 pages/s over 3 × 4,096 PPNs: 8 a tick) scans until
    one full scan changes nothing, then counts the rest: the same counters, cursor and unstable tree
    as scanning every page, for a fraction of the scans."""
    def run(count_idle: bool):
        host = ksm_host(ksm_pages_to_scan=2000, ksm_sleep_ms=20)
        host.power_on(esx.VMConfig(name="t", max_mb=16, overhead_mb=1),
                      workload=W.Toucher([(0, 2)], sweep_s=4))                 # rewrites 0.5 MB/s
        ksm, scans = host.sharing, []
        scan = ksm.scan
        ksm.scan = lambda vm, ppns: (scans.append(len(ppns)), scan(vm, ppns))
        if not count_idle:
            ksm._coast = lambda vms, k: False
        host.run(seconds=10)
        check_conservation(host)
        vms = host.vms.values()
        return len(scans), (ksm.stats(), [ksm.vm_stats(v) for v in vms], ksm._uid, ksm._ppn, ksm.unstable.items())

    scans, counted = run(True)
    every, scanned = run(False)
    assert counted == scanned
    assert counted[0].full_scans == 10 * 100_000 // (3 * PPNS)
    assert counted[0].pages_shared > 0 and counted[0].pages_unshared > 0
    assert scans < every / 2, "full scans that change nothing were scanned page by page"


def test_the_tables_memory_follows_the_pages_not_the_scan_rate():
    """At 10,000 pages every millisecond (10⁷ pages/s) KSM reserved table memory for two entries per
    page of its budget, though a tick adds at most two per page of the VMs (236 MB of
    a 256 MB host, squeezing the VMs to 14.5 MB). Now it holds at most its entries (≤ 2 per page)
    and room for a tick's more (≤ 2 per page), and shares the same pages as at a rate that covers
    two full scans a tick."""
    def host(pages_to_scan: int):
        h = esx.Host(esx.HostConfig(memory_mb=256, sharing=SharingConfig(mode="ksm", ksm_pages_to_scan=pages_to_scan,
                                                                         ksm_sleep_ms=1)), seed=0)
        for i in range(2):
            h.power_on(esx.VMConfig(name=f"v{i}", max_mb=32, overhead_mb=1), workload=W.Contents("os", 8, 0, 2))
        h.run(seconds=20)
        return h
    fast, enough = host(10_000), host(20)           # 20 pages a ms: 20,000 a second, over two full scans a tick
    pages = sum(v.pages for v in fast.vms.values())
    assert fast.sharing.table_pages * 4096 <= 4 * pages * fast.sharing.frame_bytes
    assert fast.stats().shared_saved == enough.stats().shared_saved > 0
    check_conservation(fast)


def windows_host(max_page_sharing: int, seconds: int) -> esx.Host:
    """A 16 MB Windows guest alone, run ``seconds``, scanned at 5,000 pages a second: it zeroes its free pages at
    boot (2,048, in 75 s), the copies of one content that stable node chains are for."""
    cfg = SharingConfig(mode="ksm", ksm_pages_to_scan=100, ksm_max_page_sharing=max_page_sharing)
    host = esx.Host(esx.HostConfig(memory_mb=64, sharing=cfg), seed=0)
    host.power_on(esx.VMConfig(name="w", max_mb=16, overhead_mb=1, guest_os="windows"))
    host.run(seconds=seconds)
    return host


def test_a_scan_looks_each_page_up_at_most_three_times(monkeypatch):
    """Under max_page_sharing = 2 every two zeroed pages make a frame, yet a scan looks its pages up in the hash
    tables at most three times each (stable tree, unstable tree, the newest copy of a content it makes frames of),
    in three calls at most: the work per page does not grow with the copies of a content. It did: the scan went
    in rounds, one per copy, each looking up every page left, and a 256 MB Windows guest took minutes a scan."""
    inside, done = [], []               # per scan call: [pages, lookups, hashes looked up]
    lookup, scan = HashTable.lookup, sharing.KsmSharing.scan

    def counted_scan(self, vm, ppns):
        inside.append([len(ppns), 0, 0])
        scan(self, vm, ppns)
        done.append(inside.pop())

    def counted_lookup(self, h):
        if inside:
            inside[-1][1] += 1
            inside[-1][2] += len(h)
        return lookup(self, h)

    monkeypatch.setattr(sharing.KsmSharing, "scan", counted_scan)
    monkeypatch.setattr(HashTable, "lookup", counted_lookup)
    host = windows_host(2, 90)
    assert host.sharing.zero_pages == 2048, "every zeroed page merged"
    pages, calls, hashes = np.array(done).T
    assert calls.max() <= 3 and (hashes <= 3 * pages).all()


@pytest.mark.parametrize("cap", [2, 3, 5, 256])
def test_copies_of_a_content_fill_frames_of_max_page_sharing_one_after_another(cap):
    """Linux KSM's stable node chains: a frame holds at most max_page_sharing mappings and more copies of its
    content start a new frame; only the newest takes pages, so the older ones are full (the model's rule). The
    2,048 zeroed pages make ⌈2048 / cap⌉ frames, all full but the newest."""
    host = windows_host(cap, 120)
    s, vm = host.sharing, host.vm("w")
    zero = np.flatnonzero(vm.peek(np.arange(vm.pages)) == 0)
    frames = np.flatnonzero((s.f_kind == sharing.FRAME) & (s.f_token == 0))
    refs = s._refs(frames)
    newest = s.newest.lookup(s.f_hash[frames[:1]])[0]
    assert len(zero) == s.zero_pages == 2048 and (vm.pmap.state[zero] == SHARED).all()
    assert len(frames) == -(-len(zero) // cap)
    assert refs[frames == newest] <= cap and (refs[frames != newest] == cap).all()
    check_conservation(host)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(n=st.integers(1, 40), cap=st.integers(2, 7), paired=st.booleans())
def test_the_unstable_step_in_closed_form_is_the_page_by_page_one(n, cap, paired):
    """For a hash whose pages are all equal, :meth:`KsmSharing._plan`'s closed form (a cycle of cap pages: node,
    pair, joiners) gives each page the round, role and link that replaying them page by page gives."""
    host = esx.Host(esx.HostConfig(memory_mb=32, sharing=SharingConfig(mode="ksm", ksm_max_page_sharing=cap)))
    tok = np.full(n, 7, dtype=np.uint64)
    order, starts, rank, gid = ksm._grouped(np.full(n, 99, dtype=np.uint64))
    rnd, role, link, stale = host.sharing._plan(tok, order, starts, rank, gid, np.array([paired]))
    assert (rnd.tolist(), role.tolist(), link.tolist(), stale) == ksm._replay(tok.tolist(), paired, cap)


def test_a_weak_hash_never_merges_different_pages_in_ksm(monkeypatch):
    """Hashes of 8 bits: pages of different contents meet in the trees (replayed page by page), only equal ones
    merge, and no frame holds more than max_page_sharing."""
    monkeypatch.setattr(sharing.base, "page_hash",
                        lambda tokens, group: (np.asarray(tokens, dtype=np.uint64) & np.uint64(0xFF)) + np.uint64(1))
    cfg = SharingConfig(mode="ksm", ksm_pages_to_scan=200, ksm_max_page_sharing=3)
    host = esx.Host(esx.HostConfig(memory_mb=96, sharing=cfg), seed=0)
    host.power_on(esx.VMConfig(name="w", max_mb=16, overhead_mb=1, guest_os="windows"))
    add_vm(host, "l")
    host.run(seconds=90)
    check_conservation(host)            # every page mapping a frame reads the frame's contents
    s = host.sharing
    frames = np.flatnonzero(s.f_kind == sharing.FRAME)
    assert s.stale_hints > 0 and len(frames) > 500 and s._refs(frames).max() == 3
