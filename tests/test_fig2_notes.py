"""Figure 2's notes carry the same numbers in notebook 02's dashboard (two sizes, seed 0) and in
``fig2.run()``'s table (the paper's four sizes): every table numbers its notes in the order its rows show
them, so each size's throughput row (the figure's bar) comes before its overhead row (the gap)."""
import html
import re

import pytest

from esxlab import views
from esxlab.experiments import fig2

#: notebook 02's dashboard of Figure 2
NOTEBOOK = dict(trace_key="ballooned_128", xy=("bars", ("configured", "ballooned")), panels=("table", "series", "why"),
                fixed=dict(sizes=(128, 192), minutes=4, measure_from_min=2, dbench_start_s=30))


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """Runs the dashboard keeps go to a throw-away folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def numbers(text: str) -> dict[str, int]:
    """note text → its number, from footnotes "[n] text" (plain, its lines wrapped under the text, or in the
    dashboard's HTML)."""
    plain = re.sub(r"\n {4,}(?=\S)", " ", html.unescape(re.sub(r"<[^>]+>", "\n", text)))
    lines = re.findall(r"^\[(\d+)\] (.+)$", plain, re.M)
    return {note: int(n) for n, note in lines}


def test_the_dashboard_and_run_number_the_same_note_alike():
    dash = views.ExperimentDashboard(fig2, ["clients"], **NOTEBOOK)
    dash.idle()
    shown = numbers(dash.table.widget.value)
    full = numbers(fig2.run(seed=0).render())
    assert shown and all(full.get(note) == n for note, n in shown.items()), (shown, full)
    assert list(full.values()) == [1, 2] and "Figure 7" in next(iter(full)), "the throughput rows' note is [1]"


def test_each_size_shows_its_bar_then_its_gap():
    res = fig2.run(seed=0, sizes=(128, 192), minutes=4, measure_from_min=2, dbench_start_s=30)
    assert [r.quantity for r in res.table] == [
        "configured throughput at 128 MB / at max_mb", "balloon overhead at 128 MB",
        "configured throughput at 192 MB / at max_mb", "balloon overhead at 192 MB"]
