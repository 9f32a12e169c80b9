"""What a saved notebook shows in place of its dashboards.

JupyterLab saves a run notebook with each widget's output but not the widgets' state
(its ``saveState`` setting is off), so a reopened notebook would say "Error displaying
widget: model not found". :func:`pre_save` (a jupyter_server ``pre_save_hook``, set by the
repository's ``jupyter_server_config.py`` that ``make lab`` uses) replaces every widget output
by a note telling the student to run the cells. Committed notebooks carry no outputs at
all: git's nbstripout filter strips them (see the Makefile). (invented)
"""
from __future__ import annotations

from typing import Any

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
NOTE = "This dashboard is live only while its kernel runs: choose Run → Run All Cells to see it again."
NOTE_HTML = f"<div style='padding:6px 10px;border-left:4px solid #E69F00;background:#fff8e6'>▶ {NOTE}</div>"


def note_bundle() -> dict[str, str]:
    """The output data that stands in for a widget view: plain text and HTML."""
    return {"text/plain": NOTE, "text/html": NOTE_HTML}


def pre_save(model: dict, **kwargs: Any) -> None:
    """jupyter_server pre-save hook: in a notebook ``model`` (contents API dict), replace the
    data of every output holding a widget view by :func:`note_bundle` and drop saved widget
    state (``metadata.widgets``); other files are left alone."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    nb = model["content"]
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            if WIDGET_VIEW in out.get("data", {}):
                out["data"] = note_bundle()
