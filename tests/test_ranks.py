"""``esxlab.ranks``: Dbench's ranks by table are the integers ``np.power`` gives, bit for bit."""
import time

import numpy as np
import pytest

import esxlab as esx
from esxlab import ranks


def _by_power(w, u):
    """Dbench's ranks ⌊min(x, pages)⌋ the direct way: the power of every draw."""
    a, n = w.zipf_alpha, w.pages + 1
    x = np.power(n, u) if a == 1 else np.power((n ** (1 - a) - 1) * u + 1, 1 / (1 - a))
    return np.minimum(x, w.pages).astype(np.int64)


def _draws(rng, n):
    u = rng.random(n)
    u[:3] = 0.0, 1 - 2.0 ** -53, 0.5          # both ends of the generator's range
    return u


@pytest.mark.parametrize("pages, alpha", [(61440, 0.78), (30720, 0.78), (1070, 0.78), (65534, 0.78),
                                          (70000, 0.78), (61440, 1.0), (61440, 0.0), (20000, 0.95),
                                          (3000, 0.5), (100, 0.3), (2, 0.78), (5000, 1.2)])
def test_table_ranks_are_the_powers_ranks(pages, alpha):
    w = esx.workloads.Dbench(clients=1, mb_per_client=pages / esx.PAGES_PER_MB, zipf_alpha=alpha)
    w.attach(1, 0, np.random.default_rng(0))
    table = esx.workloads.general._rank_table(w.zipf_alpha, w.pages, w._index, w._scale)
    assert table is not None                    # every case here gets a table …
    rng = np.random.default_rng(pages)
    for _ in range(10):
        u = _draws(rng, 100_000)
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
        w._ranks = esx.workloads.general._rank_table(w.zipf_alpha, w.pages, w._index, w._scale) if table else None
        assert (w._ranks is not None) == table
        ways.append([w.step(t) for t in range(1, 6)])
    for by_table, by_power in zip(*ways):
        np.testing.assert_array_equal(by_table.lps, by_power.lps)
        np.testing.assert_array_equal(by_table.writes, by_power.writes)


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
    """α within 1e-15 of 1, or α = 4, crowd the crossings (or jump past integers): no table, and
    Dbench calls the power as before."""
    w = esx.workloads.Dbench(clients=1, mb_per_client=60000 / esx.PAGES_PER_MB, zipf_alpha=alpha)
    w.attach(1, 0, np.random.default_rng(0))
    assert w._ranks is None
    assert len(w.step(1).lps)


def test_no_table_for_a_function_that_is_not_monotone_near_a_crossing():
    """x⁴ gets a table; the same function dipping back to 6.5 two doubles past its crossing of 7 is refused."""
    def fourth(z):
        return np.power(z, 4.0)

    past = np.nextafter(np.nextafter(ranks._crossings(fourth, 1.0, 2.0, 16, None)[5], 2), 2)    # T_7 + 2 doubles

    def dips(z):
        return np.where(z == past, 6.5, fourth(z))

    assert ranks.rank_table(fourth, 1.0, 2.0, 16, np.uint16) is not None
    assert ranks.rank_table(dips, 1.0, 2.0, 16, np.uint16) is None


def test_keys_order_doubles_and_invert():
    z = np.array([-2.0, -1.0, -np.nextafter(0, 1), 0.0, np.nextafter(0, 1), 1.0, np.nextafter(1.0, 2), 3.5])
    k = ranks._keys(z)
    assert (np.diff(k) > 0).all() and k[3] == 0
    np.testing.assert_array_equal(ranks._doubles(k), z)
    assert ranks._doubles(k[5:6] + 1)[0] == np.nextafter(1.0, 2)
