"""``python -m esxlab reproduce …``, ``python -m esxlab sweep …`` and ``python -m esxlab exercises build``."""
from __future__ import annotations

import sys

from .errors import shorten

USAGE = """usage: python -m esxlab COMMAND ...

commands:
  reproduce [--figure N] [--seeds 0-3] [--jobs N] run the paper's experiments, print paper vs esxlab
  sweep fig7 --param tax_after=0,0.5 --seeds 0-19 run one experiment over a grid of parameters and seeds
            [--jobs N | --scheduler ADDRESS] [--csv FILE]
  exercises build                                 write exercises/release/ from exercises/source/
  exercises check                                 exit 1 if exercises/release/ is out of date
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "reproduce":
        from .experiments.cli import main as run
    elif command == "sweep":
        from .experiments.cli import sweep_main as run
    elif command == "exercises":
        from .exercises import main as run
    else:
        print(f"{USAGE}\nerror: unknown command {shorten(command)}; allowed: reproduce, sweep, exercises.", file=sys.stderr)
        return 2
    return run(rest)


if __name__ == "__main__":
    sys.exit(main())
