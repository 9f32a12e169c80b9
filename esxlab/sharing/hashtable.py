"""The global hash table of ESX's page sharing (paper §4.3): a page's 64-bit hash → its frame.

Open addressing with linear probing over two numpy arrays, so a scan's batch of lookups or
inserts is a few vectorised passes over the batch, not one Python dict call per page (the
scanner looks up every page it hashes). Keys are page hashes (:func:`.base.page_hash`); the two
key values that mark an empty and a deleted slot (0 and 2⁶⁴ − 1) are never hashes in practice,
as 0 is not (a chance of 2⁻⁶⁴ a page). The table is kept at most a quarter full, deleted
slots included, by doubling and rehashing (kept half full, its probe chains cost 15–30 % more
time in lookups and inserts, measured on Figures 4, 5 and 8; a quarter takes twice the slots).
A batch's probes mostly end in one or two passes; the few long chains left (up to dozens of
slots) are followed key by key, since each vector pass costs microseconds of numpy overhead
whatever its length. (Invented: the paper's table resolves collisions by chaining, each 16-byte
frame holding a chaining link, §4.3; open addressing does the same lookups in flat arrays.)
"""
from __future__ import annotations

import numpy as np

EMPTY = np.uint64(0)
DELETED = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_EMPTY, _DELETED = int(EMPTY), int(DELETED)       # as Python ints, for the key-by-key probes
TAIL = 8        # probes left for at most this many keys go on one key at a time, not a vector pass each


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
        slot = self._find(h)
        return np.where(slot >= 0, self.values[slot], -1)

    def insert(self, h: np.ndarray, values: np.ndarray) -> None:
        """Add ``h`` (distinct uint64 hashes not in the table) with ``values`` (same shape)."""
        if len(h) == 0:
            return
        if 4 * (self.used + len(h)) > len(self.keys):
            self._rehash(self.n + len(h))
        self._place(h, np.asarray(values, dtype=np.int64))

    def assign(self, h: np.ndarray, values: np.ndarray) -> None:
        """Set the values of hashes ``h`` (distinct uint64, shape (n,); KeyError if one has no entry)."""
        if len(h):
            self.values[self._slots(h)] = values

    def delete(self, h: np.ndarray) -> None:
        """Remove hashes ``h`` (distinct uint64, shape (n,); KeyError if one has no entry)."""
        if len(h):
            self.keys[self._slots(h)] = DELETED
            self.n -= len(h)

    def clear(self) -> None:
        """Remove every entry (the capacity stays)."""
        self.keys.fill(EMPTY)
        self.n = self.used = 0

    def items(self) -> dict[int, int]:
        """The entries as a dict ``{hash: value}`` (for tests and inspection)."""
        live = (self.keys != EMPTY) & (self.keys != DELETED)
        return dict(zip(self.keys[live].tolist(), self.values[live].tolist()))

    def _slots(self, h: np.ndarray) -> np.ndarray:
        """The slot of each hash in ``h``; KeyError if one has no entry."""
        slot = self._find(h)
        if (slot < 0).any():
            raise KeyError(int(h[np.argmax(slot < 0)]))
        return slot

    def _find(self, h: np.ndarray) -> np.ndarray:
        """The slot holding each hash in ``h``, −1 where it has none (its probe reached an empty slot)."""
        keys, mask = self.keys, len(self.keys) - 1
        idx = (h & np.uint64(mask)).astype(np.intp)
        k = keys[idx]
        hit = k == h
        slot = np.where(hit, idx, -1)
        todo = (~hit & (k != EMPTY)).nonzero()[0]
        idx = (idx[todo] + 1) & mask
        while len(todo) > TAIL:                  # the few probes that go on, a batch at a time
            k = keys[idx]
            hit = k == h[todo]
            slot[todo[hit]] = idx[hit]
            go = ~hit & (k != EMPTY)
            todo, idx = todo[go], (idx[go] + 1) & mask
        for j, i in zip(todo.tolist(), idx.tolist()):     # the last ones, one by one
            key = int(h[j])
            while True:
                here = keys.item(i)
                if here == key:
                    slot[j] = i
                    break
                if here == _EMPTY:
                    break
                i = (i + 1) & mask
        return slot

    def _place(self, h: np.ndarray, values: np.ndarray) -> None:
        """Put absent keys in the first free slot of their probe (one key per slot per pass: of
        several probing one free slot, the last written holds it and the others probe on; the
        last few keys one by one)."""
        keys, mask = self.keys, len(self.keys) - 1
        todo = np.arange(len(h))
        idx = (h & np.uint64(mask)).astype(np.intp)
        while len(todo) > TAIL:
            k = keys[idx]
            free = ((k == EMPTY) | (k == DELETED)).nonzero()[0]
            if len(free):
                slots, mine = idx[free], h[todo[free]]
                keys[slots] = mine
                win = free[keys[slots] == mine]
                self.used += int(np.count_nonzero(k[win] == EMPTY))
                self.values[idx[win]] = values[todo[win]]
                if len(win) == len(todo):         # all placed
                    todo = todo[:0]
                    break
                go = np.ones(len(todo), dtype=bool)
                go[win] = False
                todo, idx = todo[go], (idx[go] + 1) & mask
            else:
                idx = (idx + 1) & mask
        for j, i in zip(todo.tolist(), idx.tolist()):
            while keys.item(i) not in (_EMPTY, _DELETED):
                i = (i + 1) & mask
            self.used += keys.item(i) == _EMPTY
            keys[i], self.values[i] = h[j], values[j]
        self.n += len(h)

    def _rehash(self, entries: int) -> None:
        """Reallocate for ``entries`` at most an eighth full, dropping deleted slots."""
        live = (self.keys != EMPTY) & (self.keys != DELETED)
        h, v = self.keys[live], self.values[live]
        capacity = len(self.keys)
        while capacity < 8 * entries:
            capacity *= 2
        self.keys = np.zeros(capacity, dtype=np.uint64)
        self.values = np.zeros(capacity, dtype=np.int64)
        self.n = self.used = 0
        self._place(h, v)
