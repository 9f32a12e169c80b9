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
cells out of order. Any other exception keeps IPython's usual traceback. The cell
still fails with an ``error`` output, so nbval and nbgrader's autograde count it exactly as before,
and ``%tb`` and ``%debug`` see the exception raised. Outside IPython nothing happens. (invented: a
notebook courtesy)
"""
from __future__ import annotations

import ast
import json
import linecache
import sys
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


def raised_by_checker(tb: TracebackType | None) -> bool:
    """Whether the innermost frame of ``tb`` is in ``esxlab/checks.py`` or ``esxlab/problems/``."""
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    if last is None:
        return False
    where = Path(last.tb_frame.f_code.co_filename)
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
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    if code.co_name != "<module>" or "check" not in code.co_names:
        return None
    return value.name if value.name in answer_names() else None


def _sets(source: str) -> set[str]:
    """The names a cell's code binds at its top level (assignments, imports, ``def``, ``class``, ``for`` and
    ``with`` targets, ``:=``), not inside its functions and classes; none if it cannot be parsed."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        tree = ast.parse(TransformerManager().transform_cell(source))    # magics become Python
    except (ImportError, SyntaxError, ValueError):
        return set()
    names, todo = set(), list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue                                     # their bodies bind the function's own names
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue                                     # their variables are their own
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        todo.extend(ast.iter_child_nodes(node))
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


def set_by_another_cell(value: BaseException, tb: TracebackType | None, shell: Any) -> str | None:
    """For a ``NameError`` raised at the top level of one of ``shell``'s cells (IPython's), the sentence that says
    which other code cell of the open notebook (:func:`notebook_file`) sets the name and that it has not run; None if
    no other cell sets it (a typo), the notebook's file is not known, unreadable or over :data:`MAX_NOTEBOOK_BYTES`,
    or the error was raised elsewhere: inside a function, or at the top level of a module the cell imported, a
    script it ran or an ``exec`` (whose traceback shows where)."""
    name = getattr(value, "name", None)
    if not isinstance(value, NameError) or not name or tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    path = notebook_file(getattr(shell, "user_ns", {}))
    compiled = getattr(shell, "compile", None)
    if code.co_name != "<module>" or path is None or compiled is None or \
            compiled.format_code_name(code.co_filename) is None:           # (not one of this kernel's cells)
        return None
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return None
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        sources = [c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                   for c in cells if isinstance(c, dict) and c.get("cell_type") == "code" and "source" in c]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    running = "".join(linecache.getlines(code.co_filename)).strip()
    matching = [i for i, s in enumerate(sources) if s.strip() == running]
    here = matching[0] if len(matching) == 1 else None      # (two cells of this text: which one ran is not known)
    setters = [i for i, s in enumerate(sources) if s.strip() != running and name in _sets(s)]
    if not setters:
        return None
    above = [i for i in setters if here is not None and i < here]
    setter = above[-1] if above else setters[0]                      # the nearest above, else the first
    below = here is not None and setter > here
    where = ("another cell of this notebook" if here is None else
             "a cell below this one" if below else "a cell above this one")
    lines = [ln.strip() for ln in sources[setter].splitlines() if ln.strip()]
    line = next((ln for ln in lines if not ln.startswith("#")), lines[0])          # (its code, not a comment)
    run = ("This cell is meant to run after it: run that cell first, or move this code below it" if below else
           "Run the cells above this one first (Run ▸ Run All Above Selected Cell), or the whole notebook (Run ▸ Run "
           "All Cells)")             # (Run All would reach this cell before a cell below it)
    return (f"name {name!r} is not defined: {where} sets `{name}` (the code cell that begins `{line}`), and it has "
            f"not run in this kernel, or stopped before it set `{name}`. {run}.")


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
        told = NameError(f"name {name!r} is not defined: this check needs `{name}` from a cell above. Run the "
                         f"cells above it first; if you did, the cell that should set `{name}` did not: it stopped "
                         f"early (read its error, a SyntaxError say, and fix it), or it gives "
                         f"{'the problem object' if name in PROBLEM_NAMES else 'the answer'} another name "
                         f"(keep `{name}`).")
        shell._showtraceback(NameError, told, [f"\x1b[0;31mNameError\x1b[0m: {told}"])
    elif isinstance(value, ONE_LINE) and raised_by_checker(tb):
        _remember(etype, value, tb)
        shell._showtraceback(etype, value, [f"\x1b[0;31m{etype.__name__}\x1b[0m: {value}"])
    else:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)


def install() -> bool:
    """Install :func:`show` in the running IPython shell; False outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc(TEACHING, show)
    return True


install()
