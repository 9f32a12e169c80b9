"""Core speed benchmarks (issue 2): run with `python benchmarks/run.py` (or `make bench`).

1. Figure 7's set-up: two 256 MB VMs (idle Windows, dbench Linux), 60 simulated minutes,
   τ switched from 0 to 0.75 at 31 min, without page sharing (as ``experiments.fig7`` runs it)
   and with ESX page sharing on. Target ≤ 2 s wall (issue 2), ≤ 1 s without sharing (issue 13).
2. Per-tick cost at 1×, 4× and 16× host memory with the same active set (two VMs whose
   configured size grows with the host while their workloads touch the same pages).
   Target: ≤ 1.3× growth from 1× to 16×.
"""
from __future__ import annotations

import statistics
import time

import esxlab as esx


def figure7(minutes: float = 60.0, seed: int = 0, sharing: str = "off") -> float:
    host = esx.Host(esx.HostConfig(memory_mb=448, swap_mb=1024, tax_rate=0.0,
                                   sharing=esx.SharingConfig(mode=sharing)), seed=seed)
    host.power_on(esx.VMConfig(name="idle", max_mb=256, guest_os="windows"))
    host.run(minutes=3)
    host.power_on(esx.VMConfig(name="dbench", max_mb=256), workload=esx.workloads.Dbench())
    t0 = time.perf_counter()
    host.run(minutes=28)
    host.set_tax_rate(0.75)
    host.run(minutes=minutes - 31)
    return time.perf_counter() - t0


def per_tick_ms(scale: int, seed: int = 0, warm_s: int = 240, measure_s: int = 300) -> float:
    """Median wall time of a tick (ms), host memory and VM sizes × ``scale``, same workload."""
    host = esx.Host(esx.HostConfig(memory_mb=448 * scale, swap_mb=1024 * scale), seed=seed)
    for name in ("a", "b"):
        host.power_on(esx.VMConfig(name=name, max_mb=256 * scale),
                      workload=esx.workloads.Toucher([(0, 120)], sweep_s=10))
    host.run(seconds=warm_s)
    samples = []
    for _ in range(measure_s):
        t0 = time.perf_counter()
        host.step()
        samples.append(time.perf_counter() - t0)
    return 1000 * statistics.median(samples)


def main() -> None:
    for sharing in ("off", "esx"):
        walls = [figure7(seed=s, sharing=sharing) for s in range(3)]
        print(f"Figure 7 (2 × 256 MB, 60 simulated min, sharing {sharing}): median {statistics.median(walls):.2f} s "
              f"wall (runs: {', '.join(f'{w:.2f}' for w in walls)}; targets ≤ 2 s, and ≤ 1 s without sharing)")
    base = None
    for scale in (1, 4, 16):
        ms = per_tick_ms(scale)
        base = base or ms
        print(f"per-tick cost at {scale:>2}× memory ({448 * scale} MB host): {ms:.3f} ms "
              f"({ms / base:.2f}× the 1× cost; target ≤ 1.3× at 16×)")


if __name__ == "__main__":
    main()
