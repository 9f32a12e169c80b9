"""Notebooks are committed clean: no outputs, no execution counts, no widget state
(notebook-testing.md §1.3: saved widget state churns git and is never shown anyway)."""
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "exercises").rglob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_clean(path):
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata, "strip the saved widget state (metadata.widgets)"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        keep = "nbval-check-output" in cell.metadata.get("tags", [])
        assert keep or not cell.outputs, f"cell {i} has outputs; clear them before committing"
        assert keep or cell.execution_count is None, f"cell {i} has an execution count"


def test_notebooks_are_numbered_and_thin():
    names = [p.name for p in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    assert [n[:2] for n in names] == [f"{i:02d}" for i in range(len(names))], names
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0].source
        assert "Learning goals" in first and "Run All Cells" in first, f"{path.name}: goals and how to run come first"
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "\ndef " not in "\n" + code and "\nclass " not in "\n" + code, f"{path.name}: no def/class in notebooks"
        assert "assert " in code, f"{path.name}: needs assert cells"
