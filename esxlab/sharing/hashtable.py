"""The global hash table of ESX's page sharing (paper §4.2): a page's 64-bit hash → its frame.

A Python dict driven a batch at a time: a scan's lookups, inserts and deletes each convert the
batch to a list once and let ``map``/``update`` walk it in C, so a batch costs one call, not
one per page. The scanner's batches are small (a wake-up scans at most ``scan_vm_pages_s ×
scan_period_s`` pages of a VM; median ≈ 30), where this is ≈ 10× faster than the
open-addressing table in numpy arrays it replaced (whose fixed cost per vectorised pass
dominated); it is slower only for batches of thousands (a large swap-out). The table's
memory as the paper charges it (§4.3) is counted by :mod:`.base`, not measured here. (The data
structure is invented; the paper names only "a hash table" of frames.)
"""
from __future__ import annotations

from itertools import repeat

import numpy as np


class HashTable:
    """``hash → int`` for 64-bit hashes given as uint64 arrays; ``len()`` is the number of entries."""

    def __init__(self) -> None:
        self._d: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._d)

    def __deepcopy__(self, memo: dict) -> "HashTable":
        other = HashTable()
        other._d = self._d.copy()            # keys and values are ints: a shallow copy is a deep one
        return other

    def lookup(self, h: np.ndarray) -> np.ndarray:
        """The value of each hash in ``h`` (uint64, shape (n,)), −1 where it has none; int64, shape (n,)."""
        keys = h.tolist()
        return np.fromiter(map(self._d.get, keys, repeat(-1)), dtype=np.int64, count=len(keys))

    def insert(self, h: np.ndarray, values: np.ndarray) -> None:
        """Add ``h`` (distinct uint64 hashes not in the table) with ``values`` (ints, same shape)."""
        self._d.update(zip(h.tolist(), np.asarray(values).tolist()))

    def delete(self, h: np.ndarray) -> None:
        """Remove hashes ``h`` (distinct uint64, shape (n,)); KeyError, removing none, if one has no entry."""
        keys = h.tolist()
        if not self._d.keys() >= set(keys):
            raise KeyError(next(k for k in keys if k not in self._d))
        for k in keys:
            del self._d[k]
