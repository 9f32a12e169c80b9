"""Page-sharing benchmarks (issue 3): run with `python benchmarks/bench_sharing.py`.

1. Scanning cost per page, ESX and KSM modes: wall time of the scanner's wake-ups over the
   pages it hashed, on four 40 MB Linux VMs running Spec95.
2. A 10-VM sharing run: ten identical 40 MB Linux VMs running Spec95 for 30 simulated
   minutes (Figure 4's set-up, ESX mode): shared / reclaimed / zero pages and the wall time.
3. Per-wake-up cost at 1×, 4× and 16× memory with the same scan rate: two VMs whose size
   grows with the host while their workloads touch the same pages. The cost must follow the
   pages scanned, not the memory size.
4. Hot I/O remapping: bounce copies per second for a NetServer with and without remapping.
"""
from __future__ import annotations

import statistics
import time

import esxlab as esx
from esxlab.config import RemapConfig, SharingConfig


def timed_sharing(host) -> list[tuple[float, int]]:
    """Wrap ``host.sharing.step``: collect (seconds, pages hashed) per wake-up that scanned."""
    samples, step = [], host.sharing.step

    def wrapped() -> None:
        before = host.sharing.scanned
        t0 = time.perf_counter()
        step()
        if host.sharing.scanned > before:
            samples.append((time.perf_counter() - t0, host.sharing.scanned - before))

    host.sharing.step = wrapped
    return samples


def spec_host(vms: int, mode: str, minutes: float, seed: int = 0, **sharing) -> tuple[esx.Host, list, float]:
    cfg = esx.HostConfig(memory_mb=64 + 48 * vms, sharing=SharingConfig(mode=mode, **sharing))
    host = esx.Host(cfg, seed=seed)
    for i in range(vms):
        host.power_on(esx.VMConfig(name=f"linux{i}", max_mb=40, overhead_mb=1), workload=esx.workloads.Spec95())
    samples = timed_sharing(host)
    t0 = time.perf_counter()
    host.run(minutes=minutes)
    return host, samples, time.perf_counter() - t0


def cost_per_page() -> None:
    for mode, kw in (("esx", dict(scan_vm_pages_s=500, scan_total_pages_s=2000)),
                     ("ksm", dict(ksm_pages_to_scan=20))):
        _, samples, _ = spec_host(4, mode, minutes=10, **kw)
        secs = sum(s for s, _ in samples)
        pages = sum(n for _, n in samples)
        print(f"{mode}: {1e6 * secs / pages:.2f} µs per page hashed ({pages} pages, {len(samples)} wake-ups, "
              f"median wake-up {1e3 * statistics.median(s for s, _ in samples):.2f} ms)")


def ten_vms() -> None:
    host, samples, wall = spec_host(10, "esx", minutes=30)
    s = host.sharing.stats()
    vm_mb = sum(v.stats().alloc for v in host.vms.values())
    print(f"10 × 40 MB Linux, Spec95, 30 min (ESX 50/200 pages/s): VM memory {vm_mb:.0f} MB, "
          f"shared {s.shared_mb:.0f} MB ({100 * s.shared_mb / vm_mb:.1f} %; paper 67.0 %), "
          f"reclaimed {s.saved_mb:.0f} MB ({100 * s.saved_mb / vm_mb:.1f} %; paper 59.9 %), "
          f"zero pages {s.zero_mb:.1f} MB (paper 24.4), table {s.table_mb:.2f} MB; "
          f"{wall:.1f} s wall, scanner {sum(x for x, _ in samples):.1f} s of it")


def per_wake_ms(scale: int, seed: int = 0) -> float:
    cfg = esx.HostConfig(memory_mb=448 * scale, swap_mb=1024 * scale, sharing=SharingConfig(mode="esx"))
    host = esx.Host(cfg, seed=seed)
    for name in ("a", "b"):
        host.power_on(esx.VMConfig(name=name, max_mb=256 * scale),
                      workload=esx.workloads.Toucher([(0, 120)], sweep_s=10))
    host.run(seconds=120)
    samples = timed_sharing(host)
    host.run(seconds=600)
    per_candidate = [s for s, _ in samples]
    return 1000 * statistics.median(per_candidate)


def scaling() -> None:
    base = None
    for scale in (1, 4, 16):
        ms = per_wake_ms(scale)
        base = base or ms
        print(f"scanner wake-up at {scale:>2}× memory ({448 * scale} MB host, 2 × 50 pages/s × 5 s): "
              f"{ms:.3f} ms ({ms / base:.2f}× the 1× cost)")


def remapping() -> None:
    for enabled in (False, True):
        host = esx.Host(esx.HostConfig(memory_mb=128, remap=RemapConfig(enabled=enabled, low_memory_mb=16)), seed=0)
        host.power_on(esx.VMConfig(name="web", max_mb=32, overhead_mb=1),
                      workload=esx.workloads.NetServer(buffers=64, packets_per_s=2000))
        tr = host.run(minutes=10)
        print(f"NetServer, 64 buffers, 2000 packets/s, remapping {'on ' if enabled else 'off'}: "
              f"{tr.host.bounce_copies.sum() / len(tr):.1f} bounce copies/s on average, "
              f"{tr.host.bounce_copies[-60:].mean():.1f}/s in the last minute")


def main() -> None:
    cost_per_page()
    ten_vms()
    scaling()
    remapping()


if __name__ == "__main__":
    main()
