"""Two eras of ESX side by side: :mod:`esxlab.experiments.esx_today` as one dashboard (later ESX,
issue 15; nothing here is in the paper).

:class:`EraDashboard` is an :class:`~esxlab.views.ExperimentDashboard` of ``esx_today``: its
standard panels show the limited VM (the ``limit`` trace), and below them each era's overcommitted
host gets a chart of what memory went where (free, saved by sharing, saved by compression, swap
used, each in its page state's colour) above its free-memory state strip — ESX Server 2002 on the
left, ESXi 6 on the right — and a last chart and strip show sharing on the large-page host before
and after the memory hog starts.

    dash = views.EraDashboard(["limit_mb", "host_mb"])
    dash                     # in a notebook cell
"""
from __future__ import annotations

from typing import Any, Sequence

import ipywidgets as widgets

from ..experiments import esx_today
from .components import COLORS, StateStrip, TimeSeries, host_ylabel
from .dashboards import PRESET_TITLES, ExperimentDashboard, Run

#: host series drawn per era, each in the colour of the page state it is about
MEANING = {"free": "free", "shared_saved": "shared", "compression_saved": "compressed", "swap_used": "swapped"}
ERA_FIELDS = tuple(MEANING)
SHARING_FIELDS = ("shared_saved",)


def _chart(fields: Sequence[str], title: str) -> TimeSeries:
    """A :class:`TimeSeries` of host ``fields`` coloured by the page state each is about."""
    chart = TimeSeries(fields, title=title, ylabel=host_ylabel(fields))
    chart.set_colors([COLORS[MEANING[f]] for f in fields])
    chart.cursor.visible = False           # these charts show whole runs: no minute to point at
    return chart


class EraDashboard(ExperimentDashboard):
    """``esx_today`` with the eras side by side. ``controls`` names its :data:`PARAMS
    <esxlab.experiments.esx_today.PARAMS>` to show as sliders; ``overrides``, ``fixed``, ``seed`` and
    ``panels`` are :class:`ExperimentDashboard`'s. Bad arguments raise ConfigError (as there)."""

    def __init__(self, controls: Sequence[str] = ("limit_mb",), overrides: dict[str, dict] | None = None,
                 fixed: dict[str, Any] | None = None, seed: int = 0,
                 panels: Sequence[str] = ("table", "series", "why")) -> None:
        self.era_charts = {era: _chart(ERA_FIELDS, PRESET_TITLES[era]) for era in esx_today.ERAS}
        self.era_strips = {era: StateStrip(title=f"{PRESET_TITLES[era]}: free-memory state")
                           for era in esx_today.ERAS}
        self.sharing = _chart(SHARING_FIELDS, "Large pages (ESXi 6): sharing before and after the hog starts")
        self.sharing_strip = StateStrip(title="Large pages (ESXi 6): free-memory state")
        columns = [widgets.VBox([self.era_charts[era].widget, self.era_strips[era].widget],
                                layout=widgets.Layout(width="50%")) for era in esx_today.ERAS]
        super().__init__(esx_today, controls, trace_key="limit", overrides=overrides, fixed=fixed, seed=seed,
                         panels=panels, extra=[widgets.HBox(columns), self.sharing.widget, self.sharing_strip.widget])

    def charts(self) -> dict[str, TimeSeries]:
        """:class:`~esxlab.views.ExperimentDashboard`'s, and each era's host chart by its preset's name
        (``"esx2002"``, ``"esxi6"``; lines: :data:`ERA_FIELDS`) and ``"large_pages"`` (:data:`SHARING_FIELDS`)."""
        return {**super().charts(), **self.era_charts, "large_pages": self.sharing}

    def draw_extra(self, run: Run) -> None:
        """The two eras' host charts and state strips, and the large-page host's sharing."""
        super().draw_extra(run)
        for era in esx_today.ERAS:
            tr = run.result.traces[era]
            self.era_charts[era].update(tr.minutes, {f: getattr(tr.host, f) for f in ERA_FIELDS})
            self.era_strips[era].update(tr.minutes, tr.host.state)
        tr = run.result.traces["large_pages"]
        self.sharing.update(tr.minutes, {f: getattr(tr.host, f) for f in SHARING_FIELDS})
        self.sharing_strip.update(tr.minutes, tr.host.state)
        self.sharing.mark(run.result.params["calm_min"], "hog starts")


__all__ = ["EraDashboard"]
