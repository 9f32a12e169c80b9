"""``python -m esxlab reproduce [--figure N|name] [--seed S | --seeds 0-3] [--jobs N | --scheduler ADDRESS]
[--csv DIR] [--readme README.md] [--plots DIR]``.

Runs the experiments (all of them, or the ones named with ``--figure``, repeatable) on one
seed or several (``--seeds``: a range "0-3" or a list "0,2,5"), ``--jobs`` runs at a time
(joblib; the results do not depend on it), prints a progress line per run to stderr, then the
table to stdout: experiment, quantity, the paper's value, esxlab's (over several seeds: mean ±
standard deviation), the tolerance and whether esxlab (the mean) is within it; set-up checks
are listed apart from predictions. ``--csv DIR`` also writes the tables (one column per seed)
and traces as CSV files; ``--readme FILE`` rewrites the generated table in FILE (all
experiments only); ``--plots DIR`` writes one PNG and one SVG per digitized figure, paper vs
esxlab (needs matplotlib: the "plots" extra). Exit code 0 when it ran (rows outside their
tolerance are reported, not errors), 2 on bad arguments.

``python -m esxlab sweep EXPERIMENT --param NAME=V1,V2,… [--param …] [--seeds 0-19] [--jobs N]
[--csv FILE] [--scheduler ADDRESS]`` runs one experiment over the grid of the given parameter
values (the others at their defaults) and seeds (:func:`.sweeps.sweep`), prints mean ± sd per
grid point and quantity, and with ``--csv`` writes the tidy table (one row per run and
quantity). ``--scheduler`` sends the runs to a Dask cluster (the "cluster" extra) instead of
``--jobs`` local processes; the numbers are the same either way.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ..errors import ConfigError, Error
from ..rng import check_seed
from . import EXPERIMENTS, lookup, runner
from .result import render_table, write_table_csv


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise ConfigError(f"{self.prog.split()[-1]}: {message}.")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m esxlab reproduce", description="Reproduce the paper's experiments.")
    p.add_argument("--figure", "-f", action="append", metavar="N|NAME",
                   help=f"a figure number or experiment name (repeatable); all: {', '.join(EXPERIMENTS)}")
    seeds = p.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    seeds.add_argument("--seeds", metavar="0-3", help="several seeds: a range (0-3) or a list (0,2,5); "
                                                      "the table shows mean ± sd")
    _add_runner_options(p)
    p.add_argument("--csv", metavar="DIR", help="also write tables and traces as CSV files into DIR")
    p.add_argument("--readme", metavar="FILE", help="rewrite the generated table in FILE (e.g. README.md)")
    p.add_argument("--plots", metavar="DIR", help="write paper-vs-esxlab figures (PNG and SVG) into DIR")
    return p


def _add_runner_options(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--jobs", "-j", type=int, default=1, help="runs at a time (default 1; same results for any N)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="run on the Dask cluster at ADDRESS (e.g. "
                                                              "tcp://10.0.0.5:8786; the 'cluster' extra) instead")


def _sweep_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m esxlab sweep", description="Run one experiment over a grid of its parameters "
                                                            "and seeds.")
    p.add_argument("experiment", metavar="EXPERIMENT", help=f"a figure number or name: {', '.join(EXPERIMENTS)}")
    p.add_argument("--param", "-p", action="append", default=[], metavar="NAME=V1,V2",
                   help="values of one parameter (repeatable; the grid is every combination)")
    p.add_argument("--seeds", default="0", metavar="0-19", help="a range (0-19) or a list (0,2,5); default 0")
    _add_runner_options(p)
    p.add_argument("--csv", metavar="FILE", help="write the tidy table (one row per run and quantity) to FILE")
    return p


def sweep_main(argv: list[str]) -> int:
    """``python -m esxlab sweep …``: exit code 0 when it ran, 2 on bad arguments."""
    from .sweeps import parse_param, sweep
    try:
        args = _sweep_parser().parse_args(argv)
        grid = dict(parse_param(text) for text in args.param)
        if len(grid) != len(args.param):
            raise ConfigError(f"sweep: a parameter is given twice in --param {' --param '.join(args.param)}; "
                              "give each once with all its values.")
        runner.check_jobs(args.jobs, "sweep: --jobs")
        if args.csv:
            _check_writable_file(args.csv)
        start = time.perf_counter()
        table = sweep(args.experiment, grid, args.seeds, jobs=args.jobs, scheduler=args.scheduler, progress=True)
    except Error as e:                 # a bad argument, or a setting the experiment cannot run
        print(f"error: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:            # --help
        return int(e.code or 0)
    print(render_table(table.summary()))
    print(f"\n{len(table.tables)} runs of {table.experiment} ({len(table.points)} grid points × {len(table.seeds)} "
          f"seeds), {time.perf_counter() - start:.1f} s, "
          + (f"Dask cluster {args.scheduler}" if args.scheduler else f"{args.jobs} job(s)"))
    if args.csv:
        print(f"wrote {table.to_csv(args.csv)}", file=sys.stderr)
    return 0


def _check_writable_file(name: str) -> None:
    """Refuse ``--csv FILE`` before running unless FILE can be written (its directory exists)."""
    path = Path(name)
    if path.is_dir() or not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        raise ConfigError(f"sweep: --csv {name} cannot be written; allowed: a file name in an existing, "
                          "writable directory.")


def _check_csv_dir(directory: str) -> None:
    """Refuse ``--csv DIR`` before running anything unless DIR is (or can be made) a writable directory."""
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"reproduce: --csv {directory} is an existing file, not a directory; "
                          "allowed: a directory (it is created if missing).")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"reproduce: --csv {directory} cannot be created ({e.strerror or e}); "
                          "allowed: a directory you can write to.") from None
    if not os.access(path, os.W_OK):
        raise ConfigError(f"reproduce: --csv {directory} is not writable; allowed: a directory you can write to.")


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before running, the outputs that could not be written."""
    if args.csv:
        _check_csv_dir(args.csv)
    if args.readme:
        if args.figure:
            raise ConfigError("reproduce: --readme needs every experiment; drop --figure.")
        path = Path(args.readme)
        if not path.is_file() or runner.BEGIN not in path.read_text():
            raise ConfigError(f"reproduce: --readme = {args.readme!r} must be an existing file holding the "
                              f"generated-table markers ({runner.BEGIN!r} … {runner.END!r}).")
    if args.plots:
        from .plots import require_matplotlib
        require_matplotlib()


def main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
        names = list(dict.fromkeys(lookup(f) for f in args.figure)) if args.figure else list(EXPERIMENTS)
        check_seed(args.seed, "reproduce: --seed")
        seeds = runner.parse_seeds(args.seeds) if args.seeds else [args.seed]
        for seed in seeds:
            check_seed(seed, "reproduce: --seeds")
        runner.check_jobs(args.jobs)
        _check_outputs(args)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:            # --help
        return int(e.code or 0)
    start = time.perf_counter()
    try:
        results = runner.run_many(names, seeds, jobs=args.jobs, progress=True, scheduler=args.scheduler)
    except ConfigError as e:           # e.g. an unreachable --scheduler
        print(f"error: {e}", file=sys.stderr)
        return 2
    rows = runner.summary(results) if len(seeds) > 1 else [r for res in results.values() for r in res.table]
    print(render_table(rows))
    where = f"Dask cluster {args.scheduler}" if args.scheduler else f"{args.jobs} job(s)"
    print(f"\n{runner.count_line(rows, seeds)} ({time.perf_counter() - start:.1f} s, {where})")
    if args.csv:
        for (name, seed), res in results.items():
            res.to_csv(Path(args.csv) / f"seed_{seed}" if len(seeds) > 1 else args.csv)
        write_table_csv(rows, Path(args.csv) / "all_table.csv", seeds if len(seeds) > 1 else None)
    if args.readme:
        runner.write_readme(args.readme, runner.summary(results), seeds)
    if args.plots:
        from .plots import write_plots
        for path in write_plots(results, args.plots):
            print(f"wrote {path}", file=sys.stderr)
    return 0
