"""A checker's teaching sentence, and a cell run out of order, shown alone in a notebook, not under a traceback.

Importing this module inside IPython (``esxlab.checks`` imports it) installs a custom
exception handler (IPython's ``set_custom_exc``): an ``AssertionError`` (``CheckFailed``),
``NotImplementedError`` or :class:`esxlab.Error` raised by ``esxlab/checks.py`` itself, or by
a problem of ``esxlab/problems/`` (the capstone judges a policy's victims deep inside a run), is
shown as one line, ``CheckFailed: <sentence>``. A ``NameError`` raised by a check statement itself
(a statement that calls ``check``, at a cell's top level) for an exercise's answer or problem object
(an answer cell above stopped early, e.g. on a SyntaxError, or never ran) is shown as one line that
says so; a typo keeps its traceback. A ``NameError`` raised at a cell's top level for a name another code cell
of the open notebook sets (the kernel knows the notebook's file from Jupyter's ``__session__``, or VS Code's
``__vsc_ipynb_file__``) is shown as one line that quotes that cell and says what to run first: the student ran
cells out of order. Both sentences give their facts in one order (the cell that sets the name, why it has not,
what to run: for a check cell, the cell that sets the answer, which usually stopped on an error). The running cell is found in the saved file by the id JupyterLab and
Notebook 7 send with it (IPython's ``pre_run_cell`` event hands it over), else by its text; the file is read again
only once it has changed. Any other exception keeps IPython's usual traceback. The cell
still fails with an ``error`` output, so nbval and nbgrader's autograde count it exactly as before,
and ``%tb`` and ``%debug`` see the exception raised. Outside IPython nothing happens. (invented: a
notebook courtesy)
"""
from __future__ import annotations

import ast
import functools
import json
import linecache
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from .errors import Error

CHECKER = Path(__file__).with_name("checks.py")
PROBLEMS = Path(__file__).with_name("problems")
ONE_LINE = (AssertionError, NotImplementedError, Error)     # a checker's sentence, shown alone
TEACHING = (*ONE_LINE, NameError)
#: the names exercises give their problem objects (``p = problems.X(seed=SEED)``, a second one ``q``)
PROBLEM_NAMES = ("p", "q")


def _innermost(tb: TracebackType) -> TracebackType:
    """The last entry of ``tb``: the frame that raised."""
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb


def raised_by_checker(tb: TracebackType | None) -> bool:
    """Whether the innermost frame of ``tb`` is in ``esxlab/checks.py`` or ``esxlab/problems/``."""
    if tb is None:
        return False
    where = Path(_innermost(tb).tb_frame.f_code.co_filename)
    return where == CHECKER or where.parent == PROBLEMS


def answer_names() -> set[str]:
    """Every exercise problem's answer names (``ANSWER_NAMES`` of the classes ``esxlab.problems`` lists), and
    :data:`PROBLEM_NAMES`."""
    from . import problems                   # (here: the problems import the checker, which imports this)
    return {*PROBLEM_NAMES, *(a for n in problems.__all__ for a in getattr(problems, n).ANSWER_NAMES)}


def unset_in_check_cell(value: BaseException, tb: TracebackType | None) -> str | None:
    """The answer (or problem object) a check statement found undefined: ``value`` is a ``NameError``
    raised at a cell's top level, by a statement that calls ``check``, for one of :func:`answer_names`
    (a typo, or a helper's name, keeps its traceback); else None."""
    if not isinstance(value, NameError) or not getattr(value, "name", None) or tb is None:
        return None
    code = _innermost(tb).tb_frame.f_code
    if code.co_name != "<module>" or "check" not in code.co_names:
        return None
    return value.name if value.name in answer_names() else None


def _python(source: str) -> str:
    """A cell's text as IPython runs it (its magics and ``!`` commands made calls); the text itself if IPython cannot
    transform it."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(source)
    except (ImportError, SyntaxError, ValueError):
        return source


#: the IPython magics that run code in the notebook's namespace, as their calls name them (``%time``'s line,
#: ``%%time``'s and ``%%capture``'s body)
RUNS_CODE = {("run_line_magic", "time"), ("run_cell_magic", "time"), ("run_cell_magic", "capture")}


def _magic_sets(call: ast.Call) -> set[str]:
    """The names that a magic of :data:`RUNS_CODE` called by ``call`` (``get_ipython().run_line_magic(…)`` or
    ``run_cell_magic(…)``, as IPython writes a magic) binds: those its code binds, and ``%%capture``'s output
    variable; none for any other call."""
    f, args = call.func, call.args
    if not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Call) and isinstance(f.value.func, ast.Name)
            and f.value.func.id == "get_ipython" and len(args) == (3 if f.attr == "run_cell_magic" else 2)
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args)
            and (f.attr, args[0].value) in RUNS_CODE):
        return set()
    magic, line, code = args[0].value, args[1].value, args[-1].value
    output = [w for w in line.split() if not w.startswith("-")][:1] if magic == "capture" else []
    return _sets(code) | set(output)


def _sets(source: str, python: str | None = None) -> set[str]:
    """The names a cell's code binds at its top level: assignments (not ``x += 1``, which needs ``x``, nor a bare
    annotation ``x: int``), imports, ``def``, ``class``, ``for``, ``with`` and ``match`` targets, ``:=`` (in a
    comprehension too), and the code of the magics of :data:`RUNS_CODE`; not the names its functions, classes and
    comprehensions bind for themselves, nor an ``except … as`` name (Python deletes it after its block). Empty if it
    cannot be parsed. ``python``: ``source`` as IPython runs it (:func:`_python`), if already made."""
    try:
        tree = ast.parse(_python(source) if python is None else python)
    except (SyntaxError, ValueError):
        return set()
    names, todo = set(), [(node, False) for node in tree.body]
    while todo:
        node, in_comprehension = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue                                     # their bodies bind the function's own names
        if isinstance(node, ast.Lambda) or isinstance(node, ast.AnnAssign) and node.value is None:
            continue                                     # a lambda's names are its own; `x: int` binds nothing
        if isinstance(node, ast.AugAssign):
            todo.append((node.value, in_comprehension))  # (its value may bind, with :=)
            continue
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            in_comprehension = True                      # its variables are its own, its := the cell's
        elif isinstance(node, ast.NamedExpr):
            names.add(node.target.id)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and not in_comprehension:
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
        elif isinstance(node, ast.Call):
            names |= _magic_sets(node)
        todo.extend((child, in_comprehension) for child in ast.iter_child_nodes(node))
    return names


def notebook_file(namespace: dict) -> Path | None:
    """The open notebook's file, as the kernel was told it (Jupyter's ``__session__``, VS Code's
    ``__vsc_ipynb_file__``), if it is an ``.ipynb`` file that exists; else None (nbval, a plain IPython)."""
    for key in ("__session__", "__vsc_ipynb_file__"):
        path = namespace.get(key)
        if isinstance(path, str) and path.endswith(".ipynb") and Path(path).is_file():
            return Path(path)
    return None


#: the largest notebook file :func:`set_by_another_cell` reads (bytes; a notebook's outputs make most of its size)
MAX_NOTEBOOK_BYTES = 20_000_000


@dataclass(frozen=True)
class _Cell:
    """A code cell of a saved notebook: its id (nbformat 4.5; None in older files), its text, that text as IPython
    runs it (:func:`_python`, stripped), and the names it sets (:func:`_sets`)."""
    id: str | None
    source: str
    python: str
    sets: frozenset[str]


@functools.lru_cache(maxsize=4)
def _code_cells(path: Path, mtime_ns: int, size: int) -> tuple[_Cell, ...] | None:
    """The code cells of the notebook file ``path``, read once while it keeps its modification time ``mtime_ns`` and
    size ``size`` (a save reads it again); None if it is unreadable or not a notebook."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        sources = [(c.get("id"), c["source"] if isinstance(c["source"], str) else "".join(c["source"]))
                   for c in cells if isinstance(c, dict) and c.get("cell_type") == "code" and "source" in c]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    pythons = [(i, s, _python(s)) for i, s in sources]
    return tuple(_Cell(i, s, py.strip(), frozenset(_sets(s, py))) for i, s, py in pythons)


#: the cell IPython runs now or ran last (its ``pre_run_cell`` event's ``ExecutionInfo``: its code, and the id that
#: JupyterLab and Notebook 7 send with it), once :func:`install` has run
_running: Any = None


def _started(info: Any) -> None:
    """IPython's ``pre_run_cell`` event: remember the cell about to run."""
    global _running
    _running = info


def _here(cells: tuple[_Cell, ...], running: str) -> int | None:
    """Which of ``cells`` raised, ``running`` being its code as IPython ran it: the cell whose id the front end sent
    with it, if the id is in the saved file (a cell edited since the last save, or two cells of one text, are found
    too); else the one cell whose code is ``running`` (nbval, nbclient, VS Code and older front ends send no id); None
    if no cell, or two, have it, or if an id was sent that the saved file, which has ids, lacks: a cell made or pasted
    since the last save, whose place is not known (a fresh user's pasted copy was placed where its original is)."""
    sent = getattr(_running, "cell_id", None)
    # (the id only if that cell raised: a silent execution, as front ends send for their own needs, fires no
    # pre_run_cell, and the id remembered is then the last cell's)
    if sent and (getattr(_running, "transformed_cell", None) or "").strip() == running:
        ids = [i for i, c in enumerate(cells) if c.id == sent]
        if ids or any(c.id for c in cells):
            return ids[0] if ids else None
    matching = [i for i, c in enumerate(cells) if c.python == running]
    return matching[0] if len(matching) == 1 else None


#: what to run when the cell that sets a name is above this one (the Run menu of JupyterLab and Notebook 7)
RUN_ABOVE = ("Run the cells above this one first (Run ▸ Run All Above Selected Cell), or the whole notebook (Run ▸ "
             "Run All Cells)")
#: what to run when a check cell's answer (or problem object) is not set: the cell that sets it, which usually
#: stopped on an error (a review: Run All Above alone is no help there)
RUN_CHECKED = "Run that cell, then this check again (Run ▸ Run All Above Selected Cell runs every cell above it)"
#: what to run when this cell's place is not known (:func:`_here`): the Run menu's advice may not reach the cell
RUN_THAT = "Run that cell first, then this one"
#: characters of the setter's first line a sentence quotes
QUOTE_CHARS = 60


def _not_set(name: str, setter: str, run: str, why: str = "") -> str:
    """The sentence for a ``NameError`` of ``name`` that a cell should have set: which cell (``setter``), that it has
    not run or stopped (or ``why`` else), and what to ``run``; a check cell's and a lesson cell's read alike."""
    return (f"name {name!r} is not defined: {setter}, and it has not run in this kernel, or stopped before it set "
            f"`{name}`{why}. {run}.")


def set_by_another_cell(value: BaseException, tb: TracebackType | None, shell: Any) -> str | None:
    """For a ``NameError`` raised at the top level of one of ``shell``'s cells (IPython's), the sentence that says
    which other code cell of the open notebook (:func:`notebook_file`) sets the name and that it has not run; None if
    no other cell sets it (a typo), the notebook's file is not known, unreadable or over :data:`MAX_NOTEBOOK_BYTES`,
    or the error was raised elsewhere: inside a function, or at the top level of a module the cell imported, a
    script it ran or an ``exec`` (whose traceback shows where). The file is read again only once it has changed."""
    name = getattr(value, "name", None)
    if not isinstance(value, NameError) or not name or tb is None:
        return None
    code = _innermost(tb).tb_frame.f_code
    path = notebook_file(getattr(shell, "user_ns", {}))
    compiled = getattr(shell, "compile", None)
    if code.co_name != "<module>" or path is None or compiled is None or \
            compiled.format_code_name(code.co_filename) is None:           # (not one of this kernel's cells)
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    cells = _code_cells(path, stat.st_mtime_ns, stat.st_size) if stat.st_size <= MAX_NOTEBOOK_BYTES else None
    if cells is None:
        return None
    running = "".join(linecache.getlines(code.co_filename)).strip()
    here = _here(cells, running)                # (two cells of this text and no id: which one ran is not known)
    setters = [i for i, c in enumerate(cells) if i != here and c.python != running and name in c.sets]
    if not setters:
        return None
    above = [i for i in setters if here is not None and i < here]
    setter = above[-1] if above else setters[0]                      # the nearest above, else the first
    below = here is not None and setter > here
    where = ("another cell of this notebook" if here is None else
             "a cell below this one" if below else "a cell above this one")
    lines = [ln.strip() for ln in cells[setter].source.splitlines() if ln.strip()]
    line = next((ln for ln in lines if not ln.startswith("#")), lines[0])          # (its code, not a comment)
    begins = line if len(line) <= QUOTE_CHARS else f"{line[:QUOTE_CHARS - 1].rstrip()}…"
    run = ("This cell is meant to run after it: run that cell first, or move this code below it" if below else
           RUN_THAT if here is None else RUN_ABOVE)     # (Run All would reach this cell before a cell below it)
    return _not_set(name, f"{where} sets `{name}` (the code cell that begins `{begins}`)", run)


def _remember(etype: type, value: BaseException, tb: TracebackType | None) -> None:
    """What IPython's own traceback display records, so that ``%tb`` and ``%debug`` see this exception."""
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = value


def show(shell: Any, etype: type, value: BaseException, tb: TracebackType | None,
         tb_offset: int | None = None) -> None:
    """IPython custom-exception handler: display a checker's exception as its one sentence
    (an ``error`` output in a kernel), a check cell's undefined answer as a sentence that says why,
    any other exception (a NameError inside esxlab too) as IPython always does."""
    name = unset_in_check_cell(value, tb)
    out_of_order = None if name is not None else set_by_another_cell(value, tb, shell)
    if out_of_order is not None:
        _remember(etype, value, tb)
        shell._showtraceback(NameError, NameError(out_of_order), [f"\x1b[0;31mNameError\x1b[0m: {out_of_order}"])
    elif name is not None:
        _remember(etype, value, tb)
        told = NameError(_not_set(name, f"this check needs `{name}` from the cell above it that sets `{name}`",
                                  RUN_CHECKED,
                                  f" (read its error, a SyntaxError say, and fix it), or gives "
                                  f"{'the problem object' if name in PROBLEM_NAMES else 'the answer'} another name "
                                  f"(keep `{name}`)"))
        shell._showtraceback(NameError, told, [f"\x1b[0;31mNameError\x1b[0m: {told}"])
    elif isinstance(value, ONE_LINE) and raised_by_checker(tb):
        _remember(etype, value, tb)
        shell._showtraceback(etype, value, [f"\x1b[0;31m{etype.__name__}\x1b[0m: {value}"])
    else:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)


def install() -> bool:
    """Install :func:`show` in the running IPython shell, and :func:`_started` on its ``pre_run_cell`` event; False
    outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc(TEACHING, show)
    shell.events.register("pre_run_cell", _started)
    return True


install()
