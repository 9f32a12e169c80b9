"""``python -m esxlab exercises build|check``: student releases of the graded exercises.

Each instructor notebook in ``exercises/source/`` marks its answers the nbgrader way:
code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in cells whose metadata has
``nbgrader.solution = true``; every other code cell is tagged too (locked: students run it), else the build
refuses it. The student release in ``exercises/release/`` is built by nbgrader's own preprocessors, in the
order ``nbgrader generate_assignment`` runs them (minus the gradebook and header/footer steps, which need a
course directory): solutions cleared to ``# YOUR CODE HERE`` + ``raise NotImplementedError()``, locked cells
read-only, outputs cleared, checksums computed (a source's own outputs, if it was run and saved, are ignored).
nbgrader and nbstripout are the ``exercises`` extra (``pip install -e '.[exercises]'``). ``check`` reports a
stale or missing release.
"""
from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path
from typing import Any

import nbformat

from .errors import ConfigError, Error, install_hint, shorten
from .experiments.cli import Parser, check_dir       # the other commands' error style: one sentence, exit 2

ROOT = Path(__file__).resolve().parents[1] / "exercises"     # in a source checkout; else use --source
BEGIN = re.compile(r"^\s*#+\s*BEGIN SOLUTION\s*$")
NBGRADER_KEYS = ("grade", "grade_id", "locked", "schema_version", "solution", "task")


class ExerciseError(Error):
    """A source notebook breaks the exercise conventions."""


def has_markers(source: str) -> bool:
    """Whether ``source`` has a ``BEGIN SOLUTION`` line."""
    return any(BEGIN.match(line) for line in source.split("\n"))


def graded(cell: Any) -> dict:
    """The cell's nbgrader metadata ({} if it has none)."""
    return cell.metadata.get("nbgrader", {})


def validate(nb: Any, name: str) -> None:
    """Raise :class:`ExerciseError` unless ``nb`` follows the nbgrader conventions we rely on: every code cell
    tagged (an untagged one would be released as it is, answer and all), each tag complete, its ``grade_id``
    once."""
    ids = set()
    for i, cell in enumerate(nb.cells):
        meta, where = graded(cell), f"{name} cell {i + 1}"         # counted from 1, as a reader counts them
        if not meta:
            if has_markers(cell.source):
                raise ExerciseError(f"{where}: has solution markers but no nbgrader metadata.")
            if cell.cell_type == "code" and cell.source.strip():     # (an empty one hands out nothing)
                first = shorten(cell.source.split("\n")[0])
                raise ExerciseError(f"{where} (first line {first}): a code cell without nbgrader metadata is handed "
                                    "out as it is, with any answer in it; allowed: tag it (nbgrader's Create "
                                    "Assignment toolbar) as a solution cell ('Autograded answer': students do not "
                                    "get its solution) or as a locked cell students run ('Read-only').")
            continue
        missing = [k for k in NBGRADER_KEYS if k not in meta]
        if missing or meta["schema_version"] != 3:
            raise ExerciseError(f"{where}: nbgrader metadata needs {', '.join(NBGRADER_KEYS)} with "
                                f"schema_version 3; missing {missing or 'none'}, got {meta.get('schema_version')!r}.")
        if meta["grade_id"] in ids:
            raise ExerciseError(f"{where}: grade_id {meta['grade_id']!r} is used twice.")
        ids.add(meta["grade_id"])
        if meta["grade"] and not meta.get("points"):
            raise ExerciseError(f"{where}: a graded cell needs points > 0.")
        if meta["solution"] and cell.cell_type != "code":
            raise ExerciseError(f"{where}: only code cells may be solution cells here.")


def _release_steps() -> list[Any]:
    """nbgrader's preprocessors of ``generate_assignment`` that need no course directory, in its order."""
    try:
        from nbgrader import preprocessors as pre
    except ImportError as err:
        raise ExerciseError(f"building or checking the student release needs nbgrader ({err}); "
                            f"{install_hint('exercises')}.") from None
    return [pre.LockCells(), pre.ClearSolutions(), pre.ClearOutput(), pre.CheckCellMetadata(),
            pre.ComputeChecksums(), pre.ClearHiddenTests(), pre.ClearMarkScheme(), pre.ComputeChecksums(),
            pre.CheckCellMetadata()]


#: what running and saving a notebook writes into it besides outputs and execution counts: the metadata keys the
#: nbstripout command strips by default (cell timings, collapsed and scrolled outputs, saved widget state, a
#: signature) and, as the Makefile's filter adds, the kernel's ``language_info`` beyond its name
RUN_KEYS = ("metadata.signature", "metadata.widgets", "cell.metadata.collapsed", "cell.metadata.ExecuteTime",
            "cell.metadata.execution", "cell.metadata.heading_collapsed", "cell.metadata.hidden",
            "cell.metadata.scrolled",
            *(f"metadata.language_info.{k}" for k in ("codemirror_mode", "file_extension", "mimetype",
                                                       "nbconvert_exporter", "pygments_lexer", "version")))


def unrun(nb: Any) -> Any:
    """``nb`` as if never run (modified in place): nbstripout's strip of outputs, execution counts and
    :data:`RUN_KEYS`, cell ids kept. A source notebook an instructor ran and saved (to preview a change) then
    builds the release its committed, clean version builds."""
    try:
        from nbstripout import strip_output
    except ImportError as err:
        raise ExerciseError(f"building or checking the student release needs nbstripout ({err}); "
                            f"{install_hint('exercises')}.") from None
    return strip_output(nb, keep_output=False, keep_count=False, keep_id=True, extra_keys=list(RUN_KEYS))


def release_text(path: Path) -> str:
    """The student release of source notebook ``path`` (its outputs and run metadata ignored: :func:`unrun`), as
    the text to write. Raises :class:`ExerciseError` if it is not a notebook, breaks the conventions, nbgrader
    cannot convert it (naming the cell) or nbgrader or nbstripout is missing."""
    try:
        nb = nbformat.read(path, as_version=4)
    except (ValueError, nbformat.ValidationError) as err:    # not JSON, or JSON that is no notebook
        raise ExerciseError(f"{path.name}: is not a Jupyter notebook (nbformat: {type(err).__name__}); allowed: "
                            "an .ipynb file as Jupyter saves it.") from None
    nb = unrun(nb)
    validate(nb, path.name)
    steps = _release_steps()
    try:
        return _convert(nb, steps)
    except Exception as err:                     # nbgrader raises RuntimeError, ValueError or jsonschema's error
        raise ExerciseError(_refused(nb, path.name, err)) from None


def _convert(nb, steps: list[Any]) -> str:
    """A copy of ``nb`` through nbgrader's release ``steps``, as the text to write."""
    out, resources = copy.deepcopy(nb), {}
    for step in steps:
        out, resources = step.preprocess(out, resources)
    return nbformat.writes(out) + "\n"


def _refused(nb, name: str, err: Exception) -> str:
    """The sentence for a notebook nbgrader could not convert, naming the first cell it fails on alone."""
    why = f"nbgrader cannot make its student version ({str(err).rstrip('.') or type(err).__name__})"
    allowed = ("allowed: nbgrader's markers in pairs within one cell (`### BEGIN SOLUTION` then `### END SOLUTION`), "
               "never nested, and only in solution cells")
    for i, cell in enumerate(nb.cells):
        try:
            _convert(nbformat.v4.new_notebook(cells=[cell], metadata=nb.metadata), _release_steps())
        except Exception:                        # as in release_text: the cell nbgrader fails on
            first = shorten(cell.source.split("\n")[0])
            return f"{name} cell {i} (first line {first}): {why}; {allowed}."
    return f"{name}: {why}; {allowed}."


def _pairs(source: Path, release: Path) -> list[tuple[Path, Path]]:
    return [(p, release / p.name) for p in sorted(source.glob("*.ipynb"))]


def stale(source: Path = ROOT / "source", release: Path = ROOT / "release") -> list[str]:
    """What is out of date in ``release``: one sentence per stale, missing or orphaned notebook."""
    pairs = _pairs(source, release)
    out = [f"{dst.name} is missing" for src, dst in pairs if not dst.exists()]
    out += [f"{dst.name} is stale" for src, dst in pairs if dst.exists() and dst.read_text() != release_text(src)]
    names = {src.name for src, _ in pairs}
    out += [f"{p.name} has no source" for p in sorted(release.glob("*.ipynb")) if p.name not in names]
    return out


def build(source: Path = ROOT / "source", release: Path = ROOT / "release") -> list[Path]:
    """Write the student release of every source notebook; remove releases without a source. Every
    notebook is converted before anything is written, so a source nbgrader refuses leaves ``release`` as it was."""
    texts = {dst: release_text(src) for src, dst in _pairs(source, release)}
    release.mkdir(parents=True, exist_ok=True)
    for p in release.glob("*.ipynb"):
        if p not in texts:
            p.unlink()
    for dst, text in texts.items():
        if not dst.exists() or dst.read_text() != text:
            dst.write_text(text)
    return list(texts)


COMMANDS = {"build": "write the student release (--release) from the instructor notebooks (--source)",
            "check": "exit 1 if the student release is out of date (a stale, missing or orphaned notebook)"}


def _parser() -> argparse.ArgumentParser:
    ap = Parser(prog="python -m esxlab exercises", description=__doc__.split("\n")[0].replace("``", ""),
                epilog="commands:\n" + "\n".join(f"  {c:7}{text}" for c, text in COMMANDS.items()),
                formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", nargs="?", metavar="COMMAND", help=" or ".join(COMMANDS) + " (see below)")
    ap.add_argument("--source", type=Path, metavar="DIR",
                    help=f"instructor notebooks (default: {ROOT / 'source'}, present in an esxlab checkout)")
    ap.add_argument("--release", type=Path, metavar="DIR",
                    help="student notebooks, written by build (default: release/ beside --source)")
    return ap


def _arguments(argv: list[str]) -> tuple[str, Path, Path, str]:
    """(command, source, release, the folder options given, as a command line repeats them) from
    ``argv``; ConfigError with a sentence for a usage error."""
    args = _parser().parse_args(argv)
    if args.command not in COMMANDS:
        problem = "no command given" if args.command is None else f"unknown command {shorten(args.command)}"
        raise ConfigError(f"exercises: {problem}; allowed: {', '.join(COMMANDS)}.")
    source = args.source or ROOT / "source"
    if not source.is_dir() or not any(source.glob("*.ipynb")):
        raise ConfigError(f"exercises: --source {source} is not a directory of instructor notebooks (*.ipynb); "
                          "allowed: a directory such as exercises/source in an esxlab checkout." if args.source else
                          f"exercises: there are no instructor notebooks at {source} (esxlab runs from an install, "
                          "not from its checkout); allowed: run this from an esxlab checkout, or pass --source "
                          "path/to/exercises/source.")
    release = args.release or source.parent / "release"
    if release.resolve() == source.resolve():
        raise ConfigError(f"exercises: --release {release} is the --source folder: a build would replace the "
                          "instructor notebooks (with their solutions) by student versions; allowed: another "
                          "directory (default: release/ beside --source).")
    if args.command == "build":
        check_dir("exercises: --release", release)
    given = "".join(f" --{name} {value}" for name, value in (("source", args.source), ("release", args.release))
                    if value is not None)
    return args.command, source, release, given


def main(argv: list[str]) -> int:
    """``build`` writes the student release; ``check`` exits 1 if it is out of date; 2 on bad arguments or a
    source notebook that breaks the conventions (or no nbgrader)."""
    try:
        command, source, release, given = _arguments(argv)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except SystemExit as e:                      # --help
        return int(e.code or 0)
    count = len(_pairs(source, release))
    print(f"{'building' if command == 'build' else 'checking'} {count} student notebook{'s' * (count != 1)} in "
          f"{release} from {source} …", file=sys.stderr)
    try:
        if command == "build":
            for path in build(source, release):
                print(f"wrote {path}")
            return 0
        problems = stale(source, release)
    except ExerciseError as err:                 # bad input, as a usage error: 1 means only "out of date"
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:                       # e.g. a read-only notebook inside --release
        print(f"error: cannot write the release to --release {release}: {err.strerror or err} "
              f"({err.filename}); allowed: a directory you can write to.", file=sys.stderr)
        return 1
    for p in problems:
        print(f"release out of date: {p}; run `python -m esxlab exercises build{given}`")
    if not problems:
        print(f"release up to date: {release} matches {source}")
    return 1 if problems else 0
