"""ESX page sharing scans a wake-up's VMs as one batch (``PageSharing.scan_all``, issue 13): the same outcome,
bit for bit, as scanning them one after the other, which is what ``scan_all`` does when patched to take one
VM at a time. Compared after each scenario: every VM's pmap (states and machine pages), the machine's
contents and owners, each shared machine page's reference count, the scanner's per-VM state (hashes at the
last scan, volatile bits, counts), every statistic, the trace and the decision log."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import esxlab as esx
from esxlab.arrays import distinct_counts, runs
from esxlab.config import SharingConfig
from esxlab.sharing import esx as esx_sharing
from esxlab.sharing.base import HINT, SHARED

W = esx.workloads
# benchmarks/golden.py's sharing scenario (a host too small for its VMs: ballooning, paging, pages shared before
# they are swapped) and its remapping one (hot I/O pages moved by machine page number)
_spec = importlib.util.spec_from_file_location("golden", Path(__file__).resolve().parents[1] / "benchmarks/golden.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)
FAST = dict(scan_vm_pages_s=2000, scan_total_pages_s=20000, scan_period_s=1)


def one_at_a_time(monkeypatch):
    """Make every wake-up scan its VMs one after the other."""
    batched = esx_sharing.PageSharing.scan_all

    def scan_all(self, batch):
        for part in batch:
            batched(self, [part])
    monkeypatch.setattr(esx_sharing.PageSharing, "scan_all", scan_all)


def spec(**kw):
    return W.Spec95(files_mb=3, dup_mb=0.5, zero_mb=1, data_mb=1, warm_s=10, **kw)


def small_host(seed=0, force_salting=1):
    """Four 16 MB VMs sharing OS images, files and zero pages, at scan rates that meet many pages a wake-up;
    one VM powers off and another on mid-run (its hints go stale, its pages are forgotten)."""
    host = esx.Host(esx.HostConfig(memory_mb=160, sharing=SharingConfig(force_salting=force_salting, **FAST)),
                    seed=seed)
    salts = (None, 7, None, 7)
    for i, (os_, salt) in enumerate(zip(("linux", "linux", "windows", "linux"), salts)):
        host.power_on(esx.VMConfig(name=f"v{i}", max_mb=16, overhead_mb=1, guest_os=os_, salt=salt),
                      workload=spec(reads_per_s=200, writes_per_s=100))
    host.run(seconds=40)
    host.power_off("v1")
    host.power_on(esx.VMConfig(name="v4", max_mb=16, overhead_mb=1), workload=spec())
    host.run(seconds=40)
    return host


def many_vms(seed=0):
    """24 small VMs at the default rates (wake-ups of a few dozen pages each), large pages on some."""
    host = esx.Host(esx.HostConfig(memory_mb=24 * 20, large_pages=False), seed=seed)
    for i in range(24):
        host.power_on(esx.VMConfig(name=f"v{i}", max_mb=16, overhead_mb=1, guest_os=("linux", "windows")[i % 2]),
                      workload=spec(reads_per_s=50, writes_per_s=20) if i % 3 else None)
    host.run(minutes=4)
    return host


def state(host):
    """Everything the batch might change, as comparable values."""
    s = host.sharing
    hints = (s.f_kind == HINT).nonzero()[0]
    out = {"stats": s.stats(), "saved": s.saved_pages, "machine.content": host.machine.content.copy(),
           "machine.owner": host.machine.owner.copy(), "machine.free": host.machine.free,
           "free lists": [stack.items for stack in (host.machine._low, host.machine._high)],
           "hints": sorted(zip(s.f_hash[hints].tolist(), s.f_uid[hints].tolist(), s.f_ppn[hints].tolist())),
           "trace": {k: np.asarray(v) for k, v in vars(host.trace.host).items()},
           "log": [str(d) for d in host.trace.decisions]}
    for vm in host.vms.values():
        st = s._state(vm)
        shared = (vm.pmap.state == SHARED).nonzero()[0]
        out[vm.name] = dict(state=vm.pmap.state.copy(), mpn=vm.pmap.mpn.copy(),
                            refs=s._refs(s.frame_of[vm.pmap.mpn[shared]]), last=st.last.copy(),
                            volatile=st.volatile.copy(), counts=(st.zero, st.scanned, st.passes),
                            vm_stats=s.vm_stats(vm), totals=vm.totals)
    return out


def assert_same(a, b, where=""):
    if isinstance(a, list) and a and isinstance(a[0], np.ndarray):
        assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b)), f"{where} differs"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b), f"{where} differs"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


@pytest.mark.parametrize("scenario", [small_host, many_vms, golden.sharing, golden.remap])
def test_a_batched_wake_up_scans_as_the_vms_one_after_the_other(scenario, monkeypatch):
    batched = state(scenario())
    one_at_a_time(monkeypatch)
    assert_same(batched, state(scenario()), scenario.__name__)


def test_the_batch_is_the_same_with_a_weak_hash_and_salting(monkeypatch):
    """A hash of 8 bits: many false matches and hints met across VMs; salting splits the VMs in groups."""
    monkeypatch.setattr(esx.sharing.base, "page_hash",
                        lambda tokens, group: (np.asarray(tokens) & np.uint64(0xFF)) + np.uint64(1))
    batched = state(small_host(force_salting=2))
    assert batched["stats"].false_matches > 0
    one_at_a_time(monkeypatch)
    assert_same(batched, state(small_host(force_salting=2)))


def test_wake_ups_are_batched_where_table_memory_allows(monkeypatch):
    """The test above would pass if no wake-up were ever batched: count the VMs scan_all is given."""
    sizes = []
    batched = esx_sharing.PageSharing.scan_all

    def scan_all(self, batch):
        sizes.append(len(batch))
        batched(self, batch)
    monkeypatch.setattr(esx_sharing.PageSharing, "scan_all", scan_all)
    small_host()
    assert max(sizes) == 4


def test_a_table_short_of_memory_gives_the_same_batch(monkeypatch):
    """With the table held to three machine pages (768 hints), a wake-up takes only the pages it has room
    for (VMs later in the wake-up get fewer or none), so no hint is ever refused room, whatever the order."""
    monkeypatch.setattr(esx_sharing.PageSharing, "_table_room", lambda self: 3 - self.table_pages)
    batched = state(small_host())
    assert batched["stats"].table_mb == 3 / esx.PAGES_PER_MB
    one_at_a_time(monkeypatch)
    assert_same(batched, state(small_host()))


def test_a_stale_hint_dropped_by_its_own_vm_first_is_counted_as_met(monkeypatch):
    """Page r of VM b was scanned with contents X (a hint), then rewritten to Y; page p of VM a now holds X.
    Scanned one after the other, p meets r's hint, finds it stale (counted) and takes its place; in a batch b
    drops it first, so the batch counts it for p."""
    def run():
        host = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
        a, b = (host.power_on(esx.VMConfig(name=n, max_mb=16, overhead_mb=1)) for n in "ab")
        p, r = np.array([3000]), np.array([3500])
        x, y = np.array([0xABC], dtype=np.uint64), np.array([0xDEF], dtype=np.uint64)
        host.sharing._reserve_table(2)                # room for the two hints (a wake-up reserves it)
        b.write(r, x)
        host.sharing.scan(b, r)
        b.write(r, y)
        a.write(p, x)
        host.sharing.scan_all([(a, p), (b, r)])
        return host
    batched = run()
    assert batched.sharing.stale_hints == 1
    one_at_a_time(monkeypatch)
    assert_same(state(batched), state(run()))


@pytest.mark.parametrize("n, high", [(0, 5), (1, 5), (2, 2), (40, 50), (40, 10 ** 6), (1000, 7)])
def test_distinct_counts_is_np_unique(n, high):
    """``arrays.distinct_counts`` (page sharing's reference counts) against ``np.unique``, with the first
    occurrences too (which copy-on-write keeps)."""
    x = np.random.default_rng(n).integers(0, high, n).astype(np.int32)
    for got, want in ((distinct_counts(x), np.unique(x, return_counts=True)),
                      (distinct_counts(x, first=True), np.unique(x, return_index=True, return_counts=True))):
        assert len(got) == len(want) and all(np.array_equal(g, w) for g, w in zip(got, want))


def test_runs_splits_a_batch_by_vm():
    assert runs(np.array([], dtype=np.intp)) == []
    assert runs(np.array([3, 3])) == [(3, slice(0, 2))]
    assert runs(np.array([0, 0, 2, 5, 5, 5])) == [(0, slice(0, 2)), (2, slice(2, 3)), (5, slice(3, 6))]


def test_a_batch_the_table_has_no_room_for_is_scanned_one_vm_after_the_other(monkeypatch):
    """A full table (256 hints, one machine page), a hinted page of VM b changed, a new page of VM a: one after
    the other, a's page finds no room and b's new hint takes the slot its stale one frees; a batch that dropped
    b's stale hint first would give the slot to a. (A wake-up never takes more pages than
    the table has room for, so only a direct call meets it.)"""
    monkeypatch.setattr(esx_sharing.PageSharing, "_table_room", lambda self: 1 - self.table_pages)

    def run():
        host = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
        s = host.sharing
        a, b = (host.power_on(esx.VMConfig(name=n, max_mb=16, overhead_mb=1)) for n in "ab")
        s._reserve_table(256)
        r = np.arange(1000, 1256)
        b.write(r, np.arange(1, 257, dtype=np.uint64) * np.uint64(1000003))
        s.scan(b, r)                                    # 256 hints: the table is full
        b.write(r[:1], np.array([7], dtype=np.uint64))
        a.write(np.array([5]), np.array([9], dtype=np.uint64))
        s.scan_all([(a, np.array([5])), (b, r[:1])])
        return host
    batched = run()
    assert (batched.sharing._hints_of(batched.vm("a")), batched.sharing._hints_of(batched.vm("b"))) == (0, 256)
    one_at_a_time(monkeypatch)
    assert_same(state(batched), state(run()))


def test_a_vm_twice_in_a_batch_is_refused():
    host = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    a = host.power_on(esx.VMConfig(name="a", max_mb=16, overhead_mb=1))
    with pytest.raises(ValueError, match="VM 'a' is in the batch twice"):
        host.sharing.scan_all([(a, np.array([1])), (a, np.array([2]))])


def test_a_wake_up_inside_a_wake_up_frees_at_the_outer_end():
    host = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    s, free = host.sharing, host.machine.free
    mpns = host.machine.alloc(3, 1)
    with s._wake_up():
        with s._wake_up():
            s._free_copies(mpns)
        assert host.machine.free == free - 3
    assert host.machine.free == free
