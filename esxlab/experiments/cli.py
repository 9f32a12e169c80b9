"""``python -m esxlab reproduce [--figure N|name] [--seed S] [--csv DIR]``.

Runs the experiments (all of them, or the ones named with ``--figure``, repeatable), prints a
progress line per experiment to stderr, then one table to stdout: experiment, quantity, the
paper's value, esxlab's, the tolerance and whether esxlab is within it. ``--csv DIR`` also
writes each experiment's table and traces as CSV files. Exit code 0 when it ran (rows
outside their tolerance are reported, not errors), 2 on bad arguments.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ..errors import ConfigError
from ..rng import check_seed
from . import EXPERIMENTS, get, lookup
from .result import Row, render_table, write_table_csv


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise ConfigError(f"reproduce: {message}.")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m esxlab reproduce", description="Reproduce the paper's experiments.")
    p.add_argument("--figure", "-f", action="append", metavar="N|NAME",
                   help=f"a figure number or experiment name (repeatable); all: {', '.join(EXPERIMENTS)}")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--csv", metavar="DIR", help="also write tables and traces as CSV files into DIR")
    return p


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


def main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
        names = list(dict.fromkeys(lookup(f) for f in args.figure)) if args.figure else list(EXPERIMENTS)
        check_seed(args.seed, "reproduce: --seed")
        if args.csv:
            _check_csv_dir(args.csv)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except SystemExit as e:            # --help
        return int(e.code or 0)
    rows: list[Row] = []
    start = time.perf_counter()
    for i, name in enumerate(names, 1):
        module = get(name)
        print(f"[{i}/{len(names)}] {name}: {module.TITLE} ...", end="", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        result = module.run(seed=args.seed)
        checked = [r for r in result.table if r.within is not None]
        ok = sum(bool(r.within) for r in checked)
        print(f" {time.perf_counter() - t0:.1f} s, {ok}/{len(checked)} within tolerance", file=sys.stderr)
        rows += result.table
        if args.csv:
            result.to_csv(args.csv)
    print(render_table(rows))
    checked = [r for r in rows if r.within is not None]
    print(f"\n{sum(bool(r.within) for r in checked)}/{len(checked)} checked quantities within tolerance "
          f"(seed {args.seed}, {time.perf_counter() - start:.1f} s)")
    if args.csv:
        write_table_csv(rows, f"{args.csv}/all_table.csv")
    return 0
