"""Hot I/O page remapping (paper §7): bounce copies with and without remapping (esxlab/experiments/remap_io.py): its
rows, notes and parameters."""
from __future__ import annotations

import pytest

import esxlab as esx
from esxlab import experiments as E

pytestmark = pytest.mark.usefixtures("own_cache")       # runs cached to a throw-away folder


def test_remap_io_with_low_memory_holding_every_page_compares_nothing():
    """No bounce copies even without remapping: no ratio to take (it used to be log10(0), a crash)."""
    row = E.remap_io.run(seed=0, low_mb=128, minutes=1).row("orders of magnitude fewer copies")
    assert row.paper is None and row.within is None and "no bounce copies" in row.note
    with pytest.raises(esx.ConfigError, match="low_mb"):
        E.remap_io.run(seed=0, low_mb=129)
