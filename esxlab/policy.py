"""Share-based allocation with an idle memory tax (paper §5.1–5.2, §6.1).

Memory is revoked from the VM that pays the least for it: the one with the fewest
*adjusted shares per page*

    ρ = S / (P · (f + k · (1 − f))),   k = 1 / (1 − τ),

where S is its shares, P its pages, f the fraction of them that is active, and τ the idle
memory tax rate (0 ≤ τ < 1; τ = 0 is pure proportional share, the default 0.75 makes an
idle page cost four times an active one).

:func:`compute_targets` runs min-funding revocation to its fixed point: taking memory
quantum by quantum from the lowest-ρ VM ends where every VM that is neither at its min nor
at its max has the same ρ. That price λ is found by bisection, so the cost is
O(VMs · 60) however much memory there is.
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


def _pages_at_price(price: float, shares: np.ndarray, active: np.ndarray, k: float) -> np.ndarray:
    """The allocation P at which each VM's ρ equals ``price`` (ρ falls as P grows)."""
    want = shares / price                        # active + k·idle "cost" the VM can pay for
    return np.where(want <= active, want, active + (want - active) / k)


def compute_targets(shares, min_pages, max_pages, active_pages, available: float, tax_rate: float) -> np.ndarray:
    """Target allocations (pages) summing to at most ``available``, by min-funding revocation.

    Every VM gets at least its min and at most its max; what is left over ``Σ min`` is divided
    so that VMs between their bounds pay the same adjusted price ρ. VMs with zero shares get
    their min (the paper: 0 shares pins a VM to its min).
    """
    shares = np.asarray(shares, dtype=float)
    lo = np.asarray(min_pages, dtype=float)
    hi = np.asarray(max_pages, dtype=float)
    active = np.minimum(np.asarray(active_pages, dtype=float), hi)
    if len(shares) == 0:
        return np.zeros(0, dtype=np.int64)
    if hi.sum() <= available:
        return hi.astype(np.int64)
    if lo.sum() >= available:
        return lo.astype(np.int64)
    k = idle_cost(tax_rate)
    paying = shares > 0

    def total(price: float) -> float:
        p = np.where(paying, _pages_at_price(price, np.where(paying, shares, 1.0), active, k), 0.0)
        return float(np.clip(p, lo, hi).sum())

    # bracket the price: high price → everyone at min, low price → everyone at max
    hi_price = 1.0
    while total(hi_price) > available:
        hi_price *= 2.0
    lo_price = hi_price
    while total(lo_price) < available and lo_price > 1e-300:
        lo_price /= 2.0
    for _ in range(80):
        mid = 0.5 * (lo_price + hi_price)
        if total(mid) > available:
            lo_price = mid
        else:
            hi_price = mid
    p = np.where(paying, _pages_at_price(hi_price, np.where(paying, shares, 1.0), active, k), 0.0)
    return np.floor(np.clip(p, lo, hi)).astype(np.int64)
