"""Stop 40's visual review in a real browser (screenshots of every notebook at 1366 and 1024 px): the findings the
package answers for. A chart whose range shrinks below 1 after a control move kept the tick labels of the range
it first drew ("0 0 1 1 1" for 0, 0.25 … 1); the machine-memory bar stopped short of the host's memory by the
page-sharing hash table (its axis ended at 1023 on a 1024 MB host)."""
from __future__ import annotations

import numpy as np

import esxlab as esx
from esxlab.views.components import MACHINE_PARTS, MemoryBar, TimeSeries


def test_ticks_carry_their_own_decimals_whatever_range_came_first():
    ts = TimeSeries(fields=("alloc",))
    ts.update(np.arange(10.0), {"alloc": np.linspace(0, 90, 10)})
    ts.update(np.arange(10.0), {"alloc": np.zeros(10)})        # a flat zero line: ticks 0, 0.25 … 1
    ticks = list(ts.yaxis.tick_values)
    assert 0.25 in ticks and ts.yaxis.tick_format == ".3~f"      # d3: 0.25 shows as "0.25", 50 as "50"
    bar = MemoryBar()
    bar.update(["vm"], {p: [0.0] for p in ("private", "overhead", "balloon", "swapped", "compressed")}, free=512.0)
    assert list(bar.reclaimed_axis.tick_values) == [0.0, 0.5, 1.0] and bar.reclaimed_axis.tick_format == ".3~f"


def test_the_machine_memory_bar_adds_up_to_the_host_with_the_sharing_table():
    host = esx.Host(esx.HostConfig(memory_mb=320, sharing=esx.SharingConfig(mode="esx")), seed=0)
    for i in range(3):
        host.power_on(esx.VMConfig(name=f"vm{i}", max_mb=40, overhead_mb=4), workload=esx.workloads.Spec95())
    tr = host.run(minutes=2)
    assert tr.host.sharing_table[-1] > 0
    bar = MemoryBar()
    names = tr.vm_names
    parts = {p: [getattr(tr.vm(n), p)[-1] for n in names]
             for p in ("private", "shared", "overhead", "balloon", "swapped", "compressed")}
    frames = float(np.nansum(parts["shared"])) - float(tr.host.shared_saved[-1])
    bar.update(names, parts, float(tr.host.free[-1]), shared_frames=frames,
               sharing_table=float(tr.host.sharing_table[-1]))
    assert abs(bar.bars.y.sum() - 320) < 1e-3, bar.bars.y.sum()          # the identity of HostStats, drawn
    assert bar.axis.tick_values[-1] == bar.ys.max and abs(bar.ys.max - 320) < 1e-3
    assert "sharing table" in bar.legend.value
    assert bar.bars.y[MACHINE_PARTS.index("sharing table"), len(names)] == tr.host.sharing_table[-1]
    bar.update(names, parts, float(tr.host.free[-1]), shared_frames=frames)       # no table: not in the legend
    assert "sharing table" not in bar.legend.value
