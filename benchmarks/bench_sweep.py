"""Parallel runs (issue 13): ``python benchmarks/bench_sweep.py [reproduce|fig7] [--jobs N]``.

1. ``reproduce``: every experiment on seed 0, ``--jobs 2`` (what ``python -m esxlab reproduce
   --jobs 2`` runs). Target ≤ 25 s wall.
2. ``fig7``: Figure 7 over τ after the change ∈ {0, 0.25, 0.5, 0.75, 0.95} × seeds 0–19, ``--jobs
   2`` (``python -m esxlab sweep fig7 --param tax_rate=0,0.25,0.5,0.75,0.95 --seeds 0-19
   --jobs 2``). Target ≤ 60 s wall.

With no name both run. Wall time includes the worker processes' start-up (joblib's loky pool).
To compare two versions on a machine whose speed drifts, time whole processes of the two in turn.
"""
from __future__ import annotations

import argparse
import time

from esxlab.experiments import EXPERIMENTS, runner, sweep

TAUS = (0, 0.25, 0.5, 0.75, 0.95)
TARGETS = {"reproduce": 25.0, "fig7": 60.0}


def reproduce(jobs: int) -> float:
    """Wall seconds of every experiment on seed 0, ``jobs`` at a time."""
    t0 = time.perf_counter()
    runner.run_many(EXPERIMENTS, [0], jobs=jobs)
    return time.perf_counter() - t0


def fig7(jobs: int, seeds: int = 20) -> float:
    """Wall seconds of Figure 7 at five τ after the change × ``seeds`` seeds, ``jobs`` at a time."""
    t0 = time.perf_counter()
    table = sweep("fig7", {"tax_rate": list(TAUS)}, seeds=range(seeds), jobs=jobs)
    assert len(table.tables) == len(TAUS) * seeds
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("which", nargs="?", choices=list(TARGETS), help="one benchmark (default: both)")
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args()
    for name in [args.which] if args.which else TARGETS:
        wall = {"reproduce": reproduce, "fig7": fig7}[name](args.jobs)
        print(f"{name} with --jobs {args.jobs}: {wall:.1f} s wall (target ≤ {TARGETS[name]:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
