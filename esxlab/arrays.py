"""Small numpy helpers shared by the model."""
from __future__ import annotations

import numpy as np


def _simd_sorts_16bit() -> bool:
    """Whether numpy's default sort of 16-bit integers is vectorized on this CPU (AVX512-ICL);
    elsewhere it is a scalar introsort, ≈ 6× slower than the radix sort that ``kind="stable"``
    gives 8- and 16-bit integers (8,000 Zipf draws on an AVX2 machine: 373 µs against 59 µs)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:                      # numpy moved it: the radix sort is never slow
        return False
    return bool(features.get("AVX512_ICL"))


_SMALL_INT_SORT = "quicksort" if _simd_sorts_16bit() else "stable"


def distinct(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values of ``x`` (sort-based; faster than ``np.unique`` on small arrays).
    Integers sort to one order whatever the algorithm, so the choice by CPU changes no result."""
    s = np.sort(x, kind=_SMALL_INT_SORT if x.dtype.itemsize <= 2 and x.dtype.kind in "iu" else None)
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep.nonzero()[0]]          # a gather: faster than s[keep] on masks that do not repeat


class Stack:
    """A LIFO of integers (free machine pages, free guest pages, free swap slots) with O(k)
    push and pop: the cost of an allocation never depends on the size of memory.

    The bottom of the stack may be a run ``hi − 1, …, lo`` (``lo`` on top) held as two numbers
    (:meth:`run`): a free list that starts with every page costs no memory until pages come
    back to it, so a big host's untouched memory costs nothing here."""

    def __init__(self, capacity: int, items: np.ndarray | None = None, dtype=np.int64) -> None:
        self._buf = np.empty(capacity, dtype=dtype)       # pushed items, above the run
        self._k = 0
        self._lo = self._hi = 0                           # the run below them: hi − 1, …, lo
        if items is not None:
            self.push(items)

    @classmethod
    def run(cls, capacity: int, lo: int, hi: int, dtype=np.int64) -> "Stack":
        """A stack holding ``hi − 1, …, lo`` (``lo`` on top): ``Stack(capacity, np.arange(hi − 1,
        lo − 1, −1))`` without materializing them."""
        st = cls(capacity, dtype=dtype)
        st._lo, st._hi = int(lo), max(int(lo), int(hi))
        return st

    @property
    def n(self) -> int:
        return self._hi - self._lo + self._k

    @property
    def items(self) -> np.ndarray:
        """All values, bottom first (a new array)."""
        return np.concatenate([np.arange(self._hi - 1, self._lo - 1, -1, dtype=self._buf.dtype), self._buf[:self._k]])

    def push(self, values: np.ndarray) -> None:
        k = len(values)
        self._buf[self._k:self._k + k] = values
        self._k += k

    def pop(self, k: int) -> np.ndarray:
        """The top ``min(k, n)`` values, in stack order (the top one last), as ``np.intp``
        whatever the stack stores: numpy indexes with intp arrays several times faster."""
        if k <= 0 or self.n == 0:
            return np.empty(0, dtype=np.intp)
        top = min(k, self._k)
        pushed = self._buf[self._k - top:self._k].astype(np.intp)
        self._k -= top
        r = min(k - top, self._hi - self._lo)
        if r == 0:
            return pushed
        lo = self._lo
        self._lo += r
        return np.concatenate([np.arange(lo + r - 1, lo - 1, -1, dtype=np.intp), pushed])
