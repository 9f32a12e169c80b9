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
