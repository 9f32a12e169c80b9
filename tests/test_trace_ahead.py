"""A long run's trace grows as it records (a tester's mistyped run of a million minutes held 17 GB from its
first tick, and kept it after Ctrl-C)."""
import numpy as np

import esxlab as esx
from esxlab import trace


def _host() -> esx.Host:
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=3)
    host.power_on(esx.VMConfig(name="t", max_mb=32, overhead_mb=1), workload=esx.workloads.Toucher([(0, 8)]))
    return host


def test_a_run_reserves_at_most_a_simulated_day_ahead_but_checks_all_of_it():
    rec = _host().recorder
    rec.reserve(60 * 10 ** 6, ["t"], "run: minutes = 1000000")
    assert rec.capacity == trace.AHEAD_TICKS, "a day's columns now; the rest as the run records it"


def test_a_run_longer_than_its_reservation_records_every_tick_alike(monkeypatch):
    whole = _host().run(seconds=300)
    monkeypatch.setattr(trace, "AHEAD_TICKS", 40)
    host = _host()
    grown = host.run(seconds=300)
    assert host.recorder.capacity < 2 * 300 + 64
    for name in ("alloc", "target", "active", "private"):
        assert np.array_equal(getattr(whole.vm("t"), name), getattr(grown.vm("t"), name), equal_nan=True), name
    assert np.array_equal(whole.host.free, grown.host.free) and np.array_equal(whole.t, grown.t)
