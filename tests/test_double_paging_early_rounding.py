"""DoublePaging: an answer worked out from s = swap / backed pages rounded early (to 0.4, say) is told so,
not given the general hint (a left-over of the review of 2026-12-02)."""
import math

import pytest

import esxlab as esx
from esxlab import checks, problems
from esxlab.checks import CheckFailed, _close
from esxlab.problems.instructor import expect, solve

EARLY = "that looks like the answer worked out with s = swap / backed pages cut or rounded to"


def _feedback(problem, **answers) -> str:
    with pytest.raises(CheckFailed) as err:
        checks.check(problem, **answers)
    return str(err.value)


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
