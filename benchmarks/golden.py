"""Golden traces (issue 13): three short deterministic runs whose every output is kept.

``python benchmarks/golden.py --record`` (re)writes ``tests/golden/<scenario>.npz``;
``tests/test_golden.py`` reruns the scenarios and compares every array bit for bit. The
engine work (speed only) must leave them unchanged; a deliberate model change regenerates
them in a commit of its own.

Scenarios (invented set-ups, each a few simulated minutes and a few seconds of wall time):

* ``sharing``: ESX page sharing on a host too small for its five Linux and Windows VMs
  (Spec95, Dbench, a toucher that grows and shrinks, an idle Windows guest), so the run also
  balloons, pages and blocks, and the tax rate changes mid-run;
* ``remap``: hot I/O page remapping of a network server (:mod:`esxlab.experiments.remap_io`);
* ``ksm``: the Linux-KSM-style scanner over four Spec95 guests
  (:mod:`esxlab.experiments.ksm_vs_esx`) on a host that must also reclaim.

What is kept per scenario: the trace (time, every host and VM series), the decision log
(its text), each VM's event totals since power-on, and a SHA-256 digest of the contents each
VM's guest would read from every page (``VM.peek``), so a change in what the model *does* shows even where
the per-tick summaries stay the same.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import asdict, astuple
from pathlib import Path

import numpy as np

import esxlab as esx
from esxlab.config import RemapConfig, SharingConfig
from esxlab.trace import HOST_FIELDS, VM_FIELDS

W = esx.workloads
GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden"


def sharing(seed: int = 0) -> esx.Host:
    host = esx.Host(esx.HostConfig(memory_mb=300, swap_mb=512, sharing=SharingConfig(mode="esx")), seed=seed)
    host.power_on(esx.VMConfig(name="spec-a", max_mb=48, overhead_mb=4), workload=W.Spec95(warm_s=60))
    host.power_on(esx.VMConfig(name="spec-b", max_mb=48, overhead_mb=4), workload=W.Spec95(warm_s=60))
    host.power_on(esx.VMConfig(name="win", max_mb=96, overhead_mb=8, guest_os="windows"))
    host.power_on(esx.VMConfig(name="dbench", max_mb=96, overhead_mb=8), workload=W.Dbench(clients=16))
    host.run(minutes=1)
    host.power_on(esx.VMConfig(name="toucher", max_mb=96, overhead_mb=8),
                  workload=W.Toucher([(0, 40), (60, 80), (150, 20)], sweep_s=5))
    host.run(minutes=2)
    host.set_tax_rate(0.75)
    host.run(minutes=2)
    return host


def remap(seed: int = 0) -> esx.Host:
    cfg = esx.HostConfig(memory_mb=88, swap_mb=128, remap=RemapConfig(enabled=True, low_memory_mb=16, threshold=16))
    host = esx.Host(cfg, seed=seed)
    host.power_on(esx.VMConfig(name="web", max_mb=48, overhead_mb=1), workload=W.NetServer(buffers=64))
    host.power_on(esx.VMConfig(name="idle", max_mb=48, overhead_mb=1, guest_os="windows"))
    host.run(minutes=4)
    return host


def ksm(seed: int = 0) -> esx.Host:
    cfg = SharingConfig(mode="ksm", ksm_pages_to_scan=20, ksm_sleep_ms=20)
    host = esx.Host(esx.HostConfig(memory_mb=150, swap_mb=256, sharing=cfg), seed=seed)
    for i in range(4):
        host.power_on(esx.VMConfig(name=f"linux{i}", max_mb=40, overhead_mb=4), workload=W.Spec95(warm_s=60))
    host.run(minutes=2)
    host.power_on(esx.VMConfig(name="dbench", max_mb=64, overhead_mb=4), workload=W.Dbench(clients=8))
    host.run(minutes=3)
    return host


SCENARIOS = {"sharing": sharing, "remap": remap, "ksm": ksm}


def outputs(host: esx.Host) -> dict[str, np.ndarray]:
    """Every array a run produced, by name (what a golden file holds)."""
    tr = host.trace
    out = {"t": np.asarray(tr.t), "decisions": np.array([str(d) for d in tr.decisions] or [""])}
    out["decision_fields"] = np.array(["|".join(map(str, astuple(d))) for d in tr.decisions] or [""])
    out.update({f"host.{f}": np.asarray(getattr(tr.host, f)) for f in HOST_FIELDS})
    for name in tr.vm_names:
        out.update({f"vm.{name}.{f}": np.asarray(getattr(tr.vm(name), f)) for f in VM_FIELDS})
    for name, vm in host.vms.items():
        # one array per event, so that a new event (a new mechanism's counter) adds arrays, as a new metric does
        out.update({f"totals.{name}.{e}": np.int64(n) for e, n in asdict(vm.totals).items()})
        out[f"contents.{name}"] = np.array(hashlib.sha256(vm.peek(np.arange(vm.pages)).tobytes()).hexdigest())
    return out


def record(names: list[str]) -> None:
    GOLDEN.mkdir(exist_ok=True)
    for name in names:
        out = outputs(SCENARIOS[name]())
        path = GOLDEN / f"{name}.npz"
        np.savez_compressed(path, **out)
        print(f"{path.name}: {len(out['t'])} ticks, {len(out['decisions'])} decisions, "
              f"{path.stat().st_size / 1024:.0f} KB")


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", action="store_true", help="(re)write tests/golden/*.npz")
    ap.add_argument("scenarios", nargs="*", choices=[[], *SCENARIOS], default=[])
    a = ap.parse_args(argv)
    if not a.record:
        ap.error("nothing to do: pass --record (tests/test_golden.py compares)")
    record(a.scenarios or list(SCENARIOS))


if __name__ == "__main__":
    main(sys.argv[1:])
