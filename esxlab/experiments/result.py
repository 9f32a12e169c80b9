"""What an experiment returns: its traces, a paper-vs-esxlab table and the parameters used.

Every experiment module has ``run(seed=0, **params) -> Result``. A :class:`Row` compares one
quantity with the paper: ``relation`` says how (``"≈"``: |esxlab − paper| ≤ tolerance;
``"≥"``/``"≤"``: esxlab at least/at most paper, give or take the tolerance). Rows the paper
has no number for (beyond-the-paper studies) have ``paper=None`` and are not checked; rows
where the model cannot match the paper say so in ``note`` rather than hide it.

    res = esx.experiments.fig7.run(seed=1)
    print(res.render())
    res.to_csv("out/")            # fig7_table.csv, fig7_<trace>.csv
"""
from __future__ import annotations

import csv
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..trace import HOST_FIELDS, VM_FIELDS, Trace

RELATIONS = ("≈", "≥", "≤")
COLUMNS = ("experiment", "quantity", "paper", "esxlab", "tolerance", "within", "note")


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "—"
    return f"{x:.3g}{(' ' + unit) if unit else ''}" if abs(x) < 1000 else f"{x:.0f}{(' ' + unit) if unit else ''}"


@dataclass(frozen=True)
class Row:
    """One quantity: the paper's value beside esxlab's, with the tolerance it must stay within."""

    experiment: str
    quantity: str
    paper: float | None
    esxlab: float
    tolerance: float | None
    unit: str = ""
    relation: str = "≈"
    note: str = ""

    def __post_init__(self) -> None:
        if self.relation not in RELATIONS:
            raise ConfigError(f"Row.relation = {self.relation!r} is not allowed; choose one of {', '.join(RELATIONS)}.")

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

    def cells(self) -> list[str]:
        """The row as text cells, in :data:`COLUMNS` order."""
        paper = "—" if self.paper is None else (("" if self.relation == "≈" else self.relation + " ")
                                                 + _fmt(self.paper, self.unit))
        tol = ("—" if self.tolerance is None or (self.relation != "≈" and self.tolerance == 0)
               else "± " + _fmt(self.tolerance, self.unit))
        within = {True: "yes", False: "NO", None: "—"}[self.within]
        return [self.experiment, self.quantity, paper, _fmt(self.esxlab, self.unit), tol, within, self.note]


def render_table(rows: list[Row], notes: bool = True) -> str:
    """A plain-text table of ``rows`` (notes, if any, as numbered footnotes below it)."""
    head = ["experiment", "quantity", "paper", "esxlab", "tolerance", "within"]
    body, foot = [], []
    for r in rows:
        c = r.cells()
        if notes and r.note:
            if r.note not in foot:
                foot.append(r.note)
            c[5] += f" [{foot.index(r.note) + 1}]"
        body.append(c[:6])
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    line = lambda cells: "  ".join(x.ljust(w) for x, w in zip(cells, widths)).rstrip()
    out = [line(head), line(["-" * w for w in widths])] + [line(c) for c in body]
    out += [f"[{i}] {n}" for i, n in enumerate(foot, 1)]
    return "\n".join(out)


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


@dataclass
class Result:
    """``traces`` (name → esx.Trace or arrays), ``table`` (list of :class:`Row`), ``params``."""

    name: str
    params: dict[str, Any]
    traces: dict[str, Any] = field(default_factory=dict)
    table: list[Row] = field(default_factory=list)

    def add(self, quantity: str, paper: float | None, esxlab: float, tolerance: float | None,
            unit: str = "", relation: str = "≈", note: str = "", note_if_off: str = "") -> Row:
        """Append a row comparing ``esxlab`` with the paper's value; returns it.

        ``note`` always goes with the row; ``note_if_off`` only when the row is outside its
        tolerance (the model's known reason for missing the paper, said plainly)."""
        row = Row(self.name, quantity, None if paper is None else float(paper), float(esxlab),
                  None if tolerance is None else float(tolerance), unit, relation, note)
        if note_if_off and row.within is False:
            row = dataclasses.replace(row, note=note_if_off)
        self.table.append(row)
        return row

    def row(self, quantity: str) -> Row:
        """The row for ``quantity`` (ConfigError naming the known quantities if absent)."""
        for r in self.table:
            if r.quantity == quantity:
                return r
        raise ConfigError(f"{self.name} has no quantity {quantity!r}; it has: "
                          f"{', '.join(repr(r.quantity) for r in self.table)}.")

    def value(self, quantity: str) -> float:
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
        return render_table(self.table)

    def __str__(self) -> str:
        return self.render()

    def to_csv(self, directory: str | Path) -> list[Path]:
        """Write ``<name>_table.csv`` and ``<name>_<trace>.csv`` per trace; return the paths."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        paths = [d / f"{self.name}_table.csv"]
        write_table_csv(self.table, paths[0])
        for key, trace in self.traces.items():
            cols = _columns(trace)
            path = d / f"{self.name}_{key}.csv"
            n = max((len(v) for v in cols.values()), default=0)
            with path.open("w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(list(cols))
                for i in range(n):
                    w.writerow([(f"{v[i]:.6g}" if i < len(v) else "") for v in cols.values()])
            paths.append(path)
        return paths


def write_table_csv(rows: list[Row], path: str | Path) -> None:
    """Rows as CSV: experiment, quantity, paper, esxlab, tolerance, unit, relation, within, note."""
    names = [f.name for f in dataclasses.fields(Row)]
    with Path(path).open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(names + ["within"])
        for r in rows:
            w.writerow([("" if getattr(r, n) is None else getattr(r, n)) for n in names]
                       + ["" if r.within is None else r.within])
