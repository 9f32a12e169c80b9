"""Small numpy helpers shared by the model."""
from __future__ import annotations

import numpy as np


def distinct(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values of ``x`` (sort-based; faster than ``np.unique`` on small arrays)."""
    s = np.sort(x)
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


class Stack:
    """A LIFO of integers (free machine pages, free guest pages, free swap slots) with O(k)
    push and pop: the cost of an allocation never depends on the size of memory."""

    def __init__(self, capacity: int, items: np.ndarray | None = None, dtype=np.int64) -> None:
        self.items = np.empty(capacity, dtype=dtype)
        self.n = 0
        if items is not None:
            self.push(items)

    def push(self, values: np.ndarray) -> None:
        k = len(values)
        self.items[self.n:self.n + k] = values
        self.n += k

    def pop(self, k: int) -> np.ndarray:
        """The top ``min(k, n)`` values, in stack order (the top one last)."""
        k = min(k, self.n)
        out = self.items[self.n - k:self.n].copy()
        self.n -= k
        return out
