"""Admission control (paper §6.2).

A VM may power on only if the host can guarantee it: **min + overhead** of unreserved
machine memory, and **max − min** of unreserved host swap space (so its memory can be
preserved whatever happens). Reservations govern admission only; actual allocations move
freely above them.
"""
from __future__ import annotations

from .config import PAGES_PER_MB, VMConfig
from .errors import AdmissionError


def reserved(configs) -> tuple[int, int]:
    """(memory pages, swap pages) reserved by VMs with these configs."""
    mem = sum(c.min_pages + c.overhead_pages for c in configs)
    swap = sum(c.max_pages - c.min_pages for c in configs)
    return mem, swap


def admit(new: VMConfig, running, memory_pages: int, swap_pages: int) -> None:
    """Raise :class:`AdmissionError` naming the short reservation and by how many MB."""
    mem, swap = reserved(running)
    need_mem = new.min_pages + new.overhead_pages
    need_swap = new.max_pages - new.min_pages
    if mem + need_mem > memory_pages:
        short = (mem + need_mem - memory_pages) / PAGES_PER_MB
        raise AdmissionError(
            f"cannot power on {new.name!r}: memory reservation short by {short:.1f} MB "
            f"(it needs min + overhead = {need_mem / PAGES_PER_MB:.1f} MB; "
            f"{(memory_pages - mem) / PAGES_PER_MB:.1f} MB of machine memory is unreserved).")
    if swap + need_swap > swap_pages:
        short = (swap + need_swap - swap_pages) / PAGES_PER_MB
        raise AdmissionError(
            f"cannot power on {new.name!r}: swap reservation short by {short:.1f} MB "
            f"(it needs max − min = {need_swap / PAGES_PER_MB:.1f} MB; "
            f"{(swap_pages - swap) / PAGES_PER_MB:.1f} MB of host swap is unreserved).")
