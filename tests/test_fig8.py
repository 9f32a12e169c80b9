"""Figure 8: dynamic reallocation on a busy host (paper §6.3; esxlab/experiments/fig8.py): its rows, notes, docstring
and parameters against the paper's numbers."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import esxlab as esx
from esxlab import experiments, experiments as E
from esxlab.experiments import fig8, paper
from esxlab.pmap import SHARED
from esxlab.reclaim import HIGH

from conftest import assert_within

pytestmark = pytest.mark.usefixtures("own_cache")       # runs cached to a throw-away folder


MB = esx.PAGES_PER_MB


def thresholds_mb():
    return {k: v / MB for k, v in esx.HostConfig(memory_mb=fig8.PARAMS["memory_mb"].default).threshold_pages().items()}


@pytest.fixture(scope="module")
def minute5(request):
    """seed 0's run (the docstring's numbers) to minute 5, and the MB of shared pages its balloons took by then."""
    taken = []
    orig = esx.vm.VM.balloon_pages
    mp = pytest.MonkeyPatch()

    def counting(vm, ppns):
        if vm.vm_time < 300:
            taken.append(int(np.count_nonzero(vm.pmap.state[ppns] == SHARED)))
        return orig(vm, ppns)

    mp.setattr(esx.vm.VM, "balloon_pages", counting)
    try:
        res = fig8.run(0, minutes=18, bench_start_min=8)      # minute 5 is the same in the 83-minute run
    finally:
        mp.undo()
    ag, tr = res.traces["aggregate"], res.traces["run"]
    i = int(np.searchsorted(ag["minute"], 5))
    now = {k: float(ag[k][i]) for k in ("alloc", "shared", "balloon")}
    out = tr.minutes[(tr.host.state != esx.reclaim.HIGH) & (tr.minutes < 7.6)]
    back = tr.minutes[(tr.host.state == esx.reclaim.HIGH) & (tr.minutes > out.min()) & (tr.minutes < out.max())]
    return dict(now, free=float(tr.host.free[i]), out_of_high=(float(out.min()), float(out.max())),
                back_in_high=(float(back.min()), float(back.max())), shared_ballooned=sum(taken) / MB)


def episodes(res, after=7.6):
    """(start, end) minutes of each stretch outside high after ``after``."""
    tr = res.traces["run"]
    m, out = tr.minutes, tr.host.state != HIGH
    edges = np.flatnonzero(np.diff(out.astype(int)))
    spans, start = [], None
    for i in edges:
        if out[i + 1]:
            start = m[i + 1]
        elif start is not None:
            spans.append((float(start), float(m[i + 1])))
            start = None
    return [(a, b) for a, b in spans if a >= after]


def test_the_papers_minute_5_leaves_at_most_13_mb_free_the_hard_state():
    bound, th = fig8.paper_free_bound(), thresholds_mb()
    assert bound[5.0] == 13
    assert th["low"] < bound[5.0] < th["hard"]
    # two readings digitized to ± 10 MB each cannot lift it to the high threshold …
    assert th["high"] - bound[5.0] > 20
    # … while at 10, 15 and 25 min the bound is below high by less than that, as the docstring says
    for minute, mb in ((10, 46), (15, 54), (25, 54)):
        assert bound[float(minute)] == mb and 0 < th["high"] - mb < 20
    assert all(v >= th["high"] for m, v in bound.items() if m not in (5, 10, 15, 25))


def test_esxlab_reclaims_until_minute_5_and_holds_less_with_free_memory_back_above_high(minute5):
    m = minute5
    assert abs(m["alloc"] - 851) < 5 and abs(m["shared"] - 63) < 5 and abs(m["balloon"] - 575) < 5
    assert abs(m["free"] - 75) < 2 and m["free"] > thresholds_mb()["high"]
    assert m["out_of_high"] == pytest.approx((0.67, 4.98), abs=0.01)      # the docstring: from 0.67 to 5.0 min …
    assert m["back_in_high"] == pytest.approx((1.27, 2.42), abs=0.01)     # … but for a return to high, 1.27–2.42
    assert round(m["alloc"] - m["shared"]) == 788          # private, 63 MB below the paper's 1105 − 254 = 851


def test_the_balloons_took_the_shared_zero_pages(minute5):
    # what sharing held and the balloons took, "≈ 245 MB": more than the gap to the paper's shared (254 − 63) …
    assert 235 < minute5["shared_ballooned"] < 255
    assert minute5["shared_ballooned"] > 254 - minute5["shared"]
    # … and about as much as the balloons grew beyond the paper's (575 − 343): ballooned, they freed no memory
    assert abs(minute5["shared_ballooned"] - (minute5["balloon"] - 343)) < 30


def test_figure_8_says_why_its_memory_cannot_go_below_896_mb():
    """The range "896 ≤ memory_mb" did not say what 896 is. It is the five VMs' min + overhead
    (128 + 128 + 160 + 160 + 160 + 5 × 32 MB), which admission control must reserve (§6.2)."""
    from esxlab.experiments import fig8
    from esxlab.errors import ConfigError
    assert fig8.MIN_MEMORY_MB == 896 == sum(mn + 32 for _, mn, _ in fig8.VMS.values())
    with pytest.raises(ConfigError) as err:
        fig8.run(memory_mb=512)
    assert str(err.value) == ("fig8.memory_mb = 512 is out of range; allowed: 896 ≤ memory_mb ≤ 65536 (896 MB: the "
                              "five VMs' min + 32 MB of overhead each, which admission control reserves before it "
                              "powers them on, §6.2).")
    assert fig8.PARAMS["tax_rate"].why_range == ""          # other ranges say only what they allow


def test_the_knob_is_the_host_configs_and_both_readings_are_the_papers_set_up():
    assert fig8.PARAMS["high_state"].default == esx.HostConfig().high_state == "converge"
    assert set(fig8.PARAMS["high_state"].choices) == {"converge", "idle"}
    assert paper.setup_window("fig8", fig8.PARAMS, dict(high_state="idle")) == (83, "")
    assert paper.setup_window("fig8", fig8.PARAMS, dict(tax_rate=0.5))[0] == -np.inf


def test_converge_never_leaves_high_after_the_boot_storm_and_takes_sql_server_to_its_target(fig8_runs):
    res = fig8_runs["converge"]
    assert episodes(res) == []
    for q in ("SQL Server alloc while idle", "SQL Server alloc during the long query"):
        assert res.row(q).paper is not None and res.row(q).within


def test_idle_leaves_high_as_the_benchmarks_start_and_moves_sql_server_only_then(fig8_runs):
    res = fig8_runs["idle"]
    spans = episodes(res)
    assert any(17 <= a <= 17.5 and b - a < 0.5 for a, b in spans), spans     # the paper: 16.9–18.7 min
    assert any(27 <= a <= 36.8 for a, b in spans) and any(62.5 <= a <= 64.3 for a, b in spans), spans
    idle_row, query_row = res.row("SQL Server alloc while idle"), res.row("SQL Server alloc during the long query")
    assert idle_row.paper == 165 and idle_row.within and 160 < idle_row.esxlab < 175       # seed 0: 166.6 MB
    assert query_row.paper == 204 and query_row.within and 205 < query_row.esxlab < 220    # seed 0: 211.6 MB
    tr = res.traces["run"]
    sql, m = tr.vm("sql"), tr.minutes
    # the docstring's seed 0: 207 MB from minute 17.3 to 29.3, the host in high, while its target falls to 166 MB
    held = (m > 17.3) & (m < 29.26)
    assert np.all(tr.host.state[held] == HIGH) and np.ptp(sql.alloc[held]) < 0.5 and 200 < sql.alloc[held][0] < 215
    assert 160 < sql.target[held][-1] < 172 and 35 < sql.alloc[held][-1] - sql.target[held][-1] < 45
    # in steps, not along its target: farther from it on average while idle than under "converge"
    while_idle = (m >= 35) & (m < 60)
    off_target = {hs: float(np.mean(np.abs(r.traces["run"].vm("sql").alloc - r.traces["run"].vm("sql").target)
                                    [while_idle])) for hs, r in fig8_runs.items()}
    assert off_target["idle"] > 5 and off_target["converge"] < 3, off_target
    assert all(r.paper is not None for r in res.table)


def test_idle_notes_the_reading_where_a_sql_server_row_misses():
    """Seed 3 under "idle": the long query's row misses (the docstring: three seeds of four within), and its note
    names the reading."""
    row = fig8.run(3, high_state="idle").row("SQL Server alloc during the long query")
    assert row.paper == 204 and not row.within and 229 < row.esxlab < 240
    assert "high_state = 'idle'" in row.note and "converge" in row.note


def test_the_boot_storms_paging_row_notes_why_where_it_misses():
    """Seed 3 pages 62.7 MB at boot (the paper: at most 35 MB; tolerance ± 25): its note says what the boot's
    paging depends on, where it gave the note on what sharing saves after the boot."""
    row = fig8.run(3).row("peak paged (boot storm)")
    assert row.paper == 35 and not row.within and 60 < row.esxlab < 65, row.esxlab
    assert row.note == fig8.BOOT_PAGING and "furthest above its target" in row.note


def test_the_readmes_sweep_over_both_readings_runs(capsys):
    from esxlab.__main__ import main
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text(encoding="utf8").split())
    assert "python -m esxlab sweep fig8 --param high_state=converge,idle --seeds 0-1 --jobs 2" in readme
    assert main(["sweep", "fig8", "--param", "high_state=converge,idle", "--seeds", "0", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "fig8 high_state='converge'" in out and "fig8 high_state='idle'" in out
    # the README: both readings land SQL Server's averages within the rows' tolerances (seed 0 here)
    rows = [line.split() for line in out.splitlines() if "SQL Server alloc while idle" in line]
    assert len(rows) == 2 and all(r[-1] == "yes" for r in rows), rows


SERIES = json.loads((Path(experiments.__file__).parent.parent / "data" / "paper_series.json").read_text())["fig8"]


def _window_mean(name: str, lo: float, hi: float) -> float:
    s = SERIES["series"][name]
    x, y = np.array(s["x"]), np.array(s["y"], dtype=float)
    return float(y[(x >= lo) & (x <= hi)].mean())


@pytest.fixture(scope="module")
def fig8_rows():
    rows = experiments.fig8.run(seed=0).table
    return {r.quantity: r for r in rows}


@pytest.mark.parametrize("quantity, series, lo, hi, digits", [
    ("aggregate balloon", "all_balloon", 20, 80, 0),
    ("aggregate alloc", "all_alloc", 20, 80, -1),            # "≈ 980 MB"
    ("MetaFrame server alloc", "citrix_alloc", 40, 80, 0),
])
def test_fig8_window_means_are_the_means_of_the_papers_samples(fig8_rows, quantity, series, lo, hi, digits):
    assert fig8_rows[quantity].paper == round(_window_mean(series, lo, hi), digits), quantity


def test_fig8_paging_note_gives_the_mb_this_run_paged(monkeypatch):
    """The note of fig8's paging rows says how much this run paged after the boot storm, not that it paged "far
    more than the paper's < 20 MB", which stopped being true (0 MB at seeds 0–11).
    The row it explains is made to miss by counting time in a state the host is never in."""
    from esxlab.experiments import fig8
    monkeypatch.setattr(fig8, "HIGH", -1)
    res = fig8.run(0, minutes=30)
    rows = {r.quantity: r for r in res.table}
    paged = rows["paged after the boot storm"].esxlab
    note = rows["time in high state after the boot storm"].note
    assert rows["time in high state after the boot storm"].within is False
    assert note.startswith("fig8: when the benchmarks start") and f"{paged:.0f} MB in all after the boot storm" in note
    assert "far more" not in note


def test_fig8_boot_storm_and_benchmarks_short():
    res = E.fig8.run(seed=0, bench_start_min=8, minutes=18)
    assert_within(res, ["SQL Server lowest alloc (min 160 MB)", "aggregate alloc peak at boot",
                        "zero pages shared at boot", "paged after the boot storm"])
    for quantity in ("aggregate balloon", "aggregate alloc", "sharing saves after benchmarks start"):
        row = res.row(quantity)
        assert row.paper is None and "benchmarks run 10 min, paper 66" in row.note, \
            "10 minutes of benchmarks end before the averages over the paper's 66 settle: not compared"
    assert res.row("aggregate alloc peak at boot").paper is not None, "an earlier benchmark start only shifts the boot rows"
    assert E.fig8.run(seed=0, bench_start_min=8, minutes=18, tax_rate=0).row("aggregate balloon").paper is None, \
        "τ = 0 is not the paper's setting: not compared"
    tr = res.traces["run"]
    states = np.array(tr.state_names())
    assert states[-1] == "high" and np.mean(np.isin(states[tr.minutes >= 7.6], ["hard", "low"])) < 0.02, \
        "after the boot storm the host balloons (soft) and returns to high, it hardly pages"
    for name, (mx, mn, _) in E.fig8.VMS.items():
        assert np.nanmin(tr.vm(name).alloc[tr.minutes >= 8]) >= mn - 1, f"{name} fell below its min"
    assert res.traces["aggregate"]["balloon"].max() > 50, "ESX balloons once the benchmarks start"


def test_fig8_memory_below_the_five_vms_reservations_is_refused_by_its_range():
    """fig8's five VMs reserve min + overhead = 896 MB: below it the run used to die in admission control."""
    with pytest.raises(esx.ConfigError, match=r"fig8.memory_mb = 800 is out of range; allowed: 896 ≤ memory_mb"):
        E.fig8.run(seed=0, memory_mb=800)
