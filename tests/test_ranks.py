"""``esxlab.ranks``: Dbench's ranks by table are the integers ``np.power`` gives, bit for bit."""
import time

import numpy as np
import pytest

import esxlab as esx
from esxlab import ranks


def _by_power(w, u):
    """Dbench's ranks ⌊min(x, pages)⌋ the direct way: the power of every draw, in the draws' float type."""
    a, n = w.zipf_alpha, w.pages + 1
    x = np.power(n, u) if a == 1 else np.power(u * (n ** (1 - a) - 1) + 1, 1 / (1 - a))
    assert x.dtype == u.dtype
    return np.minimum(x, w.pages).astype(np.int64)


def _draws(rng, n, floats):
    u = rng.random(n, dtype=floats)
    u[:3] = 0.0, np.nextafter(floats(1), floats(0)), 0.5      # both ends of the generator's range
    return u


def _table(w):
    return esx.workloads.general._rank_table(w.zipf_alpha, w.pages, w._index, w._scale, w._draws)


@pytest.mark.parametrize("floats", [np.float32, np.float64])
@pytest.mark.parametrize("pages, alpha", [(61440, 0.78), (30720, 0.78), (1070, 0.78), (65534, 0.78),
                                          (70000, 0.78), (61440, 1.0), (61440, 0.0), (20000, 0.95),
                                          (3000, 0.5), (100, 0.3), (2, 0.78), (5000, 1.2)])
def test_table_ranks_are_the_powers_ranks(pages, alpha, floats):
    """Both draw types (float32 for these file sets, float64 for larger ones: ``draw_type``) get tables."""
    w = esx.workloads.Dbench(clients=1, mb_per_client=pages / esx.PAGES_PER_MB, zipf_alpha=alpha)
    w.attach(1, 0, np.random.default_rng(0))
    assert w._draws is np.float32
    w._draws = floats
    table = _table(w)
    assert table is not None                    # every case here gets a table …
    rng = np.random.default_rng(pages)
    for _ in range(10):
        u = _draws(rng, 100_000, floats)
        z = u.copy() if alpha == 1 else u * ((w.pages + 1) ** (1 - alpha) - 1) + 1
        got = table(-z if alpha > 1 else z)
        assert got.dtype == w._index
        np.testing.assert_array_equal(got, _by_power(w, u))      # … that gives the power's integers


@pytest.mark.parametrize("pages, alpha", [(61440, 0.78), (61440, 1.0), (5000, 1.2)])
def test_dbench_draws_the_same_blocks_by_table_or_by_power(pages, alpha):
    """Which way Dbench computes its ranks is chosen by speed (ranks.pays); both give the same blocks, so a
    run is the same whichever this CPU picks."""
    ways = []
    for table in (True, False):
        w = esx.workloads.Dbench(clients=1, mb_per_client=pages / esx.PAGES_PER_MB, accesses_per_s=20000,
                                 zipf_alpha=alpha)
        w.attach(1, 0, np.random.default_rng(7))
        w._ranks = _table(w) if table else None
        assert (w._ranks is not None) == table
        ways.append([w.step(t) for t in range(1, 6)])
    for by_table, by_power in zip(*ways):
        np.testing.assert_array_equal(by_table.lps, by_power.lps)
        np.testing.assert_array_equal(by_table.writes, by_power.writes)


@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.int64])
@pytest.mark.parametrize("size, n", [(0, 10), (1, 10), (50, 10), (80000, 532481), (8000, 61441), (3, 2 ** 20)])
def test_distinct_marked_is_distinct(dtype, size, n):
    """The blocks by marking a table are the sorted distinct values a sort gives, as intp."""
    x = np.random.default_rng(size).integers(0, min(n, np.iinfo(dtype).max), size).astype(dtype)
    got = esx.arrays.distinct_marked(x, n)
    assert got.dtype == np.intp
    np.testing.assert_array_equal(got, esx.arrays.distinct(x))


@pytest.mark.parametrize("pages, alpha", [(532480, 0.9), (79872, 0.78), (61440, 0.78)])
def test_dbench_draws_the_same_blocks_marked_or_sorted(pages, alpha):
    """Whether Dbench finds its distinct blocks by marking or by sorting is chosen by speed (_marks_pay, timed
    once a process: marking at Figure 2's 400 clients, 532,480 pages, on the AVX-512 EPYC); both give the same
    blocks, so a run is the same whichever this CPU picks."""
    ways = []
    for marks in (True, False):
        w = esx.workloads.Dbench.scaled(pages // 1331, mb_per_client=pages / (pages // 1331) / esx.PAGES_PER_MB,
                                        zipf_alpha=alpha)
        w.attach(1, 0, np.random.default_rng(7))
        assert w.pages == pages
        w._marks = marks
        ways.append([w.step(t) for t in range(1, 6)])
    for marked, sorted_ in zip(*ways):
        np.testing.assert_array_equal(marked.lps, sorted_.lps)
        np.testing.assert_array_equal(marked.writes, sorted_.writes)


@pytest.mark.parametrize("marks_win", [True, False])
def test_dbench_marks_its_blocks_only_where_it_pays(monkeypatch, marks_win):
    """Dbench.attach asks ``pays`` (timed once a process) whether marking beats sorting on its own number of draws,
    and marks only where it answers yes."""
    asked = []

    def pays(marked, sort, ranks):
        if getattr(marked, "func", None) is esx.arrays.distinct_marked:
            np.testing.assert_array_equal(marked(ranks.copy()), sort(ranks.copy()))   # the two ways agree
            asked.append(len(ranks))
            return marks_win
        return False                                                    # (the rank table's question)

    monkeypatch.setattr(esx.workloads.general, "pays", pays)
    esx.workloads.general._marks_pay.cache_clear()
    try:
        w = esx.workloads.Dbench.scaled(400, mb_per_client=5.2, zipf_alpha=0.9)
        w.attach(1, 0, np.random.default_rng(0))
    finally:
        esx.workloads.general._marks_pay.cache_clear()                 # (other tests time the real choice again)
    assert asked == [80000] and w._marks == marks_win


def test_the_table_is_used_where_it_is_faster_than_calling_f():
    """``ranks.pays`` times both ways: a table slower than the direct call (even alone) is not used."""
    def slow(z):
        time.sleep(0.002)
        return z

    def fast(z):
        return z

    assert ranks.pays(fast, slow, np.ones(10))
    assert not ranks.pays(slow, fast, np.ones(10))


@pytest.mark.parametrize("table_wins", [True, False])
def test_dbench_keeps_the_table_only_where_it_pays(monkeypatch, table_wins):
    """Dbench.attach asks ``pays`` (timed once a process) and keeps the table only where it answers yes."""
    asked = []

    def pays(table, direct, z):
        if getattr(table, "func", None) is esx.arrays.distinct_marked:
            return False                                                # (marking's question: the next tests)
        np.testing.assert_array_equal(table(z.copy()), direct(z.copy()))   # the two ways it compares agree
        asked.append(len(z))
        return table_wins

    monkeypatch.setattr(esx.workloads.general, "pays", pays)
    esx.workloads.general._table_pays.cache_clear()
    try:
        w = esx.workloads.Dbench(clients=1, mb_per_client=61441 / esx.PAGES_PER_MB, zipf_alpha=0.78)
        w.attach(1, 0, np.random.default_rng(0))
    finally:
        esx.workloads.general._table_pays.cache_clear()                 # (other tests time the real choice again)
    assert asked == [8000] and (w._ranks is not None) == table_wins


@pytest.mark.parametrize("alpha", [sum([0.1] * 10), 0.9999999999999994, 4.0])
def test_no_table_where_crossings_crowd_and_the_blocks_are_the_same(alpha):
    """α within 1e-15 of 1, or α = 4, crowd the crossings (or jump past integers): float64 draws (a float32
    draw would not reach the last blocks), no table, and Dbench calls the power as before."""
    w = esx.workloads.Dbench(clients=1, mb_per_client=60000 / esx.PAGES_PER_MB, zipf_alpha=alpha)
    w.attach(1, 0, np.random.default_rng(0))
    assert w._draws is np.float64 and w._ranks is None
    assert len(w.step(1).lps)


@pytest.mark.parametrize("pages, alpha, floats", [(61440, 0.78, np.float32), (55705, 0.9, np.float32),
                                                  (2 ** 18, 0.78, np.float64), (2 ** 18, 0.0, np.float32),
                                                  (2 ** 21, 0.0, np.float64), (61440, 1.0, np.float32),
                                                  (5000, 1.2, np.float32), (61440, 1.5, np.float64)])
def test_draws_are_float32_where_the_last_block_spans_enough_of_them(pages, alpha, floats):
    """Figure 7's and Figure 2's file sets draw float32; where float32's steps would be too coarse for the
    least likely block (a GB of file set at Figure 7's α, steep α), float64. The rule's reason, counted exactly:
    of float32's 2²⁴ draws, the share that falls in the last block is its probability within 1/MIN_SPAN (and
    would not be where float64 is drawn)."""
    w = esx.workloads.Dbench(clients=1, mb_per_client=pages / esx.PAGES_PER_MB, zipf_alpha=alpha)
    w.attach(1, 0, np.random.default_rng(0))
    assert w._draws is floats
    n = w.pages + 1
    p_last = (np.log(n / w.pages) / np.log(n) if alpha == 1 else
              (n ** (1 - alpha) - w.pages ** (1 - alpha)) / (n ** (1 - alpha) - 1))
    first = int((1 - 2 * p_last) * 2 ** 24)                        # every float32 draw from well below the block
    u = np.arange(first, 2 ** 24, dtype=np.float32) * np.float32(2 ** -24)      # (exact: 24-bit integers)
    share = np.count_nonzero(_by_power(w, u) == w.pages) / 2 ** 24
    off = abs(share - p_last) / p_last
    if floats is np.float32:
        assert off <= 1 / esx.workloads.general.MIN_SPAN
    elif alpha != 0:                             # (the uniform one is conservative: float32 would be exact)
        assert off > 1 / esx.workloads.general.MIN_SPAN         # float32 would have been too coarse


def test_no_table_for_a_function_that_is_not_monotone_near_a_crossing():
    """x⁴ gets a table; the same function dipping back to 6.5 two doubles past its crossing of 7 is refused."""
    def fourth(z):
        return np.power(z, 4.0)

    past = np.nextafter(np.nextafter(ranks._crossings(fourth, 1.0, 2.0, 16, None)[5], 2), 2)    # T_7 + 2 floats

    def dips(z):
        return np.where(z == past, 6.5, fourth(z))

    assert ranks.rank_table(fourth, 1.0, 2.0, 16, np.uint16) is not None
    assert ranks.rank_table(dips, 1.0, 2.0, 16, np.uint16) is None


@pytest.mark.parametrize("floats", [np.float64, np.float32])
def test_keys_order_floats_and_invert(floats):
    one, two, zero = floats(1), floats(2), floats(0)
    z = np.array([-2.0, -1.0, -np.nextafter(zero, one), 0.0, np.nextafter(zero, one), 1.0, np.nextafter(one, two),
                  3.5], dtype=floats)
    k = ranks._keys(z)
    assert (np.diff(k) > 0).all() and k[3] == 0 and k.itemsize == z.itemsize
    np.testing.assert_array_equal(ranks._floats(k, floats), z)
    assert ranks._floats(k[5:6] + 1, floats)[0] == np.nextafter(one, two)


@pytest.mark.parametrize("marks", [True, False])
def test_a_golden_run_is_the_same_bit_for_bit_whichever_way_dbench_finds_its_blocks(monkeypatch, marks):
    """The timed choice (_marks_pay) forced each way, a whole recorded run (benchmarks/golden.py's "sharing", a dbench
    VM among others) equals its golden arrays: test_golden sees only the way this CPU picks."""
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location("golden", Path(__file__).resolve().parents[1] / "benchmarks" /
                                                  "golden.py")
    golden = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(golden)
    monkeypatch.setattr(esx.workloads.general, "_marks_pay", lambda *key: marks)
    host = golden.SCENARIOS["sharing"]()
    dbenches = [vm.workload for vm in host.vms.values() if isinstance(vm.workload, esx.workloads.Dbench)]
    assert dbenches and all(w._marks is marks for w in dbenches), "the way forced"
    got = golden.outputs(host)
    with np.load(golden.GOLDEN / "sharing.npz") as f:
        differ = [k for k in f.files if got[k].tobytes() != f[k].tobytes() or got[k].dtype != f[k].dtype]
    assert not differ, differ[:6]
