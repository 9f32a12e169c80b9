"""``arrays.lazy_zeros``: the per-page tables that start as zeros cost memory only where written, whatever
glibc's malloc threshold has risen to (docs/performance.md, "Peak memory moves with glibc's heap"), and they
behave as ``np.zeros`` does: values, writes, copies, pickles, and a forked child's writes stay its own."""
import copy
import ctypes
import mmap
import multiprocessing
import pickle
import sys

import numpy as np
import pytest

import esxlab as esx
from esxlab.arrays import LAZY_MIN_BYTES, lazy_zeros

POSIX = hasattr(mmap, "MAP_PRIVATE")


def _mapped(table: np.ndarray) -> bool:
    """Whether ``table``'s memory is a mapping of its own (numpy holds it through a memoryview)."""
    return isinstance(getattr(table.base, "obj", None), mmap.mmap)


@pytest.mark.parametrize("dtype", [bool, np.int8, np.int16, np.int32, np.uint64])
@pytest.mark.parametrize("n", [0, 1, 1000, 3 * LAZY_MIN_BYTES + 7])
def test_lazy_zeros_are_writable_zeros_like_np_zeros(n, dtype):
    a = lazy_zeros(n, dtype)
    assert a.shape == (n,) and a.dtype == np.dtype(dtype) and not a.any()
    assert a.flags.writeable and a.flags.c_contiguous
    if n:
        a[-1] = 1
        assert a[-1] == 1 and np.count_nonzero(a) == 1


@pytest.mark.skipif(not POSIX, reason="private anonymous mappings are POSIX; elsewhere lazy_zeros is np.zeros")
def test_large_tables_are_their_own_mapping_small_ones_numpy_s():
    assert _mapped(lazy_zeros(LAZY_MIN_BYTES, np.uint8))
    assert not _mapped(lazy_zeros(LAZY_MIN_BYTES - 1, np.uint8))


def _resident_pages(table: np.ndarray) -> int:
    """Pages of ``table``'s memory the OS has backed (Linux ``mincore``)."""
    page = mmap.PAGESIZE
    start = table.ctypes.data // page * page
    length = table.ctypes.data + table.nbytes - start
    vec = (ctypes.c_ubyte * -(-length // page))()
    assert ctypes.CDLL(None).mincore(ctypes.c_void_p(start), ctypes.c_size_t(length), vec) == 0
    return sum(v & 1 for v in vec)


def _dirty_heap() -> None:
    """What an import did to glibc in a 256 × 1 GB run: free an mmapped block (its size becomes the threshold
    below which malloc serves from the heap), then leave written memory free in the heap for reuse."""
    big = np.ones(24 << 20, np.uint8)
    del big
    dirty = np.ones(20 << 20, np.uint8)
    del dirty


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mincore and glibc's heap: Linux")
def test_zero_tables_are_backed_only_where_written_even_from_a_dirty_heap():
    """``np.zeros`` of 4 MB from that heap is backed in full (1,025 of 1,024 pages, 2026-12-04); a lazy table
    is backed only at the page written."""
    _dirty_heap()
    table = lazy_zeros(4 << 20, np.uint8)
    assert _resident_pages(table) == 0
    table[12345] = 1
    assert 1 <= _resident_pages(table) <= 512           # one page (one huge page at most)


@pytest.mark.skipif(not POSIX, reason="private anonymous mappings are POSIX")
def test_a_host_s_per_page_zero_tables_are_mapped_lazily():
    """The tables of a host and of a VM that start as zeros: the machine's contents and owners, the pmap's
    states and swap slots, the guest's reference, dirty and on-disk bits and its disk copies, the scanner's
    last hashes and volatile bits, the MPN → frame table. Those no step has written yet are not backed."""
    _dirty_heap()
    host = esx.Host(esx.HostConfig(memory_mb=1024, sharing=esx.SharingConfig(mode="esx")), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=512),     # 131,072 pages: every table ≥ 128 KB
                       workload=esx.workloads.Toucher([(0, 300)]))
    host.run(seconds=esx.SharingConfig().scan_period_s)   # the scanner keeps a VM's state from its first scan
    scan = host.sharing.states[vm.uid]
    g = vm.guest
    tables = dict(content=host.machine.content, owner=host.machine.owner, state=vm.pmap.state, slot=vm.pmap.slot,
                  ref=g.ref, lp_dirty=g.lp_dirty, lp_disk=g.lp_disk, lp_on_disk=g.lp_on_disk, last=scan.last,
                  volatile=scan.volatile, frame_of=host.sharing.frame_of)
    assert [name for name, table in tables.items() if not _mapped(table)] == []
    if sys.platform.startswith("linux"):
        resident = {name: _resident_pages(table) for name, table in tables.items()}
        # nothing swapped, nothing shared yet: never written; the machine's tables only where pages were used
        assert resident["slot"] == resident["frame_of"] == 0
        assert resident["content"] < host.machine.content.nbytes // mmap.PAGESIZE
        assert resident["owner"] < host.machine.owner.nbytes // mmap.PAGESIZE


def test_copies_and_pickles_are_plain_equal_arrays():
    a = lazy_zeros(2 * LAZY_MIN_BYTES, np.int32)
    a[5] = 7
    for b in (copy.deepcopy(a), pickle.loads(pickle.dumps(a)), a.copy()):
        assert np.array_equal(a, b) and b.flags.writeable
        b[5] = 8
        assert a[5] == 7


def _write_in_child(table):
    table[:] = 9


@pytest.mark.skipif(not POSIX or sys.platform == "darwin" or "fork" not in multiprocessing.get_all_start_methods(),
                    reason="needs the fork start method")
def test_a_forked_child_s_writes_stay_its_own():
    """Private, not shared, mappings: a worker forked from a process holding a host cannot write into it."""
    a = lazy_zeros(2 * LAZY_MIN_BYTES, np.uint8)
    child = multiprocessing.get_context("fork").Process(target=_write_in_child, args=(a,))
    child.start()
    child.join(30)
    assert child.exitcode == 0 and not a.any()
