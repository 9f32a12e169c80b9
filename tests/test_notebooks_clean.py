"""Notebooks are committed clean: no outputs, no execution counts, no widget state
(notebook-testing.md §1.3: saved widget state churns git and is never shown anyway).

What is checked is what git holds (the index, which is HEAD in a fresh clone), not the
working tree: a student who runs and saves a notebook changes only the working copy, and
git's nbstripout filter (set up by ``make``) strips it again on ``git add``. What git holds is
byte for byte what that filter writes, so a notebook only opened and saved is not shown as modified."""
import shlex
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import nbformat
import pytest
from notebook_cells import dirt

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "exercises").rglob("*.ipynb"))


def committed_bytes(path: Path) -> bytes:
    """The bytes git holds for ``path`` (its index entry); the file itself outside a git checkout."""
    rel = path.relative_to(ROOT).as_posix()
    out = subprocess.run(["git", "show", f":{rel}"], cwd=ROOT, capture_output=True)
    if out.returncode == 0:
        return out.stdout
    inside = subprocess.run(["git", "rev-parse", "--git-dir"], cwd=ROOT, capture_output=True).returncode == 0
    assert not inside, f"{rel} is not added to git: {out.stderr.decode().strip()}"
    return path.read_bytes()


def committed(path: Path) -> str:
    """The text git holds for ``path`` (:func:`committed_bytes`)."""
    return committed_bytes(path).decode()


@cache
def strip_command() -> str:
    """The Makefile's ``STRIP``, git's clean filter, with this Python (read from the Makefile by make itself)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed: the filter's command is read from the Makefile by make")
    out = subprocess.run(["make", "-s", "--no-print-directory", "--eval", "print-strip: ; $(info $(STRIP))",
                          "print-strip", f"PY={sys.executable}"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@cache
def filtered() -> dict[Path, bytes]:
    """What git's clean filter writes for each committed notebook. One run of ``STRIP -t`` (the Makefile's
    textconv: the same stripping and writing as the filter, to stdout) over copies of the committed notebooks,
    rather than one run a notebook on stdin as git does (a Python start each, a minute in all); each notebook it
    writes ends at a line "}" (nbformat indents everything inside the top-level object)."""
    with tempfile.TemporaryDirectory() as tmp:
        copies = []
        for i, path in enumerate(NOTEBOOKS):
            copies.append(Path(tmp) / f"{i:03d}_{path.name}")
            copies[-1].write_bytes(committed_bytes(path))
        out = subprocess.run(f"{strip_command()} -t " + " ".join(shlex.quote(str(c)) for c in copies), shell=True,
                             capture_output=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr.decode()
    written = [part + b"\n}\n" for part in out.stdout.split(b"\n}\n")[:-1]]
    assert len(written) == len(NOTEBOOKS) and out.stdout.endswith(b"\n}\n"), "STRIP -t wrote something else"
    return dict(zip(NOTEBOOKS, written))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_committed_clean(path):
    assert dirt(nbformat.reads(committed(path), as_version=4)) == [], "run `make` once: it sets up git's nbstripout filter"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_committed_as_the_filter_writes_it(path):
    """Key order, indentation and the last newline too: otherwise git shows the notebook modified as soon as a
    student opens and saves it (git compares what the filter writes with what it holds)."""
    assert filtered()[path] == committed_bytes(path), (
        f"{path.relative_to(ROOT)} as committed is not what git's nbstripout filter writes: run `make filters`, then "
        f"`git add --renormalize {path.relative_to(ROOT)}` and commit it")


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
