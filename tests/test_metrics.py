"""The one metrics table (esxlab.metrics) drives the stats, the trace, the CSV and the views."""
import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import esxlab as esx
from esxlab import metrics
from esxlab.experiments.result import Result
from esxlab.pmap import BALLOONED, PRIVATE, SHARED, SWAPPED, UNBACKED
from esxlab.trace import HOST_FIELDS, VM_FIELDS
from esxlab.views import components, dashboards
from esxlab.vm import TRACE_FIELDS


def running_host(seconds=20):
    host = esx.Host(esx.HostConfig(memory_mb=96, swap_mb=128), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=32, overhead_mb=3))
    host.power_on(esx.VMConfig(name="b", max_mb=48, overhead_mb=5), workload=esx.workloads.Toucher([(0, 40)]))
    host.run(seconds=seconds)
    return host


def test_pmap_state_constants_follow_the_table_order():
    """The pmap's state indices name the table's states, in order."""
    names = {UNBACKED: "unbacked", PRIVATE: "private", SHARED: "shared", SWAPPED: "swapped", BALLOONED: "balloon"}
    assert all(metrics.STATE_NAMES[i] == n for i, n in names.items())


def test_a_metric_is_of_a_vm_or_of_the_host():
    """A table row with another scope is refused with a sentence."""
    with pytest.raises(esx.ConfigError, match=r"Metric 'x': scope = 'guest'; allowed: 'vm' or 'host'"):
        metrics.Metric("x", "guest", "MB", "a value", "invented")


def test_every_page_state_is_a_per_vm_metric():
    """Each page state gives a per-VM metric of the same name, in MB."""
    vm_metrics = {m.name: m for m in metrics.VM_METRICS}
    assert all(vm_metrics[s].unit == "MB" and vm_metrics[s].trace for s in metrics.STATE_NAMES)


def test_stats_fields_are_the_tables_stats_metrics():
    """VMStats and HostStats have one field per metric marked ``stats`` (after the VM's name)."""
    vm_fields = [f.name for f in dataclasses.fields(esx.VMStats)]
    assert vm_fields == ["name"] + [m.name for m in metrics.VM_METRICS if m.stats]
    assert [f.name for f in dataclasses.fields(esx.HostStats)] == [m.name for m in metrics.HOST_METRICS if m.stats]


def test_the_computed_rows_are_exactly_the_trace_columns():
    """What the VM and the host compute each tick is exactly what the table declares as trace columns."""
    host = running_host(3)
    assert set(host.vm("a").trace_row()) == set(VM_FIELDS)
    assert TRACE_FIELDS == VM_FIELDS, "VM.trace_values gives its values in the trace's column order"
    assert set(host._row()) == set(HOST_FIELDS)


def test_stats_are_plain_python_values():
    """A student's repr shows plain floats (and the state's name, the bounce copies as an int)."""
    host = running_host()
    s = host.vm("b").stats()
    assert all(type(getattr(s, m.name)) is float for m in metrics.VM_METRICS if m.stats)
    assert "np.float64" not in repr(s) and "np.float64" not in repr(host.stats())
    h = host.stats()
    assert type(h.state) is str and h.state in esx.STATES and type(h.bounce_copies) is int


def test_per_vm_overhead_reaches_the_trace_and_stats():
    """Each VM's overhead is a trace column (NaN before its power-on) and a stats field; they add up
    to the host's overhead."""
    host = running_host(5)
    host.power_on(esx.VMConfig(name="late", max_mb=8, overhead_mb=2))
    tr = host.run(seconds=5)
    assert np.all(tr.vm("a").overhead == 3) and np.all(tr.vm("b").overhead == 5)
    assert np.isnan(tr.vm("late").overhead[:5]).all() and np.all(tr.vm("late").overhead[5:] == 2)
    total = np.nansum([tr.vm(n).overhead for n in tr.vm_names], axis=0)
    assert np.array_equal(total, tr.host.overhead)
    assert host.vm("late").stats().overhead == 2.0


def test_page_state_fields_add_up_to_max():
    """The page-state fields of VMStats add up to the VM's size."""
    host = running_host()
    for s in host.vm_stats().values():
        assert abs(sum(getattr(s, n) for n in metrics.STATE_NAMES) - s.max) < 1e-9


def test_csv_header_is_the_trace_columns(tmp_path):
    """An experiment's trace CSV has one column per host and per VM trace metric."""
    res = Result("x", {}, traces={"run": running_host(3).trace})
    paths = res.to_csv(tmp_path)
    header = next(p for p in paths if p.name.endswith("run.csv")).read_text().splitlines()[0].split(",")
    assert header == ["t_s", *(f"host_{f}" for f in HOST_FIELDS), *(f"{n}_{f}" for n in "ab" for f in VM_FIELDS)]


def test_views_take_colours_labels_and_parts_from_the_table():
    """The pmap colours, the reclaimed bars and the default series (VM and host) come from the table."""
    assert components.PMAP_COLORS == [s.color for s in metrics.PAGE_STATES]
    assert set(components.RECLAIMED_PARTS) == {"balloon", "swapped", "compressed"}
    assert components.SERIES == ("alloc", "target", "active", "shared", "swapped", "balloon", "compressed")
    assert dashboards.HOST_SERIES == ("free", "shared_saved", "zero_shared", "swap_used")
    assert components.pretty("rho") == "ρ" and components.pretty("size_mb") == "size (MB)"
    assert components.host_ylabel(["bounce_copies"]) == "bounce copies (per s)"
    assert components.host_ylabel(["free", "swap_used"]) == "memory (MB)"


def test_events_table_declares_the_counters_and_their_costs():
    """Counters' fields are the EVENTS rows, in order; every cost names a HostConfig parameter in ms or µs."""
    from operator import attrgetter

    from esxlab.vm import Counters
    assert [f.name for f in dataclasses.fields(Counters)] == [e.name for e in metrics.EVENTS]
    hc = esx.HostConfig()
    for e in metrics.EVENTS:
        if e.cost:
            assert e.cost.endswith(("_ms", "_us")) and attrgetter(e.cost)(hc) >= 0, e


def test_throughput_prices_each_event_by_its_cost():
    """A tick of 1000 accesses at the workload's CPU cost, with 3 swap-ins (8 ms each) and 500 zeroed
    pages (1 µs each): 1000 / (CPU time + 24.5 ms), by hand."""
    host = running_host(seconds=1)
    vm = host.vm("b")
    vm.counters = type(vm.counters)(swap_ins=3, zero_allocs=500)
    cpu_s = 1000 * vm.workload.cpu_us_per_access / 1e6
    assert vm._throughput(1000) == pytest.approx(1000 / (cpu_s + 0.0245))


ROOT = Path(__file__).resolve().parents[1]


def test_a_trace_metric_out_of_place_fails_at_import_naming_what_to_change():
    """A per-VM trace metric whose value sat elsewhere in ``VM.trace_values`` ran, and the trace's columns
    silently held the neighbouring values (the overhead's under the new name)."""
    code = ("import importlib, esxlab.metrics as m, esxlab.vm as vm\n"
            "m.VM_METRICS = m.VM_METRICS[:1] + (m.Metric('reclaimed', 'vm', 'MB', 'x', 'invented'),) "
            "+ m.VM_METRICS[1:]\n"
            "importlib.reload(vm)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert run.returncode != 0
    assert "ImportError: esxlab.vm.TRACE_FIELDS" in run.stderr and "same position in VM.trace_values" in run.stderr
