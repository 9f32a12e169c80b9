"""Dashboard responsiveness (issue 12): a control moved in the browser → what the page shows, ms.

Each notebook's code cells are run as a student would (Run All), then every control of every
dashboard it built is moved the way the browser moves it (``set_state`` under the property
lock, so the dashboard takes its live path: see :mod:`esxlab.views.dashboards`). Per control:

* **ack** — until the move returns: the page already shows something new for the new value
  (the "computing …" line, or the whole answer if the run was memoized);
* **frame** — until the marks first show the new value (the first streamed frame of a
  :class:`~esxlab.views.SimDashboard` or of an experiment dashboard with ``stream=True``; else
  the complete run);
* **full** — until the complete run is drawn;
* **cold** moves go to a value never computed (memo and disk emptied first); **warm** moves go
  back to the previous value after the dashboard was left idle, as a student reading the
  result leaves it (the neighbours of the current value are precomputed then); **disk**
  (experiments only) moves to a value a former session computed (memo empty, disk kept).

Runs kept on disk go to a temporary ``XDG_CACHE_HOME`` here, never to the user's cache.

Targets: first visible update ≤ 100 ms (median); full result ≤ 1 s for 05, 07 and 09.
The minute slider only indexes into the stored run (scrub).

Run: ``python benchmarks/bench_views.py [name-prefix ...]``; prints a table for the README.
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from esxlab import views
from esxlab.experiments import common
from esxlab.views.dashboards import cache_dir

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def dashboards(path: Path) -> dict[str, views.Dashboard]:
    """Run all of ``path``'s code cells; its dashboards by variable name."""
    ns: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):      # the notebooks' own printouts
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                exec(compile(cell.source, str(path), "exec"), ns)
    return {k: v for k, v in ns.items() if isinstance(v, views.Dashboard)}


def options(control) -> list:
    return [o[1] if isinstance(o, tuple) else o for o in control.options]


def other_value(control):
    """A second valid value for ``control`` (the next option, or one step away)."""
    if hasattr(control, "options"):
        opts = options(control)
        return opts[(opts.index(control.value) + 1) % len(opts)]
    step = control.step
    return control.value - step if control.value - step >= control.min else control.value + step


def browser_move(control, value) -> None:
    """What the front end does: ``set_state`` of the synced trait (a dropdown syncs its index)."""
    if hasattr(control, "options"):
        control.set_state({"index": options(control).index(value)})
    else:
        control.set_state({"value": value})


def timed_move(dash: views.Dashboard, control, value) -> tuple[float, float, float]:
    """(ack, first frame, full) in ms for one browser move of ``control`` to ``value``.

    This thread then blocks (on the dashboard's ``drawn`` condition, then on ``done``) as a
    kernel's main thread blocks in its event loop: a loop that polled every half millisecond
    took the GIL from the run a thousand times a second (Figure 8's run in notebook 09: 1.14× the
    wall time, median of five alternating pairs, 0.87–1.49×)."""
    dash.idle()
    with dash.drawn:                   # held until wait(): a frame cannot be drawn unseen in between
        frames = dash.frames
        t0 = time.perf_counter()
        browser_move(control, value)
        ack = time.perf_counter() - t0
        while dash.frames == frames and not dash.done.is_set():
            dash.drawn.wait(0.05)      # woken by a frame; a run that ends without one sets done
    frame = time.perf_counter() - t0
    dash.done.wait(600)
    full = time.perf_counter() - t0
    return 1000 * ack, 1000 * frame, 1000 * full


def forget(dash: views.Dashboard, disk: bool) -> None:
    """Let the precomputation finish, then empty the memo (and the disk), and every run the
    experiments keep (:func:`esxlab.experiments.common.kept`; a warm-up host kept to fork from
    stays: it is no value's run)."""
    dash.idle()
    with dash._lock:
        dash._cache.clear()
    common._kept.clear()
    if disk:
        shutil.rmtree(cache_dir(), ignore_errors=True)


def bench_control(dash: views.Dashboard, control, repeat: int = 3) -> dict[str, float | None]:
    """Medians over ``repeat`` cold moves (to an uncomputed value), warm moves (back) and,
    for experiments, moves to a value kept on disk."""
    cold, warm, disk = [], [], []
    keeps = type(dash).stored is not views.Dashboard.stored
    for _ in range(repeat):
        here, there = control.value, other_value(control)
        forget(dash, disk=True)
        cold.append(timed_move(dash, control, there))
        warm.append(timed_move(dash, control, here))
        if keeps:
            forget(dash, disk=False)
            disk.append(timed_move(dash, control, there))
            timed_move(dash, control, here)
    med = [statistics.median(x) for x in zip(*cold)]
    return dict(ack=med[0], frame=med[1], full=med[2], warm_full=statistics.median(w[2] for w in warm),
                disk_full=statistics.median(d[2] for d in disk) if disk else None)


def bench_scrub(dash: views.Dashboard, repeat: int = 21) -> float:
    end, times = dash.minute.max, []
    for i in range(repeat):
        t0 = time.perf_counter()
        dash.minute.value = end * (0.25, 0.5, 0.75, 1.0)[i % 4]
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def main(prefixes: list[str]) -> None:
    paths = [p for p in sorted(NOTEBOOKS.glob("*.ipynb")) if not prefixes or p.name.startswith(tuple(prefixes))]
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="bench-views-")
    print(f"{'notebook':<26} {'dashboard.control':<30} {'ack':>6} {'frame':>7} {'full':>7} {'warm':>6} {'disk':>6} "
          f"{'scrub':>6}  (median ms)")
    for path in paths:
        for var, dash in dashboards(path).items():
            scrub = bench_scrub(dash)
            for name, control in dash.controls.items():
                r = bench_control(dash, control)
                disk = "—" if r["disk_full"] is None else f"{r['disk_full']:.1f}"
                print(f"{path.stem:<26} {var + '.' + name:<30} {r['ack']:>6.1f} {r['frame']:>7.0f} {r['full']:>7.0f} "
                      f"{r['warm_full']:>6.1f} {disk:>6} {scrub:>6.1f}", flush=True)
            if not dash.controls:
                print(f"{path.stem:<26} {var + ' (no control)':<30} {'':>6} {'':>7} {'':>7} {'':>6} {'':>6} {scrub:>6.1f}")
            dash.idle()


if __name__ == "__main__":
    main(sys.argv[1:])
