"""Static figures for slides: the paper's digitized curves (grey) beside esxlab's, per figure.

``python -m esxlab reproduce --plots DIR`` calls :func:`write_plots`, which writes
``<figure>.png`` and ``<figure>.svg`` for each of Figures 2, 6, 7 and 8 that was run (the first
seed's run), with labelled axes and units. Needs matplotlib, the optional "plots" extra
(``pip install -e '.[plots]'``); the dashboards stay bqplot. Each line carries a ``gid``
("paper-<series>" or "esxlab-<series>"), which the SVG keeps as the element id.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, check_number, install_hint
from .paper import FIG2_REFERENCE, FIGURES, VM_LABELS, esxlab_series, paper_series, split_key
from .result import Result

PAPER_STYLE = dict(color="0.55", linewidth=2.5, alpha=0.9)
#: colour-blind-safe (Okabe–Ito) colours for esxlab's series
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
#: the i-th series' dash pattern, the paper's line and esxlab's alike: series tell apart without colour (in grey
#: print, or for a student who sees two of the colours alike), and each esxlab line matches its paper line
LINESTYLES = ("-", "--", ":", "-.")


def require_matplotlib() -> None:
    """ConfigError with an install hint when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConfigError(f"reproduce: --plots needs matplotlib; {install_hint('plots')}.") from None


def _label(key: str) -> str:
    """A series key as a legend reads it: "citrix_active" → "MetaFrame: active"."""
    vm, quantity = split_key(key)
    return key if vm is None else f"{VM_LABELS[vm]}: {quantity}"


def _panels(name: str, series: dict[str, Any]) -> list[list[str]]:
    """Series names per panel: Figure 8 has three (all, MetaFrame, SQL), the others one."""
    if name != "fig8":
        return [list(series)]
    return [[k for k in series if k.startswith(p)] for p in ("all_", "citrix_", "sql_")]


#: the PNGs' resolution unless told (dots per inch; the figures are 7.5 in wide: 900 pixels), and the range allowed
DPI, DPI_RANGE = 120, (50, 600)


def plot_figure(name: str, res: Result, directory: str | Path, dpi: int = DPI) -> list[Path]:
    """Write ``<name>.png`` (``dpi`` dots per inch, e.g. 240 for a projector) and ``<name>.svg`` (paper vs esxlab)
    into ``directory``; the paths. ConfigError for a ``dpi`` outside :data:`DPI_RANGE`."""
    check_number("plot_figure", "dpi", dpi, *DPI_RANGE, integer=True)
    require_matplotlib()
    from matplotlib.figure import Figure

    spec = paper_series(name)
    ours = esxlab_series(name, res)
    panels = _panels(name, spec["series"])
    fig = Figure(figsize=(7.5, 3.2 * len(panels)), layout="constrained")
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    y_label = f"{spec['y']['label']} ({spec['y']['unit']})"
    if name == "fig2":
        y_label = "throughput / throughput at 256 MB"
    for ax, keys in zip(axes, panels):
        for i, key in enumerate(keys):
            px = np.asarray(spec["series"][key]["x"], dtype=float)
            py = np.array([np.nan if v is None else v for v in spec["series"][key]["y"]], dtype=float)
            if name == "fig2":
                py = py / FIG2_REFERENCE[1]
            colour = COLOURS[i % len(COLOURS)]
            ax.plot(px, py, marker="osD^"[i % 4], markersize=4, gid=f"paper-{key}", label=f"paper, {_label(key)}",
                    **{**PAPER_STYLE, "linestyle": LINESTYLES[i % len(LINESTYLES)]})
            x, y = ours[key]
            ax.plot(x, y, color=colour, linewidth=1.2, linestyle=LINESTYLES[i % len(LINESTYLES)], gid=f"esxlab-{key}",
                    label=f"esxlab, {_label(key)}", marker="s" if name == "fig2" else None, markersize=4)
        ax.set_xlabel(f"{spec['x']['label']} ({spec['x']['unit']})")
        ax.set_ylabel(y_label)
        ax.legend(fontsize="x-small", ncols=2, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.suptitle(f"{spec['title']}\npaper: grey, digitized from Waldspurger, OSDI 2002 (± 1 axis unit); "
                 f"esxlab: colours, seed {res.params.get('seed')}", fontsize="small")
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    paths = [d / f"{name}.png", d / f"{name}.svg"]
    for p in paths:
        fig.savefig(p, dpi=dpi)
    return paths


def write_plots(results: dict[tuple[str, int], Result], directory: str | Path, dpi: int = DPI) -> list[Path]:
    """One PNG (``dpi`` dots per inch) and one SVG per digitized figure among ``results`` (its first seed's run)."""
    paths: list[Path] = []
    for name in FIGURES:
        runs = [res for (n, _), res in results.items() if n == name]
        if runs:
            paths += plot_figure(name, runs[0], directory, dpi)
    return paths
