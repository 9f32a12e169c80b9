"""esxlab: a page-level teaching simulator of the VMware ESX Server memory manager.

After Carl A. Waldspurger, "Memory Resource Management in VMware ESX Server", OSDI 2002.
``import esxlab`` needs only numpy; the widget views live in ``esxlab.views``.

    import esxlab as esx
    host = esx.Host(esx.HostConfig(memory_mb=512, tax_rate=0.75), seed=0)
    host.power_on(esx.VMConfig(name="dbench", max_mb=256), workload=esx.workloads.Dbench())
    trace = host.run(minutes=10)
"""
import os as _os
import signal as _signal
import sys as _sys


def _interrupted_while_loading(signum: int, frame: object) -> None:
    """SIGINT's handler while ``python -m esxlab`` loads (half a second, numpy first), until
    :func:`esxlab.__main__.main` runs its command: Ctrl-C's one line and exit code, as later, not a traceback
    through the imports. It exits at once (nothing to clean up yet): an exception raised inside an import may be
    swallowed, or turned into an ImportError by C code (numpy's "PyCapsule_Import could not import module")."""
    print("interrupted", file=_sys.stderr, flush=True)
    _os._exit(130)


if (_sys.argv[:1] == ["-m"] and _sys.orig_argv[-len(_sys.argv)].removeprefix("-m") == __name__    # python -m esxlab
        and _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler):     # (not a job started deaf to it)
    _signal.signal(_signal.SIGINT, _interrupted_while_loading)      # (sys.argv[0] is "-m" while Python finds it)

# the package's imports come after the handler (E402), which must be in place while they load numpy
from . import config, experiments, policy, workloads  # noqa: E402
from .config import PAGES_PER_MB, HostConfig, RemapConfig, SharingConfig, VMConfig  # noqa: E402
from .errors import AdmissionError, ConfigError, Error, HostStopped, PolicyError  # noqa: E402
from .host import Host  # noqa: E402
from .reclaim import STATES  # noqa: E402
from .trace import Decision, HostStats, Trace  # noqa: E402
from .vm import VM, VMStats  # noqa: E402

__all__ = [
    "AdmissionError", "ConfigError", "Decision", "Error", "Host", "HostConfig", "HostStats", "HostStopped",
    "PAGES_PER_MB", "PolicyError", "RemapConfig", "STATES", "SharingConfig", "Trace", "VM", "VMConfig", "VMStats",
    "config", "experiments", "policy", "workloads",
]
__version__ = "0.1.0"
