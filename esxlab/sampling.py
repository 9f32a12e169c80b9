"""Active-memory estimation by statistical sampling (paper §5.3).

At the start of each sampling period (measured in the VM's own execution time) ``n``
of its "physical" pages are chosen uniformly at random and their cached mappings
invalidated, so the next guest access to each is seen; ``t`` counts those touched and
``f = t / n`` is the period's active fraction. Three exponentially weighted moving
averages smooth it: a *slow* one, a *fast* one, and the fast one fed with the current,
unfinished period's count (raising it only: esxlab's reading, the paper says only that it
incorporates the current period's counts). The estimate is the maximum of the three, so
increases are followed fast and decreases slowly.

Here the VM keeps the tick at which each PPN was last touched (``last_touch``); a sampled
page was touched in the period exactly when ``last_touch >= period_start``, which is what
invalidating its mapping would reveal. The gains are not in the paper (defaults fitted to
Figure 6, configurable in :class:`~esxlab.config.HostConfig`).
"""
from __future__ import annotations

import numpy as np

from .config import HostConfig
from .errors import ConfigError, check_number


def ewma(old: float, gain: float, f: float) -> float:
    """An exponentially weighted moving average after reading ``f``: ``old + gain·(f − old)`` (§5.3)."""
    return old + gain * (f - old)


class Sampler:
    """The per-VM estimator; all fractions are of the VM's configured max."""

    def __init__(self, pages: int, n: int, period_s: float, slow_gain: float, fast_gain: float,
                 rng: np.random.Generator, averages: tuple[float, float] = (1.0, 1.0)) -> None:
        """``pages``: the VM's "physical" pages; ``n`` pages sampled a period (at most ``pages``: more
        samples them all), ``period_s`` seconds of VM time a period, the EWMAs' gains as
        :class:`~esxlab.config.HostConfig` allows them (``sample_period_s``, ``slow_gain``,
        ``fast_gain``). ``averages``: the (slow, fast) averages to start from, fractions of 0 to 1;
        a new VM is assumed fully active
        (invented: the paper does not say where the averages start).
        ConfigError, with a sentence, for values outside these."""
        check_number("Sampler", "pages", pages, 1, None, integer=True)
        check_number("Sampler", "n", n, 1, None, integer=True)
        allowed = HostConfig.controls()
        for name, field, value in (("period_s", "sample_period_s", period_s), ("slow_gain", "slow_gain", slow_gain),
                                   ("fast_gain", "fast_gain", fast_gain)):
            allowed[field].validate("Sampler", name, value)
        if not (isinstance(averages, (tuple, list)) and len(averages) == 2):
            raise ConfigError(f"Sampler.averages must be a (slow, fast) pair of fractions, got {averages!r}.")
        for name, value in zip(("averages[0]", "averages[1]"), averages):
            check_number("Sampler", name, value, 0, 1)
        self.pages = pages
        self.n = min(int(n), pages)
        self.period = max(1, int(round(period_s)))
        self.slow_gain, self.fast_gain = slow_gain, fast_gain
        self.rng = rng
        self.slow, self.fast = (float(a) for a in averages)
        self.fast_current = self.fast
        self.last_f = 1.0
        self.period_start = 0
        self.elapsed = 0
        self.sample = self._draw()

    def _draw(self) -> np.ndarray:
        return self.rng.choice(self.pages, size=self.n, replace=False)

    def touched(self, last_touch: np.ndarray) -> int:
        """Sampled pages touched since the period began (``last_touch``: each PPN's last VM time, §5.3)."""
        return int(np.count_nonzero(last_touch[self.sample] >= self.period_start))

    def tick(self, vm_time: int, last_touch: np.ndarray) -> None:
        """Advance one tick of VM execution time (called after the VM ran); ``last_touch`` holds
        each of the VM's ``pages`` PPNs' last VM time (ConfigError if shorter)."""
        if len(last_touch) < self.pages:
            raise ConfigError(f"Sampler.tick needs last_touch for all {self.pages} pages (one VM time per PPN), "
                              f"got {len(last_touch)}.")
        self.elapsed += 1
        t = self.touched(last_touch)
        partial = t / self.n
        self.fast_current = max(self.fast, self.fast_gain * partial + (1 - self.fast_gain) * self.fast)
        if self.elapsed >= self.period:
            f = partial
            self.last_f = f
            self.slow = ewma(self.slow, self.slow_gain, f)
            self.fast = ewma(self.fast, self.fast_gain, f)
            self.fast_current = self.fast
            self.elapsed = 0
            self.period_start = vm_time + 1
            self.sample = self._draw()

    @property
    def estimate(self) -> float:
        """Estimated active fraction: max(slow, fast, fast with the current period)."""
        return max(self.slow, self.fast, self.fast_current)
