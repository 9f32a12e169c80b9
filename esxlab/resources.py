"""What this computer can simulate, and how a long run behaves (esxlab's own rules, invented).

esxlab keeps every simulated page in numpy arrays, so a declared range (a 1 TB host, a file
set of 10**12 MB) can ask for more memory than the computer running the simulation has.
:func:`check_fits` refuses such a request *before* anything is allocated, with a sentence
naming the memory it would need and what this machine holds. The per-page costs below were
measured with ``tracemalloc`` (numpy reports its buffers to it) on small hosts and rounded
up; they are estimates, so a request close to the limit may still fail later.
:func:`check_power_on_time` refuses, the same way, a VM whose boot would compute for minutes
(a guest kernel far larger than the host's machine memory, paged out a megabyte at a time).

:func:`deferred_interrupt` lets a long ``Host.run()`` be stopped with Ctrl-C (or a Jupyter
kernel interrupt) between two ticks, never inside one, so the host stays consistent.
"""
from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
from collections.abc import Callable, Iterator

from .errors import ConfigError

#: bytes of simulator state per page (4 KB) of each kind, measured (see module doc)
HOST_BYTES_PER_PAGE = 40        # machine page: content, owner, free stacks, sharing/remap state
SWAP_BYTES_PER_PAGE = 24        # host swap slot: content, free stack
VM_BYTES_PER_PAGE = 56          # guest "physical" page: pmap, guest lists, sampler, scanner state
LOGICAL_BYTES_PER_PAGE = 24     # workload logical page: guest's location, dirty bit, disk copy

#: the simulation may use at most this fraction of the machine's memory
USABLE_FRACTION = 0.8

#: seconds of computing ``Host.power_on`` takes: per MB of the VM's max (allocating it), and per MB of guest
#: kernel paged out while it boots on a host whose machine memory cannot hold the kernel (a megabyte at a time),
#: a fixed part plus a part per unit of max / machine memory (each page-out draws victims among the VM's private
#: pages, a smaller share of its pages the larger the VM). Measured on a 2-core x86 (Linux guests of 8–256 GB and
#: Windows ones of 64–256 GB, on 512 MB–64 GB hosts: 0.3–77 s) and rounded up, so the estimate errs long
POWER_ON_S_PER_MB = 2.5e-5
BOOT_PAGE_OUT_S_PER_MB = 1e-3
BOOT_PAGE_OUT_S_PER_MB_RATIO = 8e-6
#: the longest ``Host.power_on`` allowed, in estimated seconds of computing
POWER_ON_LIMIT_S = 60.0


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


def power_on_seconds(max_mb: float, kernel_mb: float, machine_mb: float) -> float:
    """Estimated seconds of computing ``Host.power_on`` takes for a VM of ``max_mb`` whose guest kernel is
    ``kernel_mb``, with ``machine_mb`` of machine memory to boot in: allocating the VM, then paging out the
    part of its kernel that does not fit (the constants above)."""
    paged = max(0.0, kernel_mb - machine_mb)
    return max_mb * POWER_ON_S_PER_MB + paged * (BOOT_PAGE_OUT_S_PER_MB
                                                 + BOOT_PAGE_OUT_S_PER_MB_RATIO * max_mb / max(machine_mb, 1.0))


def check_power_on_time(what: str, max_mb: float, kernel_mb: Callable[[float], float], machine_mb: float) -> None:
    """Raise ConfigError if powering on a VM of ``max_mb`` (``what`` names it) whose guest kernel is
    ``kernel_mb(max_mb)`` MB, with ``machine_mb`` of machine memory to boot in, would take longer than
    :data:`POWER_ON_LIMIT_S` (:func:`power_on_seconds`); the sentence gives the largest max_mb allowed."""
    def seconds(mb: float) -> float:
        return power_on_seconds(mb, kernel_mb(mb), machine_mb)

    took = seconds(max_mb)
    if took <= POWER_ON_LIMIT_S:
        return
    lo, hi = 1, math.ceil(max_mb)                  # the largest whole max_mb allowed: seconds() grows with it
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if seconds(mid) <= POWER_ON_LIMIT_S else (lo, mid)
    kernel = kernel_mb(max_mb)
    raise ConfigError(f"{what}: its guest kernel ({kernel:,.0f} MB) is larger than the {machine_mb:,.0f} MB of machine "
                      f"memory this host has for it, so its boot would page out {kernel - machine_mb:,.0f} MB a "
                      f"megabyte at a time: about {_duration(took)} of computing (esxlab refuses a power-on estimated "
                      f"above {_duration(POWER_ON_LIMIT_S)}); allowed: max_mb ≤ {lo} on this host, or a host with "
                      "more machine memory (HostConfig.memory_mb).")


def _duration(seconds: float) -> str:
    """``"85 s"``, ``"4 min"`` or ``"2.5 h"``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


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
