"""What this computer can simulate, and how a long run behaves (esxlab's own rules, invented).

esxlab keeps every simulated page in numpy arrays, so a declared range (a 1 TB host, a file
set of 10**12 MB) can ask for more memory than the computer running the simulation has.
:func:`check_fits` refuses such a request *before* anything is allocated, with a sentence
naming the memory it would need and what this machine holds. The per-page costs below were
measured with ``tracemalloc`` (numpy reports its buffers to it) on small hosts and rounded
up; they are estimates, so a request close to the limit may still fail later.

:func:`deferred_interrupt` lets a long ``Host.run()`` be stopped with Ctrl-C (or a Jupyter
kernel interrupt) between two ticks, never inside one, so the host stays consistent.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

from .errors import ConfigError

#: bytes of simulator state per page (4 KB) of each kind, measured (see module doc)
HOST_BYTES_PER_PAGE = 40        # machine page: content, owner, free stacks, sharing/remap state
SWAP_BYTES_PER_PAGE = 24        # host swap slot: content, free stack
VM_BYTES_PER_PAGE = 56          # guest "physical" page: pmap, guest lists, sampler, scanner state
LOGICAL_BYTES_PER_PAGE = 24     # workload logical page: guest's location, dirty bit, disk copy

#: the simulation may use at most this fraction of the machine's memory
USABLE_FRACTION = 0.8


def machine_bytes() -> int:
    """Physical memory of the computer running esxlab, in bytes (POSIX ``sysconf``;
    64 GiB assumed where the platform does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 64 << 30


def gib(nbytes: float) -> str:
    """``nbytes`` as a short human figure, e.g. ``"12.3 GiB"``, ``"512 MiB"``, ``"2.4 PiB"`` or, past
    10,000 PiB (a mistyped size), ``"2.4e+07 PiB"``."""
    for unit, shift in (("PiB", 50), ("TiB", 40), ("GiB", 30)):
        if nbytes >= 2 ** shift:
            v = nbytes / 2 ** shift
            return f"{v:.1f} {unit}" if v < 1e4 else f"{v:.1e} {unit}"
    return f"{nbytes / 2 ** 20:.0f} MiB"


def check_fits(what: str, nbytes: float, allowed: str) -> None:
    """Raise ConfigError if simulating ``what`` needs more than this machine can hold.

    ``what`` names the parameter and its value (e.g. ``"HostConfig.memory_mb = 1048576"``);
    ``allowed`` says how to ask for less."""
    limit = USABLE_FRACTION * machine_bytes()
    if nbytes > limit:
        raise ConfigError(f"{what} needs about {gib(nbytes)} of this computer's memory to simulate, and this "
                          f"computer can hold {gib(limit)} ({USABLE_FRACTION:.0%} of its {gib(machine_bytes())}); "
                          f"{allowed}.")


def vm_bytes(pages: int, logical_pages: int = 0) -> int:
    """Estimated bytes of a VM of ``pages`` guest "physical" pages whose workload has ``logical_pages``
    logical pages: what ``Host.power_on`` adds up over the VMs running together."""
    return pages * VM_BYTES_PER_PAGE + logical_pages * LOGICAL_BYTES_PER_PAGE


def check_pages_fit(what: str, pages: float) -> None:
    """Refuse a workload whose ``pages`` logical pages (``what`` names the parameters) cannot be held."""
    most = USABLE_FRACTION * machine_bytes() / LOGICAL_BYTES_PER_PAGE
    check_fits(what, pages * LOGICAL_BYTES_PER_PAGE,
               f"allowed: at most about {most:,.0f} logical pages ({most / 256:,.0f} MB of them)")


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[threading.Event]:
    """While inside, a SIGINT (Ctrl-C, a kernel interrupt) only sets the yielded event; the
    caller checks it between ticks and raises ``KeyboardInterrupt`` itself. Off the main thread
    (where Python cannot install a handler) the event never fires and SIGINT acts as usual."""
    asked = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield asked
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None or previous is signal.SIG_IGN:         # not installed from Python: leave it
        yield asked
        return
    signal.signal(signal.SIGINT, lambda signum, frame: asked.set())
    try:
        yield asked
    finally:
        signal.signal(signal.SIGINT, previous)
