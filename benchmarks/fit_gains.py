"""Fit the sampler's EWMA gains and Figure 6's sampling phase (issue 16): ``python benchmarks/fit_gains.py``.

The gains are not in the paper (§5.3: "gain values and time constants are not stated"), nor is
where the toucher's steps fall in a sampling period (``fig6.PARAMS["phase_s"]``); the paper's
digitized Figure 6 estimate (shipped as
``esxlab.experiments.fig6.PAPER_ESTIMATE``) is what they are fitted to. For every (slow gain,
fast gain, phase) on the grid this runs Figure 6 (and, with ``--also fig7,tax_sweep,fig8``,
the experiments whose allocations follow the same estimator) on the seeds through
:func:`esxlab.experiments.runner.execute`, and prints per point: the predictions within
tolerance on the seeds' mean, the sum of squared misses of the mean (MB²) over Figure 6's
estimate rows, and the rows that miss. ``--rows`` prints every row's mean.

    PYTHONPATH=$PWD python benchmarks/fit_gains.py --slow 0.15,0.2,0.25 --fast 0.5,0.7 --phase 0,15 --jobs 2

Measured (seeds 0–3, 2026-12-01): at phase 0 every gain pair of slow 0.12–0.25 × fast 0.4–0.8
misses 24 min (191–196 MB, paper 224 ± 25); at phase 15 s, slow 0.2/0.25/0.3 × fast 0.6/0.7
give 23/23 (SSE 3899/2764/3302 MB² at fast 0.7; fast 0.8 loses 22 min), and at slow 0.25 fast
0.5/0.6/0.7 leave Figure 7, the tax sweep and Figure 8 as they were (every row within but
Figure 7's sum after the change, 354 MB against 344 ± 8).
"""
from __future__ import annotations

import argparse
from unittest import mock

import numpy as np

from esxlab import vm
from esxlab.experiments import get, runner
from esxlab.experiments.result import Row, predictions, summarize
from esxlab.sampling import Sampler


def run_with_gains(name: str, seed: int, slow: float, fast: float, phase: int) -> list[Row]:
    """Experiment ``name`` on ``seed`` with every VM's sampler at gains (``slow``, ``fast``)
    (whatever ``HostConfig`` the experiment builds); Figure 6 at ``phase_s = phase``."""
    def sampler(pages, n, period_s, _slow, _fast, *args, **kwargs):
        return Sampler(pages, n, period_s, slow, fast, *args, **kwargs)

    with mock.patch.object(vm, "Sampler", sampler):
        return get(name).run(seed=seed, **({"phase_s": phase} if name == "fig6" else {})).table


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--slow", type=floats, default=[0.25], help="slow gains, comma-separated")
    p.add_argument("--fast", type=floats, default=[0.7], help="fast gains, comma-separated")
    p.add_argument("--phase", type=lambda t: [int(x) for x in t.split(",")], default=[15],
                   help="Figure 6's phase_s values (s), comma-separated")
    p.add_argument("--seeds", default="0-3")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--also", default="", help="other experiments that use the estimator, e.g. fig7,tax_sweep,fig8")
    p.add_argument("--rows", action="store_true", help="print every row's mean")
    a = p.parse_args()
    seeds = runner.parse_seeds(a.seeds)
    names = ["fig6"] + [n for n in a.also.split(",") if n]
    grid = [(s, f, ph) for s in a.slow for f in a.fast for ph in a.phase]
    tasks = [(n, seed, *point) for point in grid for n in names for seed in seeds]
    tables = runner.execute(run_with_gains, tasks, jobs=a.jobs, progress="fit")
    by = {task[:1] + task[2:]: [] for task in tasks}
    for task, table in zip(tasks, tables):
        by[task[:1] + task[2:]].append(table)
    for s, f, ph in grid:
        rows = [r for n in names for r in predictions(summarize(by[(n, s, f, ph)]))]
        est = [r for r in rows if r.experiment == "fig6" and r.quantity.startswith("estimate")]
        sse = float(np.sum([(r.esxlab - r.paper) ** 2 for r in est]))
        misses = [f"{r.experiment} {r.quantity}: {r.esxlab:.1f} vs {r.paper:g}" for r in rows if r.within is False]
        print(f"slow {s:.3f} fast {f:.3f} phase {ph:2d} s: within {sum(r.within is True for r in rows)}/{len(rows)}, "
              f"fig6 SSE {sse:.0f} MB²; misses: {'; '.join(misses) or 'none'}")
        if a.rows:
            for r in rows:
                print(f"    {r.experiment:9} {r.quantity:52} {r.paper!s:>6} {r.esxlab:8.1f} ± {r.sd:.1f}")


if __name__ == "__main__":
    main()
