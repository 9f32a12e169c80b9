"""A checker's teaching sentence shown alone in a notebook, not under a 20-line traceback.

Importing this module inside IPython (``esxlab.checks`` imports it) installs a custom
exception handler (IPython's ``set_custom_exc``): an ``AssertionError`` (``CheckFailed``),
``NotImplementedError`` or :class:`esxlab.Error` raised by ``esxlab/checks.py`` itself, or by
a problem of ``esxlab/problems/`` (the capstone judges a policy's victims deep inside a run), is
shown as one line, ``CheckFailed: <sentence>``. A ``NameError`` in a check cell itself (a cell that
calls ``check``: an answer cell above stopped early, e.g. on a SyntaxError, or never ran) is shown as
one line that says so. Any other exception keeps IPython's usual traceback. The cell still fails with an ``error`` output, so nbval and nbgrader's autograde
count it exactly as before. Outside IPython nothing happens. (invented: a notebook courtesy)
"""
from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from .errors import Error

CHECKER = Path(__file__).with_name("checks.py")
PROBLEMS = Path(__file__).with_name("problems")
TEACHING = (AssertionError, NotImplementedError, Error, NameError)


def raised_by_checker(tb: TracebackType | None) -> bool:
    """Whether the innermost frame of ``tb`` is in ``esxlab/checks.py`` or ``esxlab/problems/``."""
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    if last is None:
        return False
    where = Path(last.tb_frame.f_code.co_filename)
    return where == CHECKER or where.parent == PROBLEMS


def unset_in_check_cell(value: BaseException, tb: TracebackType | None) -> str | None:
    """The name a check cell (a cell whose own code calls ``check``) found undefined, if ``value`` is that
    ``NameError``; else None."""
    if not isinstance(value, NameError) or not getattr(value, "name", None) or tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    return value.name if code.co_name == "<module>" and "check" in code.co_names else None


def show(shell: Any, etype: type, value: BaseException, tb: TracebackType | None,
         tb_offset: int | None = None) -> None:
    """IPython custom-exception handler: display a checker's exception as its one sentence
    (an ``error`` output in a kernel), a check cell's undefined answer as a sentence that says why,
    any other exception as IPython always does."""
    name = unset_in_check_cell(value, tb)
    if name is not None:
        value = NameError(f"name {name!r} is not defined: this check needs `{name}` from a cell above. Run the "
                          f"cells above it first; if you did, the one that sets `{name}` stopped before it did: "
                          "read that cell's error (a SyntaxError, say) and fix it.", name=name)
        shell._showtraceback(NameError, value, [f"\x1b[0;31mNameError\x1b[0m: {value}"])
    elif raised_by_checker(tb):
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
