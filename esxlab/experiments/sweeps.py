"""Sweeps: one experiment over a grid of its ``PARAMS`` and seeds, as a tidy table.

    import esxlab as esx
    table = esx.experiments.sweep("fig7", params={"tax_rate": [0, 0.5, 0.75]}, seeds=range(4), jobs=2)
    table.to_csv("fig7_sweep.csv")         # one row per run and quantity
    print(esx.experiments.render_table(table.summary()))      # mean ± sd per grid point

``python -m esxlab sweep fig7 --param tax_rate=0,0.25,0.5,0.75,0.95 --seeds 0-19 --jobs 2``
does the same from a shell (see :mod:`.cli`). Runs go through :func:`.runner.execute`: joblib's
loky processes here, or a Dask cluster with ``scheduler="tcp://host:8786"``; the table is the
same, bit for bit, either way. Every value is checked against the experiment's ``PARAMS``, and
every grid point against its ``RULES`` (rules between parameters, e.g. Figure 7's
``tax_change_min ≤ minutes − 4``: :class:`.params.Rule`), before anything runs (ConfigError with
the experiment's sentence); a rule only a run can tell (e.g. admission control taking the VMs)
raises when that run starts. :func:`describe_params` prints both, and how to write values;
:func:`describe_quantities` the names of its quantities, from one run at its defaults.

An experiment module of your own sweeps the same way, given as the module or by its import name
(``sweep(myexp, …)``, ``sweep("mypkg.myexp", …)``, ``python -m esxlab sweep mypkg.myexp``; the
contract: :func:`esxlab.experiments.check_module`). Workers import it by that name
(:class:`.runner.Own`), so it must be a file Python imports from ``sys.path``; one it cannot (defined
in ``__main__`` or a notebook) runs only with ``jobs=1``, in this process. A sweep imports your module
again (:func:`importlib.reload`) unless this process imported its file as it is now, so that every run,
here or in a worker, runs the file on disk (a change made to the module in this process is dropped).
Source: invented (issue 13), in the tidy-data layout (one observation per row).
"""
from __future__ import annotations

import ast
import functools
import inspect
import itertools
import math
import re
import shlex
import textwrap
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np

from ..config import Param
from ..errors import ConfigError, Error, check_choice, check_known, did_you_mean, shorten, user_stacklevel
from ..host import PROGRESS_AFTER_S, ticks_stepped
from ..rng import check_seed
from . import EXPERIMENTS, cluster, common, get, lookup, runner
from .params import plain, refusal, resolve
from .result import Result, Row, summarize, write_csv

#: the tidy table's columns after the experiment's swept parameters (see :class:`SweepTable`)
COLUMNS = ("seed", "quantity", "label", "value", "unit", "paper", "tolerance", "relation", "within", "kind", "fitted",
           "note")
MAX_RUNS = 100_000
Experiment = str | float | ModuleType     # a package experiment's name or figure number, or a module (:func:`sweep`)
Task = str | runner.Own | ModuleType      # how a task names the experiment (:func:`.runner.load`)


@dataclass(frozen=True)
class SweepTable:
    """The tables of every run of a sweep: ``points`` are the grid's values of the swept
    ``params`` (in ``params`` order), and ``tables[i * len(seeds) + j]`` is the run's list of
    :class:`~.result.Row` at ``points[i]`` on ``seeds[j]``.

    ``columns``/``rows`` (or :meth:`records`, which ``pandas.DataFrame`` takes as is) are the
    tidy view: one row per run and quantity, with the columns

    * ``experiment``, then one column per swept parameter (its value in this run), ``seed``;
    * ``quantity``: the row's stable name (the same at every grid point);
    * ``label``: how the printed table names the row in this run (it may name the values, e.g. "idle VM alloc,
      τ = 0.75");
    * ``value``: esxlab's number in this run (the column ``reproduce --csv`` calls ``esxlab``), in ``unit``;
    * ``paper``: the paper's value, blank (None) when the paper gives no number or this run left the
      paper's setting (``note`` then names the controls that moved); ``tolerance``: how far from it
      ``value`` may be, blank when not compared;
    * ``relation``: how ``within`` compares (``≈``: |value − paper| ≤ tolerance; ``≥``/``≤``: at
      least/at most paper, give or take the tolerance), blank when not compared;
    * ``within``: True/False, blank when not compared;
    * ``kind``: ``prediction``, or ``set-up`` for a set-up check (follows from the set-up): the part of
      the printed table the row is in, compared or not;
    * ``fitted``: True for a prediction an invented value was fitted or sized to (the experiment's ``FITTED``;
      it checks the fit more than the model), else False; blank when not compared;
    * ``note``: the row's footnote: why it is not compared, or the model's known cause of a miss.

    ``kept`` counts the runs that simulated nothing, their results found kept from an earlier run with the same seed
    and parameters by the process that ran them (this one with ``jobs=1``, or a worker process, which joblib keeps
    for the next sweep: :func:`.common.kept`), so that a sweep run again returns at once, with the same numbers.
    :meth:`size` says so.
    """

    experiment: str
    params: tuple[str, ...]
    seeds: tuple[int, ...]
    points: tuple[tuple, ...]
    tables: tuple[tuple[Row, ...], ...]
    kept: int = field(default=0, compare=False)     # how it ran, not what it found: == compares the rows

    @property
    def columns(self) -> tuple[str, ...]:
        """The CSV's header: "experiment", the swept parameters, then the row's fields (README, Sweeps)."""
        return ("experiment", *self.params, *COLUMNS)

    def runs(self) -> Iterator[tuple[tuple, int, tuple[Row, ...]]]:
        """(values, seed, table) of every run, in grid then seed order."""
        runs = itertools.product(self.points, self.seeds)
        return ((values, seed, table) for (values, seed), table in zip(runs, self.tables))

    @property
    def rows(self) -> Iterator[tuple]:
        """One tuple per run and quantity, in :attr:`columns`' order (the tidy table)."""
        for values, seed, table in self.runs():
            for r in table:
                yield (self.experiment, *values, seed, r.quantity, r.title, r.esxlab, r.unit, r.paper, r.tolerance,
                       r.compared_as, r.within, r.kind, r.compared_fitted, r.note)

    def __len__(self) -> int:
        return sum(len(t) for t in self.tables)

    def __repr__(self) -> str:
        """One line (what a notebook shows for ``table`` alone), not its rows: ``records()`` and ``summary()``
        give them."""
        return f"<SweepTable: {self.size()}, {_count(len(self), 'row')}; records(), summary(), to_csv(path)>"

    def size(self, more: str = "") -> str:
        """``"4 runs of fig7 (2 grid points × 2 seeds)"``, with ``more`` inside the parentheses, after the runs
        :attr:`kept` if any (``"; 4 kept from an earlier run, not simulated again"``)."""
        kept = f"; {self.kept} kept from an earlier run, not simulated again" if self.kept else ""
        return (f"{_count(len(self.tables), 'run')} of {self.experiment} ({_count(len(self.points), 'grid point')} "
                f"× {_count(len(self.seeds), 'seed')}{kept}{more})")

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts keyed by :attr:`columns`."""
        return [dict(zip(self.columns, row)) for row in self.rows]

    def to_csv(self, path: str | Path) -> Path:
        """Write the tidy table (header = :attr:`columns`; None as an empty cell); returns the path.
        ConfigError if ``path`` is not a file's name (a str or pathlib.Path) or cannot be written (a directory, or in
        a missing or read-only one)."""
        return write_csv(path, self.columns, self.rows, "SweepTable.to_csv: path =")

    def summary(self) -> list[Row]:
        """One :class:`~.result.Row` per grid point and quantity: mean ± sd (ddof = 1) over the seeds, its
        ``experiment`` naming the grid point (e.g. "fig7 tax_rate=0.5"). ConfigError, naming the grid point,
        the seed and a quantity, if the seeds' tables at a grid point list different quantities."""
        out: list[Row] = []
        n = len(self.seeds)
        if not n:                              # an interrupted sweep whose first seed had not finished
            return out
        for i, values in enumerate(self.points):
            name = " ".join([self.experiment, *(f"{p}={v!r}" for p, v in zip(self.params, values))])
            out += [replace(r, experiment=name) for r in summarize([list(t) for t in self.tables[i * n:(i + 1) * n]],
                                                                   [f"{name}, seed {s}" for s in self.seeds])]
        return out


def _count(n: int, noun: str) -> str:
    """``3 seeds``, ``1 seed``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def parse_param(text: str, specs: Mapping[str, Param] | None = None) -> tuple[str, list[Any]]:
    """``"name=v1,v2,…"`` → (name, [v1, v2, …]); the values are split at the commas outside parentheses, each
    a Python literal (0.5, 40, (128, 160)), nan and inf as the floats they name (the parameter's check then says
    why they are refused), or else a bare word ("esx"). ConfigError without "=" or values, for an empty value
    (tax_rate=0.5, or tax_rate=0,,0.5), for parentheses that do not pair up, for a value in parentheses that is not
    a literal (naming the part that is not), for a number too large for a float (1e400, which Python would read
    as inf), for values in braces (minutes={1,2}) and for a range (minutes=1-3, tax_rate=0..0.75 or 0:0.75), which
    --param does not take: the sentence writes a range's values out unless the parameter (in the experiment's
    ``specs``, if given) counts in fractions (:func:`_in_fractions`), where it gives its ends."""
    name, eq, values = str(text).partition("=")
    spec = (specs or {}).get(name.strip())
    _no_braces(text, name, values, spec)
    items = _items(text, values)
    kept = [item for item in items if item]
    if not eq or not name.strip() or not kept:
        raise ConfigError(f"sweep: --param {shorten(text)} is not allowed; give name=value[,value…], "
                          "e.g. tax_rate=0,0.5,0.75.")
    if len(kept) < len(items):
        k = items.index("")
        where = "after its last comma" if k == len(items) - 1 else "before its first comma" if k == 0 else \
            "between two commas"
        fixed = _shell(f"{name.strip()}={','.join(kept)}")
        raise ConfigError(f"sweep: --param {shorten(text)} has an empty value {where}; allowed: a value between each "
                          f"two commas, e.g. --param {fixed}.")
    _no_ellipsis(text, kept, spec)
    _no_ranges(text, kept, spec)
    try:
        parsed = [_value(text, item) for item in kept]
    except OverflowError as e:
        raise ConfigError(f"sweep: --param {shorten(text)}: {e} is too large for a number (Python would read it as "
                          "inf); allowed: finite numbers within the parameter's range (sweep EXPERIMENT --list "
                          "shows it).") from None
    return name.strip(), parsed


#: each opening parenthesis (or bracket) of a --param value and the one that closes it
_PAIRS = {"(": ")", "[": "]"}


def _items(text: str, values: str) -> list[str]:
    """``values``, the part of ``--param`` ``text`` after "=", split at the commas outside parentheses (a tuple's
    commas stay in it), each item stripped; ConfigError naming the parenthesis that pairs with none."""
    items, opened, start = [], [], 0
    for i, c in enumerate(values):
        if c in _PAIRS:
            opened.append(i)
        elif c in _PAIRS.values() and (not opened or _PAIRS[values[opened[-1]]] != c):
            raise _unreadable(text, f"the {c} that ends {values[:i + 1].strip()} closes no "
                                    f"{next(o for o, e in _PAIRS.items() if e == c)}")
        elif c in _PAIRS.values():
            opened.pop()
        elif c == "," and not opened:
            items.append(values[start:i].strip())
            start = i + 1
    if opened:
        raise _unreadable(text, f"the {values[opened[0]]} that opens {values[opened[0]:].strip()} is never closed")
    return [*items, values[start:].strip()]


#: a --param value that is one group in a shell's braces ({1,2}, {30..32}) or, as Python writes a list, in brackets
#: ([0,0.5]): no quotes, colons, parentheses or other braces or brackets inside
_BRACES, _BRACKETS = re.compile(r"\{[^{}'\"():\[\]]*\}"), re.compile(r"\[[^{}'\"():\[\]]*\]")


def _no_braces(text: str, name: str, values: str, spec: Param | None) -> None:
    """ConfigError for --param ``text`` whose ``values`` are in braces (minutes={1,2}, a shell's brace expansion
    quoted: its commas would split them into '{1' and '2}', each refused as not a number) or, for a parameter ``spec``
    whose values are not tuples, in brackets (tax_rate=[0,0.5], one list, was refused as "must be a number, got
    [0, 0.5] (list)"; Figure 2's sizes=[128,160] is one value, a tuple)."""
    if _BRACES.fullmatch(values.strip()):         # (a literal may hold braces: "{b}", {'a': 1}, (1, {2}))
        what = "braces"
    elif spec is not None and not _is_tuple(spec) and _BRACKETS.fullmatch(values.strip()):
        what = "brackets"
    else:
        return
    items = [item for item in _items(text, values.strip()[1:-1]) if item]
    if items:                                    # (minutes={ alone: refused as not a number)
        raise ConfigError(f"sweep: --param {shorten(text)} writes its values in {what}, which --param does not take; "
                          f"allowed: several values separated by commas, without {what}, e.g. "
                          f"{_written_out(name, items, spec)}.")


def _no_ellipsis(text: str, items: list[str], spec: Param | None) -> None:
    """ConfigError for --param ``text`` whose ``items`` leave the values between two numbers to an ellipsis
    (tax_rate=0,0.25,...,0.75, as a textbook writes a sequence; once refused as "must be a number, got Ellipsis"):
    every value written out, by the step of the two numbers before it, or as a range between its neighbours
    (:func:`_listed`) if only one number comes before it."""
    dots = [i for i, item in enumerate(items) if item in ("...", "…")]
    numbers = [i for i, item in enumerate(items) if _END.fullmatch(item)]
    if len(dots) != 1 or not 0 < dots[0] < len(items) - 1 or len(numbers) != len(items) - 1:
        return
    before, after = items[:dots[0]], items[dots[0] + 1:]
    steps = _steps(float(before[-1]), float(before[-1]) - float(before[-2]), float(after[0])) if len(before) > 1 \
        else None
    written = [*before[:-1], *(steps or [f"{before[-1]}-{after[0]}"]), *after[1:]]
    raise ConfigError(f"sweep: --param {shorten(text)} leaves the values between {before[-1]} and {after[0]} to "
                      f"'{items[dots[0]]}', which --param does not take; allowed: every value written out, separated "
                      f"by commas, e.g. {_written_out(str(text).partition('=')[0], written, spec)}.")


#: a number in a --param value written as a range (:func:`_range_values`)
_END = re.compile(r"-?\d+(?:\.\d*)?")


def _range_values(item: str) -> list[str] | None:
    """The numbers of a --param value ``item`` written as a range: its two ends (``0-0.5``), or each number of a chain
    of them (``0 - 0.5 - 1``); None if ``item`` is not one."""
    values = runner.RANGE_JOINT.split(item.strip())
    return values if len(values) > 1 and all(_END.fullmatch(v) for v in values) else None


def _no_ranges(text: str, items: list[str], spec: Param | None) -> None:
    """ConfigError for --param ``text`` whose ``items`` write ranges (minutes=1-3, tax_rate=0..0.75): each would reach
    the parameter as a word and be refused as not a number, with no word of ranges."""
    ranges = [item for item in items if _range_values(item)]
    if ranges:
        raise ConfigError(f"sweep: --param {shorten(text)} writes {' and '.join(map(repr, ranges))}, "
                          f"{'a range' if len(ranges) == 1 else 'ranges'}, which --param does not take "
                          f"(--seeds takes one, written 0-3); "
                          f"allowed: every value written out, separated by commas, e.g. "
                          f"{_written_out(str(text).partition('=')[0], items, spec)}.")


def _written_out(name: str, items: list[str], spec: Param | None) -> str:
    """``--param NAME=V1,V2,…`` for the values ``items`` (quoted for the shell), each range among them written out
    (:func:`_listed`), followed by what :func:`_told` says of them."""
    listing = _listed(items, spec)
    told = _told(name.strip(), listing, spec)
    return f"--param {_shell(name.strip() + '=' + ','.join(listing.values))}{f' ({told})' if told else ''}"


class _Listing(NamedTuple):
    """A --param value's items written out (:func:`_listed`): the ``values``; the ``ends`` of each range given by its
    ends only (a parameter in fractions: 0-0.5 may mean any values between); each end brought within the parameter's
    range, ``clipped`` (the bound written, the end given, whether it is the most or the least allowed: τ's 0-1 is
    written 0,0.99); each end the parameter refuses that no bound of its replaces (kept, ``refused``: it says where
    the values lie); and the other values it refuses, left ``out``."""

    values: list[str]
    ends: list[tuple[str, str]]
    clipped: list[tuple[str, str, str]]
    refused: list[str]
    out: list[str]


def _told(name: str, listing: _Listing, spec: Param | None) -> str:
    """What a written-out ``listing`` says beside it, of parameter ``name`` (``spec``): the ends of each range given by
    its ends only, named ("0 and 0.5 are the range's ends: add the values you want between them"; a review found
    "those are the range's ends" read as all the values listed, and as the end left out), each end brought within the
    parameter's range and each it refuses, and the values left out; where ``spec`` refuses every value listed, only
    what it allows (a review: ``tax_rate=1-2`` was told to add values between its ends, and ``2-4-6`` nothing); "" if
    none of these."""
    if spec is not None and listing.values and all(_refused(v, spec) for v in listing.values):
        return f"{name} allows none of these: {spec.allowed(name)}"
    pairs = [f"{lo} and {hi}" for lo, hi in listing.ends]
    ends = "" if not pairs else f"{pairs[0]} are the range's ends: add the values you want between them" \
        if len(pairs) == 1 else f"the ranges' ends are {', and '.join(pairs)}: add the values you want between each two"
    clipped = [f"{bound} for {end}, the {most} {name} allows" for bound, end, most in listing.clipped]
    refused = f"{name} does not allow {' or '.join(listing.refused)}" if listing.refused else ""
    out = listing.out
    left = f"{', '.join(out)} left out: {name} does not allow {'it' if len(out) == 1 else 'them'}" if out else ""
    return "; ".join(x for x in (ends, *clipped, refused, left) if x)


def written_out(text: str, specs: Mapping[str, Param] | None = None) -> str:
    """``--param`` ``text`` (``tax_rate=0-0.5``) with each range among its values written out, as :func:`parse_param`'s
    error writes it for the experiment's ``specs``: ``--param tax_rate=0,0.5 (0 and 0.5 are the range's ends: …)``,
    ``--param clients=10,11,12``."""
    name, _, values = str(text).partition("=")
    return _written_out(name, [item for item in _items(text, values) if item], (specs or {}).get(name.strip()))


def _in_fractions(spec: Param | None) -> bool:
    """Whether ``spec`` counts in fractions (its default is a float: τ = 0.75), so that a range 0-2 of it does not mean
    0, 1, 2 (a fresh user's tax_rate 0-2 was told to write 0,1,2); a whole-number default (minutes = 60) counts in
    whole numbers even where fractions are allowed."""
    return spec is not None and not spec.integer and isinstance(spec.default, float)


def _listed(items: list[str], spec: Param | None) -> _Listing:
    """``items``, each range among them (:func:`_range_values`) written out as its values (whole numbers at most 20
    apart, unless ``spec`` counts in fractions, :func:`_in_fractions`) or else as its two ends, a start, stop and step
    (0:1:0.25, :func:`_stepped`) as its values, another chain of numbers (0-0.5-1) as those numbers, each value once.
    A range's end, or a stepped range's first or last value, that ``spec`` refuses is brought to the bound it passes
    where that bound is allowed and the range stays one (τ's 0-1 is written 0,0.99, its 0:1:0.25 0,0.25,0.5,0.75,0.99;
    a review found 0-1 shown as tax_rate=0,1, itself refused), else kept (it says where the values the student adds
    lie); the other values written out that ``spec`` refuses are left out of the list (a fresh user's 0-0.5-1 for τ
    was shown tax_rate=0,0.5,1), unless all are. :class:`_Listing` says which."""
    listed, ends, clipped = [], [], []
    for item in items:
        numbers = _range_values(item)
        stepped = _stepped(item, numbers)
        if stepped is None and (numbers is None or len(numbers) > 2):
            listed += numbers or [item]
            continue
        lo, hi = (stepped[0], stepped[-1]) if stepped else sorted(numbers, key=float)
        if stepped is None and not (_in_fractions(spec) or "." in lo + hi or float(hi) - float(lo) > 20):
            listed += map(str, range(int(lo), int(hi) + 1))      # (1000001 written so, not 1e+06)
            continue
        within = _within(lo, hi, spec)
        clipped += [(b, e, most) for b, e, most in zip(within, (lo, hi), ("least", "most")) if b != e]
        if stepped:                                  # (0:1:0.25 for τ: 0,0.25,0.5,0.75,0.99, as 0-1 is 0,0.99)
            listed += [within[0], *stepped[1:-1], within[1]]
        else:
            ends.append(within)
            listed += within
    listed = list(dict.fromkeys(listed))
    kept = list(dict.fromkeys(e for pair in ends for e in pair))
    refused = [e for e in kept if _refused(e, spec)]
    out = [v for v in listed if v not in kept and _refused(v, spec)]
    if len(out) == len(listed):
        out = []
    return _Listing([v for v in listed if v not in out], ends, clipped, refused, out)


def _refused(value: str, spec: Param | None) -> bool:
    """Whether ``spec`` refuses the number ``value`` writes (a value that is not a number is left to its check)."""
    number = _literal_or_none(value)
    return spec is not None and isinstance(number, (int, float)) and refusal("sweep", "", spec, number) is not None


def _within(lo: str, hi: str, spec: Param | None) -> tuple[str, str]:
    """The ends ``lo`` and ``hi`` of a range, each that ``spec`` refuses brought to the bound it passes (``spec.lo`` or
    ``spec.hi``, as --param writes it: :func:`_compact`) if ``spec`` allows that bound and the ends stay in order; else
    as given."""
    def bound(end: str) -> str:
        if not _refused(end, spec):
            return end
        b = spec.hi if spec.hi is not None and float(end) > spec.hi else spec.lo if spec.lo is not None and \
            float(end) < spec.lo else None
        return end if b is None or refusal("sweep", "", spec, b) is not None else _compact(b)
    within = bound(lo), bound(hi)
    return within if float(within[0]) < float(within[1]) else (lo, hi)


#: the most values :func:`_stepped` writes out
MAX_STEPS = 50


def _stepped(item: str, numbers: list[str] | None) -> list[str] | None:
    """The values of ``item``, three ``numbers`` joined by colons, read as a start, stop and step in either order
    (Python's and numpy's 0:1:0.25, MATLAB's and R's 0:0.25:1: the step is the smaller of the last two), at most
    :data:`MAX_STEPS` of them; None for anything else."""
    if numbers is None or len(numbers) != 3 or item.count(":") != 2:
        return None
    start, step, stop = float(numbers[0]), *sorted(float(n) for n in numbers[1:])
    return _steps(start, step, stop)


def _steps(start: float, step: float, stop: float) -> list[str] | None:
    """``start``, ``start + step``, … up to ``stop``, as --param writes numbers, if ``step`` is positive and they are
    more than one and at most :data:`MAX_STEPS`; else None."""
    count = math.floor((stop - start) / step + 1e-9) + 1 if step > 0 else 0
    return [f"{round(start + k * step, 10):g}" for k in range(count)] if 1 < count <= MAX_STEPS else None


def _several(text: str, item: str) -> None:
    """ConfigError for a --param value that is several numbers apart from the commas (0.5 0.6, or 0.5;0.6): values
    are separated by commas, so it would reach the parameter as one word and be refused as not a number."""
    parts = [p for p in re.split(r"[\s;]+", item) if p]
    if len(parts) > 1 and all(isinstance(_literal_or_none(p), (int, float)) for p in parts):
        name, _, values = str(text).partition("=")
        every = [p for p in re.split(r"[\s;,]+", values) if p]
        raise ConfigError(f"sweep: --param {shorten(text)} has {item!r} as one value; allowed: values separated by "
                          f"commas, e.g. --param {_shell(name.strip() + '=' + ','.join(every))}.")


def _literal_or_none(item: str) -> Any:
    """``item`` as a Python literal, or None if it is not one."""
    try:
        return _literal_eval(item)
    except (ValueError, SyntaxError, OverflowError):
        return None


def _value(text: str, item: str) -> Any:
    """The value ``item`` of ``--param`` ``text`` writes (:func:`parse_param`): a literal, or a bare word.
    ConfigError for an item with parentheses that is not a literal, naming the part that is not (abc in
    (128,abc))."""
    try:
        return _literal_eval(item)
    except (ValueError, SyntaxError) as e:
        if not any(c in item for c in "()[]"):
            _several(text, item)
            return item                          # a bare word: esx
        if isinstance(e, SyntaxError):
            raise _unreadable(text, f"{item} does not read as a tuple ({e.msg})") from None
        part = _not_literal(item)
        raise _unreadable(text, f"{part}{'' if part == item else f' in {item}'} is not a number or a tuple") from None


def _unreadable(text: str, problem: str) -> ConfigError:
    """The sentence for ``--param`` ``text`` whose tuples do not read, ``problem`` saying where."""
    return ConfigError(f"sweep: --param {shorten(text)}: {problem}; allowed: tuples in parentheses, each ( closed by "
                       "a ) after it, holding numbers, tuples or words in quotes ('esx'), commas between them, e.g. "
                       "(128,160),(192,224) (two values).")


def _not_literal(text: str) -> str:
    """The source of the first part of ``text``, a Python expression that is not a literal (e.g. "abc" in
    "(128,abc)"), looking into tuples and lists; ``text`` itself if it is not one of them."""
    def first(node: ast.expr) -> ast.expr:
        for part in getattr(node, "elts", ()):
            try:
                ast.literal_eval(_NonFinite().visit(part))
            except ValueError:
                return first(part)
        return node
    return ast.get_source_segment(text, first(ast.parse(text, mode="eval").body)) or text


def check_decimal_comma(experiment: Experiment, text: str) -> None:
    """ConfigError when ``--param`` ``text`` reads as a decimal comma ("tax_rate=0,5" meant as 0.5): the
    parameter refuses one of the values the commas give, and two neighbouring whole numbers joined by a
    point would be allowed. The sentence says how the commas split the text, then why the value is refused."""
    name, values = parse_param(text)
    spec = get(experiment).PARAMS.get(name)
    if spec is None:
        return
    owner = lookup(experiment)
    refused = [e for e in (refusal(owner, name, spec, v) for v in values) if e is not None]
    items = [v.strip() for v in str(text).partition("=")[2].split(",")]
    points = [f"{a}.{b}" for a, b in zip(items, items[1:]) if re.fullmatch(r"[+-]?[0-9]+", a)
              and re.fullmatch(r"[0-9]+", b)]
    point = next((x for x in points if refusal(owner, name, spec, float(x)) is None), None)
    if refused and point:
        listing = ", ".join(map(repr, values[:-1])) + f" and {values[-1]!r}"
        raise ConfigError(f"sweep: --param {text} gives {len(values)} values, {listing}: a comma separates values, "
                          f"and a decimal number is written with a point ({point}); {refused[0]}")


#: the floats Python's literals have no words for, by the names float() reads them (any case)
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "infinity": math.inf}


class _NonFinite(ast.NodeTransformer):
    """A name of :data:`_NON_FINITE` becomes its float; other names stay (and are not literals)."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        value = _NON_FINITE.get(node.id.lower())
        return node if value is None else ast.copy_location(ast.Constant(value), node)


def _literal_eval(text: str) -> Any:
    """:func:`ast.literal_eval` of ``text`` that also reads nan, inf and -inf (:data:`_NON_FINITE`);
    OverflowError, with the literal, for a number too large for a float (1e400: Python reads it as inf)."""
    tree = ast.parse(text, mode="eval")
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, float) and math.isinf(node.value):
            raise OverflowError(ast.get_source_segment(text, node))
    return ast.literal_eval(_NonFinite().visit(tree))


def check_grid(experiment: Experiment, params: Mapping[str, Iterable[Any]] | None) -> dict[str, list[Any]]:
    """``params`` as {name: [values]}, every name one of ``experiment``'s ``PARAMS`` (and not a
    column of the tidy table) and every value within its range (ConfigError naming the parameter,
    value and what is allowed)."""
    name, specs = lookup(experiment), get(experiment).PARAMS
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"sweep: params = {shorten(params)} is not allowed; give a dict of parameter name → "
                          "list of values, e.g. {'tax_rate': [0, 0.5]}.")
    check_known(f"sweep: {name}", params, specs,
                none="it has none (its PARAMS is empty), so it sweeps over seeds alone")
    grid: dict[str, list[Any]] = {}
    for key, values in params.items():
        if key in ("experiment", *COLUMNS):
            raise ConfigError(f"sweep: {name}.{key} has the name of a column of the sweep's table; allowed: a "
                              f"parameter named other than experiment, {', '.join(COLUMNS)} (rename it in PARAMS).")
        values = [values] if _one(values, f"sweep: {name}.{key}") else list(values)
        values = [plain(v) for v in values]      # np.linspace's values as the numbers a list would give
        if not values:
            raise ConfigError(f"sweep: {name}.{key} has no values; give at least one.")
        # a whole number given as 1e1 or 10.0 for a whole-number parameter is that integer (its label reads 10)
        values = [int(v) if specs[key].integer and isinstance(v, float) and v.is_integer() else v for v in values]
        for v in values:
            _check_not_text(name, key, specs[key], v)
            if _is_tuple(specs[key]) and not isinstance(v, (tuple, list)) and not (v is None and specs[key].optional):
                one, two = _tuple_examples(specs[key].default)
                single = f" (one number in parentheses is a tuple only with a comma: ({v!r},))" \
                    if isinstance(v, (int, float)) else ""
                raise ConfigError(f"sweep: {name}.{key} = {shorten(v)} is not a tuple, and each value of {key} is "
                                  f"one, like its default {shorten(specs[key].default)}; allowed: tuples, e.g. "
                                  f"params={{{key!r}: [{_compact(one)}, {_compact(two)}]}}, on the command line "
                                  f"--param {_shell(f'{key}={_compact(one)},{_compact(two)}')} (two values)"
                                  f"{single}.")
            specs[key].validate(name, key, v)
        seen: dict[Any, Any] = {}
        for v in values:
            if _same(v) in seen:
                equal = "" if repr(v) == repr(seen[_same(v)]) else f" ({seen[_same(v)]!r} and {v!r} are equal)"
                raise ConfigError(f"sweep: {name}.{key} = {shorten(values)} names a value twice{equal}; each must "
                                  "appear once.")
            seen[_same(v)] = v
        grid[key] = values
    return grid


def _one(values: Any, label: str) -> bool:
    """Whether ``values`` (a grid's values, or the seeds) is one value, not several: a str, a 0-d numpy array
    (``np.array(3)``, whose iteration fails) or anything not iterable. ConfigError for a set, whose order is
    Python's, not the one written (the table's rows would follow it), and a mapping (its keys would be taken)."""
    if isinstance(values, Mapping):
        raise ConfigError(f"{label} = {shorten(values)} is a mapping ({type(values).__name__}), whose keys would be "
                          "taken as the values; allowed: a list (or a range, a numpy array), e.g. "
                          "list(values.values()).")
    if isinstance(values, (set, frozenset)):
        raise ConfigError(f"{label} = {shorten(values)} is a set, whose order is Python's, not the one written (a set "
                          "of words comes in another order in every Python process), and the table's rows would "
                          "follow it; allowed: a list (or a range, a numpy array), e.g. sorted(values).")
    return isinstance(values, (str, bytes)) or not isinstance(values, Iterable) or (
        isinstance(values, np.ndarray) and values.ndim == 0)


def _same(value: Any) -> Any:
    """A key equal for values a run cannot tell apart: numbers by value (0 and 0.0; not a bool and 1),
    tuples element by element, anything else by its repr."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, (int, float)):
        return ("number", value)                 # 0 == 0.0 and hash(0) == hash(0.0)
    if isinstance(value, (tuple, list)):
        return ("sequence", tuple(_same(v) for v in value))
    return ("repr", repr(value))


def check_rules(experiment: Experiment, grid: Mapping[str, list[Any]]) -> list[tuple]:
    """The grid's points (every combination of ``grid``'s values, in order), each checked against
    ``experiment``'s ``RULES`` with the other parameters at their defaults: ConfigError with
    the experiment's sentence for the first point that breaks one, before anything runs."""
    name, module = lookup(experiment), get(experiment)
    points = list(itertools.product(*grid.values()))
    if getattr(module, "RULES", ()):
        for values in points:
            resolve(name, module.PARAMS, dict(zip(grid, values)), module.RULES)
    return points


def _is_tuple(spec: Param) -> bool:
    """Whether ``spec``'s values are tuples (e.g. Figure 2's sizes): each is one value of a sweep."""
    return spec.check is not None and isinstance(spec.default, (tuple, list))


def _compact(value: Any) -> str:
    """``value`` as ``--param`` reads it back: a literal without spaces, a bare word for a string, a float short
    (0.5, 2) unless that would be another number (1234567.5, not 1.23457e+06)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return repr(tuple(value) if isinstance(value, list) else value).replace(" ", "")


def _shell(text: str) -> str:
    """``text`` quoted for a POSIX shell when it holds characters the shell reads (parentheses)."""
    return shlex.quote(text) if any(c in text for c in "()[]{} *?;&|<>$'\"") else text


def _tuple_examples(default: tuple) -> tuple[tuple, tuple]:
    """Two short tuples in the default's shape: its first four elements (two, if they are tuples
    themselves) and its first and third (or its first alone)."""
    d = tuple(default)
    one = d[:2] if d and isinstance(d[0], (tuple, list)) else d[:4]
    return one, (d[0], d[2]) if len(d) > 2 else d[:1]


def example(experiment: Experiment, key: str) -> str:
    """``NAME=V1,V2``: two values of parameter ``key`` as ``--param`` takes them (quoted for the shell
    when needed), its default first; each is allowed, alone, with the experiment's other parameters at
    their defaults (its ``RULES`` included)."""
    name, module = lookup(experiment), get(experiment)
    spec = module.PARAMS[key]

    def allowed(value: Any) -> bool:
        try:
            resolve(name, module.PARAMS, {key: value}, getattr(module, "RULES", ()))
        except ConfigError:
            return False
        return True

    d = spec.default
    if _is_tuple(spec):
        one, two = _tuple_examples(d)
        values = [v for v in (one, two) if allowed(v)] or [d]
    elif spec.choices is not None:
        values = [d] + [c for c in spec.choices if c != d and allowed(c)][:1]
    elif isinstance(d, (int, float)) and not isinstance(d, bool):
        near = [d + spec.step, d - spec.step] if spec.step else []
        near += [d * 2, d / 2, d + 1, d - 1, spec.hi, spec.lo]
        near = [round(v, 6) for v in near if v is not None]
        near = [int(v) if isinstance(d, int) and float(v).is_integer() else v for v in near]
        values = [d] + [v for v in near if v != d and allowed(v)][:1]
    else:
        values = [d]
    return _shell(f"{key}={','.join(_compact(v) for v in values)}")


def describe_params(experiment: Experiment) -> str:
    """A text table of ``experiment``'s ``PARAMS``: each name, its default (the set-up compared
    with the paper: the paper's values where it gives them, invented ones where it does not), what
    a sweep may give it, its unit, how to write two values of it with ``--param`` and its meaning;
    then where a range comes from (a ``Param``'s ``why_range``), the rules between parameters (its
    ``RULES``) and how to write several values and tuples. The first line is its name and ``TITLE``
    (a module of your own without one: its docstring's first line)."""
    name, module = lookup(experiment), get(experiment)
    heading = _heading(name, module)
    if not module.PARAMS:
        return f"{heading}\n\nParameters: none (its PARAMS is empty); sweep it over seeds alone, e.g. --seeds 0-3."
    head = ("parameter", "default", "allowed", "unit", "--param example", "meaning")
    rows = [(key, shorten(spec.default, 30), spec.allowed(key), spec.unit, example(experiment, key), spec.label)
            for key, spec in module.PARAMS.items()]
    para = lambda text, indent="": textwrap.fill(text, 100, initial_indent=indent,
                                                 subsequent_indent=" " * len(indent), break_on_hyphens=False)
    rules = getattr(module, "RULES", ())
    out = [heading, "", *_text_table(head, rows), ""]
    whys = [para(f"{key}'s {spec.why_range}.", "  - ") for key, spec in module.PARAMS.items() if spec.why_range]
    if whys:
        out += ["Where a bound comes from:", *whys, ""]
    if rules:
        out += [para("Rules between parameters (a run that breaks one is refused; a sweep checks every grid point "
                     "against them before it starts, except a rule only the run can tell, which says when it is "
                     "checked):"), *(para(rule.sentence(), "  - ") for rule in rules)]
    else:
        out += ["Rules between parameters: none; each parameter is checked against its own allowed values."]
    kinds = {"tuple": _is_tuple, "word": lambda spec: spec.choices is not None,
             "number": lambda spec: spec.check is None and spec.choices is None}
    first = {kind: next((key for key, spec in module.PARAMS.items() if test(spec)), None)
             for kind, test in kinds.items()}
    syntax = "Writing values: --param NAME=V1,V2,… gives one parameter several values, commas between them"
    syntax += f" (--param {example(experiment, first['number'])})" if first["number"] else ""
    syntax += "; each --param adds a dimension to the grid (every combination runs, on every seed)"
    syntax += f"; words are written bare (--param {example(experiment, first['word'])})." if first["word"] else "."
    if first["tuple"]:
        key = first["tuple"]
        one, two = _tuple_examples(module.PARAMS[key].default)
        syntax += (f" A tuple is one value, written in parentheses: --param "
                   f"{_shell(f'{key}={_compact(one)},{_compact(two)}')} is two values of {key}, and "
                   f"{_shell(f'{key}={_compact(one[:1])}')} one value of one element (mind the comma); "
                   "quote it, as the shell reads parentheses.")
    if any(spec.unit == "min" for spec in module.PARAMS.values()):
        syntax += (" A time in minutes must fall on a tick, a whole number of seconds (one tick is one simulated "
                   "second): 31.25 is 1875 s, 31.33 is refused.")
    return "\n".join(out + ["", para(syntax)])


def describe_quantities(experiment: Experiment) -> str:
    """A text table of the quantities one run of ``experiment`` at its defaults on seed 0 reports (it runs it, here):
    each one's name as the sweep table's ``quantity`` column gives it (what to filter the table on), its kind
    (prediction or set-up check), its unit and, on a line of its own below (a column of them, mostly blank, made a
    table 134 characters wide), how the printed table labels it where that is not its name. A parameter that sets
    what is measured (Figure 2's ``sizes``, Figure 6's ``minutes``) can add or rename some, as the text says.
    Source: invented."""
    name, module = lookup(experiment), get(experiment)
    rows = _table(module, 0, {})
    if not rows:
        return f"{_heading(name, module)}\n\nQuantities: none (its run at the defaults, seed 0, added no row)."
    text = (f"Quantities of one run at the defaults, seed 0, by the names the sweep table's quantity column gives them "
            f"(filter on these, e.g. [r for r in table.records() if r['quantity'] == {rows[0].quantity!r}]); a "
            "parameter that sets what is measured (which sizes, how many minutes) can add or rename some. Where the "
            "printed tables label a quantity otherwise, the line below it says how (\"printed as\"):")
    head, rule, *lines = _text_table(("quantity", "kind", "unit"), [(r.quantity, r.kind, r.unit) for r in rows])
    labelled = [x for line, r in zip(lines, rows)
                for x in (line, "" if r.title == r.quantity else f"    printed as: {r.title}") if x]
    return "\n".join([_heading(name, module), "", textwrap.fill(text, 100, break_on_hyphens=False), "", head, rule,
                      *labelled])


def _heading(name: str, module: ModuleType) -> str:
    """``name``, then its ``TITLE`` (a module of your own without one: its docstring's first line)."""
    title = getattr(module, "TITLE", None) or (module.__doc__ or "").strip().partition("\n")[0]
    return name + (f": {title}" if title else "")


def _text_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """The lines of a text table: ``head``, a rule of dashes, then ``rows``, each column as wide as its widest
    cell."""
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(x.ljust(w) for x, w in zip(cells, widths)).rstrip()
    return [line(head), line(["-" * w for w in widths]), *map(line, rows)]


#: a number written in ASCII as Python reads one (0, -1, 0.5, .5, 1e-3)
_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _check_not_text(name: str, key: str, spec: Param, value: Any) -> None:
    """ConfigError for a number parameter's value given as the text of numbers as ``--param`` takes them
    (``"0,0.5"``, ``"1e-3"``, a trailing comma allowed), or of a range (``"1-3"``, written out as ``--param``'s
    error does, a fraction parameter's by its ends: :func:`_listed`), showing it as Python numbers (a fresh user was told only "must be a number"); other
    text ("e", ".", "0,,1") is left to the parameter's own check."""
    numeric = isinstance(spec.default, (int, float)) and not isinstance(spec.default, bool)
    if not (numeric and isinstance(value, str)):
        return
    items = [w.strip() for w in value.strip().removesuffix(",").split(",")]
    if not all(_NUMBER.fullmatch(w) or _range_values(w) for w in items):
        return
    listing = _listed(items, spec)
    numbers = [int(w) if re.fullmatch(r"[-+]?[0-9]+", w) else float(w) for w in listing.values]
    if not all(map(math.isfinite, numbers)):                 # 1e400: refused by the parameter's check
        return
    told = _told(key, listing, spec)
    ends = f"{told}; " if told else ""
    raise ConfigError(f"sweep: {name}.{key} = {value!r} is text; give numbers, not quoted: params={{{key!r}: "
                      f"{numbers!r}}} ({ends}the command line writes the same as --param "
                      f"{key}={','.join(map(_compact, numbers))}).")


def check_seeds(seeds: int | str | Iterable[int], label: str = "sweep: seeds") -> list[int]:
    """``seeds`` (one seed, "0-19"/"0,2,5", or an iterable of seeds) as a list, in the order given; ConfigError if
    empty, repeated, not seeds, or more than :data:`.runner.MAX_SEEDS` (as ``--seeds`` allows), its sentence
    starting with ``label`` ("sweep: --seeds" for the command line's)."""
    if isinstance(seeds, str):
        return runner.parse_seeds(seeds, label)
    one = _one(seeds, label)
    many = len(seeds) if not one and isinstance(seeds, Sized) else None
    out = [plain(seeds)] if one else list(itertools.islice(seeds, runner.MAX_SEEDS + 1))
    if len(out) > runner.MAX_SEEDS:
        many = f"{many}" if many is not None else f"more than {runner.MAX_SEEDS}"
        raise ConfigError(f"{label} = {shorten(seeds)} names {many} seeds; allowed: at most {runner.MAX_SEEDS}.")
    if not out:
        raise ConfigError(f"{label} is empty; give at least one seed, e.g. range(4).")
    out = [check_seed(s, label) for s in out]
    if len(set(out)) != len(out):
        raise ConfigError(f"{label} = {shorten(out)} names a seed twice; each seed must appear once.")
    return out


#: what a task sends back for each of its runs: its table, whether it was kept, its ticks simulated (:func:`_tables`)
_Ran = tuple[tuple[Row, ...], bool, int | None]


def _tables(experiment: Task, seed: int, points: list[dict[str, Any]]) -> list[_Ran]:
    """The tables of runs on one seed (what a worker sends back: rows, not traces) of ``experiment``
    as a task names it (:func:`.runner.load`), each with whether the run simulated no tick and found results kept
    from an earlier run in the process (:attr:`SweepTable.kept`; a run of one's own that simulates nothing is not),
    and the ticks it simulated (:meth:`Plan.run` compares them with what the experiment planned), None where it found
    any part kept (a host or a run of :func:`.common.kept` or :func:`.common.fork`): it simulated less than a run
    alone, by what ran before it in the process.
    Runs of one seed that differ only after a parameter change fork from the host at the change (e.g. Figure 7's
    ``tax_rate``: :func:`.common.fork`), so a task holds several of them."""
    module = runner.load(experiment)
    out = []
    for values in points:
        ticks, found = ticks_stepped(), common.found()
        table = _table(module, seed, values)
        ran, reused = ticks_stepped() - ticks, common.found() > found
        out.append((table, ran == 0 and reused, None if reused else ran))
    return out


def _table(module: ModuleType, seed: int, values: dict[str, Any]) -> tuple[Row, ...]:
    """The table of ``module.run(seed=seed, **values)``; ConfigError if that is not a Result, :class:`RunFailed`
    if it raised, except for an esxlab error raised by one of the package's experiments, whose sentence says
    which setting it cannot run and what is allowed. (The grid was checked before anything ran, so an esxlab
    error from an experiment of one's own is most likely the module's own misuse of the API: its line counts.)"""
    try:
        res = module.run(seed=seed, **values)
    except Exception as err:
        if isinstance(err, Error) and module.__name__.startswith(f"{__package__}."):
            raise
        raise RunFailed(_failure(module, seed, values, err)) from err
    if not isinstance(res, Result):
        raise ConfigError(f"sweep: {module.__name__}.run() returned {shorten(res)} ({type(res).__name__}), not an "
                          "esxlab.experiments.Result; allowed: a Result holding one row per quantity, e.g. res = "
                          "Result(name, params) then res.add(quantity, paper, value, tolerance, unit), as "
                          "esxlab/experiments/fig7.py's run returns.")
    return tuple(res.table)


class RunFailed(Error):
    """A run of a sweep raised: one sentence naming the run, the line of the experiment's file that raised (or
    called what raised) and the error (its traceback is this exception's ``__cause__`` where the run was in this
    process)."""


def _failure(module: ModuleType, seed: int, values: dict[str, Any], err: Exception) -> str:
    """:class:`RunFailed`'s sentence for ``err``, raised by ``module.run(seed=seed, **values)``: the line of the
    experiment's own file that raised, or called what raised (else the last line outside esxlab; an esxlab
    error's whole sentence, others' first 200 characters)."""
    call = f"{module.__name__}.run({', '.join([f'seed={seed}', *(f'{k}={v!r}' for k, v in values.items())])})"
    frames = traceback.extract_tb(err.__traceback__)
    mine = Path(getattr(module, "__file__", None) or "").resolve()
    own = [f for f in frames if Path(f.filename).resolve() == mine]
    outside = [f for f in frames if not Path(f.filename).resolve().is_relative_to(runner.PACKAGE)]   # a borrowed run
    frame = (own or outside or frames or [None])[-1]
    where = f" at {Path(frame.filename).name} line {frame.lineno}" if frame else ""
    text = str(err).rstrip(".") if isinstance(err, Error) or len(str(err)) <= 200 else f"{str(err)[:199]}…"
    return f"sweep: {call} raised {type(err).__name__}{where}: {text}; run that call alone for its traceback"


def _groups(n_points: int, n_seeds: int, jobs: int, threads: int | None) -> int:
    """Into how many tasks each seed's grid points go: one (they share prefixes to fork), unless there are
    fewer seeds than runs at a time: ``jobs`` here, or on a Dask cluster (``threads`` not None) the threads of its
    workers when the sweep was planned (:func:`.cluster.identify`; none yet: one task per seed)."""
    at_a_time = jobs if threads is None else threads
    return max(1, min(n_points, -(-at_a_time // n_seeds)))


def _keywords(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, refusing a keyword it does not take with a ConfigError saying that the experiment's parameters go in
    ``params`` (``sweep("remap_io", minutes=[1, 2])`` raised Python's TypeError: a newcomer's trial)."""
    known = list(inspect.signature(fn).parameters)

    @functools.wraps(fn)
    def checked(*args: Any, **kwargs: Any) -> Any:
        unknown = [k for k in kwargs if k not in known]
        if unknown:
            meant = did_you_mean(unknown[0], known)
            params = "" if meant else (f", and the experiment's parameters go in params, each with its values: "
                                       f"sweep(experiment, params={{{unknown[0]!r}: [...]}})")
            raise ConfigError(f"sweep() has no keyword {unknown[0]!r}{meant}; it takes {', '.join(known)}{params}.")
        return fn(*args, **kwargs)
    return checked


@_keywords
def sweep(experiment: Experiment, params: Mapping[str, Iterable[Any]] | None = None,
          seeds: int | str | Iterable[int] = 0, *, jobs: int = 1, scheduler: str | None = None,
          progress: bool | None = None) -> SweepTable:
    """Run ``experiment`` at every point of the grid ``params`` (name → values; the other
    parameters at their defaults) on every seed. ``seeds``: an int is that one seed (``seeds=2`` runs seed 2, not
    two seeds: ``range(2)`` or ``"0-1"`` runs seeds 0 and 1), a str "0-19" or "0,3,7", or an iterable of ints. The
    table keeps the seeds in the order given, never sorted: ``seeds=range(3, 0, -1)`` runs and lists seeds 3, 2, 1,
    as ``seeds="3,2,1"`` and ``python -m esxlab sweep … --seeds 3,2,1`` do (a sweep stopped early keeps the first
    ones in that order).

    ``experiment`` is one of the package's (a name or figure number: "fig7", 7), or a module of your
    own with ``PARAMS`` and ``run`` like :mod:`.fig7` (:func:`~esxlab.experiments.check_module`), given
    as the module or by its import name ("mypkg.myexp"); the table's ``experiment`` column is then its
    import name. Workers import it by that name, so with ``jobs`` > 1 or ``scheduler`` it must be a file
    Python imports from ``sys.path`` (ConfigError for one defined in ``__main__`` or a notebook: it runs
    with ``jobs=1``, in this process), and it must stay as it is while the sweep runs. The sweep imports it
    again (:func:`importlib.reload`) unless this process imported its file as it is now, so that every run,
    whatever ``jobs``, runs that file (not a change made to the module in this process).

    Runs ``jobs`` at a time (at most this computer's cores) with joblib (loky processes), or on
    the Dask cluster at ``scheduler``, its address as a str (needs the "cluster" extra; ``jobs`` is then the
    cluster's business: give one or the other). ``progress``: a bar on stderr, the command line's; None (the
    default) shows it once the sweep has taken :data:`~esxlab.host.PROGRESS_AFTER_S` seconds, as
    :meth:`~esxlab.host.Host.run` shows its line, so that a long sweep is not silent and a short one stays quiet;
    True at once, False never. The result does not depend on ``jobs`` or the runner; a run that this process, or a
    worker process it keeps, ran before with the same seed and parameters is not simulated again (the table's
    ``kept`` counts them). Ctrl-C raises :class:`SweepInterrupted` (a KeyboardInterrupt) whose ``table``
    holds the seeds that finished; a run that raises, or a cluster lost mid-sweep, raises :class:`SweepFailed`,
    whose ``table`` holds them too. ConfigError, before anything runs, for an unknown experiment or parameter,
    a module that is not an experiment module, a value outside its ``PARAMS`` range, a grid point that breaks
    one of its ``RULES``, bad seeds or jobs, jobs with a scheduler, a scheduler that is not a str or does not
    answer as a Dask scheduler within :data:`.cluster.CONNECT_S` seconds; when the runs start, for a cluster
    without workers (after :data:`.cluster.WORKERS_S` seconds) or whose workers cannot import esxlab or run
    other sources. :meth:`Plan.of` checks and plans it, :meth:`Plan.run` runs it: a
    caller that needs the plan first (the command line counts its workers) builds it once and runs it."""
    return Plan.of(experiment, params, seeds, jobs, scheduler).run(progress)


@dataclass(frozen=True)
class Plan:
    """How :func:`sweep` runs: the checked ``grid`` and ``seeds``, the grid's ``points``, and the
    ``tasks`` handed to :func:`.runner.execute` (``index[g]``: the points of a seed's g-th task; each
    names the experiment as :func:`.runner.load` takes it), ``jobs`` at a time here or on the Dask
    cluster at ``scheduler``. ``workers`` is how many run at a time on this computer
    (:func:`.runner.workers`; None on a Dask cluster, whose workers are its business). A seed's grid points
    go to one task, so that they share their warm-up (:func:`.common.fork`), unless there are fewer seeds than
    runs at a time (``jobs``, or the cluster's worker threads when planned): :func:`_groups`. ``options``: its
    sentences name the command line's options (``--jobs``) rather than the keyword arguments (``jobs``)."""

    name: str
    grid: dict[str, list[Any]]
    seeds: list[int]
    points: list[tuple]
    index: list[list[int]]
    tasks: list[tuple[Task, int, list[dict[str, Any]]]]
    jobs: int
    scheduler: str | None
    workers: int | None
    options: bool = False

    @classmethod
    def of(cls, experiment: Experiment, params: Mapping[str, Iterable[Any]] | None, seeds: int | str | Iterable[int],
           jobs: int = 1, scheduler: str | None = None, *, options: bool = False) -> "Plan":
        """The plan of ``sweep(experiment, params, seeds, jobs=jobs, scheduler=scheduler)``;
        ConfigError, before anything runs, for what :func:`sweep` refuses (``options``: in sentences naming
        the command line's options, ``--jobs``, ``--scheduler``, as ``python -m esxlab sweep`` takes them)."""
        word = (lambda key: f"sweep: --{key}") if options else (lambda key: f"sweep: {key}")
        name = lookup(experiment)
        n_jobs = runner.check_jobs(jobs, word("jobs"))
        if scheduler is not None:
            cluster.check_scheduler(scheduler, word("scheduler"))
            if jobs != 1:
                raise ConfigError(f"{word('jobs')} = {jobs} and {word('scheduler').removeprefix('sweep: ')} = "
                                  f"{shorten(scheduler)} were both given; allowed: one of them, as jobs counts runs "
                                  "at a time on this computer and a Dask cluster runs as many as it has worker threads.")
        ref = _task_name(name, get(experiment), jobs, scheduler)       # before the checks: they read the file now
        grid = check_grid(experiment, params)
        seed_list = check_seeds(seeds, word("seeds"))
        n_points = math.prod(len(values) for values in grid.values())
        if n_points * len(seed_list) > MAX_RUNS:
            raise ConfigError(f"sweep: {n_points} grid points × {len(seed_list)} seeds = "
                              f"{n_points * len(seed_list)} runs; allowed: at most {MAX_RUNS}.")
        points = check_rules(experiment, grid)
        threads = None if scheduler is None else \
            int(cluster.identify(scheduler, word("scheduler")).get("total_threads") or 0)
        groups = _groups(len(points), len(seed_list), n_jobs, threads)
        index = [[i for i in range(len(points)) if i % groups == g] for g in range(groups)]
        tasks = [(ref, seed, [dict(zip(grid, points[i])) for i in idx]) for seed in seed_list for idx in index]
        return cls(name, grid, seed_list, points, index, tasks, jobs, scheduler,
                   None if scheduler is not None else runner.workers(jobs, len(tasks), word("jobs")), options)

    def run(self, progress: bool | None = None) -> SweepTable:
        """Run the plan's tasks (a bar on stderr with ``progress``: True at once, None once the sweep has taken
        :data:`~esxlab.host.PROGRESS_AFTER_S` seconds, False never): the table of :func:`sweep`.
        Ctrl-C raises :class:`SweepInterrupted`, a run that raises or a lost Dask cluster :class:`SweepFailed`,
        each holding the table of the seeds already finished."""
        progress = None if progress is None else check_choice("sweep", "progress", progress, (None, True, False))
        own = [task[0] for task in self.tasks[:1] if isinstance(task[0], runner.Own)]     # all tasks name one
        done: list[list[_Ran]] = []                            # each task's runs, in task order
        unplanned: list[str] = []                              # the warning, once given

        def each(task: tuple[Task, int, list[dict[str, Any]]], got: list[_Ran]) -> None:
            done.append(got)
            if not unplanned and (warning := self._unplanned(task, got)):
                unplanned.append(warning)
                warnings.warn(warning, UserWarning, stacklevel=user_stacklevel())

        try:
            runner.execute(_tables, self.tasks, jobs=self.jobs, scheduler=self.scheduler,
                           progress=None if progress is False else f"sweep {self.name}",
                           delay=PROGRESS_AFTER_S if progress is None else 0.0, label="sweep", own=own,
                           each=each, options=self.options, holds=self._holds)
        except KeyboardInterrupt as stop:
            raise SweepInterrupted(self._table(done), self._runs(done), self._total) from stop
        except RunFailed as failed:
            raise SweepFailed(str(failed), self._table(done), self._runs(done), self._total) from failed
        except cluster.ClusterLost as lost:
            table = self._table(done)
            rest = self.seeds[len(table.seeds):]
            raise SweepFailed(f"sweep: the Dask cluster at {lost.scheduler} was lost after {self._runs(done)} of "
                              f"{self._total} runs ({lost.reason}); allowed: a cluster that stays up "
                              f"until the sweep ends: run the seeds that did not finish ({runner.seeds_option(rest)}) "
                              "again once it is back.", table, self._runs(done), self._total,
                              stopped="the Dask cluster was lost") from None
        return self._table(done)

    @property
    def _total(self) -> int:
        return len(self.points) * len(self.seeds)

    def _holds(self, task: tuple[Task, int, list[dict[str, Any]]]) -> tuple[str, float | None]:
        """What ``task`` holds, "seed 0, 2 runs", and its simulated minutes in all where the experiment says before
        running what its runs simulate (:func:`.common.planned_minutes`), else None: the runner's line for the running
        task (:func:`.runner.execute`). Where a run simulates several hosts (Figure 2's), they are counted, "seed 0, 2
        runs of 9 hosts" (runs of different counts: "seed 0, 2 runs, 14 hosts"), so that the minutes in all, every
        host's, add up; a run of one host, or of hosts not known before it runs, is not. Forked and kept runs (Figure
        7's) simulate less than a run alone, by how much depends on what ran before: no total is given for them."""
        experiment, seed, points = task
        module = runner.load(experiment)
        counts = common.planned_counts(module, points) or [1]
        hosts = "" if max(counts) <= 1 else f" of {_count(counts[0], 'host')}" if len(set(counts)) == 1 else \
            f", {_count(sum(counts), 'host')}"
        return f"seed {seed}, {_count(len(points), 'run')}{hosts}", common.planned_minutes(module, points)

    def _unplanned(self, task: tuple[Task, int, list[dict[str, Any]]], got: list[_Ran]) -> str | None:
        """The warning for the first run of ``task`` that simulated other minutes than its experiment's
        ``planned_hosts(**params)`` lists (:func:`.common.planned_minutes`; ``got``: the task's runs), whose totals the
        running task's line and a dashboard's busy line give; None if every run did, or the experiment lists none.
        Runs that found any part kept from an earlier one (the whole run, or some of its hosts: :func:`_tables`)
        simulated less: not compared. Invented."""
        experiment, seed, points = task
        module = runner.load(experiment)
        for values, (_, _, ticks) in zip(points, got):
            planned = common.planned_minutes(module, [values])
            if planned is not None and ticks is not None and round(planned * 60) != ticks:
                call = ", ".join(f"{k}={v!r}" for k, v in values.items())
                return (f"sweep: {self.name}'s planned_hosts({call}) lists {planned:g} simulated minutes, but its run "
                        f"at seed {seed} simulated {ticks / 60:g}, so a progress line's total is wrong; make "
                        "planned_hosts list every host that run() simulates, with its minutes (or remove it: the "
                        "lines then count minutes without a total).")
        return None

    def _runs(self, done: list[list[_Ran]]) -> int:
        """How many runs the finished tasks ``done`` held."""
        return sum(len(self.index[k % len(self.index)]) for k in range(len(done)))

    def _table(self, done: list[list[_Ran]]) -> SweepTable:
        """The table of the seeds whose tasks are all in ``done`` (the first tasks' tables: tasks
        go seed by seed)."""
        groups = len(self.index)
        seeds = self.seeds[:len(done) // groups]
        runs: dict[tuple[int, int], _Ran] = {}
        for (_, seed, _), idx, got in zip(self.tasks, self.index * len(seeds), done):
            runs.update({(i, seed): run for i, run in zip(idx, got)})
        ordered = [runs[i, seed] for i in range(len(self.points)) for seed in seeds]
        return SweepTable(self.name, tuple(self.grid), tuple(seeds), tuple(self.points),
                          tuple(table for table, _, _ in ordered), sum(kept for _, kept, _ in ordered))


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sweep after ``runs`` of its ``total`` runs had finished. ``table`` is the
    :class:`SweepTable` of the seeds whose runs had all finished (every grid point on each; none if no
    seed had): ``except KeyboardInterrupt as stop: stop.table.to_csv(…)`` keeps them."""

    def __init__(self, table: SweepTable, runs: int, total: int) -> None:
        n = len(table.seeds)
        kept = f"its table holds the {n} seed{'' if n == 1 else 's'} whose runs all finished" if n else \
            "no seed had finished all its runs: its table is empty"
        super().__init__(f"sweep {table.experiment} interrupted after {runs} of {total} runs; {kept}")
        self.table, self.runs, self.total = table, runs, total


class SweepFailed(Error):
    """A run of a sweep raised (:class:`RunFailed`'s sentence, naming it), or the Dask cluster running it was lost
    (its scheduler went away, its workers died or left), after ``runs`` of its ``total`` runs had finished; ``table``
    is the :class:`SweepTable` of the seeds whose runs had all finished, as :class:`SweepInterrupted`'s, and
    ``stopped`` says what stopped it ("a run failed", "the Dask cluster was lost")."""

    def __init__(self, message: str, table: SweepTable, runs: int, total: int, stopped: str = "a run failed") -> None:
        super().__init__(message)
        self.table, self.runs, self.total, self.stopped = table, runs, total, stopped


def _task_name(name: str, module: ModuleType, jobs: int, scheduler: str | None) -> Task:
    """How the tasks name experiment ``name`` (:func:`.runner.load`): the package's by its name, one of
    your own by :class:`.runner.Own` (workers import it by its name; here it is imported again unless this
    process imported that very file, :func:`.runner.imported`, so that it runs the same code here as there), or,
    one that no other process can import, as the module itself, with one job in this process (ConfigError for
    more, or a cluster)."""
    if name in EXPERIMENTS and module is get(name):
        return name
    own = runner.Own.of(module)
    if own is not None:
        runner.load(own)
    if own is None and (jobs > 1 or scheduler is not None):
        where = f"jobs = {jobs}" if scheduler is None else f"scheduler = {shorten(scheduler)}"
        raise ConfigError(f"sweep: {where} runs experiment module {name!r} in other processes, which import it by "
                          "its name, and none can (it was defined in __main__ or a notebook, or in a file not on "
                          "sys.path); allowed: jobs=1, which runs it in this process, or a .py file Python imports by "
                          "its name (e.g. myexp.py in the current directory, then sweep('myexp', …)).")
    return own or module
