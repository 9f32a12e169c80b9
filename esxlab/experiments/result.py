"""What an experiment returns: its traces, a paper-vs-esxlab table and the parameters used.

Every experiment module has ``run(seed=0, **params) -> Result``. A :class:`Row` compares one
quantity with the paper. Its ``quantity`` names it the same way whatever the parameters (e.g.
"idle VM alloc after the change", so a sweep's tidy table pivots on it); its ``label`` is how
tables show it in this run (e.g. "idle VM alloc, τ = 0.75"). ``relation`` says how (``"≈"``:
|esxlab − paper| ≤ tolerance; ``"≥"``/``"≤"``: esxlab at least/at most paper, give or take the
tolerance). Rows the paper has no number for (beyond-the-paper studies) have ``paper=None``
and are not checked; rows where the model cannot match the paper say so in ``note`` rather
than hide it.

Two kinds of checked row: *predictions* (what the model says about the paper's result) and
*set-up checks* (``kind="set-up"``: quantities that follow from how the experiment is set up,
e.g. a VM never below its min, or equal allocations under equal shares at τ = 0, or that test
only an invented input, e.g. Figure 2's throughput curve, which its dbench was fitted to); tables list
the latter apart, and the "within tolerance" counts are of predictions. A prediction that an invented
value was fitted or sized to (the experiment's ``FITTED``, given as ``Result(fitted=...)``) has ``fitted``
True: it checks the fit more than the model, and tables mark it (column "fitted"). A row whose run left
the paper's setting (``off_setting``: the controls that moved) is not compared: its paper
value is "—" and its note names the moved controls.

Over several seeds :func:`summarize` turns one table per seed into rows of means: ``esxlab``
is the mean, ``sd`` the standard deviation, ``values`` the per-seed values, and ``within``
judges the mean; a row whose ``sd`` exceeds its tolerance is flagged (``spread``). Tables show
"mean ± sd" over two seeds or more, and the value alone over one (a single seed has no spread).

    res = esx.experiments.fig7.run(seed=1)
    print(res.render())
    res.to_csv("out/")            # fig7_table.csv, fig7_<trace>.csv, fig7_<trace>_decisions.csv
"""
from __future__ import annotations

import csv
import dataclasses
import os
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, Error, shorten
from ..trace import HOST_FIELDS, VM_FIELDS, Decision, Trace

RELATIONS = ("≈", "≥", "≤")
KINDS = ("prediction", "set-up")
COLUMNS = ("experiment", "quantity", "paper", "esxlab", "tolerance", "fitted", "within", "note")


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "—"
    return f"{x:.3g}{(' ' + unit) if unit else ''}" if abs(x) < 1000 else f"{x:.0f}{(' ' + unit) if unit else ''}"


@dataclass(frozen=True)
class Row:
    """One quantity: the paper's value beside esxlab's, with the tolerance it must stay within.

    ``paper`` is None (a blank CSV cell, "—" in tables) when the paper gives no number or the run left
    its setting (``note`` then says which); ``relation`` is how ``within`` compares (``"≈"``, ``"≥"``,
    ``"≤"``: see the module docstring); ``kind`` is ``"prediction"`` or ``"set-up"`` (a set-up check);
    ``fitted``: an invented value was fitted or sized to this prediction (see the module docstring)."""

    experiment: str
    quantity: str
    paper: float | None
    esxlab: float
    tolerance: float | None
    unit: str = ""
    relation: str = "≈"
    note: str = ""
    kind: str = "prediction"
    label: str = ""                         # how tables show it, if not as ``quantity``
    fitted: bool = False                    # an invented value was fitted or sized to it (predictions only)
    sd: float | None = None                 # over seeds (rows made by :func:`summarize`)
    values: tuple[float, ...] = ()          # one per seed (rows made by :func:`summarize`)

    def __post_init__(self) -> None:
        if self.relation not in RELATIONS:
            raise ConfigError(f"Row.relation = {self.relation!r} is not allowed; choose one of {', '.join(RELATIONS)}.")
        if self.kind not in KINDS:
            raise ConfigError(f"Row.kind = {self.kind!r} is not allowed; choose one of {', '.join(KINDS)}.")
        if not isinstance(self.fitted, bool):
            raise ConfigError(f"Row.fitted = {shorten(self.fitted)} is not allowed; allowed: True or False.")
        if self.fitted and self.kind != "prediction":
            raise ConfigError(f"Row {self.quantity!r} is a set-up check and fitted; only a prediction is marked "
                              "fitted (a set-up check is not counted as one anyway).")

    @property
    def title(self) -> str:
        """How tables show the row: its ``label``, else its ``quantity``."""
        return self.label or self.quantity

    @property
    def spread(self) -> bool:
        """The seeds disagree by more than the tolerance (standard deviation > tolerance; "≈" rows)."""
        return bool(self.sd is not None and self.relation == "≈" and self.tolerance and self.paper is not None
                    and self.sd > self.tolerance)

    @property
    def within(self) -> bool | None:
        """True/False if checked against the paper; None when the paper gives no number."""
        if self.paper is None or self.tolerance is None:
            return None
        if not np.isfinite(self.esxlab):
            return False
        if self.relation == "≥":
            return bool(self.esxlab >= self.paper - self.tolerance)
        if self.relation == "≤":
            return bool(self.esxlab <= self.paper + self.tolerance)
        return bool(abs(self.esxlab - self.paper) <= self.tolerance)

    @property
    def compared_as(self) -> str | None:
        """``relation``, or None when the row is not compared (``within`` None): a CSV's ``relation`` cell."""
        return None if self.within is None else self.relation

    @property
    def compared_fitted(self) -> bool | None:
        """``fitted``, or None when the row is not compared (``within`` None): a CSV's ``fitted`` cell."""
        return None if self.within is None else self.fitted

    def cells(self) -> list[str]:
        """The row as text cells, in :data:`COLUMNS` order."""
        paper = "—" if self.paper is None else (("" if self.relation == "≈" else self.relation + " ")
                                                 + _fmt(self.paper, self.unit))
        tol = ("—" if self.tolerance is None or (self.relation != "≈" and self.tolerance == 0)
               else "± " + _fmt(self.tolerance, self.unit))
        within = {True: "yes", False: "NO", None: "—"}[self.within] + (", spread > tolerance" if self.spread else "")
        value = _fmt(self.esxlab, self.unit)
        if self.sd is not None and len(self.values) != 1:         # one seed has no spread to show
            value = f"{_fmt(self.esxlab)} ± {_fmt(self.sd, self.unit)}"
        return [self.experiment, self.title, paper, value, tol, "yes" if self.fitted else "", within, self.note]


#: characters a footnote line of :func:`render_table` holds
FOOTNOTE_WIDTH = 100
#: what a table's column "fitted" means, said under the table when it shows one
FITTED_LEGEND = ("fitted: yes where an invented value of the model was fitted or sized to that prediction; agreeing "
                 "there checks the fit more than the model.")


def heads(reference: str = "paper") -> list[str]:
    """The headers of :meth:`Row.cells` but the note: :data:`COLUMNS`, ``reference`` heading the compared values."""
    return [reference if name == "paper" else name for name in COLUMNS[:-1]]


def shown(rows: Sequence[Row]) -> list[int]:
    """Which of :meth:`Row.cells` a table of ``rows`` shows, as indices: all but the note, and "fitted"
    only when some row is (a set-up check never is: the set-up checks' table has no such column)."""
    return [i for i, name in enumerate(COLUMNS[:-1]) if name != "fitted" or any(r.fitted for r in rows)]


def render_table(rows: list[Row], notes: bool = True, reference: str = "paper") -> str:
    """A plain-text table of ``rows``, set-up checks in a second table below the predictions;
    notes, if any, as numbered footnotes. Rows over seeds (:func:`summarize`) show mean ± sd, or
    over one seed the value alone (the header says so); column "fitted" marks the predictions an invented
    value was fitted to (:attr:`Row.fitted`), when there are any, and :data:`FITTED_LEGEND` under the table
    says so. ``reference`` heads the column of the values compared with (an experiment's ``REFERENCE``, e.g.
    "later ESX"). ConfigError unless ``rows`` is a list of :class:`Row`."""
    rows = _check_rows("render_table", rows)
    head = heads(reference)
    if rows and rows[0].sd is not None:
        head[3] = "esxlab (1 seed)" if len(rows[0].values) == 1 else "esxlab mean ± sd"
    foot: list[str] = []

    def cells(r: Row) -> list[str]:
        c = r.cells()
        if notes and r.note:
            if r.note not in foot:
                foot.append(r.note)
            c[6] += f" [{foot.index(r.note) + 1}]"
        return c[:-1]

    parts = [(title, [r for r in rows if r.kind == kind]) for title, kind in (
        (None, "prediction"),
        ("Set-up checks (follow from the set-up, or test only an invented input; not counted as predictions)",
         "set-up"))]
    table = {id(r): cells(r) for _, part in parts for r in part}      # in the order shown: footnotes count so
    widths = [max(len(x) for x in col) for col in zip(head, *table.values())]
    out: list[str] = []
    for title, part in parts:
        if not part and (title or parts[1][1]):        # an empty table, unless nothing at all is to be shown
            continue
        columns = shown(part)
        line = lambda c: "  ".join(c[i].ljust(widths[i]) for i in columns).rstrip()
        out += ["", title + ":"] if title else []
        out += [line(head), line(["-" * w for w in widths])] + [line(table[id(r)]) for r in part]
    wrap = lambda text, indent: textwrap.fill(text, FOOTNOTE_WIDTH, subsequent_indent=" " * indent,
                                              break_long_words=False, break_on_hyphens=False)
    if any(r.fitted for r in rows):
        out += ["", wrap(FITTED_LEGEND, 0)]
    if foot:
        out.append("")
    # wrapped at spaces: a notebook's output breaks a long line anywhere, in mid-word
    out += [wrap(f"[{i}] {n}", len(str(i)) + 3) for i, n in enumerate(foot, 1)]
    return "\n".join(out).lstrip("\n")


def _one_number(label: str, name: str, value: Any, none: bool = False, lo: float | None = None) -> float | None:
    """``value`` as a float (None kept where ``none``); ConfigError, starting with ``label``, for anything but one real
    number (an array where its mean was meant, a string, a bool, a complex number), one below ``lo``, or NaN where
    None is allowed (None says "no value"). NaN passes for esxlab's value: a quantity a run could not measure."""
    if value is None and none:
        return None
    allowed = f"one number{' ≥ %g' % lo if lo is not None else ''}{', or None (not compared)' if none else ''}"
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None or np.ndim(value) != 0 \
            or np.iscomplexobj(value):
        many = "an array" if isinstance(value, np.ndarray) else f"a {type(value).__name__}"
        shape = f", {many} of shape {np.shape(value)}: give one number, e.g. its mean" if np.ndim(value) else ""
        raise ConfigError(f"{label}: {name} = {shorten(value)} ({type(value).__name__}{shape}) is not allowed; "
                          f"allowed: {allowed}.")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{label}: {name} = {shorten(value)} ({type(value).__name__}) is not a number; "
                          f"allowed: {allowed}.") from None
    if lo is not None and not number >= lo or none and np.isnan(number):
        nan = ": give None for a quantity the paper gives no value for" if none and np.isnan(number) else ""
        raise ConfigError(f"{label}: {name} = {shorten(value)} is not allowed{nan}; allowed: {allowed}.")
    return number


def _fitted_names(fitted: Any) -> tuple[str, ...]:
    """``fitted`` as a tuple of quantity names; ConfigError unless it is a tuple or list of non-empty strings."""
    if not isinstance(fitted, (tuple, list)) or not all(isinstance(q, str) and q for q in fitted):
        hint = f": ('{fitted}') is a string, write ('{fitted}',)" if isinstance(fitted, str) else ""
        raise ConfigError(f"Result.fitted = {shorten(fitted)} is not allowed{hint}; allowed: a tuple (or list) of the "
                          "quantities an invented value was fitted to, e.g. ('dbench throughput gain',), or ('*',) "
                          "for every prediction.")
    return tuple(fitted)


def _check_rows(label: str, rows: Any) -> list[Row]:
    """``rows`` as a list; ConfigError, starting with ``label``, unless it is a sequence of :class:`Row`."""
    if isinstance(rows, Sequence) and not isinstance(rows, (str, bytes)) and all(isinstance(r, Row) for r in rows):
        return list(rows)
    raise ConfigError(f"{label}: rows = {shorten(rows)} is not allowed; give a list of Row, e.g. a Result's "
                      "table or a SweepTable's summary().")


def predictions(rows: list[Row]) -> list[Row]:
    """The checked prediction rows (set-up checks and rows without a paper value left out)."""
    return [r for r in rows if r.kind == "prediction" and r.within is not None]


def summarize(tables: list[list[Row]], labels: Sequence[str] | None = None) -> list[Row]:
    """One row per quantity from one table per seed: the mean as ``esxlab``, the standard
    deviation (ddof = 1; 0 for one seed) as ``sd``, the seeds' values as ``values``.

    Rows are matched by (experiment, quantity); every table must hold the same quantities
    (ConfigError otherwise, naming a quantity and the tables by ``labels``, e.g. "seed 1"). A note any
    seed gave is kept (the first one)."""
    labels = list(labels or (f"table {i}" for i in range(len(tables))))
    keys = [(r.experiment, r.quantity) for r in tables[0]]
    for label, t in zip(labels[1:], tables[1:]):
        got = [(r.experiment, r.quantity) for r in t]
        if got != keys:
            only = [k for k in got if k not in keys] or [k for k in keys if k not in got]
            which = (f"{label} has {only[0][1]!r}, which {labels[0]} has not" if set(got) - set(keys) else
                     f"{labels[0]} has {only[0][1]!r}, which {label} has not" if only else
                     f"{label} lists the same quantities in another order")
            raise ConfigError(f"summarize: the seeds' tables list different quantities ({which}); every seed must "
                              "run the same experiments with the same parameters, and add the same rows.")
    out = []
    for i, first in enumerate(tables[0]):
        vals = np.array([t[i].esxlab for t in tables], dtype=float)
        note = next((t[i].note for t in tables if t[i].note), "")
        sd = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
        out.append(dataclasses.replace(first, esxlab=float(np.mean(vals)), sd=sd, values=tuple(map(float, vals)),
                                       note=note))
    return out


def _csv_columns(key: str, trace: Any) -> dict[str, Sequence]:
    """:func:`_columns` of the trace named ``key`` as a CSV holds them: the host's free-memory state by name
    (``high`` … ``low``, :data:`esxlab.reclaim.STATES`), not by its index. ConfigError unless every column
    is 1-D."""
    cols: dict[str, Sequence] = dict(_columns(trace))
    if isinstance(trace, Trace):
        cols["host_state"] = trace.state_names()
    for name, col in cols.items():
        if np.ndim(col) != 1:
            raise ConfigError(f"Result.to_csv: trace {key!r}'s column {name!r} has shape {np.shape(col)}, not one "
                              "value per row; allowed: an esx.Trace, a dict of name → 1-D array, or one 1-D array.")
    return cols


def _columns(trace: Any) -> dict[str, np.ndarray]:
    """Flatten a trace (esx.Trace, dict of arrays, or one array) into named 1-D columns."""
    if isinstance(trace, Trace):
        cols = {"t_s": trace.t}
        cols.update({f"host_{f}": getattr(trace.host, f) for f in HOST_FIELDS})
        for name in trace.vm_names:
            vm = trace.vm(name)
            cols.update({f"{name}_{f}": getattr(vm, f) for f in VM_FIELDS})
        return cols
    if isinstance(trace, dict):
        return {k: np.asarray(v) for k, v in trace.items()}
    return {"value": np.asarray(trace)}


class TraceKeyError(Error, KeyError):
    """A Result has no trace of that name (a KeyError too, so ``except KeyError`` works as usual)."""

    def __str__(self) -> str:                  # the sentence, not KeyError's repr of it
        return str(self.args[0])


class Traces(dict):
    """A Result's traces, name → trace: a dict whose missing name raises :class:`TraceKeyError`
    naming the traces there are (and, for a VM's name, where its series are)."""

    def __missing__(self, key: Any) -> Any:
        has = ", ".join(map(repr, self)) or "none"
        vm = next((f" ({key!r} is a VM: its series are res.traces[{name!r}].vm({key!r}))" for name, trace in
                   self.items() if isinstance(trace, Trace) and key in trace.vm_names), "")
        raise TraceKeyError(f"Result.traces has no trace {shorten(key)}; it has: {has}{vm}.")


@dataclass
class Result:
    """``traces`` (name → esx.Trace or arrays), ``table`` (list of :class:`Row`), ``params``;
    ``reference``: where the compared values come from, heading their column (the paper's, unless
    the experiment's ``REFERENCE`` says otherwise); ``fitted``: the quantities of the predictions an invented
    value was fitted or sized to (the experiment's ``FITTED``; "*": all of them), which :meth:`add` marks
    (:attr:`Row.fitted`) unless the run left the paper's setting (``off_setting``: not compared, so nothing to
    mark). ``name`` starts the CSV files' names (:meth:`to_csv`). ConfigError for a name that cannot name a
    file, params that are not a dict, traces that are not a dict (``traces={"run": trace}``, not
    ``traces=trace``), or ``fitted`` not a tuple of quantity names."""

    name: str
    params: dict[str, Any]
    traces: dict[str, Any] = field(default_factory=dict)
    table: list[Row] = field(default_factory=list)
    reference: str = "paper"
    fitted: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or "/" in self.name or "\\" in self.name:
            raise ConfigError(f"Result.name = {shorten(self.name)} is not allowed; allowed: a non-empty name without "
                              "/ or \\, as it starts the CSV files' names (e.g. 'mine' → mine_table.csv).")
        if not isinstance(self.params, Mapping):
            raise ConfigError(f"Result.params = {shorten(self.params)} is not allowed; allowed: a dict of parameter "
                              "name → value, e.g. dict(vars(p), seed=seed).")
        if not isinstance(self.traces, Mapping):
            got = "a Trace" if isinstance(self.traces, Trace) else \
                f"{shorten(self.traces)} ({type(self.traces).__name__})"
            raise ConfigError(f"Result.traces must be a dict of name → trace (an esx.Trace, a dict of arrays or one "
                              f"array), e.g. traces={{'run': trace}}; got {got}.")
        self.traces = Traces(self.traces)
        self.fitted = _fitted_names(self.fitted)

    def add(self, quantity: str, paper: float | None, esxlab: float, tolerance: float | None,
            unit: str = "", relation: str = "≈", note: str = "", note_if_off: str = "",
            kind: str = "prediction", off_setting: str = "", label: str = "") -> Row:
        """Add a row comparing ``esxlab`` with the paper's value; returns it. A prediction goes after the
        predictions and a set-up check at the end, so :attr:`table` (and the CSVs written from it) lists rows in
        the order the printed table shows them.

        ``quantity`` must not depend on the parameters' values; ``label`` (default: ``quantity``)
        may, and is what tables show.
        ``note`` always goes with the row; ``note_if_off`` only when the row is outside its
        tolerance (the model's known reason for missing the paper, said plainly).
        ``kind="set-up"`` marks a set-up check. ``off_setting`` (e.g. "tax_rate = 0, default
        0.75") says the run left the set-up compared with the paper: the row is then not compared.
        ConfigError unless ``esxlab`` is one number (NaN: the run could not measure it; an array's mean, not the
        array), ``paper`` None or a number, ``tolerance`` None or a number ≥ 0."""
        who = f"{self.name}: Result.add({shorten(quantity)})"
        esxlab, paper = _one_number(who, "esxlab", esxlab), _one_number(who, "paper", paper, none=True)
        tolerance = _one_number(who, "tolerance", tolerance, none=True, lo=0)
        if off_setting:
            paper, tolerance = None, None
            note = f"{self.name}: not the set-up compared with the paper ({off_setting}); not compared."
        self.fitted = _fitted_names(self.fitted)          # (it may have been set since)
        if kind != "prediction" and quantity in self.fitted:
            raise ConfigError(f"{self.name}: {quantity!r} is named in Result.fitted but added as a set-up check; "
                              "only a prediction is marked fitted: leave it out of fitted, or add it as a prediction.")
        fitted = kind == "prediction" and not off_setting and ("*" in self.fitted or quantity in self.fitted)
        row = Row(self.name, quantity, None if paper is None else float(paper), float(esxlab),
                  None if tolerance is None else float(tolerance), unit, relation, note, kind, label or quantity,
                  fitted)
        if note_if_off and row.within is False:
            row = dataclasses.replace(row, note=note_if_off)
        # kept in the order tables show: predictions before set-up checks, each in the order added
        at = len(self.table) if kind != "prediction" else \
            next((i for i, r in enumerate(self.table) if r.kind != "prediction"), len(self.table))
        self.table.insert(at, row)
        return row

    def row(self, quantity: str) -> Row:
        """The row for ``quantity``, or labelled ``quantity`` (ConfigError naming the known
        quantities if absent, as tables show them, with their names where those differ)."""
        for r in self.table:
            if quantity in (r.quantity, r.title):
                return r
        known = ", ".join(repr(r.title) + (f" (or {r.quantity!r})" if r.title != r.quantity else "")
                          for r in self.table)
        raise ConfigError(f"{self.name} has no quantity {quantity!r}; it has: {known}.")

    def value(self, quantity: str) -> float:
        """esxlab's value of the row ``quantity`` names (its quantity or its title); ConfigError if none does."""
        return self.row(quantity).esxlab

    @property
    def failures(self) -> list[Row]:
        """Checked rows outside their tolerance."""
        return [r for r in self.table if r.within is False]

    @property
    def within(self) -> bool:
        """Every checked row is within its tolerance."""
        return not self.failures

    def render(self) -> str:
        """The table as text: paper (or the ``reference``) beside esxlab, tolerance, fitted (when some row is), within,
        and the notes under it (:func:`render_table`)."""
        return render_table(self.table, reference=self.reference)

    def __str__(self) -> str:
        return self.render()

    def to_csv(self, directory: str | Path) -> list[Path]:
        """Write into ``directory`` (created if missing) ``<name>_table.csv`` (:func:`write_table_csv`)
        and per trace ``<name>_<trace>.csv``: one row per tick, columns ``t_s``, ``host_<field>``
        and ``<vm>_<field>`` (:data:`~esxlab.trace.HOST_FIELDS`, :data:`~esxlab.trace.VM_FIELDS`;
        values to 15 significant digits, exact for every MB value (a whole number of 4 KB pages is a multiple of
        1/256 MB: a 128 GB host's 131028.6015625 MB free, which 6 digits wrote as 131029), NaN while a VM is off;
        ``host_state`` by name, high … low);
        for an :class:`~esxlab.trace.Trace` also ``<name>_<trace>_decisions.csv``, its decision log
        (one row per :class:`~esxlab.trace.Decision`: tick, vm, action, pages, why, until). Returns
        the paths; ConfigError if ``directory`` cannot be made or a file cannot be written."""
        check_dir("Result.to_csv: directory =", directory)
        d = Path(directory)
        paths = [write_table_csv(self.table, d / f"{self.name}_table.csv")]
        for key, trace in self.traces.items():
            cols = _csv_columns(key, trace)
            n = max((len(v) for v in cols.values()), default=0)
            cells = ([(v[i] if isinstance(v[i], str) else f"{v[i]:.15g}") if i < len(v) else "" for v in cols.values()]
                     for i in range(n))
            paths.append(write_csv(d / f"{self.name}_{key}.csv", list(cols), cells, "Result.to_csv: file ="))
            if isinstance(trace, Trace):
                paths.append(write_csv(d / f"{self.name}_{key}_decisions.csv", DECISION_COLUMNS,
                                       (dataclasses.astuple(x) for x in trace.decisions), "Result.to_csv: file ="))
        return paths


#: the columns of a decision log's CSV: :class:`~esxlab.trace.Decision`'s fields (``until``: blank
#: for one tick, else the last tick of a decision repeated every second)
DECISION_COLUMNS = tuple(f.name for f in dataclasses.fields(Decision))


def write_table_csv(rows: list[Row], path: str | Path, seeds: list[int] | None = None) -> Path:
    """Rows as CSV, one per quantity; returns the path. Columns: experiment, quantity (its stable
    name), paper (blank when the paper gives no number or the run left its setting: ``note`` says
    which), esxlab (esxlab's value, the mean over seeds for rows from :func:`summarize`: the column
    the printed table calls "esxlab"; a sweep's tidy CSV, one row per run, calls it ``value``),
    tolerance, unit, relation (≈, ≥ or ≤: how ``within`` compares; blank when not compared), note (the
    row's footnote), kind (prediction or set-up: the part of the printed table it is in), label (how the
    printed table names it), fitted (True for a prediction an invented value was fitted to; blank when not
    compared), within (True/False; blank when not compared). With ``seeds`` (rows from
    :func:`summarize`) also sd (ddof = 1), spread (True when the seeds disagree by more than the
    tolerance: sd > tolerance, "≈" rows) and seed_<s>, one column per seed's value."""
    names = [f.name for f in dataclasses.fields(Row) if f.name not in ("sd", "values")]
    extra = ["sd", "spread"] + [f"seed_{s}" for s in seeds] if seeds else []
    compared = {"relation": "compared_as", "fitted": "compared_fitted"}       # blank when not compared
    return write_csv(path, names + ["within"] + extra,
                     ([getattr(r, compared.get(n, n)) for n in names] + [r.within]
                      + ([r.sd, r.spread, *r.values] if seeds else []) for r in rows), "write_table_csv: path =")


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]], label: str) -> Path:
    """Write ``header`` and ``rows`` to ``path`` as CSV, None as an empty cell; returns the path.
    ConfigError, starting with ``label`` (e.g. "SweepTable.to_csv: path ="), if it is not a file's name or cannot
    be written."""
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(f"{label} {shorten(path)} ({type(path).__name__}) is not a file's name; allowed: a str or "
                          "pathlib.Path naming a file in an existing, writable directory, e.g. 'results.csv'.")
    path = Path(path)
    try:
        fh = path.open("w", newline="")
    except OSError as e:
        raise ConfigError(f"{label} {str(path)!r} cannot be written ({e.strerror or e}); allowed: a file name in "
                          "an existing, writable directory.") from None
    try:
        with fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows([("" if x is None else x) for x in row] for row in rows)
    except OSError as e:                          # opened, then the disk filled (or went away) while writing
        raise ConfigError(f"{label} {str(path)!r} could not be written to the end ({e.strerror or e}); what it "
                          "holds is incomplete: free space, or give a file elsewhere, and write it again.") from None
    return path


def check_dir(label: str, directory: str | Path) -> None:
    """Refuse ``<label> DIR`` (e.g. "reproduce: --csv") unless DIR is (or can be made) a writable
    directory; it is created if missing."""
    if not isinstance(directory, (str, os.PathLike)):
        raise ConfigError(f"{label} {shorten(directory)} is not allowed; allowed: a directory's name, e.g. 'out/' "
                          "(it is created if missing).")
    if str(directory) == "":
        raise ConfigError(f"{label} '' is an empty name; allowed: a directory (it is created if missing).")
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{label} {directory} is an existing file, not a directory; "
                          "allowed: a directory (it is created if missing).")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"{label} {directory} cannot be created ({e.strerror or e}); "
                          "allowed: a directory you can write to.") from None
    if not os.access(path, os.W_OK):
        raise ConfigError(f"{label} {directory} is not writable; allowed: a directory you can write to.")
