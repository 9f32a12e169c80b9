"""Notebooks are committed clean: no outputs, no execution counts, no widget state
(notebook-testing.md §1.3: saved widget state churns git and is never shown anyway).

What is checked is what git holds (the index, which is HEAD in a fresh clone), not the
working tree: a student who runs and saves a notebook changes only the working copy, and
git's nbstripout filter (set up by ``make``) strips it again on ``git add``."""
import subprocess
from pathlib import Path

import nbformat
import pytest
from notebook_cells import dirt

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "exercises").rglob("*.ipynb"))


def committed(path: Path) -> str:
    """The text git holds for ``path`` (its index entry); the file itself outside a git checkout."""
    rel = path.relative_to(ROOT).as_posix()
    out = subprocess.run(["git", "show", f":{rel}"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode == 0:
        return out.stdout
    inside = subprocess.run(["git", "rev-parse", "--git-dir"], cwd=ROOT, capture_output=True).returncode == 0
    assert not inside, f"{rel} is not added to git: {out.stderr.strip()}"
    return path.read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_committed_clean(path):
    assert dirt(nbformat.reads(committed(path), as_version=4)) == [], "run `make` once: it sets up git's nbstripout filter"


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
