"""``python -m esxlab reproduce [--figure N] [--seed S] [--csv DIR]`` and
``python -m esxlab exercises build``."""
from __future__ import annotations

import sys

from .errors import shorten

USAGE = """usage: python -m esxlab COMMAND ...

commands:
  reproduce [--figure N] [--seed S] [--csv DIR]   run the paper's experiments, print paper vs esxlab
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
    elif command == "exercises":
        from .exercises import main as run
    else:
        print(f"{USAGE}\nerror: unknown command {shorten(command)}; allowed: reproduce, exercises.", file=sys.stderr)
        return 2
    return run(rest)


if __name__ == "__main__":
    sys.exit(main())
