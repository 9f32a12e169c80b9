"""``arrays.lazy_zeros``: the per-page tables that start as zeros cost memory only where written, whatever
glibc's malloc threshold has risen to (docs/architecture.md, "Peak memory moves with glibc's heap"), and they
behave as ``np.zeros`` does: values, writes, copies, pickles, and a forked child's writes stay its own."""
import copy
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


@pytest.mark.skipif(not POSIX, reason="private anonymous mappings are POSIX")
def test_a_host_s_per_page_zero_tables_are_mapped_lazily():
    """The tables of a host and of a VM that start as zeros (machine contents and owners, the pmap's
    states and swap slots, the guest's reference and dirty bits, the scanner's last hashes)."""
    host = esx.Host(esx.HostConfig(memory_mb=1024, sharing=esx.SharingConfig(mode="esx")), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=512),     # 131,072 pages: every table ≥ 128 KB
                       workload=esx.workloads.Toucher([(0, 300)]))
    tables = [host.machine.content, host.machine.owner, vm.pmap.state, vm.pmap.slot, vm.guest.ref,
              vm.guest.lp_dirty, host.sharing.frame_of]
    for table in tables:
        assert _mapped(table)
    host.run(seconds=5)                     # and the model runs on them
    assert host.stats().free < 1024


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
