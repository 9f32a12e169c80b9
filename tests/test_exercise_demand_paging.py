"""Exercise: demand paging, random replacement and double paging (paper §3.3; exercises/source/demand_paging.ipynb,
esxlab/problems/demand_paging.py): its checks' feedback on right and wrong answers, its text and its solution."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from esxlab import checks, problems
from esxlab.checks import CheckFailed
from esxlab.problems.base import UNIT_SLIPS
from esxlab.problems.instructor import solve

from answers import fails, line


WHOLE_MB = "backed memory (p.private_pages) cut or rounded to whole MB"
ROOT = Path(__file__).resolve().parents[1]
SOURCE, RELEASE = ROOT / "exercises" / "source", ROOT / "exercises" / "release"
IN_MB = UNIT_SLIPS["pages", "MB"][1]


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_backed_memory_rounded_to_whole_mb_is_named(seed):
    """Seed 0: s = 20/55 for 55.4 MB got 'every page touched that second ...'; seed 2 gives s to 2 places too."""
    p = problems.DoublePaging(seed)
    s = p.swap_mb / round(p.private_pages / 256)
    n = p.grow_mb * 256 - p.guest_free_pages
    message = fails(p, dict(solve(p), swap_ins=(n + p.background_pages_s) * s, double_paged=n * s))
    assert WHOLE_MB in line(message, "swap_ins") and WHOLE_MB in line(message, "double_paged")


def test_the_demand_paging_tolerance_claim_names_a_kind_of_page():
    """±4 pages would not catch one page left out of n (it changes n·s by s < 1): the text says a kind of page."""
    text = "".join(c.source for c in nbformat.read(SOURCE / "demand_paging.ipynb", as_version=4).cells)
    assert "not for leaving a page the guest touches" not in text
    assert "not for leaving out of *n* a kind of page the guest reads" in text


def test_double_paging_swap_ins_in_mb_rounded_get_the_mb_hint():
    """Not only KSM: DoublePaging's swap-ins (pages, ±tolerance) in MB to one decimal place."""
    for seed in range(5):
        q = problems.DoublePaging(seed)
        right = solve(q)
        mb = round(right["swap_ins"] / 256, 1)
        if abs(mb * 256 - right["swap_ins"]) <= 1 or mb == 0:
            continue
        with pytest.raises(CheckFailed) as err:
            checks.check(q, **{**right, "swap_ins": mb})
        assert IN_MB in str(err.value), (seed, mb, str(err.value))
        return
    pytest.fail("no seed of 0-4 has a swap-in count whose MB value needs rounding")
