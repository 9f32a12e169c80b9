"""``benchmarks/bench_phases.py``'s timers (not timings): each phase wrapped counts its calls, and the methods are
the package's own again afterwards, so a profile run leaves the engine as it found it."""
import importlib.util
from pathlib import Path

import esxlab as esx
from esxlab import guest, host, vm

_spec = importlib.util.spec_from_file_location(
    "bench_phases", Path(__file__).resolve().parents[1] / "benchmarks" / "bench_phases.py")
bench_phases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_phases)


def test_the_timers_count_every_call_and_restore_the_methods():
    before = {(cls, name): cls.__dict__[name] for cls, name in bench_phases.PHASES}
    h = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    h.power_on(esx.VMConfig(name="a", max_mb=16, overhead_mb=1), workload=esx.workloads.Dbench(clients=1))
    with bench_phases.timed() as (seconds, calls):
        h.run(seconds=5)
    assert calls["Host._tick"] == 5 and calls["VM.step"] == 5 and calls["Dbench.step"] == 5
    assert calls["Guest.access"] == 5 and seconds["Host._tick"] >= seconds["VM.step"] > 0
    assert {(cls, name): cls.__dict__[name] for cls, name in bench_phases.PHASES} == before
    assert host.Host._tick is before[(host.Host, "_tick")] and vm.VM.step is before[(vm.VM, "step")]
    assert guest.Guest.access is before[(guest.Guest, "access")]
