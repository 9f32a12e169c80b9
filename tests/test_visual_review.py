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
    assert abs(bar.ys.max - 320) < 1e-3 and "320 MB" in bar.axis.label
    assert "sharing table" in bar.legend.value
    assert bar.bars.y[MACHINE_PARTS.index("sharing table"), len(names)] == tr.host.sharing_table[-1]
    bar.update(names, parts, float(tr.host.free[-1]), shared_frames=frames)       # no table: not in the legend
    assert "sharing table" not in bar.legend.value


def test_a_control_shows_its_unit_and_a_yes_no_choice_reads_on_off():
    """F6: the unit was only in the hover tooltip ("toucher sweeps its memory every 5": seconds? minutes?);
    F9: "remap hot I/O pages" offered raw Python True / False."""
    from esxlab.experiments import fig6
    from esxlab.views.controls import control
    mem = control("memory_mb", esx.HostConfig.controls()["memory_mb"], 160)
    assert mem.description == "machine memory (MB)"
    assert control("sweep_s", fig6.PARAMS["sweep_s"]).description == "toucher sweeps its memory every (s)"
    assert control("tax_rate", esx.HostConfig.controls()["tax_rate"], 0.75).description == "idle memory tax τ"
    remap = control("remap.enabled", esx.RemapConfig.controls()["enabled"], True)
    assert list(remap.options) == [("on", True), ("off", False)] and remap.value is True and remap.label == "on"
    salt = control("sharing.force_salting", esx.SharingConfig.controls()["force_salting"], 0)
    assert [v for _, v in salt.options] == [0, 1, 2]            # a numbered choice keeps its own labels


def _cells(name: str):
    import nbformat
    from pathlib import Path
    return nbformat.read(Path(__file__).parent.parent / "notebooks" / f"{name}.ipynb", as_version=4).cells


def test_an_experiment_chart_says_which_of_its_runs_it_shows():
    """F4: 03's chart under a four-run table was titled only "guest: memory over time"."""
    from esxlab.experiments import fig2
    from esxlab.views import ExperimentDashboard
    d = ExperimentDashboard(fig2, [], trace_key="ballooned_128", panels=("series",), trace_label="ballooned to 128 MB",
                            fixed=dict(sizes=(128,), minutes=2, measure_from_min=1, dbench_start_s=0))
    assert d.series.figure.title == "dbench (ballooned to 128 MB): memory over time", d.series.figure.title
    src = "\n".join(c.source for c in _cells("03_demand_paging"))
    assert 'trace_label="the loop under clock"' in src and "*available*" not in src
    assert "*memory the host lets it have* slider" in src


def test_01_the_grid_stays_at_14_mb_while_the_text_talks_about_it():
    """F1: a cell reset the slider to 40 before the text about "the ones now orange or red"; nothing is red.
    Session 46: the text called ballooned (#E69F00) "amber" and swapped (#D55E00) "orange", where the palette
    (Okabe & Ito) names them orange and vermillion, so a student took the orange cells for swapped ones.
    Trial 50: orange and vermillion merge under deuteranopia; the balloon is now a light yellow."""
    from esxlab.views.components import COLORS
    assert (COLORS["swapped"], COLORS["balloon"]) == ("#D55E00", "#F0E442")
    cells = _cells("01_memory_virtualization")
    sets = [c.source for c in cells if 'dash.controls["memory_mb"].value' in c.source]
    assert len(sets) == 1 and 'dash.controls["memory_mb"].value = 14' in sets[0]
    text = " ".join(" ".join(c.source.split()) for c in cells if c.cell_type == "markdown")
    assert " red" not in text and "amber" not in text.lower()
    assert "Light yellow (balloon) and vermillion (swapped, a much darker orange) PPNs appear" in text
    assert "the ones now yellow or vermillion in the grid above" in text


def test_04_and_11_draw_the_sharing_curves_without_free_memory():
    """F5: *free* (≈ 200–265 MB) on the same axis squashed *shared saved* (0–33 MB) into the bottom 30 px;
    F10: 04 says above its dashboard that either scan cap alone changes nothing."""
    for name, fields in (("04_page_sharing", '("shared_saved", "zero_shared")'), ("11_esx_vs_ksm", '("shared_saved",)')):
        src = next(c.source for c in _cells(name) if "views.SimDashboard(" in c.source)
        assert f"host_fields={fields}" in src, name
    text = next(c.source for c in _cells("04_page_sharing") if "## Predict, then observe" in c.source)
    assert "raising either\nslider on its own changes nothing" in text and "raise both" in text
    eleven = "\n".join(c.source for c in _cells("11_esx_vs_ksm") if c.cell_type == "markdown")
    assert "`sharing.mode`" not in eleven and "`ksm_pages_to_scan`" not in eleven and "*KSM pages_to_scan*" in eleven


def test_07_the_ladder_diagram_wears_the_strips_colours():
    """F7: the diagram filled low pink (#CC79A7, the bar chart's *overhead*) and high saturated green, the strip
    below it maroon and pale green."""
    import re
    from pathlib import Path
    from esxlab.views.components import STATE_COLORS
    svg = (Path(__file__).parent.parent / "notebooks" / "images" / "07_states.svg").read_text()
    fills = dict((name, fill) for fill, name in re.findall(r'<rect [^>]*fill="(#[0-9A-Fa-f]{6})"[^>]*/><text [^>]*>'
                                                             r'(high|soft|hard|low)</text>', svg))
    high, _clear, soft, hard, low = STATE_COLORS
    assert fills == {"high": high, "soft": soft, "hard": hard, "low": low}, fills


def test_02_at_400_clients_the_lines_swap_whatever_the_seed():
    """F2: the text after 02's reveal says seeds 1 and 2 give seed 0's throughputs at 400 clients to 0.1 accesses/s."""
    from esxlab.experiments import fig2
    from esxlab.host import quietly
    fixed = dict(sizes=(128, 192), minutes=4, measure_from_min=2, dbench_start_s=30)     # 02's dashboard
    src = next(c.source for c in _cells("02_ballooning") if "views.ExperimentDashboard(" in c.source)
    assert "fixed=dict(sizes=(128, 192), minutes=4, measure_from_min=2, dbench_start_s=30)" in src
    with quietly():
        bars = [fig2.run(seed=s, clients=400, **fixed).traces["bars"] for s in (0, 1, 2)]
    for b in bars:
        assert b["ballooned"][0] > b["configured"][0]
        for k in ("configured", "ballooned"):
            assert np.abs(np.asarray(b[k]) - np.asarray(bars[0][k])).max() < 0.1, (k, b[k], bars[0][k])
    text = next(c.source for c in _cells("02_ballooning") if "**400 clients**" in c.source)
    assert "Seeds 1 and 2 give the\nsame numbers to 0.1 accesses/s" in text


def test_a_why_panel_of_a_run_that_logged_nothing_keeps_no_blank_room():
    """The review saw ≈ 120 px of blank space under "(this run logged no reclaim decision)" (00, 01, 04, 08, 11)."""
    from esxlab.views.components import WhyPanel
    why = WhyPanel()
    why.update([], 60.0)
    assert "(this run logged no reclaim decision; balloon changes are logged once they add up to 1 MB)" \
        in why.widget.value and "min-height:0em" in why.widget.value      # 01 at 19 MB: a 0.4 MB balloon
    why.update([], 60.0, complete=False)                         # still streaming: decisions may come
    assert "min-height:14em" in why.widget.value
