"""Trace recording benchmark (issue 11): ``python benchmarks/bench_trace.py [many|one]``.

A host with two VMs (a toucher and an idle guest) runs 3,000 simulated seconds either as 3,000
calls of ``run(seconds=1)`` ("many", each returning the whole trace) or as one
``run(seconds=3000)`` ("one"). The trace is kept in preallocated columns that ``run()``
extends, so "many" must cost about what "one" costs (target: ≤ 1.5× the wall time of the
ticks). With no argument both run and the ratio is printed; timing the two
whole processes (``python benchmarks/bench_trace.py many`` and ``... one``) side by side with a
benchmark runner gives the same comparison without the in-process warm-up.
"""
from __future__ import annotations

import sys
import time

import esxlab as esx

SECONDS = 3000


def run(mode: str, seconds: int = SECONDS) -> float:
    """Wall time (s) of ``seconds`` ticks run as ``mode`` ("many": one-second calls, "one": one call)."""
    host = esx.Host(esx.HostConfig(memory_mb=256), seed=0)
    host.power_on(esx.VMConfig(name="toucher", max_mb=96, overhead_mb=1), workload=esx.workloads.Toucher([(0, 48)]))
    host.power_on(esx.VMConfig(name="idle", max_mb=64, overhead_mb=1))
    t0 = time.perf_counter()
    if mode == "many":
        for _ in range(seconds):
            trace = host.run(seconds=1)
    else:
        trace = host.run(seconds=seconds)
    assert len(trace) == host.time
    return time.perf_counter() - t0


def main(argv: list[str]) -> None:
    if argv:
        print(f"{argv[0]}: {run(argv[0]):.2f} s")
        return
    many, one = run("many"), run("one")
    print(f"{SECONDS} × run(seconds=1): {many:.2f} s; run(seconds={SECONDS}): {one:.2f} s; "
          f"ratio {many / one:.2f} (target ≤ 1.5)")


if __name__ == "__main__":
    main(sys.argv[1:])
