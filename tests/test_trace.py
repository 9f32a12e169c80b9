"""What a run records (``esxlab/trace.py``): one row per tick of every VM and host column, NaN for
a VM before its power-on and after its power-off, the decision log with repeated decisions merged
into one entry, means over windows, and the CSV of a trace."""
from __future__ import annotations

import csv

import numpy as np
import pytest

import esxlab as esx
from esxlab import trace as trace_module
from esxlab.config import SharingConfig
from esxlab.experiments import result
from esxlab.experiments.result import Result
from esxlab.reclaim import STATES
from esxlab.trace import Decision, FieldError, HOST_FIELDS, VM_FIELDS

MB = esx.PAGES_PER_MB
W = esx.workloads


def two_vms():
    """a (32 MB, 8 MB toucher) for 10 s, then b (16 MB) powered on, a powered off at 20 s, 30 s in all."""
    host = esx.Host(esx.HostConfig(memory_mb=128, sharing=SharingConfig(mode="off")), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=32, overhead_mb=1), workload=W.Toucher([(0, 8)]))
    host.run(seconds=10)
    host.power_on(esx.VMConfig(name="b", max_mb=16, overhead_mb=1))
    host.run(seconds=10)
    host.power_off("a")
    return host, host.run(seconds=10)


def test_every_column_has_one_value_per_tick():
    """30 ticks: t = 1 … 30 s, minutes = t / 60, every VM and host field an array of 30 values."""
    _, tr = two_vms()
    assert len(tr) == 30 and tr.t.tolist() == list(range(1, 31)) and np.allclose(tr.minutes, tr.t / 60)
    assert tr.vm_names == ["a", "b"]
    for name in tr.vm_names:
        assert all(getattr(tr.vm(name), f).shape == (30,) for f in VM_FIELDS)
    assert all(getattr(tr.host, f).shape == (30,) for f in HOST_FIELDS)
    assert set(tr.state_names()) <= set(esx.STATES)


def test_a_vms_columns_are_nan_before_its_power_on_and_after_its_power_off():
    """a ran at t = 1 … 20 s, b at t = 11 … 30 s: NaN outside, numbers inside, in every field."""
    _, tr = two_vms()
    for name, on in (("a", slice(0, 20)), ("b", slice(10, 30))):
        for f in VM_FIELDS:
            values = getattr(tr.vm(name), f)
            ran = np.zeros(30, dtype=bool)
            ran[on] = True
            assert np.isnan(values[~ran]).all() and not np.isnan(values[ran]).any(), (name, f)


def test_the_columns_add_up_to_each_vm_and_to_the_host():
    """Each row accounts for every page of each VM and, with nothing shared or swapped, of the host."""
    # private + shared + balloon + swapped + unbacked = max, alloc = private + shared;
    # free + overhead + the allocations = the host's 128 MB
    _, tr = two_vms()
    total = tr.host.free + tr.host.overhead
    for name, mb in (("a", 32), ("b", 16)):
        v = tr.vm(name)
        on = ~np.isnan(v.alloc)
        assert np.allclose((v.private + v.shared + v.balloon + v.swapped + v.unbacked)[on], mb)
        assert np.allclose(v.alloc[on], (v.private + v.shared)[on])
        total = total + np.nan_to_num(v.alloc)
    assert np.allclose(total, 128) and (tr.host.swap_used == 0).all()


def test_mean_averages_a_window_and_skips_the_ticks_a_vm_did_not_run():
    """Trace.mean over [start, end) minutes is the mean of those rows, NaN rows left out."""
    _, tr = two_vms()
    assert tr.mean("b", "alloc") == pytest.approx(np.mean(tr.vm("b").alloc[10:]))
    assert tr.mean("a", "alloc", 0, 0.25) == pytest.approx(np.mean(tr.vm("a").alloc[:14]))   # t < 15 s
    end = tr.minutes[-1]
    assert tr.mean("a", "alloc", end / 2, end + 10) == tr.mean("a", "alloc", end / 2)      # cut at the end, as None
    with pytest.raises(esx.ConfigError, match="field"):
        tr.mean("a", "nope")
    with pytest.raises(esx.ConfigError, match="trace has no VM named 'c'; it has 'a', 'b'"):
        tr.vm("c")
    with pytest.raises(esx.ConfigError, match=r"the window \[50, 60\) min holds no tick of the trace, which covers "):
        tr.mean("a", "alloc", 50, 60)            # past the end of the run: no silent NaN


@pytest.mark.parametrize("decision,text", [
    (Decision(12, "a", "page out", 512, "why"), "t=   12s a: page out 2.0 MB — why"),
    (Decision(12, "a", "page out", 3, "why", until=20), "t=   12–20s a: page out 3 pages (12 KB) — why"),
    (Decision(7, "a", "page out", 1, "x"), "t=    7s a: page out 1 page (4 KB) — x"),
    (Decision(7, "", "state high → soft", 0, "x"), "t=    7s: state high → soft — x"),
])
def test_a_decision_reads_as_a_sentence(decision, text):
    """When, which VM, what moved (in MB from 26 pages on, else pages and KB), and why."""
    assert str(decision) == text


def test_repeated_decisions_merge_into_one_entry_that_loses_no_pages():
    """Paging every second is one entry with a tick range; a VM's page-out entries sum to its swap-outs."""
    host = esx.Host(esx.HostConfig(memory_mb=48, swap_mb=128, sharing=SharingConfig(mode="off")), seed=0)
    g = host.power_on(esx.VMConfig(name="g", max_mb=64, overhead_mb=1, balloon="absent"),
                      workload=W.Toucher([(0, 40)], sweep_s=5))
    tr = host.run(seconds=60)
    ranged = [d for d in tr.decisions if d.until is not None]
    assert ranged and all(d.until > d.tick for d in ranged)
    assert sum(d.pages for d in tr.decisions if d.vm == "g" and d.action.startswith("page out")) == g.totals.swap_outs
    assert len(tr.decisions) < 20, "sixty seconds of paging are a handful of entries"


def test_the_csv_of_a_trace_has_a_column_per_field_and_a_row_per_tick(tmp_path):
    """Columns t_s, host_<field>, <vm>_<field>; 30 rows; NaN as "nan"; MB values exact (a whole number of pages is a
    multiple of 1/256 MB: 6 significant digits wrote a 128 GB host's 131028.6015625 MB free as 131029)."""
    _, tr = two_vms()
    path = Result("x", {}, traces={"run": tr}).to_csv(tmp_path)[1]
    rows = list(csv.reader(path.open()))
    assert rows[0] == (["t_s"] + [f"host_{f}" for f in HOST_FIELDS]
                       + [f"{n}_{f}" for n in ("a", "b") for f in VM_FIELDS])
    assert len(rows) == 31
    col = rows[0].index("a_alloc")
    assert [r[col] for r in rows[21:]] == ["nan"] * 10
    assert [float(r[col]) for r in rows[1:21]] == tr.vm("a").alloc[:20].tolist()
    free = rows[0].index("host_free")
    assert [float(r[free]) for r in rows[1:]] == tr.host.free.tolist()
    assert any(len(r[free].replace(".", "")) > 6 for r in rows[1:]), "a value that needs more than 6 digits"


def test_reused_vm_name_reads_nan_while_off_and_data_after_the_new_power_on():
    """A name powered off and reused reads NaN while no VM of that name ran, then the new VM's data."""
    host = esx.Host(esx.HostConfig(memory_mb=256), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=64, overhead_mb=1))
    host.run(seconds=10)
    host.power_off("a")
    host.run(seconds=10)
    host.power_on(esx.VMConfig(name="a", max_mb=64, overhead_mb=1))
    alloc = host.run(seconds=10).vm("a").alloc
    assert len(alloc) == 30
    assert not np.isnan(alloc[:10]).any(), "the first 'a' ran at t = 1..10 s"
    assert np.isnan(alloc[10:20]).all(), "no VM named 'a' ran at t = 11..20 s"
    assert not np.isnan(alloc[20:]).any() and (alloc[20:] > 0).all(), "the second 'a' ran at t = 21..30 s"


def test_a_trace_already_returned_does_not_change_when_the_host_runs_on():
    """A returned trace is a read-only view that later ticks (and column growth) leave as it was."""
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=32, overhead_mb=1), workload=W.Toucher([(0, 8)]))
    first = host.run(seconds=5)
    saved = first.vm("a").alloc.copy()
    host.power_on(esx.VMConfig(name="b", max_mb=32, overhead_mb=1))
    later = host.run(seconds=200)                 # the columns grow (reallocate) meanwhile
    assert len(first) == 5 and (first.vm("a").alloc == saved).all() and first.vm_names == ["a"]
    assert (later.vm("a").alloc[:5] == saved).all() and np.isnan(later.vm("b").alloc[:5]).all()
    with pytest.raises(ValueError):
        first.vm("a").alloc[0] = 1.0             # traces are read-only views


def test_many_short_runs_give_the_trace_of_one_long_run():
    """Ninety 1 s runs record the same trace as one 90 s run."""
    def host():
        h = esx.Host(esx.HostConfig(memory_mb=128), seed=3)
        h.power_on(esx.VMConfig(name="a", max_mb=48, overhead_mb=1), workload=W.Toucher([(0, 20), (40, 5)]))
        return h
    one = host().run(seconds=90)
    h = host()
    for _ in range(90):
        many = h.run(seconds=1)
    assert (one.t == many.t).all() and (one.host.state == many.host.state).all()
    assert np.array_equal(one.vm("a").alloc, many.vm("a").alloc, equal_nan=True)


@pytest.mark.parametrize("block", [1, 3, 32])
def test_each_column_holds_what_its_vm_computed_each_tick_whatever_the_block(monkeypatch, block):
    """VM rows wait as lists and are converted a block at a time (``BLOCK_TICKS``): with VMs
    powered on and off between blocks and within them, the trace read mid-block and the columns
    growing, every value is what ``trace_row`` gave at that tick, and NaN while the name was off."""
    monkeypatch.setattr(trace_module, "BLOCK_TICKS", block)
    host = esx.Host(esx.HostConfig(memory_mb=256), seed=1)
    seen: dict[str, dict[int, dict]] = {"a": {}, "b": {}}
    events = {5: ("on", "a"), 12: ("on", "b"), 40: ("off", "a"), 41: ("on", "a"), 90: ("off", "b")}
    for t in range(1, 131):
        what, name = events.get(t, (None, None))
        if what == "on":
            host.power_on(esx.VMConfig(name=name, max_mb=32, overhead_mb=1), workload=W.Toucher([(0, 4 + t % 7)]))
        elif what == "off":
            host.power_off(name)
        host.step()
        for n, v in host.vms.items():
            seen[n][host.time] = v.trace_row()
        if t in (7, 41, 77):
            assert len(host.trace) == t, "reading the trace mid-block sees every tick so far"
    tr = host.trace
    for name, rows in seen.items():
        for f in VM_FIELDS:
            want = np.array([rows[t][f] if t in rows else np.nan for t in tr.t.astype(int)])
            assert np.array_equal(getattr(tr.vm(name), f), want, equal_nan=True), (name, f)


def dbench_host(**vm):
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=32, overhead_mb=2, **vm), workload="dbench")
    host.run(minutes=1, progress=False)
    return host, vm


@pytest.fixture(scope="module")
def trace():
    host = esx.Host(esx.HostConfig(memory_mb=360), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=128))
    host.power_on(esx.VMConfig(name="b", max_mb=64))
    return host.run(minutes=2)


def test_trace_csv_names_the_host_state_and_the_decision_log_is_written(tmp_path):
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=64, overhead_mb=1))
    host.note("a", "balloon held", 10, "the experiment holds it")
    trace = host.run(seconds=5)
    paths = Result("x", {}, traces={"run": trace}).to_csv(tmp_path)
    states = [r["host_state"] for r in csv.DictReader(open(tmp_path / "x_run.csv"))]
    assert len(states) == 5 and set(states) <= set(STATES) and states == trace.state_names()
    assert tmp_path / "x_run_decisions.csv" in paths
    log = list(csv.reader(open(tmp_path / "x_run_decisions.csv")))
    assert log[0] == list(result.DECISION_COLUMNS) and len(log) == 1 + len(trace.decisions)
    assert ["0", "a", "balloon held", "10", "the experiment holds it", ""] in log


def test_a_misspelled_trace_series_names_the_series_there_are():
    """`trace.vm(name).allocc` was a bare AttributeError from a SimpleNamespace."""
    import copy
    import pickle
    host = esx.Host(esx.HostConfig(memory_mb=256))
    host.power_on(esx.VMConfig(name="a", max_mb=64, overhead_mb=4))
    tr = host.run(seconds=3)
    with pytest.raises(esx.Error, match=r"trace.vm\('a'\) has no series 'allocc'; allowed: one of alloc, target"):
        tr.vm("a").allocc
    with pytest.raises(AttributeError, match=r"trace.host has no series 'fre'; allowed: one of free, state"):
        tr.host.fre
    assert not hasattr(tr.host, "fre") and getattr(tr.host, "fre", 7) == 7
    assert list(vars(tr.vm("a"))) == list(esx.trace.VM_FIELDS)
    again = pickle.loads(pickle.dumps(tr))
    assert (again.vm("a").alloc == tr.vm("a").alloc).all()
    with pytest.raises(esx.Error, match=r"trace.vm\('a'\) has no series 'x'"):
        again.vm("a").x
    assert (copy.deepcopy(tr.host).free == tr.host.free).all()


def test_a_series_reads_by_name_as_in_pandas():
    host, vm = dbench_host()
    tr = host.trace
    assert tr.vm("a")["alloc"] is tr.vm("a").alloc and tr.host["free"] is tr.host.free
    assert list(tr.vm("a")) == list(VM_FIELDS) and "alloc" in tr.vm("a") and "nope" not in tr.vm("a")
    with pytest.raises(FieldError, match=r"^trace.vm\('a'\) has no series 'allocated'; allowed: one of alloc, "):
        tr.vm("a")["allocated"]
    with pytest.raises(FieldError, match=r"^trace.host has no series 0; allowed: one of free, "):
        tr.host[0]


def test_trace_repr_is_a_one_line_summary(trace):
    text = repr(trace)
    assert "object at 0x" not in text and "\n" not in text
    assert "120 ticks" in text and "2 simulated min" in text and "'a', 'b'" in text
    assert f"free {trace.host.free[-1]:.1f} MB" in text and "state 'high'" in text
    assert "0 ticks" in repr(esx.Host(seed=0).trace)


def test_a_series_repr_is_one_line_too(trace):
    """A new user's trial: printing trace.vm('a') or trace.host dumped every array in full (SimpleNamespace's repr),
    hundreds of lines for a few minutes."""
    for series, where in ((trace.vm("a"), "trace.vm('a')"), (trace.host, "trace.host")):
        text = repr(series)
        assert "\n" not in text and len(text) < 400, text
        assert text.startswith(f"<{where}: {len(list(series))} series of 120 ticks: ") and ", ".join(series) in text


def test_mean_end_before_start_says_so(trace):
    with pytest.raises(esx.ConfigError) as e:
        trace.mean("a", "alloc", 1, 0.5)
    assert "end_min = 0.5 must be after start_min = 1" in str(e.value)
    with pytest.raises(esx.ConfigError, match="end_min = 1 must be after start_min = 1"):
        trace.mean("a", "alloc", 1, 1)


@pytest.mark.parametrize("name", ["", None])
def test_mean_of_a_host_field(trace, name):
    assert trace.mean(name, "free", 1) == pytest.approx(trace.host.free[trace.t >= 60].mean())
    assert trace.mean(name, "overhead") == 64


def test_mean_says_where_the_other_scope_is(trace):
    with pytest.raises(esx.ConfigError, match=r"host series \(trace\.host\.free\); allowed: name = None"):
        trace.mean("a", "free")
    with pytest.raises(esx.ConfigError, match=r"VM's series \(trace\.vm\(name\)\.alloc\)"):
        trace.mean(None, "alloc")


def _host() -> esx.Host:
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=3)
    host.power_on(esx.VMConfig(name="t", max_mb=32, overhead_mb=1), workload=esx.workloads.Toucher([(0, 8)]))
    return host


def test_a_run_reserves_at_most_a_simulated_day_ahead_but_checks_all_of_it():
    rec = _host().recorder
    rec.reserve(60 * 10 ** 6, ["t"], "run: minutes = 1000000")
    assert rec.capacity == trace_module.AHEAD_TICKS, "a day's columns now; the rest as the run records it"


def test_a_run_longer_than_its_reservation_records_every_tick_alike(monkeypatch):
    whole = _host().run(seconds=300)
    monkeypatch.setattr(trace_module, "AHEAD_TICKS", 40)
    host = _host()
    grown = host.run(seconds=300)
    assert host.recorder.capacity < 2 * 300 + 64
    for name in ("alloc", "target", "active", "private"):
        assert np.array_equal(getattr(whole.vm("t"), name), getattr(grown.vm("t"), name), equal_nan=True), name
    assert np.array_equal(whole.host.free, grown.host.free) and np.array_equal(whole.t, grown.t)
