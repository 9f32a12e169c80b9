"""A new engineer followed the contributor docs (stop 39): where they led astray, the code now says what to do."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import esxlab as esx
from esxlab.errors import ConfigError
from esxlab.metrics import EVENTS
from esxlab.views.components import CounterTable

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


def test_the_events_table_lists_every_event_of_the_table_unless_marked_otherwise():
    """The table's columns were a hand-made list: a new event never showed and nothing failed."""
    assert CounterTable.FIELDS == tuple(e.name for e in EVENTS if e.table)
    assert {"guest_oom", "double_paging", "balloon_pops"} <= set(CounterTable.FIELDS)
    assert "accesses" not in CounterTable.FIELDS


@pytest.fixture
def unlisted():
    """A module in esxlab/experiments/ that is not in EXPERIMENTS (removed afterwards)."""
    path = ROOT / "esxlab" / "experiments" / "zz_unlisted_probe.py"
    path.write_text("PARAMS = {}\n\ndef run(seed=0):\n    pass\n")
    try:
        yield path.stem
    finally:
        path.unlink()


def test_an_experiment_file_not_in_experiments_is_named_as_such(unlisted):
    """It read 'no module of that import name on sys.path', though the file was in esxlab/experiments/."""
    with pytest.raises(ConfigError, match=f"esxlab/experiments/{unlisted}.py exists but is not in "
                                          "esxlab.experiments.EXPERIMENTS: add it there"):
        esx.experiments.lookup(unlisted)
    with pytest.raises(AttributeError, match="is not in esxlab.experiments.EXPERIMENTS"):
        getattr(esx.experiments, unlisted)


def test_the_compression_check_reads_code_not_comments(tmp_path):
    """test_architecture's check that compression stays in five files failed on a comment naming it."""
    spec = importlib.util.spec_from_file_location("arch", ROOT / "tests" / "test_architecture.py")
    arch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(arch)
    src = tmp_path / "m.py"
    src.write_text("x = 1  # swapped, balloon, compressed\ny = 'compress me'\n")
    text = arch.code_text(src)
    assert "compressed" not in text and "compress me" in text


def test_a_helper_module_of_the_package_is_not_called_an_unlisted_experiment():
    with pytest.raises(ConfigError) as err:
        esx.experiments.lookup("runner")
    assert "not in esxlab.experiments.EXPERIMENTS" not in str(err.value)
