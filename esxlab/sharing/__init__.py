"""Content-based page sharing (paper §4), one module per policy:

* :mod:`.base` — what every mode shares: shared frames (a machine page mapped copy-on-write by
  several PPNs), 16-bit reference counts with an overflow table, copy-on-write breaks, the
  table's own memory, salting (who may share with whom) and the statistics; on its own, "off";
* :mod:`.esx` — ESX's scanner (§4.2–4.3): random scan, hint frames, one global hash table;
* :mod:`.ksm` — Linux KSM's stable/unstable trees, for comparison (beyond the paper).

:func:`make_sharing` builds the one ``SharingConfig.mode`` names.
"""
from __future__ import annotations

from typing import Any

from ..config import SharingConfig
from .base import (COUNT_MAX, FRAME, FREE_FRAME, HINT, SharingBase, SharingStats, VMSharingStats, page_hash,
                   salt_group)
from .esx import PageSharing
from .ksm import KsmSharing

__all__ = ["COUNT_MAX", "FRAME", "FREE_FRAME", "HINT", "KsmSharing", "PageSharing", "SharingBase", "SharingStats",
           "VMSharingStats", "make_sharing", "page_hash", "salt_group"]


def make_sharing(config: SharingConfig, *collaborators: Any) -> SharingBase:
    """The sharing policy ``config.mode`` names; ``collaborators`` as for :class:`SharingBase`."""
    if config.mode == "esx":
        return PageSharing(config, *collaborators)
    if config.mode == "ksm":
        return KsmSharing(config, *collaborators)
    return SharingBase(config, *collaborators)
