"""esxlab: a page-level teaching simulator of the VMware ESX Server memory manager.

After Carl A. Waldspurger, "Memory Resource Management in VMware ESX Server", OSDI 2002.
``import esxlab`` needs only numpy; the widget views live in ``esxlab.views``.

    import esxlab as esx
    host = esx.Host(esx.HostConfig(memory_mb=512, tax_rate=0.75), seed=0)
    host.power_on(esx.VMConfig(name="dbench", max_mb=256), workload=esx.workloads.Dbench())
    trace = host.run(minutes=10)
"""
from . import config, experiments, policy, workloads
from .config import PAGES_PER_MB, HostConfig, RemapConfig, SharingConfig, VMConfig
from .errors import AdmissionError, ConfigError, Error, HostStopped, PolicyError
from .host import Host
from .reclaim import STATES
from .trace import Decision, HostStats, Trace
from .vm import VM, VMStats

__all__ = [
    "AdmissionError", "ConfigError", "Decision", "Error", "Host", "HostConfig", "HostStats", "HostStopped",
    "PAGES_PER_MB", "PolicyError", "RemapConfig", "STATES", "SharingConfig", "Trace", "VM", "VMConfig", "VMStats",
    "config", "experiments", "policy", "workloads",
]
__version__ = "0.1.0"
