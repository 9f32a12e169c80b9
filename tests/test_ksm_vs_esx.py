"""Beyond the paper: ESX's content-based sharing (§4) against a Linux-KSM-style scanner
(esxlab/experiments/ksm_vs_esx.py): its rows, notes and parameters."""
from __future__ import annotations

import numpy as np
import pytest

from esxlab import experiments as E

pytestmark = pytest.mark.usefixtures("own_cache")       # runs cached to a throw-away folder


def test_ksm_vs_esx_says_why_a_half_way_time_is_nan():
    row = E.ksm_vs_esx.run(seed=0, sleep_ms=10000, minutes=5).row("ksm: minutes to half the final savings")
    assert np.isnan(row.esxlab) and "saved nothing" in row.note
