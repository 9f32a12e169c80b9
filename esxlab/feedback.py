"""A checker's teaching sentence shown alone in a notebook, not under a 20-line traceback.

Importing this module inside IPython (``esxlab.checks`` imports it) installs a custom
exception handler (IPython's ``set_custom_exc``): an ``AssertionError`` (``CheckFailed``),
``NotImplementedError`` or :class:`esxlab.Error` raised by ``esxlab/checks.py`` itself, or by
a problem of ``esxlab/problems/`` (the capstone judges a policy's victims deep inside a run), is
shown as one line, ``CheckFailed: <sentence>``. Any other exception keeps IPython's usual
traceback. The cell still fails with an ``error`` output, so nbval and nbgrader's autograde
count it exactly as before. Outside IPython nothing happens. (invented: a notebook courtesy)
"""
from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from .errors import Error

CHECKER = Path(__file__).with_name("checks.py")
PROBLEMS = Path(__file__).with_name("problems")
TEACHING = (AssertionError, NotImplementedError, Error)


def raised_by_checker(tb: TracebackType | None) -> bool:
    """Whether the innermost frame of ``tb`` is in ``esxlab/checks.py`` or ``esxlab/problems/``."""
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    if last is None:
        return False
    where = Path(last.tb_frame.f_code.co_filename)
    return where == CHECKER or where.parent == PROBLEMS


def show(shell: Any, etype: type, value: BaseException, tb: TracebackType | None,
         tb_offset: int | None = None) -> None:
    """IPython custom-exception handler: display a checker's exception as its one sentence
    (an ``error`` output in a kernel), any other exception as IPython always does."""
    if raised_by_checker(tb):
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
