"""An experiment module of a researcher's own, outside the package (tests/test_own_experiment.py sweeps it):
Figure 7's idle and dbench VMs, smaller, with the active-memory sampling period as the knob (§5.3). Invented."""
import esxlab as esx
from esxlab.experiments.params import check_seed, resolve

TITLE = "idle vs dbench VM, sampling period"
PARAMS = {"sample_period_s": esx.HostConfig.controls()["sample_period_s"]}      # default 30 s, 1–3600 s


def run(seed=0, **params):
    seed, p = check_seed(seed), resolve("own_experiment_example", PARAMS, params)
    host = esx.Host(esx.HostConfig(memory_mb=240, sample_period_s=p.sample_period_s), seed=seed)
    host.power_on(esx.VMConfig(name="idle", max_mb=128, guest_os="windows"))
    host.power_on(esx.VMConfig(name="dbench", max_mb=128), workload=esx.workloads.Dbench.scaled(20))
    trace = host.run(minutes=4)
    res = esx.experiments.Result("own_experiment_example", dict(vars(p), seed=seed), traces={"run": trace})
    for vm in ("idle", "dbench"):
        res.add(f"{vm} VM alloc, last minute", None, trace.mean(vm, "alloc", 3), None, "MB")
    return res
