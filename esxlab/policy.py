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

from typing import TYPE_CHECKING

import numpy as np

from .arrays import distinct
from .errors import ConfigError, check_number, shorten

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def idle_cost(tax_rate: float) -> float:
    """k = 1 / (1 − τ): what an idle page costs relative to an active one (§5.2). ConfigError
    unless 0 ≤ τ < 1."""
    check_number("idle_cost", "tax_rate", tax_rate, 0, 1, hi_open=True)
    return _idle_cost(tax_rate)


def _idle_cost(tax_rate: float) -> float:
    return 1.0 / (1.0 - tax_rate)


def shares_per_page(shares: float, pages: float, active_fraction: float, tax_rate: float) -> float:
    """The paper's adjusted shares-per-page ratio ρ = S / (P · (f + k·(1 − f))) (§5.2)."""
    check_number("shares_per_page", "shares", shares, 0, None)
    check_number("shares_per_page", "pages", pages, 0, None, lo_open=True)
    check_number("shares_per_page", "active_fraction", active_fraction, 0, 1)
    check_number("shares_per_page", "tax_rate", tax_rate, 0, 1, hi_open=True)
    k = _idle_cost(tax_rate)
    return shares / (pages * (active_fraction + k * (1.0 - active_fraction)))


def rho(shares: float, alloc_pages: float, active_pages: float, tax_rate: float) -> float:
    """A VM's ρ as min-funding revocation sees it: P = its allocated pages, f = its active
    estimate over P (at most 1); ``inf`` for a VM that holds nothing (§5.2). The one definition
    used by :class:`~esxlab.vm.VMStats` and the decision log. ConfigError for negative pages."""
    check_number("rho", "alloc_pages", alloc_pages, 0, None)
    check_number("rho", "active_pages", active_pages, 0, None)
    if alloc_pages <= 0:
        return float("inf")
    return shares_per_page(shares, alloc_pages, min(1.0, active_pages / alloc_pages), tax_rate)


def _pages(x: np.ndarray, shares: np.ndarray, active: np.ndarray, k: float) -> np.ndarray:
    """Each VM's allocation P when it can pay ``shares · x`` of "active + k·idle" cost
    (x = 1/ρ, the inverse price): ρ(P) = S / (min(P, A) + k·max(P − A, 0)) solved for P."""
    want = shares * x
    return np.where(want <= active, want, active + (want - active) / k)


def _per_vm(name: str, values, n: int | None) -> np.ndarray:
    """``values`` as a vector of ``n`` finite numbers ≥ 0, or a ConfigError naming the entry."""
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"compute_targets.{name} = {shorten(values)} must be a list of finite numbers ≥ 0, "
                          "one per VM.") from None
    if a.ndim != 1 or (n is not None and len(a) != n):
        raise ConfigError(f"compute_targets.{name} = {shorten(values)} must be a list of finite numbers ≥ 0, "
                          f"one per VM; it has {a.size} entries{f' and shares has {n}' if n is not None else ''}.")
    bad = (~np.isfinite(a) | (a < 0)).nonzero()[0]
    if len(bad):
        given = values[bad[0]] if isinstance(values, (list, tuple)) else a[bad[0]]
        shown = "None" if given is None else f"{a[bad[0]]:g}"           # as written: None, not the nan it became
        raise ConfigError(f"compute_targets.{name}[{bad[0]}] = {shown} (in {shorten(values)}) is out of "
                          "range; allowed: finite values ≥ 0.")
    return a


def compute_targets(shares: ArrayLike, min_pages: ArrayLike, max_pages: ArrayLike, active_pages: ArrayLike,
                    available: float, tax_rate: float, limit_pages: ArrayLike | None = None) -> np.ndarray:
    """Target allocations (pages) summing to at most ``available``, by min-funding revocation.

    Every VM gets at least its min and at most its max — and at most its limit (``limit_pages``,
    one per VM or None; later ESX's memory limit, so a target never exceeds it); what is left over
    ``Σ min`` is divided so that VMs between their bounds pay the same adjusted price ρ. VMs with
    zero shares get their min (later ESX: 0 shares pins a VM to its min) while another VM has
    shares; when none has (every VM's fraction of all shares is 0/0, §5.1), none has a stronger
    claim than another and they divide it as with equal shares. The total allocation is piecewise
    linear in the inverse price, so the fixed point is found exactly from its breakpoints.
    ConfigError (one sentence) for entries that are not finite numbers ≥ 0, one per VM; a min above
    its max or limit; active pages above max (a limit may sit below them: the VM is then capped);
    mins that add up to more than ``available`` (admission control, §6.2, would refuse the VMs).
    """
    shares = _per_vm("shares", shares, None)
    lo, hi = _per_vm("min_pages", min_pages, len(shares)), _per_vm("max_pages", max_pages, len(shares))
    touched = _per_vm("active_pages", active_pages, len(shares))
    above = (touched > hi).nonzero()[0]
    if len(above):
        i = above[0]
        raise ConfigError(f"compute_targets.active_pages[{i}] = {touched[i]:g} is larger than max_pages[{i}] = "
                          f"{hi[i]:g}: a VM cannot touch more pages than it has; allowed: active_pages ≤ max_pages "
                          "(all in 4 KB pages).")
    if limit_pages is not None:
        hi = np.minimum(hi, _per_vm("limit_pages", limit_pages, len(shares)))
    active = np.minimum(touched, hi)                 # a limit below what a VM touches caps both
    over = (lo > hi).nonzero()[0]
    if len(over):
        i = over[0]
        raise ConfigError(f"compute_targets.min_pages[{i}] = {lo[i]:g} is larger than max_pages[{i}] (or its "
                          f"limit) = {hi[i]:g}; allowed: min_pages ≤ max_pages and ≤ limit_pages.")
    check_number("compute_targets", "available", available, 0, None)
    if lo.sum() > available:
        raise ConfigError(f"compute_targets: the mins add up to {lo.sum():g} pages, more than available = "
                          f"{available:g}; admission control (§6.2) admits VMs only while their mins fit, so "
                          "allowed: Σ min_pages ≤ available.")
    check_number("compute_targets", "tax_rate", tax_rate, 0, 1, hi_open=True)
    return revoke(shares, lo, hi, active, available, tax_rate)


def revoke(shares: np.ndarray, lo: np.ndarray, hi: np.ndarray, active: np.ndarray, available: float,
           tax_rate: float) -> np.ndarray:
    """:func:`compute_targets` on inputs already known valid: float arrays of one entry per VM,
    ``lo`` ≤ ``hi`` (max capped by the limit), ``active`` ≤ ``hi``, all finite and ≥ 0; 0 ≤ τ < 1.
    The host calls it every reallocation with its VMs' own numbers, which skip the checks of
    the arrays (τ's stays: one of 1 or more would divide by zero)."""
    check_number("revoke", "tax_rate", tax_rate, 0, 1, hi_open=True)
    if hi.sum() <= available:
        return hi.astype(np.int64)
    if lo.sum() >= available:
        return lo.astype(np.int64)
    k = _idle_cost(tax_rate)
    paying = shares > 0
    if not paying.any():                    # no VM has shares (ΣS = 0, §5.1): none has a stronger claim
        shares, paying = np.ones_like(shares), ~paying
    s, a, l, h = shares[paying], active[paying], lo[paying], hi[paying]
    budget = available - lo[~paying].sum()

    def inverse(p: np.ndarray) -> np.ndarray:         # the cost S·x at which P(x) = p
        return np.where(p <= a, p, a + k * (p - a))

    def bounded(p: np.ndarray) -> np.ndarray:         # np.clip(p, l, h), without its Python wrapper:
        return np.minimum(np.maximum(p, l), h)        # this runs every reallocation, its caches cold

    xs = distinct(np.concatenate([inverse(l), a, inverse(h)]) / np.concatenate([s, s, s]))
    totals = bounded(_pages(xs[:, None], s, a, k)).sum(axis=1)
    j = int(np.searchsorted(totals, budget))
    if j == 0 or j == len(xs):
        x = xs[min(j, len(xs) - 1)]
    else:
        x0, x1, t0, t1 = xs[j - 1], xs[j], totals[j - 1], totals[j]
        x = x0 + (x1 - x0) * (budget - t0) / (t1 - t0) if t1 > t0 else x1
    targets = lo.copy()
    targets[paying] = bounded(_pages(x, s, a, k))
    return np.floor(targets + 1e-9).astype(np.int64)
