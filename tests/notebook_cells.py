"""Reading and running the lessons' cells in tests, as a reader and a kernel would."""
from __future__ import annotations

import re

import nbformat

NB = "notebooks/{}.ipynb"


def cells(name: str) -> list:
    """The cells of ``notebooks/<name>.ipynb``."""
    return nbformat.read(NB.format(name), as_version=4).cells


def cell(name: str, marker: str) -> str:
    """The raw source of the one cell of notebook ``name`` that contains ``marker``."""
    found = [c.source for c in cells(name) if marker in c.source]
    assert len(found) == 1, (name, marker, len(found))
    return found[0]


def flat(source: str) -> str:
    """``source`` as a reader sees it: lines and string literals' line breaks joined."""
    return " ".join(re.sub(r'"\s*\n\s*f?"', "", source).split())


def text(name: str, marker: str) -> str:
    """That cell's text as a reader sees it (:func:`flat`)."""
    return flat(cell(name, marker))


def prose(name: str) -> str:
    """All of notebook ``name``'s markdown as one line of text, as a reader sees it (its line breaks as spaces)."""
    return " ".join(" ".join(c.source.split()) for c in cells(name) if c.cell_type == "markdown")


def run_until(name: str, marker: str) -> dict:
    """Run notebook ``name``'s code cells in order, up to the one containing ``marker``; its namespace."""
    ns: dict = {}
    for c in cells(name):
        if c.cell_type == "code":
            exec(c.source, ns)
            if marker in c.source:
                return ns
    raise AssertionError(f"no code cell of {name} contains {marker!r}")
