"""Golden traces (issue 13): the engine's speed work changes no result.

Each scenario of ``benchmarks/golden.py`` is rerun and every array it produces (trace series,
decision log, event totals, page contents) must equal the recorded one bit for bit (a metric added
to :mod:`esxlab.metrics` since adds arrays, which are not compared). A
deliberate model change regenerates the files (``python benchmarks/golden.py --record``) in a
commit of its own.
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("golden", ROOT / "benchmarks" / "golden.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)


@pytest.mark.parametrize("name", list(golden.SCENARIOS))
def test_golden_trace_unchanged(name):
    with np.load(golden.GOLDEN / f"{name}.npz") as f:
        want = {k: f[k] for k in f.files}
    got = golden.outputs(golden.SCENARIOS[name]())
    missing = sorted(set(want) - set(got))      # a new metric adds columns; the recorded ones stay
    assert not missing, f"{name}: the run no longer produces the recorded arrays {', '.join(missing[:6])}"
    differ = [k for k in want if got[k].dtype != want[k].dtype or got[k].shape != want[k].shape
              or got[k].tobytes() != want[k].tobytes()]
    assert not differ, f"{name}: {len(differ)} arrays differ from the golden run: {', '.join(differ[:6])}"


def test_golden_detects_a_change():
    """The comparison can fail: one step more changes the recorded arrays."""
    host = golden.SCENARIOS["remap"]()
    before = golden.outputs(host)
    host.step()
    after = golden.outputs(host)
    assert any(before[k].tobytes() != after[k].tobytes() for k in before)
