"""Free-memory states and how each reclaims memory (paper §6.3).

Four thresholds, as fractions of machine memory: high 6 %, soft 4 %, hard 2 %, low 1 %.

* **high** — enough free memory: no reclamation (balloons above need still deflate);
* **soft** — reclaim by **ballooning**; page only a VM whose balloon cannot do it (no
  driver, not loaded, stuck, or at its cap);
* **hard** — rely on **paging** to reach the targets forcibly;
* **low** — keep paging and **block** every VM above its target.

A state is entered when free memory drops below its threshold (``state_entry="own"``; the
paper states this only for low, see paper-notes §5.2) or below the next higher one
(``"higher"``). It is left for the next higher state only after free memory exceeds that
state's threshold by the hysteresis margin. In every state the targets aim to keep free
memory above the high threshold (plus the margin).
"""
from __future__ import annotations

import numpy as np

from .config import HostConfig

STATES = ("high", "soft", "hard", "low")
HIGH, SOFT, HARD, LOW = range(4)


class FreeMemoryStates:
    """The state machine with hysteresis; ``state`` is an index into :data:`STATES`."""

    def __init__(self, config: HostConfig, total_pages: int) -> None:
        self.configure(config, total_pages)
        self.state = HIGH

    def configure(self, config: HostConfig, total_pages: int) -> None:
        pct = np.array([config.high_pct, config.soft_pct, config.hard_pct, config.low_pct])
        self.thresholds = pct / 100 * total_pages          # high, soft, hard, low in pages
        self.margin = config.hysteresis_pct / 100 * total_pages
        # free memory below entry[s] enters state s (s = soft, hard, low)
        self.entry = self.thresholds if config.state_entry == "own" else np.r_[np.inf, self.thresholds[:3]]

    @property
    def goal(self) -> float:
        """Free pages the targets aim for: above the high threshold, by the margin."""
        return self.thresholds[HIGH] + self.margin

    def update(self, free: int) -> bool:
        """Move to the state ``free`` calls for; True if the state changed."""
        old = self.state
        for s in (LOW, HARD, SOFT):
            if free < self.entry[s]:
                self.state = max(self.state, s)
                break
        while self.state > HIGH and free > self.thresholds[self.state - 1] + self.margin:
            self.state -= 1
        return self.state != old

    @property
    def name(self) -> str:
        return STATES[self.state]


def split_reclaim(state: int, excess: int, balloon_size: int, balloon_cap: int, usable: bool) -> tuple[int, int]:
    """(balloon target, swap target) in pages for a VM whose allocation exceeds its target by
    ``excess`` (negative: below target). The paper's rules, per state:

    high: no reclamation; a balloon above need deflates. soft: balloon, and page only what
    the balloon cannot take. hard and low: page the whole excess (the balloon keeps working).
    """
    deflated = max(0, balloon_size + min(excess, 0))
    if state == HIGH or excess <= 0:
        return deflated, 0
    if not usable:
        return deflated, excess
    balloon_target = min(balloon_cap, balloon_size + excess)
    if state == SOFT:
        return balloon_target, excess - (balloon_target - balloon_size)
    return balloon_target, excess
