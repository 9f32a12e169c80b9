"""Grade a student's exercise notebook without nbgrader.

    python exercises/grade.py HANDED_OUT.ipynb STUDENT.ipynb [--hints]

Runs STUDENT.ipynb with its locked cells (the setup and the checks) put back as they were handed out in
HANDED_OUT.ipynb, as nbgrader does (locked cells the student deleted are put back where they stood, and
named), and prints the points of the check cells that pass, each all or nothing
(``4 / 4 points``). ``--hints`` first prints a line per check cell: its points and what the student read
under it (the checker's message naming each wrong answer, "not answered yet", or "correct"). Needs nbclient
(the ``exercises`` extra: ``pip install -e '.[exercises]'``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from esxlab.exercises import graded as nbgrader     # a cell's nbgrader metadata ({} if none)


def _read(path: Path, role: str):
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError) as err:       # missing, unreadable, not a notebook (nbformat's errors are ValueErrors)
        sys.exit(f"error: {role} {path} cannot be read as a notebook ({err.__class__.__name__}); "
                 "allowed: an .ipynb file of the exercises.")


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


def grade(given, work) -> tuple[list[str], list[tuple[str, int, int, str]]]:
    """Run ``work`` (a notebook) with ``given``'s locked cells, deleted ones put back; returns those put back
    (:func:`put_back`) and, per check cell of ``given``, (grade_id, points earned, points, what the student read)."""
    from nbclient import NotebookClient

    restored = put_back(given, work)
    locked = {nbgrader(c)["grade_id"]: c for c in given.cells if nbgrader(c).get("locked")}
    work.cells = [locked.get(nbgrader(c).get("grade_id"), c) for c in work.cells]
    # the kernel's own log (e.g. ipykernel's warning that it talks over local TCP) is no part of a grade
    NotebookClient(work, timeout=600, kernel_name="python3", allow_errors=True,
                   extra_arguments=["--IPKernelApp.log_level=ERROR"]).execute()
    ran = {nbgrader(c).get("grade_id"): c for c in work.cells}
    rows = []
    for cell in given.cells:
        meta = nbgrader(cell)
        if meta.get("grade"):
            message = _message(ran[meta["grade_id"]])
            rows.append((meta["grade_id"], meta["points"] if message == "correct" else 0, meta["points"], message))
    return restored, rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("handed_out", type=Path, metavar="HANDED_OUT.ipynb", help="the notebook you handed out")
    ap.add_argument("student", type=Path, metavar="STUDENT.ipynb", help="the student's notebook")
    ap.add_argument("--hints", action="store_true", help="print each check cell's points and message first")
    args = ap.parse_args(argv)
    given, work = _read(args.handed_out, "HANDED_OUT"), _read(args.student, "STUDENT")
    if not any(nbgrader(c).get("grade") for c in given.cells):
        sys.exit(f"error: HANDED_OUT {args.handed_out} has no graded check cells; allowed: a notebook of "
                 "exercises/release (or nbgrader's student version).")
    answers = [nbgrader(c)["grade_id"] for c in given.cells if nbgrader(c).get("solution")]
    have = {nbgrader(c).get("grade_id") for c in work.cells}
    missing = [a for a in answers if a not in have]
    if answers and len(missing) == len(answers):
        sys.exit(f"error: STUDENT {args.student} has none of the answer cells of HANDED_OUT {args.handed_out} "
                 f"({', '.join(answers)}): another exercise's notebook, or every answer cell deleted; allowed: a "
                 f"student's copy of {args.handed_out.name}.")
    restored, rows = grade(given, work)
    if restored:
        print(f"put back as handed out: {', '.join(restored)} (deleted from {args.student})")
    if missing:
        print(f"missing answer cells: {', '.join(missing)} (deleted, or another exercise's notebook?)")
    if args.hints:
        width = max(len(g) for g, *_ in rows)
        for grade_id, earned, points, message in rows:
            print(f"{grade_id:{width}}  {earned} / {points}  {message}")
    print(f"{sum(r[1] for r in rows)} / {sum(r[2] for r in rows)} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
