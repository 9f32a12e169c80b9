"""Beyond the paper: random vs LRU-like (clock) hypervisor page replacement (§3.1, §3.3;
esxlab/experiments/replacement.py): its rows, notes and parameters."""
from __future__ import annotations

import pytest

from esxlab import experiments as E

from conftest import assert_within

pytestmark = pytest.mark.usefixtures("own_cache")       # runs cached to a throw-away folder


REPL_SMALL = dict(vm_mb=128, available_mb=80, loop_mb=100, clients=20, minutes=3)
SEEDS = (0, 1)


@pytest.mark.parametrize("seed", SEEDS)
def test_replacement_clock_interferes_with_the_guest(seed):
    res = E.replacement.run(seed=seed, **REPL_SMALL)
    assert_within(res, ["dbench: double paging, clock / random", "loop: swap-ins, clock / random"])
    assert res.value("dbench, random: double paging") > 0, "the set-up must exercise double paging"


def test_replacement_without_double_paging_claims_nothing():
    """One client: neither policy double-pages; 0 / 0 used to read as 0, "clock is better", NO."""
    row = E.replacement.run(seed=0, clients=1).row("dbench: double paging, clock / random")
    assert row.within is None and "no double paging" in row.note
