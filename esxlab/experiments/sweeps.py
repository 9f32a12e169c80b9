"""Sweeps: one experiment over a grid of its ``PARAMS`` and seeds, as a tidy table.

    import esxlab as esx
    table = esx.experiments.sweep("fig7", params={"tax_after": [0, 0.5, 0.75]}, seeds=range(4), jobs=2)
    table.to_csv("fig7_sweep.csv")         # one row per run and quantity
    print(esx.experiments.render_table(table.summary()))      # mean ± sd per grid point

``python -m esxlab sweep fig7 --param tax_after=0,0.25,0.5,0.75,0.95 --seeds 0-19 --jobs 2``
does the same from a shell (see :mod:`.cli`). Runs go through :func:`.runner.execute`: joblib's
loky processes here, or a Dask cluster with ``scheduler="tcp://host:8786"``; the table is the
same, bit for bit, either way. Every value is checked against the experiment's ``PARAMS``
before anything runs (ConfigError with a sentence); rules between parameters (e.g. Figure 7's
``tax_change_min ≤ minutes − 4``) are the experiment's and raise when that run starts.
Source: invented (issue 13), in the tidy-data layout (one observation per row).
"""
from __future__ import annotations

import ast
import csv
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..config import Param
from ..errors import ConfigError, describe_range, shorten
from ..rng import check_seed
from . import get, lookup, runner
from .result import Row, summarize

#: the tidy table's columns after the experiment's swept parameters
COLUMNS = ("seed", "quantity", "value", "unit", "paper", "tolerance", "relation", "within", "kind")
MAX_RUNS = 100_000


@dataclass(frozen=True)
class SweepTable:
    """The tables of every run of a sweep: ``points`` are the grid's values of the swept
    ``params`` (in ``params`` order), and ``tables[i * len(seeds) + j]`` is the run's list of
    :class:`~.result.Row` at ``points[i]`` on ``seeds[j]``.

    ``columns``/``rows`` (or :meth:`records`, which ``pandas.DataFrame`` takes as is) are the
    tidy view: one row per run and quantity."""

    experiment: str
    params: tuple[str, ...]
    seeds: tuple[int, ...]
    points: tuple[tuple, ...]
    tables: tuple[tuple[Row, ...], ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return ("experiment", *self.params, *COLUMNS)

    def runs(self) -> Iterator[tuple[tuple, int, tuple[Row, ...]]]:
        """(values, seed, table) of every run, in grid then seed order."""
        runs = itertools.product(self.points, self.seeds)
        return ((values, seed, table) for (values, seed), table in zip(runs, self.tables))

    @property
    def rows(self) -> Iterator[tuple]:
        for values, seed, table in self.runs():
            for r in table:
                yield (self.experiment, *values, seed, r.quantity, r.esxlab, r.unit, r.paper, r.tolerance,
                       r.relation, r.within, r.kind)

    def __len__(self) -> int:
        return sum(len(t) for t in self.tables)

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts keyed by :attr:`columns`."""
        return [dict(zip(self.columns, row)) for row in self.rows]

    def to_csv(self, path: str | Path) -> Path:
        """Write the tidy table (header = :attr:`columns`; None as an empty cell); returns the path."""
        path = Path(path)
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(self.columns)
            w.writerows([("" if x is None else x) for x in row] for row in self.rows)
        return path

    def summary(self) -> list[Row]:
        """One :class:`~.result.Row` per grid point and quantity: mean ± sd over the seeds, its
        ``experiment`` naming the grid point (e.g. "fig7 tax_after=0.5")."""
        out: list[Row] = []
        n = len(self.seeds)
        for i, values in enumerate(self.points):
            name = " ".join([self.experiment, *(f"{p}={v!r}" for p, v in zip(self.params, values))])
            out += [replace(r, experiment=name) for r in summarize([list(t) for t in self.tables[i * n:(i + 1) * n]])]
        return out


def parse_param(text: str) -> tuple[str, list[Any]]:
    """``"name=v1,v2,…"`` → (name, [v1, v2, …]); values are Python literals (0.5, 40, (128, 160))
    or else bare words ("esx"). ConfigError without "=" or values."""
    name, eq, values = str(text).partition("=")
    if not eq or not name.strip() or not values.strip():
        raise ConfigError(f"sweep: --param = {shorten(text)} is not allowed; give name=value[,value…], "
                          "e.g. tax_after=0,0.5,0.75.")
    try:
        parsed = ast.literal_eval(f"[{values}]")
    except (ValueError, SyntaxError):
        parsed = [_literal(v.strip()) for v in values.split(",")]
    return name.strip(), parsed


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def check_grid(name: str, params: Mapping[str, Iterable[Any]] | None) -> dict[str, list[Any]]:
    """``params`` as {name: [values]}, every name one of experiment ``name``'s ``PARAMS`` and
    every value within its range (ConfigError naming the parameter, value and what is allowed)."""
    specs = get(name).PARAMS
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"sweep: params = {shorten(params)} is not allowed; give a dict of parameter name → "
                          "list of values, e.g. {'tax_after': [0, 0.5]}.")
    grid: dict[str, list[Any]] = {}
    for key, values in params.items():
        if key not in specs:
            raise ConfigError(f"sweep: {name} has no parameter {key!r}; its parameters are: {', '.join(specs)}.")
        values = [values] if isinstance(values, (str, bytes)) or not isinstance(values, Iterable) else list(values)
        if not values:
            raise ConfigError(f"sweep: {name}.{key} has no values; give at least one.")
        for v in values:
            specs[key].validate(name, key, v)
        if len({repr(v) for v in values}) != len(values):
            raise ConfigError(f"sweep: {name}.{key} = {shorten(values)} names a value twice; each must appear once.")
        grid[key] = values
    return grid


def _allowed(name: str, spec: Param) -> str:
    """What ``spec`` allows, as :meth:`~esxlab.config.Param.validate`'s sentences say it."""
    if spec.check is not None:
        text = "a value shaped like the default"
    elif spec.choices is not None:
        text = "one of " + ", ".join(repr(c) for c in spec.choices)
    else:
        text = ("whole numbers, " if spec.integer else "") + describe_range(name, spec.lo, spec.hi, spec.lo_open,
                                                                           spec.hi_open)
    return text + (", or None" if spec.optional else "")


def describe_params(experiment: str | int) -> str:
    """A text table of ``experiment``'s ``PARAMS``: each name, its default (the paper's set-up,
    where the experiment has one), what a sweep may give it, its unit and meaning."""
    name = lookup(experiment)
    module = get(name)
    head = ("parameter", "default", "allowed", "unit", "meaning")
    rows = [(key, shorten(spec.default, 40), _allowed(key, spec), spec.unit, spec.label)
            for key, spec in module.PARAMS.items()]
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(x.ljust(w) for x, w in zip(cells, widths)).rstrip()
    return "\n".join([f"{name}: {module.TITLE}", "", line(head), line(["-" * w for w in widths]),
                      *map(line, rows)])


def check_seeds(seeds: int | str | Iterable[int]) -> list[int]:
    """``seeds`` (one seed, "0-19"/"0,2,5", or an iterable of seeds) as a list; ConfigError if
    empty, repeated or not seeds."""
    if isinstance(seeds, str):
        return runner.parse_seeds(seeds, "sweep: seeds")
    out = [seeds] if not isinstance(seeds, Iterable) else list(seeds)
    if not out:
        raise ConfigError("sweep: seeds is empty; give at least one seed, e.g. range(4).")
    out = [check_seed(s, "sweep: seeds") for s in out]
    if len(set(out)) != len(out):
        raise ConfigError(f"sweep: seeds = {shorten(out)} names a seed twice; each seed must appear once.")
    return out


def _tables(name: str, seed: int, points: list[dict[str, Any]]) -> list[tuple[Row, ...]]:
    """The tables of runs on one seed (what a worker sends back: rows, not traces). Runs of one seed
    that differ only after a parameter change fork from the host at the change (e.g. Figure 7's
    ``tax_after``: :func:`.common.fork`), so a task holds several of them."""
    return [tuple(get(name).run(seed=seed, **values).table) for values in points]


def _groups(n_points: int, n_seeds: int, jobs: int, scheduler: str | None) -> int:
    """Into how many tasks each seed's grid points go: one (they share prefixes to fork), unless
    there are fewer seeds than workers (a cluster's are unknown: one run per task there)."""
    if scheduler is not None:
        return n_points
    return max(1, min(n_points, -(-jobs // n_seeds)))


def sweep(experiment: str | int, params: Mapping[str, Iterable[Any]] | None = None,
          seeds: int | str | Iterable[int] = 0, *, jobs: int = 1, scheduler: str | None = None,
          progress: bool = False) -> SweepTable:
    """Run ``experiment`` (a name or figure number) at every point of the grid ``params``
    (name → values; the other parameters at their defaults) on every seed.

    Runs ``jobs`` at a time (at most this computer's cores) with joblib (loky processes), or on
    the Dask cluster at ``scheduler`` (needs the "cluster" extra); ``progress`` shows a bar on
    stderr. The result does not depend on ``jobs`` or the runner. ConfigError for an unknown experiment or
    parameter, a value outside its ``PARAMS`` range, bad seeds or jobs, an unreachable scheduler."""
    name = lookup(experiment)
    grid = check_grid(name, params)
    seed_list = check_seeds(seeds)
    points = list(itertools.product(*grid.values()))
    if len(points) * len(seed_list) > MAX_RUNS:
        raise ConfigError(f"sweep: {len(points)} grid points × {len(seed_list)} seeds = "
                          f"{len(points) * len(seed_list)} runs; allowed: at most {MAX_RUNS}.")
    groups = _groups(len(points), len(seed_list), runner.check_jobs(jobs, "sweep: jobs"), scheduler)
    index = [[i for i in range(len(points)) if i % groups == g] for g in range(groups)]
    tasks = [(name, seed, [dict(zip(grid, points[i])) for i in idx]) for seed in seed_list for idx in index]
    done = runner.execute(_tables, tasks, jobs=jobs, scheduler=scheduler,
                          progress=f"sweep {name}" if progress else None, label="sweep")
    tables: dict[tuple[int, int], tuple[Row, ...]] = {}
    for (_, seed, _), idx, got in zip(tasks, index * len(seed_list), done):
        tables.update({(i, seed): t for i, t in zip(idx, got)})
    return SweepTable(name, tuple(grid), tuple(seed_list), tuple(points),
                      tuple(tables[i, seed] for i in range(len(points)) for seed in seed_list))
