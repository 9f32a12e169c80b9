"""The dashboards' colours in one place.

One colour-blind-safe palette (Okabe & Ito, 2008), one colour per page state everywhere: private blue, shared
bluish green, ballooned light yellow, swapped vermillion, compressed wine (Paul Tol's), overhead reddish purple,
free/unbacked light grey (each declared with its state or metric in :mod:`esxlab.metrics`). Series that are no
page state or metric take colours the palette leaves unused (Paul Tol's "muted" set), in the order of
:data:`OTHER_COLORS` (:func:`series_colors`). The free-memory states (§6.3) run from light to dark.

Each chart's colours stay apart for students with protanopia, deuteranopia or tritanopia: ``tests/test_views.py``
simulates them (Machado, Oliveira & Fernandes 2009, with the colour-science library) and requires a CIEDE2000
difference of at least 10 between any two series of a chart, in normal vision and under each deficiency (a
teaching aid's choice, not the paper's).
"""
from __future__ import annotations

import re
from typing import Sequence

from ..metrics import METRICS, PAGE_STATES

#: Okabe–Ito colours by meaning: each page state's and metric's (declared in esxlab.metrics)
COLORS = {**{m.name: m.color for m in METRICS if m.color}, **{s.name: s.color for s in PAGE_STATES}}
COLORS.update({"shared frames": COLORS["shared"], "ballooned": COLORS["balloon"],     # the same things, other names
               "sharing table": COLORS["sharing_table"],
               "estimate": COLORS["active"]})                                         # Figure 6's active estimate
#: series without a page state's colour: Tol's muted colours that the palette above does not use (so in normal
#: vision such a series never looks like a page state; under a deficiency some come close to one, rose 4.0
#: CIEDE2000 from shared's green under deuteranopia, so only the pairs a chart draws are checked), none grey (the
#: paper's points are grey, PAPER_COLOR), in the order charts take them: rose before teal, which is 4.8 from
#: shared's green and 7.4 from active's blue under tritanopia (04's zero_shared beside shared_saved, Figure 6's fast
#: beside the estimate)
OTHER_COLORS = ["#332288", "#999933", "#CC6677", "#44AA99", "#DDCC77", "#AA4499", "#88CCEE"]
PMAP_COLORS = [s.color for s in PAGE_STATES]                                             # STATE_NAMES order
#: high, clear (ESXi 6), soft, hard, low: light to dark; clear a pale yellow (a pale blue was 7 CIEDE2000 from
#: high's pale green under tritanopia)
STATE_COLORS = ["#DDEEDD", "#F7E08B", "#E69F00", COLORS["swapped"], "#8B1A00"]
#: the paper's digitized points: grey, a colour no series takes (contrast 5.7 on white)
PAPER_COLOR = "#666666"
#: colours with less contrast than this against white (the Okabe–Ito yellow: 1.3) get a darker edge on lines
LIGHT = 1.7
#: text that warns (an alarming count, an error): swapped's vermillion, darkened to a contrast of 5.6 on white (WCAG's
#: 4.5 for small text; the vermillion itself is 3.9)
WARNING_TEXT = "#AA4B00"


def series_colors(fields: Sequence[str]) -> list[str]:
    """One colour per series of a chart: a page state's or metric's own (:data:`COLORS`); the others take
    :data:`OTHER_COLORS` in order (a series' colour depends only on the other such series before it)."""
    others = iter(OTHER_COLORS * (1 + len(fields) // len(OTHER_COLORS)))
    return [COLORS[f] if f in COLORS else next(others) for f in fields]


def contrast(color: str) -> float:
    """The WCAG contrast ratio of ``color`` ("#RRGGBB"; a colour by name counts as dark: 21) against white (1 to 21)."""
    if not re.fullmatch("#[0-9A-Fa-f]{6}", color):
        return 21.0
    rgb = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 1.05 / (0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2] + 0.05)


def darker(color: str, factor: float = 0.55) -> str:
    """``color`` ("#RRGGBB") with each channel scaled by ``factor``: a shade of the same hue."""
    return "#" + "".join(f"{int(int(color[i:i + 2], 16) * factor):02X}" for i in (1, 3, 5))
