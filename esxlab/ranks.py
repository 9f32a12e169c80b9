"""⌊min(f(z), top)⌋ of a monotone f by table lookups: the same integers as calling f, faster.

Dbench draws its blocks by inverse transform, ⌊x⌋ for x = f(z) a power of the uniform draw
(:class:`esxlab.workloads.Dbench`): ``np.power`` on every draw, ≈ 14 ns each on a CPU without
AVX-512 (a fifth of Figure 7's run). Only the integer part is used, so the crossings can be found
once instead: T_j, the smallest float z (float64 or float32, the draws' type) with f(z) ≥ j, for j = 2 … top. Then ⌊min(f(z), top)⌋ =
1 + #{j : z ≥ T_j}, which a table answers in a few array passes: the domain is cut into buckets
so narrow that each holds at most one T_j; a bucket stores the rank at its start, and one
comparison with the next T_j finishes. Invented (an engine speed-up, issue 13); it changes no
result, bit for bit: the T_j are found with the same ``f`` (bisection over the floats), and the
table is used only if f is seen to be monotone around every T_j (``SLACK`` floats either side,
beyond which f's rounding error, under a few units in the last place, cannot reach an integer),
and only if it stays small; otherwise :func:`rank_table` returns None and the caller calls f.
Whether a table is faster than calling f depends on the CPU (numpy's ``power`` is vectorized with
AVX-512, scalar without): :func:`pays` times both ways once, and the caller keeps the faster.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

#: floats either side of each crossing at which f must already be on the right side of it
SLACK = 8
#: floats either side of a guessed crossing that the bisection starts from (where f confirms them)
NEAR = 2 ** 10
#: how many times its time alone a table's lookups cost inside a run (its ≈ 1 MB of buckets and crossings
#: fall out of the caches between ticks): Figure 7's 8,000 draws, 28 µs alone and 37–39 µs a tick in the run
#: (an AVX-512 EPYC, 2026-12-04), where the power took 28 µs alone and 30 µs in the run, so the power is kept
#: there. With numpy's AVX-512 kernels switched off on the same machine (NPY_DISABLE_CPU_FEATURES: an AVX2 CPU's
#: code paths, its caches not) the table took 28–40 µs alone and 57–73 µs a tick in the run, the power 85–142 µs
#: alone and 87–142 µs in the run (whole Figure 7 processes with the table 0.96× the wall with the power, 8 pairs,
#: 0.85–1.13): nearer 1.8× than 1.3× there, but the table is chosen and is the faster (2026-12-04, 16:30 UTC)
IN_RUN_COST = 1.3
#: the most buckets a table may have (4 bytes each at most) and the most crossings (8 bytes each at most)
MAX_BUCKETS = 2 ** 20
MAX_TOP = 2 ** 17
#: the signed integer of each float type's width, whose bits :func:`_keys` reads
_BITS = {np.dtype(np.float64): np.int64, np.dtype(np.float32): np.int32}
#: a way to compute ranks from an array of z (a RankTable, or calling f); it may overwrite its argument
Ranks = Callable[[np.ndarray], np.ndarray]


def _keys(z: np.ndarray) -> np.ndarray:
    """Integers in the order of the floats ``z`` (float64 or float32: adjacent floats, adjacent keys; ±0 alike),
    of the floats' width."""
    i = z.view(_BITS[z.dtype])
    sign = np.iinfo(i.dtype).min
    return np.where(i < 0, -(i & ~sign), i)


def _floats(k: np.ndarray, floats: DTypeLike) -> np.ndarray:
    """The floats of type ``floats`` whose :func:`_keys` are ``k`` (integers of their width)."""
    sign = np.iinfo(k.dtype).min
    return np.where(k < 0, (-k) | sign, k).view(floats)


class RankTable:
    """⌊min(f(z), top)⌋ for floats z in [lo, hi], f non-decreasing with 1 ≤ f(lo) < 2: see the module doc.

    ``table(z)`` takes an array of z, of the crossings' float type, and returns their ranks (1 … top) as
    ``dtype``."""

    def __init__(self, crossings: np.ndarray, lo: float, buckets: int, scale: float, dtype) -> None:
        self.lo, self.scale = lo, scale         # (Python floats: arithmetic with z stays in z's type)
        # [r]: the crossing to rank r + 1 (T_{r+1}; ∞ past top; [0] unused: ranks start at 1), in z's type
        self._next = np.concatenate(([-np.inf], crossings, [np.inf])).astype(crossings.dtype)
        # the rank at each bucket's start: 1 + the crossings in the buckets before it (at most one each), built
        # in ``dtype`` (no 8-byte temporary a bucket: freeing one raises glibc's mmap threshold above the size of
        # a VM's page tables, which would then come from the heap, written, not from lazily zeroed pages)
        self._start = np.zeros(buckets + 2, dtype=dtype)
        self._start[self._bucket(crossings[np.isfinite(crossings)]) + 1] = 1
        self._start[0] = 1
        np.cumsum(self._start, out=self._start)
        self._next.flags.writeable = self._start.flags.writeable = False

    def _bucket(self, z: np.ndarray) -> np.ndarray:
        """Each z's bucket: a non-decreasing function of z (IEEE subtraction and product are)."""
        b = z - self.lo
        b *= self.scale
        return b.astype(np.int32)              # (int32: a vector conversion on AVX2, where int64's is not)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        r = self._start.take(self._bucket(z))    # take: ≈ 2× an index with a small-integer array
        r += z >= self._next.take(r)
        return r


def _crossings(f: Callable, lo: float, hi: float, top: int, guess: Callable | None,
               floats: DTypeLike = np.float64) -> np.ndarray | None:
    """T_j for j = 2 … top (∞ where f(hi) < j) by bisection over the floats (of type ``floats``) of
    [lo, hi], starting within :data:`NEAR` floats of ``guess(j)`` where f confirms it; None if f is not
    seen to be monotone within :data:`SLACK` floats of every T_j."""
    j = np.arange(2, top + 1, dtype=np.float64)
    inside = f(np.array([hi], dtype=floats))[0] >= j
    j = j[inside]
    a = np.full(len(j), _keys(np.array([lo], dtype=floats))[0])       # f(a) < j ≤ f(b)
    b = np.full(len(j), _keys(np.array([hi], dtype=floats))[0])
    if guess is not None and len(j):
        g = _keys(np.clip(guess(j), lo, hi).astype(floats))
        ga, gb = np.maximum(g - NEAR, a), np.minimum(g + NEAR, b)
        a = np.where(f(_floats(ga, floats)) < j, ga, a)
        b = np.where(f(_floats(gb, floats)) >= j, gb, b)
    while len(j) and (b - a).max() > 1:
        mid = a + (b - a) // 2
        up = f(_floats(mid, floats)) >= j
        b = np.where(up, mid, b)
        a = np.where(up, a, mid)
    for d in range(-SLACK, SLACK + 1):
        z = _floats(b + d, floats)
        if not (((f(z) >= j) == (d >= 0)) | (z < lo) | (z > hi)).all():
            return None
    return np.concatenate((_floats(b, floats), np.full(len(inside) - len(j), np.inf, dtype=floats)))


def rank_table(f: Callable, lo: float, hi: float, top: int, dtype: DTypeLike, guess: Callable | None = None,
               floats: DTypeLike = np.float64) -> RankTable | None:
    """The table of ``f`` (a vectorized non-decreasing function of arrays of type ``floats``, float64 or
    float32) on [lo, hi] up to rank ``top``, or None where it does not apply: f(lo) outside [1, 2), ``top`` above
    :data:`MAX_TOP`, crossings too close for :data:`MAX_BUCKETS` buckets, or f not seen to be monotone.
    ``guess(j)``, an approximate inverse of f, saves most of the bisection. Costs ≈ 30 evaluations
    of f on ``top`` values with a good guess, ≈ 80 without."""
    if not (2 <= top <= MAX_TOP and lo < hi and 1 <= f(np.array([lo], dtype=floats))[0] < 2):
        return None
    t = _crossings(f, lo, hi, top, guess, floats)
    if t is None:
        return None
    finite = t[np.isfinite(t)]
    gap = float(np.diff(finite).min()) if len(finite) > 1 else hi - lo
    if gap <= 0:                                    # f jumps past two integers between neighbouring floats
        return None
    buckets = int(np.ceil(1.01 * (hi - lo) / gap))           # buckets narrower than the closest crossings …
    while buckets <= MAX_BUCKETS:
        table = RankTable(t, lo, buckets, buckets / (hi - lo), dtype)
        if (np.diff(table._bucket(finite)) > 0).all() and table._bucket(np.array([hi], dtype=floats))[0] <= buckets + 1:
            return table
        buckets = int(buckets * 1.25) + 1                     # … once rounding is counted
    return None


def pays(table: Ranks, direct: Ranks, z: np.ndarray) -> bool:
    """Whether ``table(z)`` (a :class:`RankTable`'s lookups, or any way that reads a table: Dbench's
    :func:`~esxlab.arrays.distinct_marked`) is faster than ``direct(z)`` (the same integers computed without it)
    inside a run: timed here, the best of five each on a fresh copy of ``z`` (either
    may overwrite it; the copies are made outside the timing), with the table charged :data:`IN_RUN_COST`
    times its time alone. It depends on the CPU: numpy's float64 ``power`` is vectorized with AVX-512
    (Figure 7's 8,000 draws: 28 µs on an AVX-512 EPYC) and scalar without it (110 µs on an AVX2 EPYC, where
    the table took 37 µs). Either way the ranks are the same integers, so the choice changes no value, only
    the time."""
    best = {}
    for name, way in (("table", table), ("direct", direct)):
        best[name] = float("inf")
        for _ in range(5):
            v = z.copy()
            t0 = time.perf_counter()
            way(v)
            best[name] = min(best[name], time.perf_counter() - t0)
    return IN_RUN_COST * best["table"] < best["direct"]
