"""Scale benchmarks (issues 7, 13): ``python benchmarks/bench_scale.py [--vms N --vm-mb MB] [--profile]``.

1. A host with ``--vms`` VMs of ``--vm-mb`` MB (default 64 × 1 GB on 64 GB; issue 13 also
   runs 256 × 1 GB and the 1 TB host, 512 × 2 GB): a mix of dbench-like, toucher and idle
   Linux/Windows guests, ESX page sharing and active-memory sampling on, for 10 simulated
   minutes: wall time of the ticks, of the set-up, and peak RSS. Targets: 64 × 1 GB ≤ 60 s and
   ≤ 2 GB; 256 × 1 GB ≤ 20 s and ≤ 1.5 GB; 512 × 2 GB ≤ 150 s and ≤ 6 GB.
2. Cost per tick at 1×, 4× and 16× memory with the same active set: 8 VMs whose configured
   size (and the host) grow while their workloads touch the same pages, stepped in turn
   (interleaved, so load from other processes hits every scale alike). Target ≤ 1.3× growth.
3. The simulator's cost per page event in run 1 against a plain numpy gather/scatter of the
   same batches (one gather and one scatter of each VM's touched pages per tick). Target ≤ 2×.

Each case runs in a fresh interpreter so peak RSS is its own. ``--profile`` prints the top
cProfile entries of run 1 (cumulative and own time). The VM mix is invented.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

import esxlab as esx
from esxlab.config import SharingConfig

W = esx.workloads


def big_host(minutes: float = 10.0, vms: int = 64, vm_mb: int = 1024, seed: int = 0) -> dict:
    """Run 1: ``vms`` × ``vm_mb`` MB on a host of ``vms`` × ``vm_mb`` MB; returns wall (of the ticks; set-up
    apart), page events and each VM-tick's batch size."""
    t_setup = time.perf_counter()
    host = esx.Host(esx.HostConfig(memory_mb=vms * vm_mb, swap_mb=vms * vm_mb, sharing=SharingConfig(mode="esx")),
                    seed=seed)
    kinds = [lambda: W.Dbench(clients=20, accesses_per_s=2000),
             lambda: W.Toucher([(0, vm_mb // 4)], sweep_s=30),
             lambda: W.Idle(), lambda: W.Idle()]
    for i in range(vms):
        os_ = "windows" if i % 4 == 3 else "linux"
        host.power_on(esx.VMConfig(name=f"vm{i}", max_mb=vm_mb, overhead_mb=16, guest_os=os_),
                      workload=kinds[i % 4]())
    batches: list[int] = []
    t0 = time.perf_counter()
    setup = t0 - t_setup
    for _ in range(int(minutes * 60)):
        host.step()
        batches.extend(v.counters.accesses for v in host.vms.values())
    wall = time.perf_counter() - t0
    events = sum(v.totals.accesses + v.totals.swap_ins + v.totals.swap_outs + v.totals.zero_allocs
                 + v.totals.cow_breaks for v in host.vms.values())
    h = host.stats()
    return dict(wall=wall, setup=setup, events=events, batches=batches, ticks=host.time, vm_pages=host.vm("vm0").pages,
                machine_pages=host.config.total_pages, shared_saved_mb=h.shared_saved, state=h.state,
                swap_used_mb=h.swap_used, rss_mb=peak_rss_mb())


def gather_scatter(batches: list[int], vm_pages: int, machine_pages: int, seed: int = 0) -> float:
    """Wall time of a plain numpy gather + scatter per batch: ``content[pmap[ppns]]`` and back."""
    rng = np.random.default_rng(seed)
    content = np.zeros(machine_pages, dtype=np.uint64)
    pmap = rng.permutation(machine_pages)[:vm_pages].astype(np.int32)
    picks = [np.sort(rng.choice(vm_pages, size=min(n, vm_pages), replace=False)) for n in set(batches)]
    by_size = {len(p): p for p in picks}
    t0 = time.perf_counter()
    for n in batches:
        ppns = by_size[min(n, vm_pages)]
        got = content[pmap[ppns]]
        content[pmap[ppns]] = got + np.uint64(1)
    return time.perf_counter() - t0


def scaled_host(scale: int, seed: int = 0) -> esx.Host:
    """Run 2's host: 8 VMs of 128 MB × ``scale`` on 768 MB × ``scale``; the workloads touch the
    same pages at every scale."""
    host = esx.Host(esx.HostConfig(memory_mb=768 * scale, swap_mb=1024 * scale, sharing=SharingConfig(mode="esx")),
                    seed=seed)
    for i in range(8):
        wl = W.Dbench(clients=4, accesses_per_s=500) if i % 2 else W.Toucher([(0, 48)], sweep_s=10)
        host.power_on(esx.VMConfig(name=f"vm{i}", max_mb=128 * scale, overhead_mb=8), workload=wl)
    return host


def per_tick_ms(scales=(1, 4, 16), warm_s: int = 120, measure_s: int = 200) -> list[float]:
    """Run 2: median wall time of a tick (ms) per scale. The hosts are stepped in turn, so load
    from other processes hits every scale alike."""
    hosts = [scaled_host(s) for s in scales]
    for h in hosts:
        h.run(seconds=warm_s)
    samples: list[list[float]] = [[] for _ in hosts]
    for _ in range(measure_s):
        for h, out in zip(hosts, samples):
            t0 = time.perf_counter()
            h.step()
            out.append(time.perf_counter() - t0)
    return [1000 * statistics.median(x) for x in samples]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024      # KB on Linux


def in_child(case: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--case", case, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(case: str, minutes: float, vms: int, vm_mb: int) -> None:
    if case == "big":
        r = big_host(minutes, vms, vm_mb)
        r["numpy_wall"] = gather_scatter(r["batches"], r["vm_pages"], r["machine_pages"])
        r["batch_median"] = statistics.median(r.pop("batches"))
        print(json.dumps(r))
    elif case == "tick":
        print(json.dumps(dict(ms=per_tick_ms())))
    elif case == "profile":
        prof = cProfile.Profile()
        prof.runcall(big_host, minutes, vms, vm_mb)
        for key in ("cumulative", "tottime"):
            print(f"\n-- top 20 by {key} --")
            pstats.Stats(prof).strip_dirs().sort_stats(key).print_stats(20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", choices=["big", "tick", "profile"], help=argparse.SUPPRESS)
    ap.add_argument("--minutes", type=float, default=10.0, help="simulated minutes of run 1")
    ap.add_argument("--vms", type=int, default=64, help="VMs in run 1")
    ap.add_argument("--vm-mb", type=int, default=1024, help="size of each VM in run 1 (MB)")
    ap.add_argument("--no-tick", action="store_true", help="skip run 2 (cost per tick vs memory)")
    ap.add_argument("--profile", action="store_true", help="cProfile run 1 instead")
    a = ap.parse_args()
    if a.case:
        return child(a.case, a.minutes, a.vms, a.vm_mb)
    if a.profile:
        return child("profile", a.minutes, a.vms, a.vm_mb)
    big = in_child("big", "--minutes", str(a.minutes), "--vms", str(a.vms), "--vm-mb", str(a.vm_mb))
    ticks = [] if a.no_tick else in_child("tick")["ms"]
    ev_s = big["events"] / big["wall"]
    np_s = big["events"] / big["numpy_wall"]
    rows = [
        (f"{a.vms} VMs × {a.vm_mb} MB, {a.vms * a.vm_mb / 1024:g} GB host", f"{a.minutes:g} simulated min",
         f"{big['wall']:.1f} s wall", "(targets: see the module doc)"),
        (f"  set-up (host + {a.vms} power-ons)", "", f"{big['setup']:.1f} s wall", ""),
        ("  peak RSS", "", f"{big['rss_mb']:.0f} MB", ""),
        ("  page sharing saved", "", f"{big['shared_saved_mb']:.0f} MB", "(sharing on)"),
        ("  page events / s", f"{big['events']:,} events", f"{ev_s / 1e6:.2f} M/s", ""),
        ("  numpy gather+scatter / s", f"median batch {big['batch_median']:.0f}", f"{np_s / 1e6:.2f} M/s",
         f"ratio {np_s / ev_s:.1f}× (≤ 2×)"),
    ]
    for s, t in zip((1, 4, 16), ticks):
        rows.append((f"tick cost at {s:>2}× memory", f"{768 * s} MB host, 8 VMs", f"{t:.2f} ms",
                     f"{t / ticks[0]:.2f}× of 1× (≤ 1.3×)"))
    width = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, width)))


if __name__ == "__main__":
    main()
