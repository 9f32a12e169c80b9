"""Where Figure 7's tick goes, phase by phase: ``python benchmarks/bench_phases.py [--minutes 60] [--seed 0]``.

Runs ``run.py``'s Figure 7 (two 256 MB VMs, sharing off) with each phase of the tick wrapped in a timer
(``time.perf_counter``, ≈ 0.1 µs a call) and prints the wall time of each, in µs per tick of the whole run
(its 3 minutes before the dbench VM powers on included), largest first, with its calls. Phases nest (``VM.step`` holds ``Guest.access``, which holds the page-in,
which holds the clock's eviction), so the column does not add up to the tick. The wrappers cost time of their
own: compare phases with each other, and whole runs with ``run.py``. ``docs/performance.md`` records what
this said on each machine.
"""
from __future__ import annotations

import argparse
import contextlib
import time
from collections import Counter
from collections.abc import Iterator

from esxlab import guest, host, reclaim, vm
from esxlab.workloads import general

#: (class, method) of the phases timed
PHASES = ((host.Host, "_tick"), (vm.VM, "step"), (general.Dbench, "step"), (guest.Guest, "access"),
          (guest.Guest, "_page_in"), (guest.Guest, "_evict"), (vm.VM, "access"), (guest.Guest, "background_step"),
          (reclaim.Reclaimer, "tick"), (host.Host, "_record"), (host.Host, "recompute_targets"))


@contextlib.contextmanager
def timed(phases=PHASES) -> Iterator[tuple[Counter, Counter]]:
    """While open, each of ``phases`` adds its wall time (s) and calls to the two counters yielded, keyed
    ``Class.method``; the methods are restored on exit."""
    seconds, calls = Counter(), Counter()
    saved = [(cls, name, cls.__dict__[name]) for cls, name in phases]
    for cls, name, f in saved:
        setattr(cls, name, _wrapped(f, f"{cls.__name__}.{name}", seconds, calls))
    try:
        yield seconds, calls
    finally:
        for cls, name, f in saved:
            setattr(cls, name, f)


def _wrapped(f, label: str, seconds: Counter, calls: Counter):
    def timer(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return f(*args, **kwargs)
        finally:
            seconds[label] += time.perf_counter() - t0
            calls[label] += 1
    return timer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0,
                    help="simulated minutes, at least 31 (the tax changes at minute 31; Figure 7: 60)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not 31 <= args.minutes <= 10 ** 4:
        ap.error(f"--minutes {args.minutes:g}: Figure 7's tax changes at minute 31; allowed: 31 ≤ minutes ≤ 10000")
    from run import figure7                  # benchmarks/run.py, beside this script (a test imports the timers alone)
    ticks = round(args.minutes * 60)
    with timed() as (seconds, calls):
        wall = figure7(minutes=args.minutes, seed=args.seed)
    print(f"Figure 7, seed {args.seed}, {args.minutes:g} simulated min ({ticks} ticks): {wall:.2f} s wall with the "
          "timers, from the dbench VM's power-on")
    for label, s in seconds.most_common():
        print(f"  {label:28s} {1e6 * s / ticks:8.1f} µs a tick   ({calls[label]} calls)")


if __name__ == "__main__":
    main()
