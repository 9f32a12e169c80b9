"""Content-based page sharing (paper §4): ESX's scanner against a brute-force reference,
reference counts and the overflow table, copy-on-write isolation, salting, share before swap."""
import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import esxlab as esx
import esxlab.sharing as sharing
from esxlab.config import RemapConfig, SharingConfig
from esxlab.pmap import PRIVATE, SHARED, SWAPPED
from esxlab.sharing import COUNT_MAX, salt_group
from invariants import WriteLog, check_conservation, check_sharing

MB = esx.PAGES_PER_MB
FAST = dict(scan_vm_pages_s=2000, scan_total_pages_s=20000, scan_period_s=1)


def static_spec():
    """Spec95 that stops changing memory once its files are read (after ``warm_s``)."""
    return esx.workloads.Spec95(files_mb=3, dup_mb=0.5, zero_mb=1, data_mb=1, warm_s=10,
                                reads_per_s=0, writes_per_s=0)


def mixed_host(mode="esx", force_salting=1, salts=(None, None, None, None), seed=0, vms=True, **kw):
    """Four 16 MB VMs (three Linux, one Windows) whose memory becomes static after 90 s."""
    cfg = SharingConfig(mode=mode, force_salting=force_salting, **kw)
    host = esx.Host(esx.HostConfig(memory_mb=160, sharing=cfg), seed=seed)
    return add_vms(host, salts) if vms else host


def add_vms(host, salts=(None, None, None, None)):
    oses = ("linux", "linux", "windows", "linux")
    for i, (os_, salt) in enumerate(zip(oses, salts)):
        host.power_on(esx.VMConfig(name=f"v{i}", max_mb=16, overhead_mb=1, guest_os=os_, salt=salt),
                      workload=static_spec())
    return host


def brute_force(host):
    """Every mapped guest page grouped by (sharing group, contents): the duplicates a perfect
    sharer would find. Returns {(group, token): [(vm, ppn), ...]}."""
    classes = {}
    force = host.config.sharing.force_salting
    for vm in host.vms.values():
        g = salt_group(vm, force)
        mapped = np.flatnonzero((vm.pmap.state == PRIVATE) | (vm.pmap.state == SHARED))
        for ppn, tok in zip(mapped.tolist(), vm.peek(mapped).tolist()):
            classes.setdefault((g, tok), []).append((vm, ppn))
    return classes


def run_full_passes(host, passes):
    """Run until every VM has been scanned ``passes`` more complete times."""
    start = {v.uid: host.sharing._state(v).passes for v in host.vms.values()}
    for _ in range(2000):
        if all(host.sharing._state(v).passes >= start[v.uid] + passes for v in host.vms.values()):
            return
        host.step()
    raise AssertionError("the scanner never completed its passes")


def assert_matches_brute_force(host, one_frame_per_content=True):
    s = host.sharing
    saved = 0
    for (g, tok), pages in brute_force(host).items():
        if len(pages) < 2:
            continue
        saved += len(pages) - 1
        states = [vm.pmap.state[p] for vm, p in pages]
        assert all(x == SHARED for x in states), f"duplicate content {tok:#x} ({len(pages)} copies) not all shared"
        frames = {int(s.frame_of[vm.pmap.mpn[p]]) for vm, p in pages}
        if one_frame_per_content:
            assert len(frames) == 1, f"content {tok:#x} spread over {len(frames)} frames"
    # a unique page can be shared only if its partners broke copy-on-write: count 1, saves nothing
    if one_frame_per_content:
        assert s.saved_pages == saved
    return saved


def test_full_scan_finds_exactly_the_brute_force_duplicates():
    host = mixed_host(**FAST)
    host.run(seconds=90)                         # boot, Windows zeroing and file reads are over
    run_full_passes(host, 2)
    check_conservation(host)
    saved = assert_matches_brute_force(host)
    assert saved > 3 * MB and host.sharing.zero_pages > MB
    st = host.sharing.stats()
    assert st.pages_sharing == host.sharing.saved_pages and st.pages_shared == host.sharing.n_frames
    assert host.stats().shared_saved == pytest.approx(saved / MB)


def test_sharing_off_shares_nothing_and_finds_no_duplicates():
    host = mixed_host(mode="off")
    host.run(seconds=60)
    assert host.sharing.mappings == 0 and host.sharing.table_pages == 0
    assert sum(len(p) - 1 for p in brute_force(host).values()) > 3 * MB, "the workload has duplicates to find"


def test_ksm_finds_the_same_duplicates_eventually_and_counts_sensibly():
    host = mixed_host(mode="ksm", ksm_pages_to_scan=200, ksm_sleep_ms=20, ksm_max_page_sharing=1 << 20)
    host.run(seconds=90)
    n = host.sharing.full_scans
    for _ in range(2000):
        if host.sharing.full_scans >= n + 3:
            break
        host.step()
    check_conservation(host)
    assert_matches_brute_force(host)
    st = host.sharing.stats()
    assert st.mode == "ksm" and st.full_scans >= n + 3
    assert st.pages_shared == host.sharing.n_frames and st.pages_sharing == host.sharing.saved_pages
    assert st.pages_unshared == len(host.sharing.unstable)
    assert st.pages_unshared + st.pages_shared + st.pages_sharing <= sum(v.alloc_pages for v in host.vms.values())


def test_reference_counts_overflow_for_the_zero_page_and_come_back():
    cfg = SharingConfig(mode="esx", scan_vm_pages_s=1e5, scan_total_pages_s=1e5, scan_period_s=1)
    host = esx.Host(esx.HostConfig(memory_mb=340, sharing=cfg), seed=0)
    vm = host.power_on(esx.VMConfig(name="w", max_mb=300, overhead_mb=1, guest_os="windows"))
    host.run(seconds=75)                          # Windows zeroes all memory while booting
    check_conservation(host)
    s = host.sharing
    zero = int(s.frame_of[vm.pmap.mpn[np.flatnonzero(vm.pmap.state == SHARED)[-1]]])
    assert s.f_token[zero] == 0 and zero in s.overflow and s.overflow[zero] > COUNT_MAX
    assert s.f_count[zero] == COUNT_MAX
    assert s.zero_pages == s.overflow[zero] and s.saved_pages >= s.zero_pages - 1
    assert s.table_pages >= 1 and host.stats().zero_shared == pytest.approx(s.zero_pages / MB)
    # the guest writes 20 000 of its zero pages: copy-on-write, count back under 16 bits
    ppns = np.flatnonzero(vm.pmap.state == SHARED)[:20000]
    vm.write(ppns, vm.mint.take(len(ppns)))
    assert zero not in s.overflow and s._refs(np.array([zero]))[0] == s.zero_pages
    check_conservation(host)
    assert (vm.peek(ppns) != 0).all() and vm.totals.cow_breaks + vm.counters.cow_breaks >= 20000
    host.power_off("w")
    host.step()
    assert host.machine.free == host.machine.total and s.table_pages == 0 and s.mappings == 0


def test_copy_on_write_never_leaks_a_write_to_another_vm():
    host = mixed_host(vms=False, **FAST)
    with WriteLog(host) as log:
        add_vms(host)
        host.run(seconds=90)
        run_full_passes(host, 1)
        a, b = host.vm("v0"), host.vm("v1")
        shared = np.flatnonzero((a.pmap.state == SHARED) & (b.pmap.state == SHARED))
        shared = shared[a.pmap.mpn[shared] == b.pmap.mpn[shared]]
        assert len(shared) > MB, "both Linux VMs share their image pages"
        before = b.peek(shared)
        new = a.mint.take(len(shared))
        a.write(shared, new)
        assert (a.read(shared) == new).all()
        assert (b.read(shared) == before).all(), "a write to a shared page showed up in another VM"
        assert (a.pmap.mpn[shared] != b.pmap.mpn[shared]).all()
        host.run(seconds=30)
        check_conservation(host)
        log.check()


def vms_per_frame(host):
    """For each shared frame, how many distinct VMs map it."""
    owners = {}
    for vm in host.vms.values():
        for f in set(host.sharing.frame_of[vm.pmap.mpn[vm.pmap.state == SHARED]].tolist()):
            owners[f] = owners.get(f, 0) + 1
    return owners


@pytest.mark.parametrize("force, salts, inter_vm", [
    (1, (None, None, None, None), True),       # 2002: everybody shares
    (1, (1, 2, 3, 4), False),                  # distinct salts: intra-VM only
    (1, (7, 7, 7, 7), True),                   # equal salts share
    (2, (None, None, None, None), False),      # Mem.ShareForceSalting = 2: per-VM salt by default
    (0, (1, 2, 3, 4), True),                   # salting ignored
])
def test_salting_decides_who_may_share(force, salts, inter_vm):
    host = mixed_host(force_salting=force, salts=salts, **FAST)
    host.run(seconds=90)
    run_full_passes(host, 1)
    check_conservation(host)
    crossing = sum(1 for n in vms_per_frame(host).values() if n > 1)
    assert (crossing > 0) == inter_vm
    assert host.sharing.saved_pages > 0, "intra-VM sharing (zero pages, duplicate file pages) always works"
    assert_matches_brute_force(host)


def test_share_before_swap_shares_zero_pages_instead_of_paging_them():
    # no scanner at all: only the swapper's share-before-swap can share (§4.3, Fig. 8's boot)
    cfg = SharingConfig(mode="esx", scan_vm_pages_s=0, scan_total_pages_s=0)
    host = esx.Host(esx.HostConfig(memory_mb=72, swap_mb=256, sharing=cfg), seed=0)
    with WriteLog(host) as log:
        for i in range(2):
            host.power_on(esx.VMConfig(name=f"w{i}", max_mb=48, overhead_mb=1, guest_os="windows", balloon="absent"))
        host.run(seconds=120)
        check_conservation(host)
        log.check()
    assert host.sharing.scanned == 0
    shared = sum(v.pmap.count(SHARED) for v in host.vms.values())
    swapped = sum(v.pmap.count(SWAPPED) for v in host.vms.values())
    assert shared > 16 * MB, "zero pages chosen as swap victims must be shared, not paged"
    assert host.sharing.zero_pages > 16 * MB
    assert shared > swapped


def test_a_weak_hash_causes_false_matches_but_never_wrong_sharing(monkeypatch):
    monkeypatch.setattr(sharing.base, "page_hash", lambda tokens, group: (np.asarray(tokens) & np.uint64(0xFF)) + np.uint64(1))
    host = mixed_host(vms=False, **FAST)
    with WriteLog(host) as log:
        add_vms(host)
        host.run(seconds=90)
        run_full_passes(host, 1)
        check_conservation(host)            # includes: every mapper reads the frame's contents
        log.check()
    assert host.sharing.false_matches > 0


def test_table_memory_is_charged_to_the_host():
    host = mixed_host(**FAST)
    host.run(seconds=60)
    s = host.sharing
    wake = 4 * FAST["scan_vm_pages_s"]            # entries one wake-up may add, reserved ahead
    assert s.entries > 1000 and -(-s.entries // 256) <= s.table_pages <= -(-(s.entries + wake) // 256)
    assert host.sharing.table_pages * 4096 <= 0.005 * host.machine.total * 4096 + wake * 16 + 4096, "< 0.5 % (§4.3)"
    base = host.config.total_pages - host.overhead_pages - host.states.goal
    assert host.available_pages() == int(base - s.table_pages + s.saved_pages), "sharing savings are handed out"
    assert s.stats().table_mb == pytest.approx(s.table_pages / MB)


@pytest.mark.parametrize("mode", ["esx", "ksm"])
def test_the_last_power_off_gives_the_table_memory_back_at_once(mode):
    """With every VM off, the table holds nothing: its machine pages are free and table_mb reads 0 before
    the next tick (they were kept until the next step: 0.22 MB for ESX and 1.14 MB for KSM here)."""
    host = mixed_host(mode=mode, **FAST)
    host.run(seconds=30)
    assert host.sharing.stats().table_mb > 0
    for name in list(host.vms):
        host.power_off(name)
    assert host.sharing.stats().table_mb == 0 and host.sharing.table_pages == 0
    assert host.machine.free == host.machine.total


def test_a_many_vm_host_scans_each_vm_in_batches_at_the_same_rate():
    """40 VMs at the default rates: a wake-up's share, min(50, 200 / 40) × 5 = 25 pages, is below
    scan_batch_min = 32, so a VM saves its credit and is scanned in batches of ≥ 32 pages, the
    credit it leaves is less than one batch, and the pages scanned keep the rate."""
    host = esx.Host(esx.HostConfig(memory_mb=320, sharing=SharingConfig()), seed=0)
    for i in range(40):
        host.power_on(esx.VMConfig(name=f"v{i}", max_mb=4, overhead_mb=1), workload=esx.workloads.Idle())
    asked = {}
    candidates = host.sharing._candidates

    def spy(vm, k):
        asked.setdefault(vm.name, []).append(k)
        return candidates(vm, k)
    host.sharing._candidates = spy
    host.run(seconds=300)
    wakes, per_wake = 300 // 5, 200 / 40 * 5
    assert set(asked) == set(host.vms)
    for name, ks in asked.items():
        assert min(ks) >= 32 and len(ks) < wakes, f"{name}: {ks}"
        assert wakes * per_wake - 32 < sum(ks) <= wakes * per_wake, f"{name}: {sum(ks)} pages in {wakes} wake-ups"


def test_at_the_default_esx2x_rates_every_wake_up_scans_as_with_no_batch_minimum():
    """Four VMs at the default scan rates (later ESX 2.x's Mem.ShareScanVM = 50 and Mem.ShareScanTotal = 200
    pages/s; the paper gives none, §4.3): a wake-up's share (250 pages) is above scan_batch_min, so the minimum
    changes nothing."""
    runs = []
    for least in (1, 32):
        host = mixed_host(scan_batch_min=least)
        host.run(seconds=120)
        runs.append((host.sharing.stats(), [v.stats() for v in host.vms.values()]))
    assert runs[0] == runs[1] and runs[0][0].scanned > 0


@pytest.mark.parametrize("mode", ["esx", "ksm"])
def test_per_vm_statistics_add_up(mode):
    """Each VM's figures add up to the host's; KSM's unstable-tree nodes are each VM's own hint frames (they
    read 0 a VM while the host counted them)."""
    host = mixed_host(mode=mode, **FAST)
    host.run(seconds=90)
    run_full_passes(host, 1)
    per = {n: host.sharing.vm_stats(v) for n, v in host.vms.items()}
    s = host.sharing.stats()
    assert sum(p.shared_mb for p in per.values()) == pytest.approx(s.shared_mb)
    assert sum(p.saved_mb for p in per.values()) == pytest.approx(s.saved_mb)
    assert sum(p.zero_mb for p in per.values()) == pytest.approx(s.zero_mb)
    assert sum(p.hint_frames for p in per.values()) == s.hint_frames == s.pages_unshared > 0
    assert all(p.passes >= 1 for p in per.values())
    assert host.vm("v0").stats().shared == pytest.approx(per["v0"].shared_mb)


@pytest.mark.parametrize("make, words", [
    (lambda: SharingConfig(scan_vm_pages_s=-1), ["scan_vm_pages_s", "-1", "0 ≤"]),
    (lambda: SharingConfig(scan_total_pages_s=-5), ["scan_total_pages_s", "-5"]),
    (lambda: SharingConfig(mode="tps"), ["mode", "'tps'", "'esx'", "'ksm'", "'off'"]),
    (lambda: SharingConfig(force_salting=3), ["force_salting", "3"]),
    (lambda: SharingConfig(ksm_sleep_ms=0), ["ksm_sleep_ms", "0"]),
    (lambda: SharingConfig(ksm_max_page_sharing=1), ["ksm_max_page_sharing", "1"]),
    (lambda: esx.HostConfig(sharing="esx"), ["HostConfig.sharing", "SharingConfig"]),
])
def test_bad_sharing_config(make, words):
    with pytest.raises(esx.ConfigError) as e:
        make()
    for w in words:
        assert w in str(e.value)


WORKLOADS = st.sampled_from([
    lambda: esx.workloads.Idle(),
    lambda: esx.workloads.Spec95(files_mb=4, dup_mb=1, zero_mb=2, data_mb=3, warm_s=20, writes_per_s=100),
    lambda: esx.workloads.Dbench(clients=2, mb_per_client=6, accesses_per_s=300),
    lambda: esx.workloads.Toucher([(0, 10), (30, 20), (70, 4)], sweep_s=3),
    lambda: esx.workloads.NetServer(buffers=32, packets_per_s=300, data_mb=4),
])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2 ** 31), memory_mb=st.integers(60, 110), mode=st.sampled_from(["esx", "ksm"]),
       force=st.sampled_from([0, 1, 2]), low_mb=st.sampled_from([0.25, 1, 8]),
       vms=st.lists(st.tuples(WORKLOADS, st.sampled_from(["linux", "windows"]),
                              st.sampled_from(["cooperative", "absent"]), st.integers(16, 40),
                              st.sampled_from([None, 1, 2])), min_size=1, max_size=3),
       off_after=st.sampled_from([None, 60]))
def test_nothing_lost_and_conservation_with_sharing_and_remapping(seed, memory_mb, mode, force, low_mb, vms,
                                                                   off_after):
    cfg = esx.HostConfig(memory_mb=memory_mb, swap_mb=256, realloc_period_s=5,
                         sharing=SharingConfig(mode=mode, force_salting=force, scan_vm_pages_s=400,
                                               scan_total_pages_s=1000, scan_period_s=2, ksm_pages_to_scan=20),
                         remap=RemapConfig(low_memory_mb=low_mb, threshold=4, window_s=5))
    host = esx.Host(cfg, seed=seed)
    with WriteLog(host) as log:
        for i, (wl, os_, balloon, max_mb, salt) in enumerate(vms):
            try:
                host.power_on(esx.VMConfig(name=f"vm{i}", max_mb=max_mb, overhead_mb=1, guest_os=os_,
                                           balloon=balloon, salt=salt), workload=wl())
            except esx.AdmissionError:
                pass
        for k in range(5):
            host.run(seconds=24)
            if off_after is not None and 24 * (k + 1) == 72 and host.vms:
                host.power_off(next(iter(host.vms)))
            check_conservation(host)
            check_sharing(host)
            log.check()


def test_the_table_grows_while_shared_pages_make_allocations_exceed_memory():
    """A shared page counts in the alloc of every VM that maps it (§4.3), so the VMs' allocations
    may add up to more than machine memory; the table still grows into memory outside the VMs'
    min + overhead reservations, and the scanner goes on hinting every private page."""
    host = esx.Host(esx.HostConfig(memory_mb=200, sharing=SharingConfig(**FAST)), seed=2)
    for i in range(4):
        host.power_on(esx.VMConfig(name=f"w{i}", max_mb=64, overhead_mb=2, guest_os="windows"),
                      workload=esx.workloads.Toucher([(0, 4), (150, 20)], sweep_s=10))   # writes after boot
    host.run(minutes=5)
    vms = list(host.vms.values())
    assert sum(v.stats().alloc for v in vms) > 200, "the allocations exceed machine memory"
    private = sum(int(np.count_nonzero(v.pmap.state == PRIVATE)) for v in vms)
    assert host.sharing.stats().hint_frames >= 0.9 * private


def test_the_hash_table_answers_as_a_dict_through_inserts_deletes_and_rehashes():
    """The global hash table (open addressing; KSM's trees use it too) against a dict, over random batches that collide on
    purpose (a small table, keys drawn from a small range, so probes chain and slots are reused)."""
    from esxlab.sharing.hashtable import HashTable
    rng = np.random.default_rng(5)
    table, ref = HashTable(capacity=8), {}
    for step in range(400):
        universe = rng.integers(1, 3000, size=64, dtype=np.uint64)
        new = np.unique(universe[~np.isin(universe, np.fromiter(ref, dtype=np.uint64, count=len(ref)))])
        new = rng.permutation(new)[:rng.integers(0, 20)]
        values = rng.integers(0, 10 ** 6, size=len(new))
        table.insert(new, values)
        ref.update(zip(new.tolist(), values.tolist()))
        gone = rng.permutation(np.fromiter(ref, dtype=np.uint64, count=len(ref)))[:rng.integers(0, 12)]
        table.delete(gone)                          # a batch: probes pass slots deleted by the same call
        for h in gone.tolist():
            del ref[h]
        moved = rng.permutation(np.fromiter(ref, dtype=np.uint64, count=len(ref)))[:rng.integers(0, 8)]
        values = rng.integers(0, 10 ** 6, size=len(moved))
        table.assign(moved, values)                 # new values for keys present (KSM's unstable tree)
        ref.update(zip(moved.tolist(), values.tolist()))
        if step % 97 == 96:
            table.clear()                           # KSM empties its unstable tree after a full scan
            ref.clear()
        assert table.items() == ref, f"step {step}"
        probe = np.r_[universe, np.fromiter(ref, dtype=np.uint64, count=len(ref))]
        expect = np.array([ref.get(h, -1) for h in probe.tolist()], dtype=np.int64)
        got = table.lookup(probe)
        assert got.dtype == np.int64 and (got == expect).all(), f"step {step}"
        assert len(table) == len(ref)
    some = np.fromiter(ref, dtype=np.uint64, count=len(ref))[:3]
    with pytest.raises(KeyError):
        table.delete(np.r_[some, np.array([4000], dtype=np.uint64)])
    with pytest.raises(KeyError):
        table.assign(np.array([4000], dtype=np.uint64), np.array([1]))
    assert len(table) == len(ref) and (table.lookup(some) >= 0).all(), "a failed delete removes nothing"
    copy_ = copy.deepcopy(table)
    copy_.delete(some)
    assert (table.lookup(some) >= 0).all() and (copy_.lookup(some) == -1).all(), "a copy is independent"


@given(st.lists(st.integers(1, 40), max_size=300))
@settings(max_examples=200, deadline=None)
def test_first_of_each_marks_the_first_occurrence_of_every_value(values):
    from esxlab.sharing.base import first_of_each
    keys = np.array(values, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)     # 64-bit values, collisions kept
    want = np.zeros(len(keys), dtype=bool)
    want[np.unique(keys, return_index=True)[1]] = True
    assert (first_of_each(keys) == want).all()


def test_share_before_swap_with_a_full_table_takes_a_few_rounds_not_one_per_page(monkeypatch):
    """2,000 zeroed victims, one hash, while the table's memory is full (no hint can be added):
    nothing can be shared, and the batch takes a few lookup rounds, not one per page (quadratic:
    Figure 8 at its lowest memory_mb never finished)."""
    host = esx.Host(esx.HostConfig(memory_mb=256, sharing=SharingConfig(mode="esx")), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=64, overhead_mb=1))
    host.run(seconds=2)
    ppns = np.flatnonzero(vm.pmap.state == esx.pmap.UNBACKED)[:2000]
    vm.write(ppns, np.zeros(len(ppns), dtype=np.uint64))
    s = host.sharing
    monkeypatch.setattr(s, "_reserve_table", lambda n: None)
    monkeypatch.setattr(s, "table_pages", s.entries // s._per_page)          # full: no room for a hint
    rounds = []
    real = s._lookup
    monkeypatch.setattr(s, "_lookup", lambda h: rounds.append(len(h)) or real(h))
    rest = s.share_before_swap(vm, ppns)
    assert len(rest) == 2000 and (vm.pmap.state[ppns] == PRIVATE).all()
    assert len(rounds) <= 4, len(rounds)
