"""Grade students' exercise notebooks without nbgrader.

    python exercises/grade.py HANDED_OUT.ipynb STUDENT.ipynb [STUDENT.ipynb ...] [--hints] [--csv FILE]
                              [--timeout S]
    python exercises/grade.py HANDED_OUT.ipynb submitted/*/ [...]

Runs each STUDENT.ipynb with its locked cells (the setup and the checks) put back as they were handed out in
HANDED_OUT.ipynb, as nbgrader does (locked cells the student deleted are put back where they stood, and
named, as are those the student edited), and prints the points of the check cells that pass, each all or nothing
(``4 / 4 points``); a check cell passes only if the kernel reports that it ran without an error (an error an
answer cell hid with ``set_custom_exc`` still fails it). The points are then those of the same check made again in
grade.py's own process, on problems posed there once per run and the answers exported from the kernel as plain data
(JSON, published by each check cell as it runs): a note names each check where the kernel and that re-check
disagree, or where the kernel's verdict stands unchecked (the capstone's answer is code). ``--hints`` first prints a
line per check cell: its points and what the student read under it (the checker's message naming each wrong answer,
"not answered yet", or "correct"). ``--csv`` adds a row per student to FILE (its header first, if FILE is new):
:data:`CSV_FIRST` (``student`` is the file's name without its folder and ``.ipynb``, or its path as given if that
name holds the handed-out notebook's: nbgrader's ``submitted/<student>/…``; a student given as a folder, the folder's
name), each check cell's points, then
:data:`CSV_LAST`; a file that cannot be graded gets a row too, its points empty (a path that does not exist, a typo,
is refused before any grading, with the names nearest to it, and gets none: it would stay in the CSV for good). With
several students, each one's points are shown as soon as it is graded, and a summary ends the run, a line per student
(its points, and why it lost any). A student given as a folder is graded on the one notebook in it or a folder under
it, and refused if it holds none or several. The solutions notebook (``### BEGIN SOLUTION`` markers) given as
HANDED_OUT.ipynb is refused, as is one with answers filled in (a student's: :func:`_check_as_handed_out`) and, with
two students or more, another exercise's (:func:`_check_exercise`). Ctrl-C (or SIGTERM: a batch system's stop,
``kill``) stops the run: the student being graded gets no row, its kernel is shut down, the summary of those
graded is printed, then the command that grades the rest (exit status 130; 143 for SIGTERM). A cell still running
when the notebook's ``--timeout`` seconds are up (default :data:`TIMEOUT_S`, for all its cells together; a student's
endless loop, or scratch cells that sleep) or that kills its kernel stops that student's run: the checks it had passed
keep their points, the rest score 0, and a note says which cell stopped it. An answer cell that raised an error is named
with it (``answer cell balloon-answer raised ZeroDivisionError: division by zero``; a check cell shows only the
``NameError`` that follows), unless it is the ``NotImplementedError`` of an answer cell as handed out. An answer cell
that names ``instructor`` (``esxlab.problems.instructor`` computes the answers), reads a private attribute of an object
other than ``self`` (``p._answer``, ``getattr(type(p), '_' + 'answer')``) or an object's whole state (``vars(p)``,
``p.__dict__``), or uses a tool of tampering or introspection (:data:`SUSPECT`: rebinding an imported module's
attribute, ``set_custom_exc``, ``inspect``, ``dir``, ``operator.methodcaller``, ``__globals__``, ``os.environ``, …) is
flagged for review, and still graded, as is a notebook whose checker ran more than :data:`SEARCH_SLACK` times beyond its
check cells (code of the student's own called it: a search that tries values against it); a student's notebook whose
``SEED`` differs from the handed-out one's is graded with the handed-out seed, and noted, and a check of a problem of
another seed fails (the kernel is told the handed-out seed: :data:`esxlab.checks.GRADING_SEED`). Each student's code
runs with your rights, in a fresh folder of its own: if the esxlab package's files change while a notebook runs, its
points are void (``void: …``), grading stops there (grade in a throwaway environment), and every student after it is
named ``not graded`` (on stderr, and a CSV row each). With several students, a file that cannot be graded is named on
stderr and the others are graded (exit status 1). Needs nbclient (the ``exercises`` extra:
``pip install -e '.[exercises]'``).
"""
from __future__ import annotations

import argparse
import ast
import asyncio
import atexit
import collections
import contextlib
import copy
import csv
import datetime
import difflib
import functools
import io
import json
import logging
import math
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tokenize
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from esxlab.errors import first_line, install_hint, with_article

try:
    import nbformat
    import nbclient  # noqa: F401  (grade() imports what it runs; imported here to say at once if it is missing)
except ModuleNotFoundError as err:              # esxlab installed without the exercises extra
    sys.exit(f"error: grade.py needs {err.name}; {install_hint('exercises')}.")

from esxlab import checks
from esxlab.checks import GRADING_SEED, CheckFailed
from esxlab.exercises import graded as nbgrader     # a cell's nbgrader metadata ({} if none)
from esxlab.exercises import has_markers
from esxlab.experiments.runner import source_hash

#: seconds a student's notebook may run, all its cells together (each solution takes under 10 s, its kernel's start
#: included; a student's scratch cells count too: a timeout per cell let a notebook of ten cells that sleep run ten
#: times as long, session 68)
TIMEOUT_S = 120
#: seconds a cell starting once a notebook's timeout is up may run (nbclient takes 0 for no limit): so little that it
#: stops the run there
SPENT_S = 0.001
#: seconds grade.py's own cell after the student's (:data:`COUNT_CELL`) may run, beyond the student's timeout: it
#: takes milliseconds, unless the student's code made the checker loop
COUNT_CELL_S = 5
#: what flags an answer cell for review, each a pattern over the cell's tokens (comments left out; "names": its
#: strings blanked too, so that a word in a print or a docstring is no name; "code": strings kept): the answers'
#: own source, an object's private state (a problem's holds its answers; ``self._x`` in a class of the student's
#: own is theirs) read as an attribute, as the object's whole state (``vars(p)``, ``p.__dict__``) or by a private
#: name in a string (``getattr(p, '_x')``, ``state['_x']``; the trial of session 49), and the tools of tampering
#: and introspection no answer needs (the instructor's trial of session 49: ``importlib.reload`` rebound,
#: ``set_custom_exc``, ``inspect.getmembers(p)``, ``getattr(p, "_" + "solve")`` all scored full marks unflagged).
#: The trial of session 50 read the answers unflagged with ``operator.methodcaller('_' + 'solve')(p)``,
#: ``getattr(type(p), chr(95) + 'solve')``, ``vars(type(p))['_' + 'solve']`` and ``p.check.__func__.__globals__``
#: (the problems' :class:`~esxlab.problems.base.Hidden` state): a reader by name (and its aliases) of any object,
#: given any name but one plain string, a name starting with "_" built from pieces, and a function's or class's
#: internals are flagged. An instructor's trial read nothing, but took grade.py's seed out of the kernel's environment
#: (``os.environ.pop('ESXLAB_GRADING_SEED')``) and answered the problem posed again at seed 5: full marks, unflagged.
#: Rebinding an attribute of an imported module is :func:`_rebinds`. Patterns, not proof: a human reads the flags.
NOT_SELF = r"(?!self\b|cls\b)"
#: an argument of a call, with up to two levels of parentheses of its own (``type(p)``, ``f(g(p))``)
ARG = r"(?:[^,()]|\((?:[^()]|\([^()]*\))*\))*"
#: a name passed as one plain string, its text blanked (``"vms"``; a private one, ``"_x"``, is flagged as a string),
#: then the call's next argument or its end: the one name a reader of attributes by name is not flagged for
LITERAL = r"\s*[rRuU]?(?P<q>['\"])[^'\"{}\n]*(?P=q)\s*[,)]"
#: what reads an attribute by a name given as a string
BY_NAME = "getattr|vars|attrgetter|methodcaller"
SUSPECT = (
    (re.compile(r"\binstructor\b"), "names {0!r} (esxlab.problems.instructor computes the answers)", "names"),
    (re.compile(rf"(?:\b{NOT_SELF}\w+|[)\]])\s*\._[A-Za-z]\w*"), "reads the private attribute {0!r}", "names"),
    (re.compile(rf"\bvars\s*\(\s*{NOT_SELF}(?=[^)\s]){ARG}\)|(?:\b{NOT_SELF}\w+|[)\]])\.__dict__\b"),
     "reaches an object's whole state with {0!r} (a problem's private state, or a module's, to rebind it)", "names"),
    (re.compile(r"(?<![\w'\"])(['\"])_+[A-Za-z]\w*\1(?![\w'\"])"),
     "names the private attribute {0} in a string (getattr, or a subscript of an object's state)", "code"),
    (re.compile(r"(?<![\w'\"])(?<!\+)(?<!\+ )[rRuU]?(['\"])_[\w%{}]*\1\s*(?:\+|%|\.\s*format\b|(?=[rRuU]?['\"]))"
                r"|(?<![\w'\"])[fF][rR]?['\"]_[^'\"\n]*\{|(?<![\w.])chr\s*\(\s*(?:95|0x5[fF]|0o137)\s*\)"
                r"|\\(?:x5[fF]|u005[fF]|U0000005[fF]|137|N\{LOW LINE\})"),
     "builds a name starting with '_' out of pieces: {0!r} (a private name spelled nowhere whole)", "code"),
    (re.compile(rf"(?:(?<![\w.]){NOT_SELF}(?:\w+\s*\.\s*)*|(?<=[)\]]\.))__(?:(?:globals|closure|code|func|"
                r"defaults|kwdefaults|wrapped|mro|bases|base|subclasses)__|class__(?!\s*\.\s*__(?:qual)?name__))"
                r"\b(?:\s*\.\s*\w+)*"
                r"|\bget_(?:referents|referrers|objects)\b|\b(?:f_globals|f_locals|f_back|tb_frame)\b"),
     "looks into Python's internals with {0!r} (a function's globals, a closure, a class: the problems' hidden "
     "state is reached so)", "names"),
    (re.compile(r"\bfrom\s+[\w.]+\s+import\s+\(?\s*(?:\w+(?:\s+as\s+\w+)?\s*,\s*)*_[A-Za-z]\w*"),
     "imports a private name: {0!r}", "names"),
    (re.compile(r"\bset_custom_exc\b"),
     "installs an error handler with {0!r} (a failing check would then show no error)", "names"),
    (re.compile(r"(?<![\w.])sys\s*\.\s*modules\b|\bfrom\s+sys\s+import\b.*\bmodules\b"),
     "reaches the imported modules through {0!r} (a module can be swapped there)", "names"),
    (re.compile(r"\b__builtins__\b|\bbuiltins\b"), "reaches Python's builtins through {0!r}", "names"),
    (re.compile(r"\binspect\b|\bgetmembers\b|\b__dir__\b|(?<![\w.])dir\s*\(\s*[^)\s]"),
     "lists an object's members with {0!r} (a problem's private ones hold its answers)", "names"),
    (re.compile(r"\b__import__\b|\bimport_module\b|(?<![\w.])(?:exec|eval|compile)\s*\("),
     "imports or runs code named in a string with {0!r} (an import built from pieces)", "names"),
    (re.compile(rf"\b__getattribute__\b|(?<![\w.])(?:setattr|delattr)\s*\(\s*{NOT_SELF}"),
     "reaches attributes by name with {0!r}", "names"),
    (re.compile(rf"(?<![\w.])getattr\s*\(\s*{NOT_SELF}{ARG}(?=,(?!{LITERAL}))"),
     "reads an attribute by a name that is no plain string: {0}, …)", "names"),
    (re.compile(rf"(?<![\w.])(?:\w+\s*\.\s*)?(?:attrgetter|methodcaller)\s*\((?!{LITERAL})"),
     "reads an attribute or calls a method by a name that is no plain string: {0}…)", "names"),
    (re.compile(rf"^[ \t]*\w+\s*=\s*(?:\w+\s*\.\s*)?(?:{BY_NAME})[ \t]*(?:;|$)|\b(?:{BY_NAME})\s+as\s+\w+", re.M),
     "binds a reader of attributes by name to another name, {0!r} (under it, what it reads is not looked at)",
     "names"),
    (re.compile(r"(?:\b\w+\s*\.\s*)?\b(?:environb?|putenv|unsetenv)\b|^[ \t]*%(?:set_)?env\b"
                r"|\brun_(?:line|cell)_magic\b", re.M),
     "reaches the kernel's environment with {0!r} (where grading tells the kernel the handed-out seed: without it "
     "a check of a problem posed again at another seed passes)", "code"),
)
#: names bound to modules in every notebook (the setup cells' imports; importlib is what a check cell reloads with)
MODULES = ("importlib", "esxlab", "esx", "checks", "problems", "sys", "builtins")
#: the CSV's columns before and after the check cells' points
CSV_FIRST = ("student", "exercise", "seed", "graded_at")
CSV_LAST = ("points", "possible", "notes", "hints")
SEED = re.compile(r"^SEED\s*=\s*(\d+)", re.M)
#: JSON's words: a file that ends in the middle of one is cut off
JSON_WORDS = ("true", "false", "null")
#: characters of an error's message an answer cell's note keeps (its first line)
ERROR_CHARS = 100
#: characters of each note or failed check's message a student's line of the summary keeps (its first line)
SUMMARY_CHARS = 100
#: characters of each answer's reason the summary keeps of a check that names several wrong answers (each is named;
#: :data:`NOT_RIGHT` left out)
ANSWER_CHARS = 60
#: the checker's lead-in to an answer's reason, "`name` is not right (each within ±1 MB; first wrong item: …): "
#: (esxlab.checks' verdict on a wrong value), which the summary shortens to "`name`: " (cut to 50 characters, the
#: lead-in left no room for the reason, session 71's class)
NOT_RIGHT = re.compile(r"^(`[^`]+`) is not right(?: \((?:[^()]|\([^()]*\))*\))?: ")
#: the notebooks this checkout hands out (exercises/release/), with which a handed-out notebook is compared
RELEASE = Path(__file__).resolve().parent / "release"
#: the line of nbgrader's default starter code (``ClearSolutions.code_stub``) that each answer cell of a handout holds
STARTER = "raise NotImplementedError()"
#: the type of the display in which a check cell publishes its answers (:data:`CAPTURE`)
ANSWERS = "application/x-esxlab-answers"
#: what grade.py runs first in each check cell it re-checks (``_g``: the notebook's globals, ``_names``: the cell's
#: answer variables, :func:`pose`): each answer's value as the check is made (not after the notebook's last cell, where
#: a scratch cell may have used the name again: sampling's ``f``), published there and then as the cell's display of
#: :data:`ANSWERS` (a later cell that stops the run, killing its kernel or looping past the timeout, cannot keep the
#: answers from the re-check). Plain values are kept as they are: None, bool, int, float, str, lists and tuples of
#: them, numpy arrays and numbers. What the checker also reads as an answer becomes plain data here as it does there:
#: a number of another kind (Fraction, Decimal, a float of a subclass) its ``float`` (an integral one its ``int``), a
#: str of a subclass the str it holds, an array-like (a pandas Series) its numpy array, another sequence (a deque, a
#: range) its items. Anything else is kept as its type's name alone ("not_plain"); a name not defined as "missing";
#: plain data JSON cannot write as "too_large" (JSON's one refusal of it: an int of more digits than Python writes as
#: text).
#: What is kept can lie only about the student's own answers, which grade.py checks itself (:func:`_rechecked`).
CAPTURE = """import json, numbers, decimal, numpy, IPython.display

def _plain(x, depth=0):
    if x is None or type(x) in (bool, int, float, str):
        return x
    if type(x) is numpy.ndarray or isinstance(x, numpy.generic) and type(x) is numpy.dtype(type(x)).type:
        return _plain(x.tolist(), depth)
    if isinstance(x, str):
        return str.__str__(x)
    if isinstance(x, numbers.Integral) and not isinstance(x, (bool, numpy.bool_)):
        return int(x)
    if isinstance(x, (numbers.Real, decimal.Decimal)) and not isinstance(x, (bool, numpy.bool_)):
        return float(x)
    if depth < 4 and not isinstance(x, (bytes, dict)):
        if type(x) in (list, tuple):
            return [_plain(v, depth + 1) for v in x]
        if hasattr(x, "shape"):
            return _plain(numpy.asarray(x), depth + 1)
        if hasattr(x, "__len__") and iter(x) is not x:
            return _plain(list(x), depth + 1)
    raise TypeError(type(x).__name__)

_got = {"answers": {}, "not_plain": {}, "missing": [], "too_large": []}
for _name in _names:
    if _name not in _g:
        _got["missing"].append(_name)
        continue
    try:
        _value = _plain(_g[_name])
    except Exception as _err:
        _got["not_plain"][_name] = str(_err) if type(_err) is TypeError else type(_g[_name]).__name__
        continue
    try:
        json.dumps(_value)
    except ValueError:
        _got["too_large"].append(_name)
    else:
        _got["answers"][_name] = _value
IPython.display.display({"%s": json.dumps(_got)}, raw=True)""" % ANSWERS
#: the cell grade.py runs after a student's: how many times the checker ran (esxlab.checks.checks_run), as JSON
#: published as the cell's one display (not printed: an answer cell may have bound `print` to a function of its own)
COUNT_CELL = """import json, esxlab.checks, IPython.display
IPython.display.display({"text/plain": json.dumps({"checks_run": esxlab.checks.checks_run()})}, raw=True)"""
#: the types a note names as those an exported answer may hold
PLAIN = "numbers, str, bool, None, lists or tuples of them, numpy arrays and numbers"
#: checker calls beyond one per check cell that are no search (a leftover `p.check(...)`, a check cell run twice by a
#: copy of it): a search tries dozens of values (a review found one extra call flagged an honest notebook)
SEARCH_SLACK = 3
#: the note of a notebook whose checker ran more than SEARCH_SLACK times beyond its check cells ({0} times, {1} cells)
SEARCHED = ("flagged for review: the checker ran {0} times, and this notebook has {1}: code of the student's own "
            "called it (trying values against the checker finds answers without working them out); read the answer "
            "cells")
#: a check cell that failed, while its outputs show no error (an error handler of the notebook's own printed instead)
HIDDEN = "the kernel reported this error, but the notebook showed none (an error handler of its own hid it)"
TAMPERED = ("stopped grading: the esxlab package's files changed while this notebook ran (its code wrote to them); "
            "reinstall esxlab and grade in a throwaway environment")
#: what a tampering notebook gets instead of points
VOID = "the esxlab package's files changed while this notebook ran, so its points do not count"
#: the note of each student after it, not graded
NOT_GRADED = ("not graded: grading stopped at {0}, which changed the esxlab package's files; reinstall esxlab, then "
              "grade this notebook again")
RESUME = ("to grade those named 'not graded': reinstall esxlab, then run grade.py on them alone (with the same --csv: "
          "a regrade adds a row, and the latest graded_at is the grade)")


class Refused(Exception):
    """A notebook that cannot be graded; its message is the sentence to print. One of a file given as an argument,
    :meth:`of`, keeps the message's parts too: the file's ``path`` and the ``reason`` after it (what a student's
    line of the summary shows: the path is in its student column)."""

    path: Path | None = None
    reason = ""

    @classmethod
    def of(cls, path: Path, reason: str, handed_out: bool = False) -> Refused:
        """``error: PATH REASON`` for a student's file, ``error: the handed-out notebook PATH REASON`` for the
        ``handed_out`` one (before 2026-12-07 both began with the command line's name for the argument, ``STUDENT`` or
        ``HANDED_OUT``)."""
        refused = cls(f"error: {'the handed-out notebook ' if handed_out else ''}{path} {reason}")
        refused.path, refused.reason = path, reason
        return refused


class Note(NamedTuple):
    """A note on a student's notebook, as printed under it and written to the CSV: ``before``, ``where``, ``after``
    joined. ``where`` names the notebook (`` in PATH``, `` from PATH``; a refused file's ``refused: PATH ``) and is
    left out of the student's line of the summary (:attr:`short`), whose student column names it. Invented."""

    before: str
    where: str = ""
    after: str = ""

    def __str__(self) -> str:
        return f"{self.before}{self.where}{self.after}"

    @property
    def short(self) -> str:
        """The note as the summary shows it: without ``where``."""
        return f"{self.before}{self.after}"


def _read(path: Path, handed_out: bool = False):
    """The notebook at ``path`` (a student's, or the ``handed_out`` one); refused if it is none."""
    if not path.is_file():
        raise Refused.of(path, "is a folder; allowed: an .ipynb file of the exercises." if path.is_dir() else
                         f"does not exist ({_nearby(path)}); allowed: the path of an .ipynb file of the exercises "
                         "that exists.", handed_out)
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError) as err:       # unreadable, not a notebook (nbformat's errors are ValueErrors)
        raise Refused.of(path, f"{_unreadable(path, err)}; allowed: an .ipynb file of the exercises.",
                         handed_out) from None


def _missing(student: Path) -> str:
    """The sentence refusing a student's path that does not exist (a typo: graded, it left a row in the CSV for a
    student who does not exist, for good)."""
    return (f"error: {student} does not exist ({_nearby(student)}); allowed: the path of a student's notebook, or of "
            "a folder holding it, that exists.")


def _nearby(path: Path) -> str:
    """What exists near ``path``, which does not: the names closest to its first part that does not exist, in the
    folder above that part, the closest first (``submitted has lee.ipynb, leo.ipynb``; ``no folder submited; the
    current folder has submitted``), compared without their suffix and case (:func:`difflib.get_close_matches`'
    closeness and cut-off). Invented."""
    folder = Path(path.anchor)
    for part in path.parts[1:] if path.anchor else path.parts:
        if not (folder / part).exists():
            break
        folder /= part
    wanted = Path(part).stem.casefold()
    score = {p.name: difflib.SequenceMatcher(None, wanted, Path(p.name).stem.casefold()).ratio()
             for p in (folder.iterdir() if folder.is_dir() else ())}
    close = sorted((name for name, s in score.items() if s >= 0.6), key=lambda name: (-score[name], name))[:3]
    where = "the current folder" if folder == Path() else str(folder)
    said = f"{where} has {', '.join(close)}" if close else f"{where} has no name close to {part}"
    return said if folder / part == path else f"no folder {folder / part}; {said}"


def _unreadable(path: Path, err: Exception) -> str:
    """Why ``path`` is no notebook (``err``: what reading it raised): empty, cut off (its JSON stops before it ends:
    a notebook saved while being written, or an upload cut short), or else not one."""
    if path.stat().st_size == 0:
        return "is empty (0 bytes: nothing was saved)"
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as bad:
        rest = bad.doc[bad.pos:].rstrip()       # where the JSON stopped making sense: nothing, or a string or word
        cut = not rest or (rest[0] == '"' and "\n" not in rest) or any(w.startswith(rest) for w in JSON_WORDS)
        if cut:                                 # that runs to the end
            return (f"is cut off: its JSON stops at line {bad.lineno} (saved while being written, or cut short on "
                    "upload)")
    except (OSError, ValueError):
        pass
    return f"cannot be read as a notebook ({err.__class__.__name__})"


def _notebook(student: Path, folder: bool) -> Path:
    """``student``, or if it is a ``folder`` (a student's: nbgrader's ``submitted/<student>/``, an LMS's folder per
    student), the one notebook in it or a folder under it (Jupyter's checkpoints left out); refused if it holds none
    (an empty folder was invisible to a glob of notebooks, session 68) or several (told to move the others out and
    give the folder again: the file given instead was named by its path, :func:`_names`, and the folder's row stayed
    "refused", session 71)."""
    if not folder:
        return student
    found = sorted(p for p in student.rglob("*.ipynb") if p.is_file() and ".ipynb_checkpoints" not in p.parts)
    if len(found) == 1:
        return found[0]
    if not found:
        raise Refused.of(student, "is a folder with no notebook; allowed: a student's folder holding one .ipynb file, "
                         "or the .ipynb file to grade.")
    held = ", ".join(p.relative_to(student).as_posix() for p in found)
    raise Refused.of(student, f"is a folder with {len(found)} notebooks ({held}); allowed: a student's folder holding "
                     f"one .ipynb file (move the others out of it and give the folder again, so that its row is "
                     f"{student.name}'s).")


def _seed(nb) -> str:
    """The ``SEED = <n>`` of ``nb``'s first code cell that sets one ("" if none)."""
    return next((m.group(1) for c in nb.cells if c.cell_type == "code" for m in [SEED.search(c.source)] if m), "")


def _code(source: str, strings: bool = True) -> str:
    """``source`` without its comments, and without the text of its strings unless ``strings`` (each character
    a blank, so that every token keeps its place; an f-string keeps what its braces hold, which is code); as it
    stands if it does not tokenize (a cell with a syntax error)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return source
    text = (tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING))
    return tokenize.untokenize(
        t if strings or t.type not in text else t._replace(string=_blank(t.string, t.type == tokenize.STRING))
        for t in tokens if t.type != tokenize.COMMENT)                      # (positions kept: `p._x` stays)


def _blank(string: str, whole: bool = True) -> str:
    """A string token's text blanked: its prefix, quotes and line breaks kept, and an f-string's braces' code
    (``whole``: a whole string literal; else the text between an f-string's braces, Python 3.12's FSTRING_MIDDLE)."""
    prefix = re.match(r"[A-Za-z]*", string).group(0) if whole else ""
    code, depth, out = "f" in prefix.lower(), 0, []
    for i, ch in enumerate(string):
        if code and ch == "{":
            depth += 1
        elif code and ch == "}" and depth:
            depth -= 1
        elif i >= len(prefix) and ch not in "'\"\n" and not depth:
            ch = " "
        out.append(ch)
    return "".join(out)


def _imported(code: str) -> set[str]:
    """The names ``code``'s import statements bind (``import a.b`` binds ``a``; ``from m import x as y``, ``y``)."""
    names = set()
    for m in re.finditer(r"^[ \t]*(?:from\s+[\w.]+\s+)?import\s+\(?([\w., \t]+)", code, re.M):
        for item in m.group(1).split(","):
            words = item.split()
            if words:
                names.add(words[-1] if len(words) == 3 and words[1] == "as" else words[0].split(".")[0])
    return names


def _rebinds(names) -> re.Pattern:
    """Assigning to an attribute of one of the modules ``names`` (``importlib.reload = …``, ``checks.check = …``:
    the reload of a check cell, or the checker it calls, replaced)."""
    return re.compile(rf"(?<![\w.])(?:{_any_of(names)})\b(?:\s*\.\s*\w+)+(?=\s*(?:[-+*/%&|^@]|//|\*\*|<<|>>)?=(?!=))")


def _any_of(names) -> str:
    """A regular expression matching any of ``names`` (the longest first)."""
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


def _message(cell, reply: dict | None) -> str:
    """What the student read under check ``cell`` after it ran: the error's message, else "correct". ``reply`` is
    the kernel's execute_reply to it (None if it had none): a cell is correct only if the kernel said it ran
    without an error (``status`` "ok"), so an error an answer cell hid (``set_custom_exc``) is still told."""
    errors = [o for o in cell.outputs if o.output_type == "error"]
    if not cell.get("execution_count") and reply is None:
        return "not run"
    if errors:
        ename, evalue, hidden = errors[0].ename, errors[0].evalue, ""
    elif reply is None:
        return "stopped before it finished"
    elif reply.get("status") != "ok":
        ename, evalue = reply.get("ename") or "an error", reply.get("evalue") or ""
        hidden = f" [{HIDDEN}]"
    else:
        return "correct"
    if ename == "NotImplementedError":
        return "not answered yet" + hidden
    return f"{ename}: {evalue}{hidden}".replace("\n", "\n" + " " * 8)


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


def renamed(given, work) -> list[tuple[str, str]]:
    """Give back to each cell of ``work`` whose nbgrader grade id the student changed the handed-out one; returns
    (handed-out grade id, the student's) of each. Such a cell has a grade id ``given`` has not, and keeps the cell id
    (Jupyter's, which a cell keeps as it is edited) or the source of one of ``given``'s cells whose grade id ``work``
    lacks. Grading finds cells by grade id, as nbgrader does: such a cell was called deleted, the handed-out one put
    back beside it, and both ran (session 69). Invented."""
    ours = {nbgrader(c)["grade_id"]: c for c in given.cells if nbgrader(c).get("grade_id")}
    have = {nbgrader(c).get("grade_id") for c in work.cells}
    lost = {key: c for key, c in ours.items() if key not in have}
    found = []
    for cell in work.cells:
        key = nbgrader(cell).get("grade_id")
        if key is None or key in ours:
            continue
        was = next((k for k, c in lost.items() if c.get("id") and c.get("id") == cell.get("id")), None) or next(
            (k for k, c in lost.items() if c.source.strip() == cell.source.strip()), None)
        if was is not None:
            del lost[was]
            nbgrader(cell)["grade_id"] = was
            found.append((was, key))
    return found


def locked_cells(notebook) -> dict[str, nbformat.NotebookNode]:
    """``notebook``'s locked cells (setup, problems, checks) by grade id."""
    return {nbgrader(c)["grade_id"]: c for c in notebook.cells if nbgrader(c).get("locked")}


def edited(given, work, but_seed: bool = False) -> list[str]:
    """The grade ids of ``given``'s locked cells whose copy in ``work`` the student changed (grading puts them back
    as handed out, as nbgrader does, which warns that such a cell changed); with ``but_seed``, not those that differ
    only in the number of their ``SEED = <n>`` line (the SEED note names that difference)."""
    locked = locked_cells(given)
    seen = (lambda source: SEED.sub("SEED = ", source)) if but_seed else (lambda source: source)
    changed = [key for c in work.cells
               if (key := nbgrader(c).get("grade_id")) in locked and seen(c.source) != seen(locked[key].source)]
    return list(dict.fromkeys(changed))


def flags(given, work) -> list[str]:
    """Notes on the student's own code cells (not the locked ones) that look at the answers or tamper with the
    checks (:data:`SUSPECT`, and :func:`_rebinds` for the modules the notebook imports)."""
    locked = locked_cells(given)
    names = [_code(c.source, strings=False) for c in (*given.cells, *work.cells) if c.cell_type == "code"]
    modules = set(MODULES).union(*map(_imported, names))
    alias = re.compile(rf"^[ \t]*(\w+)\s*=\s*(?:{_any_of(modules)})[ \t]*(?:;|$)", re.M)     # m = importlib
    modules |= {m.group(1) for text in names for m in alias.finditer(text)}
    suspect = (*SUSPECT, (_rebinds(modules), "rebinds {0!r}, an attribute of an imported module (a check cell's "
                                             "reload, or the checker it calls, can be replaced so)", "names"),
               (alias, "binds a module to another name, {0!r} (through it the module's attributes can be rebound)",
                "names"))
    notes = []
    for i, cell in enumerate(work.cells):
        key = nbgrader(cell).get("grade_id")
        if cell.cell_type != "code" or (key is not None and key in locked):
            continue
        text = {"code": _code(cell.source), "names": _code(cell.source, strings=False)}
        for pattern, what, on in suspect:
            found = pattern.search(text[on])
            if found:
                shown = " ".join(found.group(0).split())
                notes.append(f"flagged for review: {key or f'cell {i + 1}'} {what.format(shown)}")
    return notes


def grade(given, work, timeout: float = TIMEOUT_S,
          posed: dict[str, Posed] | None = None) -> tuple[list[str], list[tuple[str, int, int, str]], list[str], str]:
    """Run ``work`` (a notebook) with ``given``'s locked cells, deleted ones put back; returns those put back
    (:func:`put_back`), per check cell of ``given`` (grade_id, points earned as the re-check of :func:`_rechecked`
    on ``posed``'s problems says, points, what the student read), a note per answer cell that raised
    (:func:`_raised`), the checker run more often than there are check cells (:func:`_searched`) or a re-check that
    disagreed with the kernel or could not be made, and why the run stopped early ("" if it did not: the cells
    together over ``timeout`` seconds, counted from the first cell's start, or a dead kernel). ``posed``:
    :func:`pose` of ``given``, posed once for a class (posed here if None)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    given = copy.deepcopy(given)          # its cells run in the student's notebook: the next student gets them fresh
    theirs = {id(c): n for n, c in enumerate(work.cells, 1)}     # each cell's place in the student's notebook
    restored = put_back(given, work)
    locked = locked_cells(given)
    work.cells = [locked.get(nbgrader(c).get("grade_id"), c) for c in work.cells]
    posed = pose(given) if posed is None else posed
    for cell in locked.values():              # (given's copy: the answers as each check is made, published)
        this = posed.get(nbgrader(cell).get("grade_id"))
        if this is not None and this.problem is not None:
            cell.source = (f"exec({CAPTURE!r}, {{'_g': globals(), '_names': {sorted(set(this.answers.values()))!r}}})"
                           f"\n{cell.source}")
    count = nbformat.v4.new_code_cell(COUNT_CELL)
    work.cells.append(count)
    # the kernel's own output outside its cells (ipykernel's warning that it talks over local TCP, a dying kernel's
    # log, libzmq's "Assertion failed: pfd.revents & POLLIN (src/signaler.cpp:238)" as it shut down, seen once in CI
    # on 2026-12-06, a student's os.write(2, …)) goes nowhere: it is no part of a grade; nor is the client's log:
    # pyzmq's event loop may log a traceback when a kernel channel closes as the kernel shuts down ("ZMQError:
    # Socket operation on non-socket", seen once in CI on 2026-12-05)
    logging.getLogger("tornado").setLevel(logging.CRITICAL)
    started: list[int] = []
    replies: dict[int, dict] = {}         # the kernel's execute_reply to each cell that finished
    seconds = math.ceil(timeout)                  # (whole seconds, as the note names them)
    stopped = ""
    # the kernel works in a fresh folder: it imports esxlab as installed, the package grade.py hashes, not a copy
    # in the folder grade.py was started from (nor one an earlier notebook left in its own)
    with tempfile.TemporaryDirectory(prefix="esxlab-grade-") as folder:
        client = NotebookClient(work, timeout_func=_budget(seconds, count), kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": folder}},
                                on_cell_start=lambda cell, cell_index: started.append(cell_index),
                                on_cell_executed=lambda cell, cell_index, execute_reply: replies.__setitem__(
                                    cell_index, (execute_reply or {}).get("content", {})))
        try:                  # the handed-out seed: a check of a problem of another seed fails (esxlab.checks)
            _execute(client, env={**os.environ, GRADING_SEED: _seed(given)}, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL)
        except (CellTimeoutError, DeadKernelError) as err:        # the cells before it ran: their checks count
            cell = work.cells[started[-1] if started else 0]
            # a cell of the student's own by its place in their notebook (not in the one run: cells put back shift it)
            name = (nbgrader(cell).get("grade_id") or (f"cell {theirs[id(cell)]}" if id(cell) in theirs else
                    "grade.py's own cell after the notebook's (it counts the checker's calls)"))
            why = (f"the notebook ran over its timeout of {seconds} s (all its cells together), in {name}"
                   if isinstance(err, CellTimeoutError) else f"{name} killed its kernel")
            stopped = f"stopped: {why}; the check cells after it score 0"
    counted = _counted(work.cells.pop())
    ran = {nbgrader(c).get("grade_id"): i for i, c in enumerate(work.cells)}
    rows = []
    for grade_id, points in _graded(given):
        message = _message(work.cells[ran[grade_id]], replies.get(ran[grade_id]))
        rows.append((grade_id, points if message == "correct" else 0, points, message))
    kept = {g: _kept(work.cells[ran[g]]) for g in posed}
    rows, rechecked = _rechecked(rows, posed, kept)
    return restored, rows, [*_searched(given, counted), *_raised(given, work, replies), *rechecked], stopped


def _budget(seconds: float, own) -> Callable[[Any], float]:
    """nbclient's ``timeout_func`` for a notebook whose cells may run ``seconds`` all together, counted from the first
    cell's start: each cell may run the seconds left as it starts; once they are up, :data:`SPENT_S` (nbclient takes
    0 for no limit), so the next cell that runs stops the run (each got a whole second more, and a notebook of many
    short cells ran on to its end). ``own``, grade.py's cell after the student's (:data:`COUNT_CELL`), may run
    :data:`COUNT_CELL_S` of its own: it is not the student's time."""
    deadline: list[float] = []

    def left(cell) -> float:
        if cell is own:
            return COUNT_CELL_S
        if not deadline:
            deadline.append(time.monotonic() + seconds)
        return max(deadline[0] - time.monotonic(), SPENT_S)
    return left


def _execute(client, **kwargs) -> None:
    """Run ``client`` (an nbclient ``NotebookClient``; ``kwargs`` go to its ``async_execute``) in a thread of its own,
    so that Ctrl-C reaches grade.py: nbclient, run in the main thread, takes SIGINT for itself and shuts the kernel
    down, and the cell then running failed as if the student's code had killed its kernel (a wrong grade), or nbclient
    failed with a traceback (session 68). In a thread other than the main one, nbclient (0.7 to 0.11 at least) leaves
    SIGINT alone. On Ctrl-C (or SIGTERM: :class:`Stops`) the run is cancelled (nbclient shuts its kernel down as it
    leaves it, and may take the cancel for a dead kernel: the run's result is dropped), a kernel still starting, or
    one whose shutdown by nbclient the cancel cut short, is shut down, and the ``KeyboardInterrupt`` is raised
    again."""
    from nbclient.util import ensure_async

    loop, done = asyncio.new_event_loop(), threading.Event()
    task = loop.create_task(client.async_execute(**kwargs))

    def run() -> None:
        try:
            loop.run_until_complete(task)
        except BaseException:           # (task.result() raises it in the main thread)
            pass
        finally:
            done.set()
    threading.Thread(target=run, name="grade.py kernel", daemon=True).start()
    try:
        done.wait()                     # (not Thread.join: a join Ctrl-C interrupted returns at once when called again)
    except KeyboardInterrupt:
        was = {s: signal.signal(s, signal.SIG_IGN) for s in Stops.SIGNALS}   # a second stop waits for the shutdown
        try:
            started = client.km
            loop.call_soon_threadsafe(task.cancel)
            done.wait()
            # a cancel that cut nbclient's own shutdown of the kernel short (the student's cells done) left the kernel
            # without its manager, which nbclient dropped, and nbclient's exit hook registered: at exit it failed on
            # the missing manager with a traceback
            cleanup = getattr(client, "_cleanup_kernel", None)     # (nbclient 0.6.1-0.11's name for that hook)
            if cleanup is not None:
                atexit.unregister(cleanup)
            km = client.km if client.km is not None else started
            if km is not None and km.has_kernel:       # cancelled as it started (nbclient did not own it), or stopped
                loop.run_until_complete(ensure_async(km.shutdown_kernel(now=True)))
        finally:
            for signum, handler in was.items():
                signal.signal(signum, handler)
        raise
    finally:                            # what nbclient left running (its poll of the kernel, when cancelled)
        left = asyncio.all_tasks(loop)
        for pending in left:
            pending.cancel()
        if left:
            loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        loop.close()
    task.result()                                                # its error, if it raised one


def _published(cell, kind: str) -> Any:
    """The text of ``cell``'s one display of type ``kind`` read with ``json.loads`` (nothing else of the student's
    kernel is trusted); None if it has none, several, or no JSON."""
    said = [o.get("data", {}).get(kind) for o in cell.get("outputs", [])
            if o.output_type == "display_data" and kind in o.get("data", {})]
    try:
        return json.loads(said[0]) if len(said) == 1 and isinstance(said[0], str) else None
    except (TypeError, ValueError, RecursionError):     # (JSON nested deeper than Python's stack: a made-up export)
        return None


def _counted(counted) -> int | None:
    """How many times the checker ran, as :data:`COUNT_CELL`, run as ``counted`` after the student's cells, published
    it; None if it did not (a run stopped early; code of the notebook's own kept it from publishing)."""
    said = _published(counted, "text/plain")
    return said["checks_run"] if isinstance(said, dict) and _typed(said, {"checks_run": int}) else None


def _kept(cell) -> dict | None:
    """The answers check ``cell`` kept as it ran (:data:`CAPTURE`), if they are of its keys and types; else None (the
    cell did not run, or code of the notebook's own kept it from publishing them)."""
    kept = _published(cell, ANSWERS)
    kinds = {"answers": dict, "not_plain": dict, "missing": list, "too_large": list}
    return kept if isinstance(kept, dict) and _typed(kept, kinds) else None


def _typed(published: dict, kinds: dict[str, type]) -> bool:
    """Whether ``published`` (what a cell published, :func:`_published`) holds a value of each type of ``kinds`` under
    its key."""
    return all(isinstance(published.get(k), t) for k, t in kinds.items())


def _searched(given, counted: int | None) -> list[str]:
    """:data:`SEARCHED` if the checker ran (``counted``: :func:`_counted`) more often than ``given`` has check cells
    (each runs once, calling it once) by more than :data:`SEARCH_SLACK`, else nothing (also when it was not counted:
    a run stopped early)."""
    said = counted or 0
    cells = len(_graded(given))
    if said <= cells + SEARCH_SLACK:
        return []
    return [SEARCHED.format(said, f"{cells} check cell" + ("s" if cells > 1 else ""))]


class Posed(NamedTuple):
    """A check cell's problem as grade.py poses it in its own process (:func:`pose`), and the variable that holds each
    answer its check is given (answer name → variable); ``problem`` None if it is not re-checked, ``why`` says why."""

    problem: Any
    answers: dict[str, str]
    why: str = ""


def pose(given) -> dict[str, Posed]:
    """Each check cell of ``given`` (by grade id) with its problem posed here, in grade.py's process, from the locked
    cells as handed out, read with ``ast``: the problem class of the ``VAR = problems.Class(seed=SEED)`` cell before it,
    the handed-out ``SEED``, and the answer variables of its ``checks.check(VAR, name=variable, …)`` call. Posed once
    per run (a class's problem depends only on its class and seed). A check whose answer is code (the capstone's
    policy, an "object" to run) is not re-checked, nor one whose cells do not read so. Invented."""
    from esxlab import problems
    from esxlab.problems.base import Problem

    seed, classes, posed = _seed(given), {}, {}
    for cell in given.cells:
        meta = nbgrader(cell)
        if cell.cell_type != "code" or not meta.get("locked"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute) \
                    and isinstance(node.value.func.value, ast.Name) and node.value.func.value.id == "problems":
                classes[node.targets[0].id] = node.value.func.attr
        if not meta.get("grade"):
            continue
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                 and n.func.attr == "check" and isinstance(n.func.value, ast.Name) and n.func.value.id == "checks"]
        call = calls[0] if len(calls) == 1 else None
        if call is None or len(call.args) != 1 or not isinstance(call.args[0], ast.Name) \
                or not all(k.arg and isinstance(k.value, ast.Name) for k in call.keywords):
            posed[meta["grade_id"]] = Posed(None, {}, "its check cell makes no one checks.check(p, name=name, …) "
                                            "call")
            continue
        answers = {k.arg: k.value.id for k in call.keywords}
        cls = getattr(problems, classes.get(call.args[0].id, ""), None)
        if not (isinstance(cls, type) and issubclass(cls, Problem) and seed):
            posed[meta["grade_id"]] = Posed(None, answers, f"no problem class of esxlab.problems and SEED for "
                                            f"{call.args[0].id!r} in the handed-out cells")
            continue
        problem = cls(seed=int(seed))
        code = [e.name for e in problem._expectations() if e.kind == "object"]
        posed[meta["grade_id"]] = Posed(None, answers, f"its answer {', '.join(code)} is code, which runs only in "
                                        "the student's kernel") if code else Posed(problem, answers)
    return posed


def _recheck(posed: Posed, kept: dict) -> str:
    """"" if the answers ``kept`` (one check cell's, :func:`_kept`) pass the check of ``posed``'s problem, here; else
    why not, a sentence: the check's verdict, an answer not kept as plain data (:data:`PLAIN`) or too large to keep,
    or one not defined."""
    values = {}
    for name, var in posed.answers.items():
        if var in kept["too_large"]:
            return (f"`{var}` holds a number too large to record (an int of more digits than Python writes as text, "
                    f"4300 by default); allowed: {PLAIN}, of fewer digits")
        if var in kept["not_plain"]:
            return (f"`{var}` holds {with_article(first_line(str(kept['not_plain'][var]), ERROR_CHARS))}, which is "
                    f"not a plain answer; allowed: {PLAIN}")
        if var not in kept["answers"]:
            return f"`{var}` was not defined when the check cell ran"
        values[name] = kept["answers"][var]
    try:
        with contextlib.redirect_stdout(io.StringIO()):         # ("Correct: …")
            checks.check_posed(posed.problem, **values)
    except Exception as err:                                    # noqa: BLE001 (a verdict, whatever the answers)
        return f"{type(err).__name__}: {_reason(str(err))}"
    return ""


def _rechecked(rows: list[tuple[str, int, int, str]], posed: dict[str, Posed],
               kept: dict[str, dict | None]) -> tuple[list[tuple[str, int, int, str]], list[str]]:
    """``rows`` (:func:`grade`'s, by the kernel's verdicts) with their points as the re-check in grade.py's own
    process says (:func:`_recheck` of each check cell's ``posed`` problem on the answers its cell ``kept``, by grade
    id), and a note per check cell where the two disagree (the kernel's check passed and the re-check did not, or its
    cell kept no answers: 0, flagged; the other way: the re-check's points), or where the kernel's check passed and
    its verdict stands unchecked (an answer that is code). The kernel's message stays what the student read.
    Invented."""
    out, notes = [], []
    for grade_id, earned, points, message in rows:
        this = posed.get(grade_id)
        if this is None or this.problem is None:
            if earned:
                why = this.why if this else "it is not a check cell of the handed-out notebook"
                notes.append(f"{grade_id}: not re-checked ({why}): the kernel's verdict stands")
        elif kept.get(grade_id) is None:
            if earned:
                notes.append(f"flagged: the kernel's check passed, an independent re-check could not be made, in "
                             f"{grade_id} (its check cell kept no answers: code of the notebook's own kept it from "
                             "keeping them)")
                earned = 0
        else:
            failed = _recheck(this, kept[grade_id])
            if earned and failed:
                notes.append(f"flagged: the kernel's check passed, an independent re-check did not, in {grade_id} "
                             f"(of the answers as they stood when the check cell ran): {failed}")
                earned = 0
            elif not earned and not failed:
                notes.append(f"the kernel's check failed, an independent re-check passed, in {grade_id} (did the "
                             "notebook's own code break its kernel's check?): points as the re-check says")
                earned = points
        out.append((grade_id, earned, points, message))
    return out, notes


def _raised(given, work, replies: dict[int, dict]) -> list[str]:
    """A note per answer cell of ``given`` that raised in ``work`` (``replies``: the kernel's execute_reply to each
    cell by index), naming the error and the first line of its message, shortened: a check cell shows only its
    consequence (a ``NameError``). Not for ``NotImplementedError``: an answer cell as handed out, "not answered yet"."""
    answers = {nbgrader(c)["grade_id"] for c in given.cells if nbgrader(c).get("solution")}
    notes = []
    for i, cell in enumerate(work.cells):
        reply, key = replies.get(i, {}), nbgrader(cell).get("grade_id")
        if key not in answers or reply.get("status") != "error" or reply.get("ename") == "NotImplementedError":
            continue
        said = first_line(reply.get("evalue") or "", ERROR_CHARS)
        notes.append(f"answer cell {key} raised {reply.get('ename') or 'an error'}" + (f": {said}" if said else ""))
    return notes


def grade_one(handed_out: Path, given, student: Path, timeout: float,
              posed: dict[str, Posed] | None = None) -> tuple[list, list[Note]]:
    """Grade ``student``; returns its rows (:func:`grade`; ``posed``: :func:`pose` of ``given``, once for the run) and
    its notes, to print (:func:`show`) once grading knows they count (those naming ``student`` name it apart from
    their text: :class:`Note`). Refused if it cannot be graded."""
    work = _read(student)
    changed_ids = renamed(given, work)
    answers = [nbgrader(c)["grade_id"] for c in given.cells if nbgrader(c).get("solution")]
    have = {nbgrader(c).get("grade_id") for c in work.cells}
    missing = [a for a in answers if a not in have]
    if answers and len(missing) == len(answers):
        recover = (f"paste the answers into the answer cells (`# YOUR CODE HERE`) of a copy of the handed-out "
                   f"{handed_out.name} and grade that")
        if any(c.cell_type == "code" for c in work.cells) and not any(nbgrader(c) for c in work.cells):
            raise Refused.of(student, f"has no cell with nbgrader metadata, so none of the answer cells of the "
                             f"handed-out notebook {handed_out} ({', '.join(answers)}): grade.py finds the answer cells "
                             "by their nbgrader grade_id, which a notebook loses when it is made anew or its cells are "
                             f"pasted into a new one; to recover, {recover}; allowed: a student's copy of "
                             f"{handed_out.name}.")
        raise Refused.of(student, f"has none of the answer cells of the handed-out notebook {handed_out} "
                         f"({', '.join(answers)}): another exercise's notebook, every answer cell deleted, or answer "
                         "cells that lost their nbgrader metadata (grade.py finds them by their grade_id, which cells "
                         f"pasted into a new notebook do not keep; to recover pasted answers, {recover}); allowed: a "
                         f"student's copy of {handed_out.name}.")
    theirs, ours = _seed(work), _seed(given)
    other_seed = bool(theirs and ours and theirs != ours)
    # (before grading puts the handed-out cells back)
    suspect, changed = flags(given, work), edited(given, work, but_seed=other_seed)
    restored, rows, raised, stopped = grade(given, work, timeout, posed)
    notes = [Note(n) for n in (*suspect, *(f"flagged for review: {g} failed: {HIDDEN}" for g, _, _, m in rows
                                          if HIDDEN in m), *raised)]
    if other_seed:
        notes.append(Note(f"graded with the handed-out SEED = {ours}; this notebook had SEED = {theirs} (another "
                          "handout, or its SEED line edited?)"))
    if changed_ids:
        notes.append(Note("nbgrader grade_id changed", f" in {student}", ", graded as the handed-out cell: "
                          + ", ".join(f"{new!r} is {was}" for was, new in changed_ids)))
    if restored:
        notes.append(Note(f"put back as handed out: {', '.join(restored)} (deleted", f" from {student}", ")"))
    locked = len(locked_cells(given))
    if changed and len(changed) == locked > 1:
        notes.append(Note(f"put back as handed out: every locked cell, all {locked} (each differs", f" in {student}",
                          ": a copy of another version of the handout?)"))
    elif changed:
        notes.append(Note(f"put back as handed out: {', '.join(changed)} (edited", f" in {student}", ")"))
    if missing:
        notes.append(Note(f"missing answer cells: {', '.join(missing)} (deleted, or another exercise's notebook?)"))
    if stopped:
        notes.append(Note(stopped))
    return rows, notes


def show(rows: list, notes: list[Note], hints: bool) -> None:
    """Print a graded student's notes, with ``hints`` each check cell's points and message, and then the points
    (``void: …`` instead if the points are void: rows with empty points)."""
    for note in notes:
        print(note)
    if hints:
        width = max(len(g) for g, *_ in rows)
        for grade_id, earned, points, message in rows:
            print(f"{grade_id:{width}}  {'void' if earned == '' else earned} / {points}  {message}".rstrip())
    if any(r[1] == "" for r in rows):
        print(f"void: {VOID} (of {sum(r[2] for r in rows)} points)", flush=True)
    else:
        print(f"{sum(r[1] for r in rows)} / {sum(r[2] for r in rows)} points", flush=True)


def _names(students: list[Path], handed_out: Path, folders: set[Path]) -> dict[Path, str]:
    """The CSV's ``student`` of each of ``students``, those graded in this run: the file's name without its folder and
    ``.ipynb`` (the guide names the files after the students), or its path as given without ``.ipynb`` if that name
    holds the handed-out notebook's, in any case (nbgrader's ``submitted/<student>/<assignment>/``, an LMS's folder
    per student, ``idle_memory_tax (1).ipynb``: the folders name the student; by its name alone, each row of a class
    was ``idle_memory_tax``), or if another student has that name too (two students' ``Untitled.ipynb``, each in a
    folder of their own, had one name); a student's folder (one of ``folders``), its name (``submitted/ada/``:
    ``ada``). Names are counted once for the run (comparing each student with every other was n² for a class of
    thousands)."""
    stems = {student: _stem(student) for student in students}
    shared = collections.Counter(stem.casefold() for stem in stems.values())
    named = {}
    for student, stem in stems.items():
        if student in folders:
            named[student] = student.name
        elif handed_out.stem.casefold() in stem.casefold() or shared[stem.casefold()] > 1:
            named[student] = student.with_name(stem).as_posix()
        else:
            named[student] = stem
    return named


def _stem(student: Path) -> str:
    """``student``'s file name without ``.ipynb``."""
    return student.stem if student.suffix == ".ipynb" else student.name


def _graded(given) -> list[tuple[str, int]]:
    """(grade id, points) of ``given``'s check cells, in order."""
    return [(nbgrader(c)["grade_id"], nbgrader(c)["points"]) for c in given.cells if nbgrader(c).get("grade")]


def _unscored(given) -> list[tuple[str, str, int, str]]:
    """A row per check cell of ``given`` with no points and no message: a student refused, void, or not graded."""
    return [(g, "", points, "") for g, points in _graded(given)]


def _released(source: Path) -> str:
    """Where the student version of ``source``, a notebook with the solutions, is: the same path with its last
    ``source`` folder made ``release`` (``exercises/release/``, nbgrader's ``release/<assignment>/``), if that
    exists."""
    parts = list(source.parts)
    if "source" in parts[:-1]:
        at = len(parts) - 2 - parts[-2::-1].index("source")
        released = Path(*parts[:at], "release", *parts[at + 1:])
        if released.is_file():
            return str(released)
    return "as exercises/release/ (or nbgrader's release/) holds it"


def _answer_cells(nb) -> dict[str, str]:
    """``nb``'s answer cells (nbgrader's solution cells): each one's source, stripped, by grade id."""
    return {nbgrader(c)["grade_id"]: c.source.strip() for c in nb.cells
            if nbgrader(c).get("solution") and nbgrader(c).get("grade_id")}


@functools.cache
def _releases() -> dict[Path, tuple[frozenset[str], dict[str, str]]]:
    """Each notebook of :data:`RELEASE`: its grade ids, and its answer cells (:func:`_answer_cells`)."""
    found = {}
    for path in sorted(RELEASE.glob("*.ipynb")):
        try:
            nb = nbformat.read(path, as_version=4)
        except (OSError, ValueError):
            continue
        found[path] = frozenset(filter(None, map(_key, nb.cells))), _answer_cells(nb)
    return found


def _release_of(nb, name: str) -> Path | None:
    """The notebook of :data:`RELEASE` that ``nb`` (a file named ``name``) is a copy of: the one named ``name`` if it
    has ``nb``'s answer cells, else the one that shares the most grade ids with ``nb`` of those that share an answer
    cell's (a student's copy lacks the cells deleted); None if none does (an exercise of the instructor's own)."""
    ids, answers = set(filter(None, map(_key, nb.cells))), _answer_cells(nb).keys()
    same = _releases().get(RELEASE / name)
    if same and same[1].keys() == answers:
        return RELEASE / name
    shared = {path: len(ids & theirs) for path, (theirs, cells) in _releases().items() if answers & cells.keys()}
    return max(shared, key=shared.get, default=None)


def _shown(path: Path) -> str:
    """``path`` as the current folder sees it: relative to it, if it is under it (``exercises/release/…``)."""
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def _check_as_handed_out(handed_out: Path, given) -> None:
    """Refused unless the answer cells of ``given``, the notebook at ``handed_out``, are as handed out (a student's
    notebook given first, or the two paths swapped, had one student graded as the handout, silently, session 71).
    The rule: a notebook in a folder named ``release`` (exercises/release/) or in one of its folders (nbgrader's
    ``release/<assignment>/``) is the handout, whatever starter code nbgrader was set to put in its answer cells
    (``ClearSolutions.code_stub``); any other is compared with its copy in :data:`RELEASE` (:func:`_release_of`),
    where there is one: each answer cell must hold what the copy's does; else each answer cell must hold nbgrader's
    default starter code (:data:`STARTER`). Invented."""
    if "release" in handed_out.resolve().parts[-3:-1]:
        return
    copy_, ours = _release_of(given, handed_out.name), _answer_cells(given)
    if copy_ is not None:
        theirs = _releases()[copy_][1]
        filled = [g for g, source in ours.items() if g in theirs and source != theirs[g]]
        why, where = "unlike the release's", _shown(copy_)
    else:
        filled = [g for g, source in ours.items() if STARTER not in source]
        why = f"with no `{STARTER}`, the starter code nbgrader puts there"
        where = "from its release folder (exercises/release/, nbgrader's release/<assignment>/)"
    if filled:
        raise Refused.of(handed_out, f"has answers filled in ({', '.join(filled)}, {why}; a student's notebook given "
                         f"first?); allowed: the notebook as handed out, {where}.", handed_out=True)


def _check_exercise(students: list[Path], folders: set[Path], handed_out: Path, given) -> None:
    """Refused if ``handed_out`` (``given``) is not the students' exercise: every one of two or more
    students' notebooks that can be read has answer cells (nbgrader's), and none of ``given``'s. The handed-out
    path is then the likely mistake (each student was refused in a sentence of 520 characters, session 71). Reads the
    students' notebooks until one has an answer cell of ``given``'s (the first, in a class of this exercise).
    Invented."""
    ours, theirs = _answer_cells(given).keys(), []
    for student in students:
        try:
            path = _notebook(student, student in folders)
            nb = _read(path)
        except Refused:
            continue                    # (refused as it is graded)
        answers = _answer_cells(nb).keys()
        if not answers or answers & ours:
            return
        theirs.append(_release_of(nb, path.name))
    if len(theirs) < 2:
        return
    known = None not in theirs
    exercise = " or ".join(sorted({p.name for p in theirs})) if known else "another exercise"
    where = " or ".join(sorted({_shown(p) for p in theirs})) if known else "the students' exercise's handout"
    raise Refused.of(handed_out, f"is not the students' exercise: none of the {len(theirs)} students' notebooks "
                     f"has its answer cells ({', '.join(ours)}), and each has those of {exercise}; allowed: {where}.",
                     handed_out=True)


def _check_csv(path: Path, header: list[str], exercise: str) -> None:
    """Refused unless ``path`` can be written, and is new, empty, or holds grades of these same check cells (of
    ``exercise``, the handed-out notebook's file name: a CSV's rows name theirs)."""
    if path.is_dir() or not path.parent.is_dir():
        raise Refused(f"error: --csv {path}: {'is a folder' if path.is_dir() else 'its folder does not exist'}; "
                      "allowed: a file in an existing folder.")
    if path.exists() and path.stat().st_size:
        try:
            with open(path, newline="", encoding="utf-8-sig") as f:   # (a spreadsheet's "CSV UTF-8" begins with a BOM)
                rows = csv.reader(f)
                have = next(rows, [])
                first = dict(zip(have, next(rows, [])))
        except UnicodeDecodeError:
            raise Refused(f"error: --csv {path} is not UTF-8 text (saved by a spreadsheet in another encoding?); "
                          "allowed: the CSV saved as UTF-8, another --csv path, or a new file.") from None
        if have == header:
            return
        cells = [c for c in have if c not in (*CSV_FIRST, *CSV_LAST)]
        if len(cells) + len(CSV_FIRST) + len(CSV_LAST) != len(have):
            was = "is not a CSV of grade.py's (its header has other columns)"
        elif first.get("exercise") and first["exercise"] != exercise:
            was = f"was written for {first['exercise']}"
        else:                               # (no row yet, or this exercise's rows of other check cells)
            was = f"was written for other check cells ({', '.join(cells)})"
        raise Refused(f"error: --csv {path} {was}; allowed: another --csv path, or a new file (one CSV per exercise).")


def _timeout(text: str) -> float:
    """``--timeout``: seconds, a finite number > 0 (a fraction is rounded up to whole seconds)."""
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
    ap.add_argument("students", type=Path, nargs="+", metavar="STUDENT.ipynb",
                    help="the students' notebooks, or a folder per student holding one notebook")
    ap.add_argument("--hints", action="store_true", help="print each check cell's points and message first")
    ap.add_argument("--csv", type=Path, metavar="FILE", help="add a row per student to FILE (a header if new)")
    ap.add_argument("--timeout", type=_timeout, default=TIMEOUT_S, metavar="S",
                    help=f"seconds a student's notebook may run, all its cells together, before its run stops "
                         f"(default {TIMEOUT_S})")
    args = ap.parse_args(argv)
    try:
        given = _read(args.handed_out, handed_out=True)
        if not any(nbgrader(c).get("grade") for c in given.cells):
            raise Refused.of(args.handed_out, "has no graded check cells; allowed: a notebook of exercises/release (or "
                             "nbgrader's student version).", handed_out=True)
        if any(has_markers(c.source) for c in given.cells if nbgrader(c).get("solution")):
            raise Refused.of(args.handed_out, f"holds the solutions (its answer cells have ### BEGIN SOLUTION markers);"
                             f" allowed: the student version, {_released(args.handed_out)}.", handed_out=True)
        _check_as_handed_out(args.handed_out, given)
        header = [*CSV_FIRST, *(g for g, _ in _graded(given)), *CSV_LAST]
        if args.csv:
            _check_csv(args.csv, header, args.handed_out.name)
        missing = [_missing(student) for student in args.students if not student.exists()]
        if missing:
            raise Refused("\n".join(missing))
        folders = {student for student in args.students if student.is_dir()}      # (asked once a student)
        _check_exercise(args.students, folders, args.handed_out, given)
    except Refused as err:
        sys.exit(str(err))
    package, summary, names = source_hash(leave_out=()), [], _names(args.students, args.handed_out, folders)
    posed = pose(given)                 # (in this process, before any student's code runs; once for the run)
    stops = Stops()

    def record(student: Path, rows: list, notes: list[Note], outcome: str) -> None:
        """``student``'s CSV row, and its line of the summary (``outcome``: "graded", "refused", …), both or neither
        (:meth:`Stops.held`: the summary counts those with a row)."""
        name = names[student]
        with stops.held():
            if args.csv:
                _write_row(args.csv, header, name, args.handed_out, _seed(given), rows, notes)
            summary.append((name, outcome, rows, notes))

    try:
        for at, student in enumerate(args.students):
            if len(args.students) > 1:
                print(f"== {student}", flush=True)    # (through a pipe too, `| tee`, while its kernel runs)
            try:
                notebook = _notebook(student, student in folders)
                rows, notes = grade_one(args.handed_out, given, notebook, args.timeout, posed)
            except Refused as err:
                print(err, file=sys.stderr)
                record(student, _unscored(given), [Note("", f"refused: {err.path} ", err.reason)], "refused")
                continue
            tampered = source_hash(leave_out=()) != package
            if tampered:                           # its points are void, and no later grade can be trusted
                rows = _unscored(given)
            show(rows, notes, args.hints)
            if not tampered:
                record(student, rows, notes, "graded")
                continue
            print(f"{TAMPERED}; this notebook's points are void", file=sys.stderr)
            record(student, rows, [*notes, Note(TAMPERED)], "void")
            for rest in args.students[at + 1:]:
                print(f"not graded: {rest}", file=sys.stderr)
                record(rest, _unscored(given), [Note(NOT_GRADED.format(student))], "not graded")
            if args.students[at + 1:]:
                print(RESUME, file=sys.stderr)
            break
    except Interrupted as err:          # (grade() shut the kernel down): the student being graded gets no row
        stops.ignore()                  # (a second Ctrl-C while the summary prints)
        ungraded = args.students[len(summary):]
        if ungraded:                    # (else every student has its row: the run is done)
            if len(args.students) > 1 and summary:
                show_summary(summary, of=len(args.students))
            print(_interrupted(args, ungraded, err.signum), file=sys.stderr)
            return 128 + err.signum
    finally:
        stops.restore()
    if len(args.students) > 1:
        show_summary(summary)
    return 0 if all(outcome == "graded" for _, outcome, _, _ in summary) else 1


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT), or SIGTERM (a batch system's stop, ``kill``), as :class:`Stops` raises it; ``signum`` is
    which (grade.py exits with 128 + it, as a shell reports a process the signal ended)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Stops:
    """What Ctrl-C (SIGINT) and SIGTERM do while grade.py grades: raise :class:`Interrupted` (SIGTERM ended the run
    with no summary), except while a student's row and line of the summary are recorded (:meth:`held`), after which
    it is raised (a Ctrl-C between the two named a student whose row was written as the one without a row). A signal
    ignored when grade.py started (a script's job in the background ignores SIGINT) stays ignored. In a thread other
    than the main one (main() called by a program of its own), which no signal reaches and which may not set their
    handlers, it does nothing. Invented."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.holding, self.pending = False, 0
        here = threading.current_thread() is threading.main_thread()
        self.was = {s: signal.getsignal(s) for s in self.SIGNALS} if here else {}
        for signum, handler in self.was.items():
            if handler is not signal.SIG_IGN:
                signal.signal(signum, self.stop)

    def stop(self, signum: int, frame: Any) -> None:
        if not self.holding:
            raise Interrupted(signum)
        self.pending = self.pending or signum

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """A stop while the block runs is raised as it ends."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False
        if self.pending:
            raise Interrupted(self.pending)

    def ignore(self) -> None:
        """Ignore the signals from now on (until :meth:`restore`)."""
        for signum in self.was:
            signal.signal(signum, signal.SIG_IGN)

    def restore(self) -> None:
        """The handlers grade.py started with (main() may run inside another program)."""
        for signum, handler in self.was.items():
            if handler is not None:             # (None: a handler not set from Python, which cannot be set again)
                signal.signal(signum, handler)


def _interrupted(args: argparse.Namespace, rest: list[Path], signum: int = signal.SIGINT) -> str:
    """The sentence a run stopped by Ctrl-C (or ``signum``, SIGTERM) ends with: the student being graded (the first of
    ``rest``, those without a row), and the command that grades it and those after it, with the run's options."""
    options = [*(["--hints"] if args.hints else []), *(["--csv", str(args.csv)] if args.csv else []),
               *(["--timeout", f"{args.timeout:g}"] if args.timeout != TIMEOUT_S else [])]
    again = shlex.join(["python", sys.argv[0], str(args.handed_out), *map(str, rest), *options])
    how = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    return (f"{how} while grading {rest[0]}" + ("; no row written for it" if args.csv else "")
            + f"; grade it{' and those after it' if len(rest) > 1 else ''} again: {again}")


def show_summary(summary: list[tuple[str, str, list, list[Note]]], of: int | None = None) -> None:
    """The run's last lines: how many students were graded, refused, … (of the ``of`` given, for a run stopped before
    its end; students, not notebooks: a student's folder may hold none), then a line per student (``summary``: its
    CSV name, outcome, rows and notes): its points (or outcome), and why it lost any: its notes without the
    notebook's path (:attr:`Note.short`: the student column names it), then each check cell that scored 0 with what
    the student read under it (:func:`_why`), each on one line."""
    counts = {o: sum(outcome == o for _, outcome, _, _ in summary) for o in ("graded", "refused", "void", "not graded")}
    total = len(summary) if of is None else of
    print(f"== summary: {len(summary)}{'' if of is None else f' of {of}'} student{'s' if total != 1 else ''}; "
          + ", ".join(f"{n} {o}" for o, n in counts.items() if n))
    scored = [f"{sum(r[1] for r in rows)} / {sum(r[2] for r in rows)}" if outcome == "graded" else outcome
              for _, outcome, rows, _ in summary]
    width, points = max(len("student"), *(len(s[0]) for s in summary)), max(len("points"), *map(len, scored))
    print(f"{'student':{width}}  {'points':>{points}}  why")
    for (name, outcome, rows, notes), score in zip(summary, scored):
        why = [*(first_line(" ".join(note.short.split()), SUMMARY_CHARS) for note in notes),
               *(_why(g, message) for g, earned, _, message in rows                  # ("correct": a re-check's 0,
                 if outcome == "graded" and earned == 0 and message != "correct")]  # which a note tells)
        print(f"{name:{width}}  {score:>{points}}  {'; '.join(why)}".rstrip())


def _why(grade_id: str, message: str) -> str:
    """Check cell ``grade_id``'s part of a student's line of the summary: what its ``message`` says is wrong
    (:func:`_reasons`), on one line, each answer's reason as "`name`: <why>" (:data:`NOT_RIGHT` left out). A check
    that names several answers says how many, then each answer's reason cut to :data:`ANSWER_CHARS` characters, so
    that every answer is named (cut to 100 characters as a whole, a long first reason left out the second answer); any
    other is cut to :data:`SUMMARY_CHARS` characters. Invented."""
    reasons, several = _reasons(message)
    reasons = [NOT_RIGHT.sub(r"\1: ", reason) for reason in reasons]
    if several:
        return f"{grade_id}: {several} wrong: " + "; ".join(first_line(r, ANSWER_CHARS) for r in reasons)
    return first_line(f"{grade_id}: {' '.join('; '.join(reasons).split())}", SUMMARY_CHARS)


def _reason(message: str) -> str:
    """What a check cell's ``message`` says is wrong (:func:`_reasons`), its lines joined with "; "."""
    return "; ".join(_reasons(message)[0])


def _reasons(message: str) -> tuple[list[str], int]:
    """The lines of what a check cell's ``message`` (:func:`_message`) says is wrong: without the checker's
    ``CheckFailed: `` (every check's verdict starts so) and without the line that leads in the lines about several
    answers (``Both answers need another look:``), each of those without its ``- ``; and how many answers such a
    message names (0 for any other message)."""
    lines = [line.strip() for line in message.removeprefix(f"{CheckFailed.__name__}: ").splitlines()]
    several = 0
    if len(lines) > 1 and lines[0].endswith(":") and lines[1].startswith("- "):
        lines = lines[1:]
        several = sum(line.startswith("- ") for line in lines)
    return [line.removeprefix("- ") for line in lines if line], several


def _write_row(path: Path, header: list[str], name: str, handed_out: Path, seed: str, rows: list,
               notes: list[Note]) -> None:
    """One student's row of the CSV, ``name`` its ``student`` (:func:`_names`; its header first if ``path`` is new or
    empty)."""
    new = not path.exists() or not path.stat().st_size
    graded = all(r[1] != "" for r in rows)
    with open(path, "a", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        if new:
            out.writerow(header)
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        out.writerow([name, handed_out.name, seed, now, *(r[1] for r in rows),
                      sum(r[1] for r in rows) if graded else "",
                      sum(r[2] for r in rows), "; ".join(map(str, notes)),
                      "; ".join(f"{r[0]}: {' '.join(r[3].split())}" for r in rows if r[3])])


if __name__ == "__main__":
    sys.exit(main())
