"""The global hash table of ESX's page sharing (paper §4.2): a page's 64-bit hash → its frame.

Open addressing with linear probing over two numpy arrays, so a scan's batch of lookups or
inserts is a few vectorised passes over the batch, not one Python dict call per page (the
scanner looks up every page it hashes). Keys are page hashes (:func:`.base.page_hash`); the two
key values that mark an empty and a deleted slot (0 and 2⁶⁴ − 1) are never hashes in practice,
as 0 is not (a chance of 2⁻⁶⁴ a page). The table is kept at most half full, deleted slots
included, by doubling and rehashing. (The data structure is invented; the paper names only "a
hash table" of frames.)
"""
from __future__ import annotations

import numpy as np

EMPTY = np.uint64(0)
DELETED = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


class HashTable:
    """``hash → int`` for nonzero 64-bit hashes; ``len()`` is the number of entries."""

    def __init__(self, capacity: int = 1024) -> None:
        self.keys = np.zeros(capacity, dtype=np.uint64)       # capacity: a power of two
        self.values = np.zeros(capacity, dtype=np.int64)
        self.n = 0              # entries
        self.used = 0           # slots not empty: entries and deleted ones

    def __len__(self) -> int:
        return self.n

    def lookup(self, h: np.ndarray) -> np.ndarray:
        """The value of each hash in ``h`` (uint64, shape (n,)), −1 where it has none."""
        keys, mask = self.keys, len(self.keys) - 1
        out = np.full(len(h), -1, dtype=np.int64)
        todo = np.arange(len(h))
        idx = (h & np.uint64(mask)).astype(np.intp)
        while len(todo):
            k = keys[idx]
            hit = k == h[todo]
            out[todo[hit]] = self.values[idx[hit]]
            go = ~hit & (k != EMPTY)             # an empty slot ends the probe: not there
            todo, idx = todo[go], (idx[go] + 1) & mask
        return out

    def insert(self, h: np.ndarray, values: np.ndarray) -> None:
        """Add ``h`` (distinct uint64 hashes not in the table) with ``values`` (same shape)."""
        if len(h) == 0:
            return
        if 2 * (self.used + len(h)) > len(self.keys):
            self._rehash(self.n + len(h))
        self._place(h, np.asarray(values, dtype=np.int64))

    def delete(self, h: int) -> None:
        """Remove hash ``h`` (KeyError if it has no entry)."""
        keys, mask = self.keys, len(self.keys) - 1
        h = np.uint64(h)
        i = int(h & np.uint64(mask))
        while keys[i] != h:
            if keys[i] == EMPTY:
                raise KeyError(int(h))
            i = (i + 1) & mask
        keys[i] = DELETED
        self.n -= 1

    def _place(self, h: np.ndarray, values: np.ndarray) -> None:
        """Put absent keys in the first free slot of their probe (one key per slot per pass)."""
        keys, mask = self.keys, len(self.keys) - 1
        todo = np.arange(len(h))
        idx = (h & np.uint64(mask)).astype(np.intp)
        while len(todo):
            k = keys[idx]
            free = np.flatnonzero((k == EMPTY) | (k == DELETED))
            if len(free):
                _, first = np.unique(idx[free], return_index=True)
                win = free[first]                 # the first of the batch that probes each free slot
                slots = idx[win]
                self.used += int(np.count_nonzero(keys[slots] == EMPTY))
                keys[slots] = h[todo[win]]
                self.values[slots] = values[todo[win]]
                go = np.ones(len(todo), dtype=bool)
                go[win] = False
                todo, idx = todo[go], (idx[go] + 1) & mask
            else:
                idx = (idx + 1) & mask
        self.n += len(h)

    def _rehash(self, entries: int) -> None:
        """Reallocate for ``entries`` at most a quarter full, dropping deleted slots."""
        live = (self.keys != EMPTY) & (self.keys != DELETED)
        h, v = self.keys[live], self.values[live]
        capacity = len(self.keys)
        while capacity < 4 * entries:
            capacity *= 2
        self.keys = np.zeros(capacity, dtype=np.uint64)
        self.values = np.zeros(capacity, dtype=np.int64)
        self.n = self.used = 0
        self._place(h, v)
