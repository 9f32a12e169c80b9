"""``python -m esxlab reproduce …``, ``python -m esxlab sweep …`` and ``python -m esxlab exercises build``."""
from __future__ import annotations

import os
import signal
import sys

from . import _interrupted_while_loading
from .errors import install_hint, shorten

USAGE = """usage: python -m esxlab COMMAND ...

commands:
  reproduce [--figure N] [--seeds 0-3] [--jobs N] run the paper's experiments, print paper vs esxlab
            [--seed S] [--csv DIR] [--plots DIR] [--readme FILE]
  sweep fig7 --param tax_rate=0,0.5 --seeds 0-19  run one experiment over a grid of parameters and seeds
            [--jobs N | --scheduler ADDRESS] [--csv FILE]
  sweep fig7 --list                               list an experiment's parameters (default, allowed values,
                                                  how to write them) and the rules between them
  sweep fig7 --quantities                         run it once and list its quantities (the table's names)
  sweep mypkg.myexp --param x=1,2                 sweep an experiment module of your own (README: Sweeps)
  exercises build                                 write exercises/release/ from exercises/source/
  exercises check                                 exit 1 if exercises/release/ is out of date

`python -m esxlab COMMAND --help` explains a command's options.
"""


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit code (2: a usage error, as argparse's; 130: interrupted by Ctrl-C, as
    a shell reports SIGINT, with one line "interrupted" on stderr instead of a traceback)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if not argv:
        print(f"{USAGE}\nerror: no command given; allowed: reproduce, sweep, exercises.", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "reproduce":
        from .experiments.cli import main as run
    elif command == "sweep":
        from .experiments.cli import sweep_main as run
    elif command == "exercises":
        try:
            from .exercises import main as run
        except ModuleNotFoundError as err:       # the base install has no nbformat or nbgrader
            print(f"error: exercises needs {err.name}; {install_hint('exercises')}.", file=sys.stderr)
            return 2
    else:
        print(f"{USAGE}\nerror: unknown command {shorten(command)}; allowed: reproduce, sweep, exercises.", file=sys.stderr)
        return 2
    try:
        _listen()
        return run(rest)
    except KeyboardInterrupt:                    # Ctrl-C: the runner has cancelled its tasks; no traceback
        print("interrupted", file=sys.stderr)
        return 130


def _listen() -> None:
    """Ctrl-C raises KeyboardInterrupt again, as the command runs (a sweep stopped so keeps the seeds that finished),
    where it exited at once while esxlab loaded (:func:`esxlab._interrupted_while_loading`)."""
    if signal.getsignal(signal.SIGINT) is _interrupted_while_loading:
        signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:                      # e.g. `python -m esxlab reproduce -h | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # Python's recipe: no second error at exit
        sys.exit(1)
