"""Share-based allocation with an idle memory tax (paper §5.1–5.2, §6.1).

Memory is revoked from the VM that pays the least for it: the one with the fewest
*adjusted shares per page*

    ρ = S / (P · (f + k · (1 − f))),   k = 1 / (1 − τ),

where S is its shares, P its pages, f the fraction of them that is active, and τ the idle
memory tax rate (0 ≤ τ < 1; τ = 0 is pure proportional share, the default 0.75 makes an
idle page cost four times an active one).

:func:`compute_targets` runs min-funding revocation to its fixed point: taking memory
quantum by quantum from the lowest-ρ VM ends where every VM that is neither at its min nor
at its max has the same ρ, the price λ. The total allocation is piecewise linear in 1/λ,
so λ is found exactly from the breakpoints: the cost is O(VMs²), whatever the memory size.
"""
from __future__ import annotations

import numpy as np

from .errors import check_number


def idle_cost(tax_rate: float) -> float:
    """k = 1 / (1 − τ): what an idle page costs relative to an active one."""
    return 1.0 / (1.0 - tax_rate)


def shares_per_page(shares: float, pages: float, active_fraction: float, tax_rate: float) -> float:
    """The paper's adjusted shares-per-page ratio ρ = S / (P · (f + k·(1 − f))) (§5.2)."""
    check_number("shares_per_page", "shares", shares, 0, None)
    check_number("shares_per_page", "pages", pages, 0, None, lo_open=True)
    check_number("shares_per_page", "active_fraction", active_fraction, 0, 1)
    check_number("shares_per_page", "tax_rate", tax_rate, 0, 1, hi_open=True)
    k = idle_cost(tax_rate)
    return shares / (pages * (active_fraction + k * (1.0 - active_fraction)))


def _pages(x: np.ndarray, shares: np.ndarray, active: np.ndarray, k: float) -> np.ndarray:
    """Each VM's allocation P when it can pay ``shares · x`` of "active + k·idle" cost
    (x = 1/ρ, the inverse price): ρ(P) = S / (min(P, A) + k·max(P − A, 0)) solved for P."""
    want = shares * x
    return np.where(want <= active, want, active + (want - active) / k)


def compute_targets(shares, min_pages, max_pages, active_pages, available: float, tax_rate: float) -> np.ndarray:
    """Target allocations (pages) summing to at most ``available``, by min-funding revocation.

    Every VM gets at least its min and at most its max; what is left over ``Σ min`` is divided
    so that VMs between their bounds pay the same adjusted price ρ. VMs with zero shares get
    their min (the paper: 0 shares pins a VM to its min). The total allocation is piecewise
    linear in the inverse price, so the fixed point is found exactly from its breakpoints.
    """
    shares = np.asarray(shares, dtype=float)
    lo = np.asarray(min_pages, dtype=float)
    hi = np.asarray(max_pages, dtype=float)
    active = np.minimum(np.asarray(active_pages, dtype=float), hi)
    if hi.sum() <= available:
        return hi.astype(np.int64)
    if lo.sum() >= available:
        return lo.astype(np.int64)
    k = idle_cost(tax_rate)
    paying = shares > 0
    s, a, l, h = shares[paying], active[paying], lo[paying], hi[paying]
    budget = available - lo[~paying].sum()

    def inverse(p: np.ndarray) -> np.ndarray:         # the cost S·x at which P(x) = p
        return np.where(p <= a, p, a + k * (p - a))

    xs = np.unique(np.concatenate([inverse(l), a, inverse(h)]) / np.repeat(s[None, :], 3, axis=0).ravel())
    totals = np.clip(_pages(xs[:, None], s, a, k), l, h).sum(axis=1)
    j = int(np.searchsorted(totals, budget))
    if j == 0 or j == len(xs):
        x = xs[min(j, len(xs) - 1)]
    else:
        x0, x1, t0, t1 = xs[j - 1], xs[j], totals[j - 1], totals[j]
        x = x0 + (x1 - x0) * (budget - t0) / (t1 - t0) if t1 > t0 else x1
    targets = lo.copy()
    targets[paying] = np.clip(_pages(x, s, a, k), l, h)
    return np.floor(targets + 1e-9).astype(np.int64)
