"""Reading and running the lessons' cells in tests, as a reader and a kernel would."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat

NB = "notebooks/{}.ipynb"
ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def cells(name: str) -> list:
    """The cells of ``notebooks/<name>.ipynb`` (from the checkout, wherever pytest runs)."""
    return nbformat.read(ROOT / NB.format(name), as_version=4).cells


def cell(name: str, marker: str) -> str:
    """The raw source of the one cell of notebook ``name`` that contains ``marker``."""
    found = [c.source for c in cells(name) if marker in c.source]
    assert len(found) == 1, (name, marker, len(found))
    return found[0]


def cell_by_id(name: str, cell_id: str) -> str:
    """The raw source of notebook ``name``'s cell whose id is ``cell_id``."""
    found = [c.source for c in cells(name) if c.get("id") == cell_id]
    assert len(found) == 1, (name, cell_id, len(found))
    return found[0]


def flat(source: str) -> str:
    """``source`` as a reader sees it: lines and string literals' line breaks joined."""
    return " ".join(re.sub(r'"\s*\n\s*f?"', "", source).split())


def text(name: str, marker: str) -> str:
    """That cell's text as a reader sees it (:func:`flat`)."""
    return flat(cell(name, marker))


def text_by_id(name: str, cell_id: str) -> str:
    """The text of the cell whose id is ``cell_id`` as a reader sees it (:func:`flat`)."""
    return flat(cell_by_id(name, cell_id))


def question(name: str, marker: str):
    """The Question widget that notebook ``name``'s cell containing ``marker`` builds (the cell is one
    ``Question(...)`` expression)."""
    from esxlab.views.lesson import Question
    return eval(cell(name, marker), {"Question": Question})


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


def calls(source: str, name: str) -> int:
    """How many times ``source`` calls ``name(...)`` or ``x.name(...)``."""
    return sum(isinstance(n, ast.Call) and (getattr(n.func, "id", None) == name or getattr(n.func, "attr", None) == name)
               for n in ast.walk(ast.parse(source)))


def dirt(nb) -> list[str]:
    """Why ``nb`` is not clean: saved widget state, outputs or execution counts (cells tagged
    ``nbval-check-output`` may keep theirs)."""
    found = ["saved widget state (metadata.widgets)"] if "widgets" in nb.metadata else []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "nbval-check-output" in cell.metadata.get("tags", []):
            continue
        found += [f"cell {i} has outputs"] * bool(cell.outputs)
        found += [f"cell {i} has an execution count"] * (cell.execution_count is not None)
    return found


def guard(name: str, marker: str) -> str:
    """The source of the collapsed check cell of ``name`` containing ``marker``."""
    found = [c for c in cells(name) if c.cell_type == "code" and marker in c.source
             and "guard" in c.metadata.get("tags", [])]
    assert len(found) == 1, (name, marker)
    return found[0].source


def notebook(prefix: str):
    """The notebook whose file name starts with ``prefix`` ("09"), read from the checkout."""
    return nbformat.read(next(NOTEBOOKS.glob(f"{prefix}_*.ipynb")), as_version=4)


def markdown(nb, cells=slice(None)) -> str:
    """The markdown of notebook ``nb`` (its cells ``cells``), one cell after another."""
    return "\n".join(c.source for c in nb.cells[cells] if c.cell_type == "markdown")


def run_cells(stem: str, *ids: str) -> dict:
    """The names defined by notebook ``stem``'s import cell and its cells ``ids``, run in this process."""
    nb, names = notebook(stem), {}
    for code in [nb.cells[1], *(c for c in nb.cells if c.get("id") in ids)]:
        exec(code.source, names)
    return names


def run_as_a_student(stem: str, move, through: str = "", board: str = "dash") -> dict:
    """Notebook ``stem``'s code cells run in this process as a JupyterLab student runs them: down to the cell that
    builds the dashboard ``board`` (``dash``), then ``move(board)`` (what the student did in the browser), then the
    cells below, one by one, to the end or to the first that holds ``through``; the names they defined."""
    code, names = [c for c in notebook(stem).cells if c.cell_type == "code"], {}
    at = next(i for i, c in enumerate(code) if c.source.startswith(f"{board} = views."))
    for c in code[:at + 1]:
        exec(c.source, names)
    move(names[board])
    for c in code[at + 1:]:
        exec(c.source, names)
        if through and through in c.source:
            break
    return names


def slid(name: str, value):
    """What a student's move of slider ``name`` to ``value`` does (its comm message), as a ``move`` for
    :func:`run_as_a_student`: the dashboard reruns and is drawn."""
    def move(dash) -> None:
        dash.controls[name].set_state({"value": value})
        dash.done.wait(600)
        dash.idle(600)
    return move


def figures(widget) -> list:
    """The bqplot figures inside ``widget``, in the order they are on screen."""
    import bqplot as bq
    if isinstance(widget, bq.Figure):
        return [widget]
    return [f for child in getattr(widget, "children", ()) for f in figures(child)]


def markdown_of(name: str) -> str:
    """The markdown of the notebook file ``name`` ("07_states_and_admission.ipynb"), one cell after another."""
    return markdown(nbformat.read(NOTEBOOKS / name, as_version=4))


def source_of(name: str) -> str:
    """All of notebook ``name``'s cells, markdown and code, one after another."""
    return "\n".join(c.source for c in cells(name))
