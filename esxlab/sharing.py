"""Content-based page sharing (paper §4) — the interface the rest of the model calls.

Until the scanner lands (issue 3) no page is ever shared, so copy-on-write breaks and
unsharing cannot happen.
"""
from __future__ import annotations

import numpy as np


class PageSharing:
    def __init__(self, host) -> None:
        self.host = host
        self.table_pages = 0      # machine pages holding the hash table
        self.saved_pages = 0      # machine pages reclaimed by sharing
        self.zero_pages = 0       # PPNs sharing the zero page

    def step(self) -> None:
        """One tick of the background scanner."""

    def share_before_swap(self, vm, ppns: np.ndarray) -> np.ndarray:
        """Try to share swap victims; return those still to be paged out."""
        return ppns

    def cow_break(self, vm, ppns: np.ndarray) -> None:
        raise AssertionError("no page is shared without the scanner")

    def unshare(self, vm, ppns: np.ndarray) -> None:
        raise AssertionError("no page is shared without the scanner")
