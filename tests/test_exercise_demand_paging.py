"""Exercise: demand paging, random replacement and double paging (paper §3.3; exercises/source/demand_paging.ipynb,
esxlab/problems/demand_paging.py): its checks' feedback on right and wrong answers, its text and its solution."""
from __future__ import annotations

import math
from pathlib import Path

import nbformat
import pytest

import esxlab as esx
from esxlab import checks, problems
from esxlab.checks import CheckFailed, _close
from esxlab.problems.base import UNIT_SLIPS
from esxlab.problems.instructor import expect, solve

from answers import fails, feedback as _feedback, line


WHOLE_MB = "backed memory (p.private_pages) cut or rounded to whole MB"
ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "exercises" / "source"
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


EARLY = "that looks like the answer worked out with s = swap / backed pages cut or rounded to"


def _answers(p, s: float) -> dict:
    """The notebook's formula with ``s`` for swap / backed pages."""
    out = p.grow_mb * esx.PAGES_PER_MB - p.guest_free_pages
    return dict(swap_ins=(out + p.background_pages_s) * s, double_paged=out * s, lru_double_paging="more")


def _s(p) -> float:
    return p.swap_mb * esx.PAGES_PER_MB / p.private_pages


def test_the_answer_from_s_rounded_to_1_or_2_places_gets_the_early_rounding_hint(capsys):
    """Seed 0: s = 0.361 rounded to 0.4 misses both counts by over 100 pages; seed 1: s = 0.3934 rounded to
    0.39 misses `double_paged` by 8 pages (±4). Each gets the early-rounding hint; the right answer passes."""
    p = problems.DoublePaging(0)
    assert round(_s(p), 1) == 0.4
    msg = _feedback(p, **_answers(p, 0.4))
    assert "\n- `swap_ins` is not right" in msg and f"{EARLY} 1 decimal place:" in msg      # (every wrong answer named)
    assert f"{EARLY} 1 decimal place:" in _feedback(p, **{**solve(p), "double_paged": _answers(p, 0.4)["double_paged"]})
    q = problems.DoublePaging(1)
    assert round(_s(q), 2) == 0.39
    msg = _feedback(q, **{**solve(q), "double_paged": _answers(q, 0.39)["double_paged"]})
    assert f"{EARLY} 2 decimal places:" in msg
    for problem in (p, q):
        checks.check(problem, **_answers(problem, _s(problem)))
    assert capsys.readouterr().out.count("Correct") == 2


@pytest.mark.parametrize("seeds", [range(0, 600, 20)], ids=["every-20th"])
def test_s_rounded_to_1_place_is_named_wherever_it_fails(seeds):
    """Every 20th seed: an answer from s rounded to 1 place that lies outside the tolerance gets the
    early-rounding hint, unless it is another listed mistake's value (s = swap / max rounds alike)."""
    named = 0
    for seed in seeds:
        p = problems.DoublePaging(seed)
        early = _answers(p, math.floor(_s(p) * 10 + 0.5) / 10)
        for e in expect(p)[:2]:
            if _close(e, early[e.name], e.value):
                continue
            msg = _feedback(p, **{**solve(p), e.name: early[e.name]})
            other = any(_close(e, early[e.name], m.value) for m in e.mistakes if not m.hint.startswith(EARLY))
            assert (EARLY in msg) != other, (seed, e.name, msg)
            named += EARLY in msg
    assert named >= 40


def test_double_paging_in_mb_gets_the_units_hint_not_the_double_paging_one():
    p = problems.DoublePaging(0)
    right = solve(p)
    msg = _feedback(p, swap_ins=4.2, double_paged=4.1, lru_double_paging="more")   # both in MB
    assert "those look like MB; give pages" in msg and "double paging counts" not in msg
    msg = _feedback(p, **{**right, "double_paged": right["double_paged"] / esx.PAGES_PER_MB})
    assert "`double_paged`" in msg and "those look like MB; give pages" in msg


@pytest.mark.parametrize("seeds", [range(0, 600, 20)], ids=["every-20th"])
def test_forgetting_the_background_pages_fails_with_its_hint(seeds, capsys):
    """A seed-0 answer without the kernel's 52 background pages passed within ±79 pages.
    Now the checker grades the expected values (within a rounding tolerance), and leaving out the
    background pages fails with a hint that names them, in every problem."""
    p = problems.DoublePaging(0)
    assert "background pages" in _feedback(p, swap_ins=1053.5, double_paged=1053.5, lru_double_paging="more")
    for seed in seeds:
        p = problems.DoublePaging(seed)
        s = p.swap_mb * esx.PAGES_PER_MB / p.private_pages
        out = p.grow_mb * esx.PAGES_PER_MB - p.guest_free_pages
        formula = dict(swap_ins=(out + p.background_pages_s) * s, double_paged=out * s, lru_double_paging="more")
        checks.check(p, **formula)
        checks.check(p, **{k: round(v) if k != "lru_double_paging" else v for k, v in formula.items()})
        assert capsys.readouterr().out.count("Correct") == 2, seed
        msg = _feedback(p, **{**formula, "swap_ins": out * s})
        assert "background pages" in msg, (seed, msg)


@pytest.mark.parametrize("seeds", [range(0, 600, 20)], ids=["every-20th"])
def test_background_left_out_and_swapped_answers_get_one_hint_each(seeds):
    """`swap_ins` = `double_paged` = 1053.5 (the kernel's 52 pages left out) got the
    swapped-answers hint "Or:" the background one, although `double_paged` tells them apart: right there,
    the background hint alone; the other way round (the answers swapped), the swapped hint alone; and
    with `double_paged` neither, the background one (it is `swap_ins` that leaves them out)."""
    p = problems.DoublePaging(0)
    msg = _feedback(p, swap_ins=1053.5, double_paged=1053.5, lru_double_paging="more")
    assert msg == ("`swap_ins` is not right (within ±4 pages): the guest's kernel also touches its 52 background "
                   "pages that second (p.background_pages_s), and each is in host swap with the same probability: "
                   "they are swap-ins too.")
    for seed in seeds:
        p = problems.DoublePaging(seed)
        right = solve(p)
        swapped = _feedback(p, **{**right, "swap_ins": right["double_paged"], "double_paged": right["swap_ins"]})
        assert "look swapped" in swapped and "background" not in swapped and "Or:" not in swapped, seed
        for double_paged in (right["double_paged"], round(right["double_paged"]), 2 * right["swap_ins"]):
            left_out = _feedback(p, **{**right, "swap_ins": right["double_paged"], "double_paged": double_paged})
            assert "background pages" in left_out and "swapped" not in left_out and "Or:" not in left_out, seed


def test_double_paging_answers_swapped_get_the_swapped_hint():
    """swap_ins − double_paged = 52·s always, so the swapped answers got only "add the 52 background
    pages". The swapped hint now shows instead (the checker reads `double_paged` too: it is the swap-ins);
    and double_paged given the swap_ins value is named too."""
    p = problems.DoublePaging(0)
    msg = _feedback(p, swap_ins=1053.46, double_paged=1072.23, lru_double_paging="more")   # the two answers swapped
    assert "look swapped" in msg and "background pages" not in msg
    assert "`swap_ins` ≥ `double_paged`" in msg
    for seed in range(0, 600, 40):
        p = problems.DoublePaging(seed)
        right = solve(p)
        swapped = {**right, "swap_ins": right["double_paged"], "double_paged": right["swap_ins"]}
        assert "look swapped" in _feedback(p, **swapped), seed
        msg = _feedback(p, **{**right, "double_paged": right["swap_ins"]})
        assert "`double_paged`" in msg and "all the swap-ins of that second" in msg, seed
