"""Admission control (paper §6.2).

A VM may power on only if the host can guarantee it: **min + overhead** of unreserved
machine memory, and **max − min** of unreserved host swap space (so its memory can be
preserved whatever happens). Reservations govern admission only; actual allocations move
freely above them.

Two rules of esxlab's own (the paper states neither): some machine memory must be left for guest
pages once every VM's overhead and the free-memory goal (the high threshold plus its margin,
§6.3) are set aside (invented); and with ``HostConfig.swap_mb = None`` each VM
gets a swap file of its own of max − min at power-on (later ESX's per-VM ``.vswp`` files), so
swap never refuses a VM — a finite ``swap_mb`` is one shared area, reserved as the paper says.
"""
from __future__ import annotations

from collections.abc import Collection

from .config import PAGES_PER_MB, VMConfig
from .errors import AdmissionError


def reserved(configs: Collection[VMConfig]) -> tuple[int, int]:
    """(memory pages, swap pages) reserved by VMs with these configs."""
    mem = sum(c.reserved_pages for c in configs)
    swap = sum(c.max_pages - c.min_pages for c in configs)
    return mem, swap


def admit(new: VMConfig, running: Collection[VMConfig], memory_pages: int, swap_pages: int | None,
          goal_pages: float = 0, action: str = "power on") -> None:
    """Raise :class:`AdmissionError` naming the short reservation and by how many MB.

    ``running``: the configs of the other VMs; ``swap_pages``: the shared swap area, or None for
    per-VM swap files; ``goal_pages``: free memory the host keeps (§6.3); ``action``: what is
    being admitted, for the sentence ("power on", or "change the min of" for ``set_min``)."""
    mem, swap = reserved(running)
    need_mem = new.reserved_pages
    need_swap = new.max_pages - new.min_pages
    what = f"cannot {action} {new.name!r}"
    mb = 1.0 / PAGES_PER_MB
    if mem + need_mem > memory_pages:
        short = (mem + need_mem - memory_pages) * mb
        raise AdmissionError(
            f"{what}: memory reservation short by {short:.1f} MB "
            f"(it needs min + overhead = {need_mem * mb:.1f} MB; "
            f"{(memory_pages - mem) * mb:.1f} MB of machine memory is unreserved).")
    overhead = sum(c.overhead_pages for c in running) + new.overhead_pages
    left = memory_pages - overhead - goal_pages
    if left <= 0:
        raise AdmissionError(
            f"{what}: overhead memory would leave no machine memory for guest pages "
            f"({overhead * mb:.1f} MB of overhead for {len(running) + 1} VMs plus {goal_pages * mb:.1f} MB kept "
            f"free above the high threshold, out of {memory_pages * mb:.1f} MB); lower overhead_mb or power off "
            "a VM.")
    if swap_pages is not None and swap + need_swap > swap_pages:
        short = (swap + need_swap - swap_pages) * mb
        raise AdmissionError(
            f"{what}: swap reservation short by {short:.1f} MB "
            f"(it needs max − min = {need_swap * mb:.1f} MB; "
            f"{(swap_pages - swap) * mb:.1f} MB of host swap is unreserved).")
