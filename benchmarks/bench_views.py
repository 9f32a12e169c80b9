"""Dashboard responsiveness (issue 5): control change → marks updated, median ms, per notebook.

Each notebook's own set-up cells are run up to the cell that builds its first dashboard (so
the benchmark measures exactly what students get, at the notebook's default size). Two
kinds of update are timed:

* **scrub** — the minute slider (or VM picker) indexes into the stored run: target ≤ 100 ms;
* **rerun** — a parameter control reruns the simulation with the same seed; these controls
  update on release (``continuous_update=False``) because a rerun costs more than 100 ms.

Run: ``python benchmarks/bench_views.py [name-prefix ...]``; prints a table for the README.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import nbformat

from esxlab import views

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def first_dashboard(path: Path) -> views.Dashboard:
    """Run ``path``'s code cells until one leaves a Dashboard in the namespace; return it."""
    ns: dict = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        exec(compile(cell.source, str(path), "exec"), ns)
        found = [v for v in ns.values() if isinstance(v, views.Dashboard)]
        if found:
            return found[0]
    raise SystemExit(f"{path.name} builds no dashboard")


def median_ms(action, values, repeat: int) -> float:
    times = []
    for i in range(repeat):
        t0 = time.perf_counter()
        action(values[i % len(values)])
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def other_value(control):
    """A second valid value for ``control`` (the next option, or one step away)."""
    if hasattr(control, "options"):
        opts = list(control.options)
        return opts[(opts.index(control.value) + 1) % len(opts)]
    step = control.step
    return control.value - step if control.value - step >= control.min else control.value + step


def bench(path: Path, scrub_repeat: int = 21, rerun_repeat: int = 3) -> tuple[float, float | None]:
    dash = first_dashboard(path)
    end = dash.minute.max
    scrub = median_ms(lambda v: setattr(dash.minute, "value", v), [end * f for f in (0.25, 0.5, 0.75, 1.0)],
                      scrub_repeat)
    rerun = None
    if dash.controls:
        name, control = next(iter(dash.controls.items()))
        values = [other_value(control), control.value]
        rerun = median_ms(lambda v: setattr(control, "value", v), values, rerun_repeat)
    return scrub, rerun


def main(prefixes: list[str]) -> None:
    paths = [p for p in sorted(NOTEBOOKS.glob("*.ipynb")) if not prefixes or p.name.startswith(tuple(prefixes))]
    print(f"{'notebook':<32} {'scrub median ms':>16} {'rerun median ms':>16}")
    for path in paths:
        scrub, rerun = bench(path)
        flag = "" if scrub <= 100 else "  (scrub over the 100 ms target)"
        rerun_s = "—" if rerun is None else f"{rerun:.0f}"
        print(f"{path.stem:<32} {scrub:>16.1f} {rerun_s:>16}{flag}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
