"""Grade students' exercise notebooks without nbgrader.

    python exercises/grade.py HANDED_OUT.ipynb STUDENT.ipynb [STUDENT.ipynb ...] [--hints] [--csv FILE]
                              [--timeout S]

Runs each STUDENT.ipynb with its locked cells (the setup and the checks) put back as they were handed out in
HANDED_OUT.ipynb, as nbgrader does (locked cells the student deleted are put back where they stood, and
named), and prints the points of the check cells that pass, each all or nothing
(``4 / 4 points``). ``--hints`` first prints a line per check cell: its points and what the student read
under it (the checker's message naming each wrong answer, "not answered yet", or "correct"). ``--csv`` adds a
row per student to FILE (its header first, if FILE is new): :data:`CSV_FIRST`, each check cell's points, then
:data:`CSV_LAST`; a file that cannot be graded gets a row too, its points empty. A cell that runs longer than
``--timeout`` seconds (default :data:`TIMEOUT_S`; a student's endless loop) or kills its kernel stops that
student's run: the checks it had passed keep their points, the rest score 0, and a note says which cell
stopped it. An answer cell that names ``instructor`` (``esxlab.problems.instructor`` computes the answers),
reads a private attribute of an object other than ``self`` (``p._answer``, ``getattr(p, '_answer')``) or an
object's whole state (``vars(p)``, ``p.__dict__``) is flagged for review, and still graded; a student's notebook
whose ``SEED`` differs from the handed-out one's is graded with the handed-out seed, and noted. Each student's
code runs with your rights, in a fresh folder of its own: if the esxlab package's files change while a notebook
runs, its points are void and grading stops there (grade in a throwaway environment). With several students, a
file that cannot be graded is named on stderr and the others are graded (exit status 1). Needs nbclient (the
``exercises`` extra: ``pip install -e '.[exercises]'``).
"""
from __future__ import annotations

import argparse
import copy
import csv
import datetime
import io
import math
import re
import sys
import tempfile
import tokenize
from pathlib import Path

import nbformat

from esxlab.exercises import graded as nbgrader     # a cell's nbgrader metadata ({} if none)
from esxlab.experiments.runner import source_hash

#: seconds a cell may run (the solutions' slowest cell takes a few)
TIMEOUT_S = 120
#: what flags an answer cell for review (its comments left out): the answers' own source, or an object's private
#: state (a problem's holds its answers; ``self._x`` in a class of the student's own is theirs): read as an
#: attribute, as the object's whole state (``vars(p)``, ``p.__dict__``), or by a private name in a string
#: (``getattr(p, '_x')``, ``state['_x']``; the trial of session 49)
SUSPECT = ((re.compile(r"\binstructor\b"), "names {0!r} (esxlab.problems.instructor computes the answers)"),
           (re.compile(r"\b(?!self\b|cls\b)\w+\._[A-Za-z]\w*"), "reads the private attribute {0!r}"),
           (re.compile(r"\bvars\s*\(\s*(?!self\b|cls\b)[^()\s][^()]*\)|(?:\b(?!self\b|cls\b)\w+|\))\.__dict__\b"),
            "reads an object's whole state with {0!r} (a problem's holds its answers)"),
           (re.compile(r"(?<![\w'\"])(['\"])_[A-Za-z]\w*\1(?![\w'\"])"),
            "names the private attribute {0} in a string (getattr, or a subscript of an object's state)"))
#: the CSV's columns before and after the check cells' points
CSV_FIRST = ("student", "exercise", "seed", "graded_at")
CSV_LAST = ("points", "possible", "notes", "hints")
SEED = re.compile(r"^SEED\s*=\s*(\d+)", re.M)
TAMPERED = ("stopped grading: the esxlab package's files changed while this notebook ran (its code wrote to them); "
            "reinstall esxlab and grade in a throwaway environment")


class Refused(Exception):
    """A notebook that cannot be graded; its message is the sentence to print."""


def _read(path: Path, role: str):
    if not path.is_file():
        raise Refused(f"error: {role} {path} {'is a folder' if path.is_dir() else 'does not exist'}; allowed: an "
                      ".ipynb file of the exercises.")
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError) as err:       # unreadable, not a notebook (nbformat's errors are ValueErrors)
        raise Refused(f"error: {role} {path} cannot be read as a notebook ({err.__class__.__name__}); "
                      "allowed: an .ipynb file of the exercises.") from None


def _seed(nb) -> str:
    """The ``SEED = <n>`` of ``nb``'s first code cell that sets one ("" if none)."""
    return next((m.group(1) for c in nb.cells if c.cell_type == "code" for m in [SEED.search(c.source)] if m), "")


def _code(source: str) -> str:
    """``source`` without its comments (as it stands if it does not tokenize: a cell with a syntax error)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return source
    return tokenize.untokenize(t for t in tokens if t.type != tokenize.COMMENT)     # (positions kept: `p._x` stays)


def _message(cell) -> str:
    """What the student read under check ``cell`` after it ran: the error's message, else "correct"."""
    errors = [o for o in cell.outputs if o.output_type == "error"]
    if not cell.get("execution_count"):
        return "not run"
    if not errors:
        return "correct"
    if errors[0].ename == "NotImplementedError":
        return "not answered yet"
    return f"{errors[0].ename}: {errors[0].evalue}".replace("\n", "\n" + " " * 8)


def _key(cell) -> str | None:
    """What identifies ``cell`` in a student's copy: its nbgrader grade id, else its cell id (a markdown cell's),
    else None."""
    return nbgrader(cell).get("grade_id") or cell.get("id")


def put_back(given, work) -> list[str]:
    """Put ``given``'s locked cells (setup, problems, checks) that the student deleted from ``work`` back where
    they stood: after the cell of the student's copy that precedes them in ``given`` (as nbgrader's
    ``OverwriteCells.add_missing_cells`` does); returns their grade ids."""
    keys = [_key(c) for c in work.cells]
    at, restored = 0, []
    for cell in given.cells:
        key = _key(cell)
        if key is not None and key in keys:
            at = keys.index(key) + 1
        elif nbgrader(cell).get("locked"):
            work.cells.insert(at, cell)
            keys.insert(at, key)
            at += 1
            restored.append(key)
    return restored


def flags(given, work) -> list[str]:
    """Notes on the student's own code cells (not the locked ones) that look at the answers (:data:`SUSPECT`)."""
    locked = {nbgrader(c).get("grade_id") for c in given.cells if nbgrader(c).get("locked")}
    notes = []
    for i, cell in enumerate(work.cells):
        key = nbgrader(cell).get("grade_id")
        if cell.cell_type != "code" or (key is not None and key in locked):
            continue
        code = _code(cell.source)
        for pattern, what in SUSPECT:
            found = pattern.search(code)
            if found:
                notes.append(f"flagged for review: {key or f'cell {i + 1}'} {what.format(found.group(0))}")
    return notes


def grade(given, work, timeout: float = TIMEOUT_S) -> tuple[list[str], list[tuple[str, int, int, str]], str]:
    """Run ``work`` (a notebook) with ``given``'s locked cells, deleted ones put back; returns those put back
    (:func:`put_back`), per check cell of ``given`` (grade_id, points earned, points, what the student read), and
    why the run stopped early ("" if it did not: a cell over ``timeout`` seconds, or a dead kernel)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    given = copy.deepcopy(given)          # its cells run in the student's notebook: the next student gets them fresh
    restored = put_back(given, work)
    locked = {nbgrader(c)["grade_id"]: c for c in given.cells if nbgrader(c).get("locked")}
    work.cells = [locked.get(nbgrader(c).get("grade_id"), c) for c in work.cells]
    # the kernel's own log (ipykernel's warning that it talks over local TCP, a dying kernel's) is no part of a grade
    started: list[int] = []
    seconds = math.ceil(timeout)                  # (nbclient waits whole seconds)
    stopped = ""
    # the kernel works in a fresh folder: it imports esxlab as installed, the package grade.py hashes, not a copy
    # in the folder grade.py was started from (nor one an earlier notebook left in its own)
    with tempfile.TemporaryDirectory(prefix="esxlab-grade-") as folder:
        client = NotebookClient(work, timeout=seconds, kernel_name="python3", allow_errors=True,
                                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                                resources={"metadata": {"path": folder}},
                                on_cell_start=lambda cell, cell_index: started.append(cell_index))
        try:
            client.execute()
        except (CellTimeoutError, DeadKernelError) as err:        # the cells before it ran: their checks count
            at = started[-1] if started else 0
            name = nbgrader(work.cells[at]).get("grade_id") or f"cell {at + 1}"
            why = f"ran over the timeout of {seconds} s" if isinstance(err, CellTimeoutError) else "killed its kernel"
            stopped = f"stopped: {name} {why}; the check cells after it score 0"
    ran = {nbgrader(c).get("grade_id"): c for c in work.cells}
    rows = []
    for grade_id, points in _graded(given):
        message = _message(ran[grade_id])
        rows.append((grade_id, points if message == "correct" else 0, points, message))
    return restored, rows, stopped


def grade_one(handed_out: Path, given, student: Path, hints: bool, timeout: float) -> tuple[list, list[str]]:
    """Grade ``student`` and print its lines; returns its rows (:func:`grade`) and its notes. Refused if it cannot
    be graded."""
    work = _read(student, "STUDENT")
    answers = [nbgrader(c)["grade_id"] for c in given.cells if nbgrader(c).get("solution")]
    have = {nbgrader(c).get("grade_id") for c in work.cells}
    missing = [a for a in answers if a not in have]
    if answers and len(missing) == len(answers):
        raise Refused(f"error: STUDENT {student} has none of the answer cells of HANDED_OUT {handed_out} "
                      f"({', '.join(answers)}): another exercise's notebook, or every answer cell deleted; allowed: a "
                      f"student's copy of {handed_out.name}.")
    suspect = flags(given, work)
    theirs, ours = _seed(work), _seed(given)
    restored, rows, stopped = grade(given, work, timeout)
    notes = [*suspect]
    if theirs and ours and theirs != ours:
        notes.append(f"graded with the handed-out SEED = {ours}; this notebook had SEED = {theirs} (another handout?)")
    if restored:
        notes.append(f"put back as handed out: {', '.join(restored)} (deleted from {student})")
    if missing:
        notes.append(f"missing answer cells: {', '.join(missing)} (deleted, or another exercise's notebook?)")
    if stopped:
        notes.append(stopped)
    for note in notes:
        print(note)
    if hints:
        width = max(len(g) for g, *_ in rows)
        for grade_id, earned, points, message in rows:
            print(f"{grade_id:{width}}  {earned} / {points}  {message}")
    print(f"{sum(r[1] for r in rows)} / {sum(r[2] for r in rows)} points")
    return rows, notes


def _graded(given) -> list[tuple[str, int]]:
    """(grade id, points) of ``given``'s check cells, in order."""
    return [(nbgrader(c)["grade_id"], nbgrader(c)["points"]) for c in given.cells if nbgrader(c).get("grade")]


def _check_csv(path: Path, header: list[str]) -> None:
    """Refused unless ``path`` can be written, and is new, empty, or holds grades of these same check cells."""
    if path.is_dir() or not path.parent.is_dir():
        raise Refused(f"error: --csv {path}: {'is a folder' if path.is_dir() else 'its folder does not exist'}; "
                      "allowed: a file in an existing folder.")
    if path.exists() and path.stat().st_size:
        with open(path, newline="", encoding="utf-8") as f:
            have = next(csv.reader(f), [])
        if have != header:
            raise Refused(f"error: --csv {path} holds other columns ({', '.join(have)}); allowed: a new file, or "
                          f"one with this grade.py's columns for these check cells ({', '.join(header)}).")


def _timeout(text: str) -> float:
    """``--timeout``: seconds, a finite number > 0 (nbclient waits whole seconds: a fraction is rounded up)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r}: allowed: a number of seconds > 0, e.g. 120")
    return value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("handed_out", type=Path, metavar="HANDED_OUT.ipynb", help="the notebook you handed out")
    ap.add_argument("students", type=Path, nargs="+", metavar="STUDENT.ipynb", help="the students' notebooks")
    ap.add_argument("--hints", action="store_true", help="print each check cell's points and message first")
    ap.add_argument("--csv", type=Path, metavar="FILE", help="add a row per student to FILE (a header if new)")
    ap.add_argument("--timeout", type=_timeout, default=TIMEOUT_S, metavar="S",
                    help=f"seconds a cell may run before the student's run stops (default {TIMEOUT_S})")
    args = ap.parse_args(argv)
    try:
        given = _read(args.handed_out, "HANDED_OUT")
        if not any(nbgrader(c).get("grade") for c in given.cells):
            raise Refused(f"error: HANDED_OUT {args.handed_out} has no graded check cells; allowed: a notebook of "
                          "exercises/release (or nbgrader's student version).")
        header = [*CSV_FIRST, *(g for g, _ in _graded(given)), *CSV_LAST]
        if args.csv:
            _check_csv(args.csv, header)
    except Refused as err:
        sys.exit(str(err))
    failed, package = 0, source_hash(leave_out=())
    for student in args.students:
        if len(args.students) > 1:
            print(f"== {student}")
        try:
            rows, notes = grade_one(args.handed_out, given, student, args.hints, args.timeout)
        except Refused as err:
            print(err, file=sys.stderr)
            failed += 1
            rows = [(g, "", points, "") for g, points in _graded(given)]
            notes = [f"refused: {str(err).removeprefix('error: ')}"]
        tampered = source_hash(leave_out=()) != package
        if tampered:                                   # its points are void, and no later grade can be trusted
            rows = [(g, "", points, message) for g, _, points, message in rows]
            notes.append(TAMPERED)
            print(f"{TAMPERED}; this notebook's points are void", file=sys.stderr)
        if args.csv:
            _write_row(args.csv, header, student, args.handed_out.name, _seed(given), rows, notes)
        if tampered:
            return 1
    return 1 if failed else 0


def _write_row(path: Path, header: list[str], student: Path, exercise: str, seed: str, rows: list,
               notes: list[str]) -> None:
    """One student's row of the CSV (its header first if ``path`` is new or empty)."""
    new = not path.exists() or not path.stat().st_size
    graded = all(r[1] != "" for r in rows)
    with open(path, "a", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        if new:
            out.writerow(header)
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        out.writerow([student, exercise, seed, now, *(r[1] for r in rows), sum(r[1] for r in rows) if graded else "",
                      sum(r[2] for r in rows), "; ".join(notes),
                      "; ".join(f"{r[0]}: {' '.join(r[3].split())}" for r in rows if r[3])])


if __name__ == "__main__":
    sys.exit(main())
