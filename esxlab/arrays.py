"""Small numpy helpers shared by the model."""
from __future__ import annotations

import mmap
import numbers
import time
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import DTypeLike


#: the ways :func:`distinct` may sort 8- and 16-bit integers: (the dtype to widen them to, or None; the sort kind)
SMALL_INT_SORTS = ((None, "stable"), (np.int32, "quicksort"), (None, "quicksort"))
_small_int_sort: tuple | None = None          # the fastest of them on this machine, measured at the first call


def _fastest_small_int_sort() -> tuple:
    """The fastest of :data:`SMALL_INT_SORTS` here, timed once on 8,000 16-bit integers (the best of
    five runs each). Which wins depends on the CPU, not on the dtype alone: the radix sort that
    ``kind="stable"`` gives 8- and 16-bit integers is scalar; numpy's quicksort is vectorized
    (x86-simd-sort) for 32-bit integers with AVX2 and for 16-bit ones with AVX512-ICL. Measured, 8,000
    Zipf draws: an AVX2 machine, radix 61 µs, widened and quicksorted 32 µs; an AVX-512 EPYC, radix
    19 µs, 16-bit quicksort 76 µs, widened 100 µs. Integers sort to one order whatever the algorithm,
    so the choice changes no value, only the time."""
    x = np.random.default_rng(0).integers(0, 2 ** 12, 8000, dtype=np.uint16)
    best, fastest = float("inf"), SMALL_INT_SORTS[0]
    for widen, kind in SMALL_INT_SORTS:
        for _ in range(5):
            t0 = time.perf_counter()
            (x.astype(widen) if widen is not None else x.copy()).sort(kind=kind)
            took = time.perf_counter() - t0
            if took < best:
                best, fastest = took, (widen, kind)
    return fastest


def distinct(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values of ``x`` (sort-based; faster than ``np.unique`` on small arrays).
    8- and 16-bit integers may come back widened to 32 bits (the fastest sort on this machine: see
    :func:`_fastest_small_int_sort`); integers sort to one order whatever the algorithm, so the choice
    changes no value."""
    global _small_int_sort
    if x.dtype.itemsize <= 2 and x.dtype.kind in "iu":
        if _small_int_sort is None:
            _small_int_sort = _fastest_small_int_sort()
        widen, kind = _small_int_sort
        s = x.astype(widen) if widen is not None else x.copy()
        s.sort(kind=kind)
    else:
        s = np.sort(x)
    return distinct_sorted(s)


def distinct_marked(x: np.ndarray, n: int) -> np.ndarray:
    """Sorted distinct values of ``x``, integers 0 ≤ x < ``n``, as intp: by marking a table of ``n`` flags (a
    scatter over ``x`` and a pass over the table) instead of sorting ``x``. The same values as :func:`distinct`;
    faster where ``x`` is long, wide and dense in its range: Figure 2's dbench at 400 clients (80,000 32-bit draws of
    532,481 ranks) 0.75 ms against 1.8 ms sorted, on the AVX-512 EPYC; slower on 8,000 16-bit draws (Figure 7's:
    ``docs/performance.md``), so a caller times the two (Dbench: once a process per file set and rate). Invented (speed only)."""
    seen = np.zeros(n, dtype=bool)
    seen[x] = True
    return seen.nonzero()[0]


def page_numbers(value: object, pages: int, once: bool = False, unit: str = "PPN") -> np.ndarray | str:
    """``value``, page numbers given to esxlab from outside, as an intp array if it is a 1-D array (or list) of
    whole numbers in 0 ≤ n < ``pages`` (each once if ``once``; an empty one of any dtype is no pages); else what
    is wrong with it, a phrase that follows the value in a sentence (``"is a boolean mask (…)"``). The one set of
    rules for a call's PPNs (``VM.touch``, ``VM.peek``), a replacement policy's victims
    (:func:`esxlab.swap.legal_victims`) and a workload's pages (:func:`esxlab.workloads.checked`); ``unit``
    names their numbers ("PPN", "page")."""
    if isinstance(value, (set, frozenset)):      # numpy makes a set a 0-d array of one object
        return f"is a set, and a set has no order (np.array(sorted(s)) gives its {unit}s in order)"
    hidden = masked(value, f"the {unit}s left unmasked: x[~x.mask]")
    if hidden:
        return hidden
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):              # a ragged list
        return "is a ragged list, not an array"
    if a.ndim == 0:
        return (f"is one {unit}, not an array (write [{value}])" if a.dtype.kind in "iu"
                else f"is not an array of {unit}s")
    if a.dtype == bool:
        return f"is a boolean mask (give the {unit}s it selects: np.flatnonzero(mask))"
    if a.ndim != 1:
        return f"has {a.ndim} dimensions"
    if a.size == 0:
        return np.empty(0, dtype=np.intp)
    outside = f"outside 0 ≤ {unit} < {pages}" if pages else f"and there are no {unit}s"
    if a.dtype.kind == "f":
        not_whole = a[~np.isfinite(a)] if not np.isfinite(a).all() else a[a != np.round(a)]
        return f"holds {a.dtype} values, not integers" + (f" (.astype(int) makes them {unit}s)" if not len(not_whole)
                                                          else f" ({not_whole[0]:g} is no {unit})")
    if a.dtype.kind not in "iu":                 # text, Python integers too large for numpy's, or an object array
        items = list(value) if isinstance(value, (list, tuple)) else a.tolist()     # ('1' stays 1 in a list)
        odd = [v for v in items if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral)]
        if odd:
            return f"holds {odd[0]!r} ({type(odd[0]).__name__}), not an integer {unit}"
        beyond = [v for v in items if not 0 <= v < pages]
        if beyond:
            return f"holds {unit} {beyond[0]}, {outside}"
        a = np.asarray([int(v) for v in items], dtype=np.intp)     # an object array of whole numbers, all in range
    beyond = ((a < 0) | (a >= pages)).nonzero()[0]
    if len(beyond):
        return f"holds {unit} {a[beyond[0]]}, {outside}"
    if once:
        s = np.sort(a)
        twice = (s[1:] == s[:-1]).nonzero()[0]
        if len(twice):
            return f"holds {unit} {s[twice[0]]} twice (np.unique keeps each once)"
    return a.astype(np.intp, copy=False)


def masked(value: object, unmasked: str) -> str | None:
    """What is wrong with ``value`` if it is a masked array with masked entries, whose mask ``np.asarray`` drops (the
    masked entries would be used), a phrase that follows the value in a sentence; ``unmasked`` says what to give
    instead ("the PPNs left unmasked: x[~x.mask]"). None for anything else."""
    if np.ma.is_masked(value):
        return f"has masked entries, which esxlab would not skip (give {unmasked})"
    return None


def whole_numbers(a: np.ndarray, shape: tuple[int, ...], hi: int | None = None) -> bool:
    """Whether ``a`` holds whole numbers 0 ≤ n (≤ ``hi``, if given) in ``shape``: the check of what a workload or a
    caller hands the engine as page contents (tokens) or counts (``Access.io_transfers``)."""
    return a.shape == shape and not (a.size and (a.dtype.kind not in "iu" or a.min() < 0
                                                 or (hi is not None and a.max() > hi)))


def run_starts(s: np.ndarray) -> np.ndarray:
    """Where each run of equal values of ``s`` (sorted, or any array whose equal values are adjacent) begins:
    0, then each index whose value differs from the one before (none for an empty ``s``)."""
    starts = np.empty(len(s), dtype=bool)
    if len(s):
        starts[0] = True
        np.not_equal(s[1:], s[:-1], out=starts[1:])
    return starts.nonzero()[0]


def distinct_sorted(s: np.ndarray) -> np.ndarray:
    """The distinct values of ``s``, already sorted (ascending)."""
    if len(s) < 2:
        return s
    return s[run_starts(s)]              # a gather: faster than s[mask] on masks that do not repeat


def distinct_counts(x: np.ndarray, first: bool = False) -> tuple[np.ndarray, ...]:
    """``np.unique(x, return_counts=True)`` for an integer array ``x`` (shape (n,)): its sorted distinct values
    and how many times each occurs; with ``first``, ``np.unique(x, return_index=True, return_counts=True)``:
    (values, index of each one's first occurrence, counts). A few passes: ``np.unique``'s general path costs
    several times more on the small batches of page sharing."""
    n = len(x)
    order = np.argsort(x, kind="stable") if first else None
    s = x[order] if first else np.sort(x)
    at = run_starts(s)
    if len(at) == n:                                   # all distinct: the usual case
        counts = np.ones(n, dtype=np.intp)
    else:
        bounds = np.empty(len(at) + 1, dtype=np.intp)
        bounds[:-1], bounds[-1] = at, n
        counts = bounds[1:] - bounds[:-1]
    return (s[at], order[at], counts) if first else (s[at], counts)


def runs(v: np.ndarray) -> list[tuple[int, slice]]:
    """The runs of equal values of a non-decreasing integer array ``v``: (value, slice of ``v``) each, in order."""
    if len(v) == 0:
        return []
    if v[0] == v[-1]:
        return [(int(v[0]), slice(0, len(v)))]
    bounds = [*run_starts(v).tolist(), len(v)]
    return [(int(v[a]), slice(a, b)) for a, b in zip(bounds[:-1], bounds[1:])]


#: tables at least this large (bytes) come from :func:`lazy_zeros`' own mapping, smaller ones from numpy
LAZY_MIN_BYTES = 64 * 1024


def lazy_zeros(n: int, dtype: DTypeLike) -> np.ndarray:
    """``np.zeros(n, dtype)`` whose memory the OS backs only where it is written, always: a private
    anonymous mapping for tables of :data:`LAZY_MIN_BYTES` or more (per-page tables of the machine, of
    each VM, its guest and the scanner, where untouched pages must cost nothing). ``np.zeros`` gives
    that only while glibc serves the size with ``mmap``; its threshold rises to the largest block freed
    (up to 32 MB), after which the same table comes from the heap, whose reused memory it must write
    (256 × 1 GB VMs: up to 100 MB more, depending on the heap's layout; ``docs/performance.md``).
    Where the platform has no private mappings (Windows), ``np.zeros``. Invented (memory only; values
    are the same zeros)."""
    dtype = np.dtype(dtype)
    nbytes = int(n) * dtype.itemsize
    if nbytes < LAZY_MIN_BYTES or not hasattr(mmap, "MAP_PRIVATE"):
        return np.zeros(n, dtype=dtype)
    buf = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
    return np.frombuffer(buf, dtype=dtype, count=n)


class Stack:
    """A LIFO of integers (free machine pages, free guest pages, free swap slots) with O(k)
    push and pop: the cost of an allocation never depends on the size of memory.

    The bottom of the stack may be a run ``hi − 1, …, lo`` (``lo`` on top) held as two numbers
    (:meth:`run`): a free list that starts with every page costs no memory until pages come
    back to it, so a big host's untouched memory costs nothing here."""

    def __init__(self, capacity: int, items: np.ndarray | None = None, dtype: DTypeLike = np.int64) -> None:
        self._buf = np.empty(capacity, dtype=dtype)       # pushed items, above the run
        self._k = 0
        self._lo = self._hi = 0                           # the run below them: hi − 1, …, lo
        if items is not None:
            self.push(items)

    @classmethod
    def run(cls, capacity: int, lo: int, hi: int, dtype: DTypeLike = np.int64) -> "Stack":
        """A stack holding ``hi − 1, …, lo`` (``lo`` on top): ``Stack(capacity, np.arange(hi − 1,
        lo − 1, −1))`` without materializing them."""
        st = cls(capacity, dtype=dtype)
        st._lo, st._hi = int(lo), max(int(lo), int(hi))
        return st

    @property
    def n(self) -> int:
        """How many values the stack holds."""
        return self._hi - self._lo + self._k

    @property
    def items(self) -> np.ndarray:
        """All values, bottom first (a new array)."""
        return np.concatenate([np.arange(self._hi - 1, self._lo - 1, -1, dtype=self._buf.dtype), self._buf[:self._k]])

    def push(self, values: np.ndarray) -> None:
        """Put ``values`` on top, in order (the last one on top); the capacity must hold them."""
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
