"""Findings of session 46's reviews of the lessons and exercises, each a test that fails on the code before."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from esxlab import checks
from esxlab.problems.free_memory_states import lesson_vms, power_on_all, smallest_admitting_mb
from esxlab.problems.idle_memory_tax import RhoVictim
from esxlab.views.lesson import Question

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _markdown(name: str) -> str:
    cells = json.loads((NOTEBOOKS / name).read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_lesson_07_try_it_asks_what_its_reveal_does_not():
    """07's first Try it repeated its Reveal (the smallest admitting memory); it now asks for the refusal 8 MB
    below it, a higher min's cost and a swap too small for any memory, and the calls it names give those."""
    text = _markdown("07_states_and_admission.ipynb")
    assert "Find, with the slider, the smallest machine memory" not in text
    assert "smallest_admitting_mb(lesson_vms(min_mb=48), swap_mb=512)" in text
    assert "power_on_all(lesson_vms(), memory_mb=512, swap_mb=128)" in text
    lowest = smallest_admitting_mb(lesson_vms(), swap_mb=512)
    assert "short by 8.0 MB" in power_on_all(lesson_vms(), memory_mb=lowest - 8, swap_mb=512)
    assert smallest_admitting_mb(lesson_vms(min_mb=48), swap_mb=512) == lowest + 3 * 16
    assert smallest_admitting_mb(lesson_vms(), swap_mb=128) is None
    assert "swap reservation short" in power_on_all(lesson_vms(), memory_mb=512, swap_mb=128)


def test_a_factor_margin_is_said_without_the_times_sign():
    """A factor's tolerance read "within ±0.01 ×"; it is a plain number."""
    q = Question("What is k at τ = 0.5?", answer=2.0, tol=0.01, unit="×", hint="k = 1/(1 − τ).")
    assert q.check("2").message == "Right (within ±0.01)."
    assert q.check("2.5").message.startswith("Not yet: that is not within ±0.01 of the answer.")
    assert "within ±5 MB" in Question("How much?", answer=10, tol=5, unit="MB", hint="Count again.").check("30").message


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_tau_used_as_the_idle_page_cost_gets_its_own_hint(seed):
    """A student who charged idle pages τ instead of k = 1/(1 − τ) got only the generic hint."""
    p = RhoVictim(seed=seed)
    tau_as_k = [v["shares"] / (v["alloc_mb"] * 256 * (v["active_fraction"] + p.tax_rate * (1 - v["active_fraction"])))
                for v in p.vms]
    with pytest.raises(checks.CheckFailed, match="τ was taken as the idle page cost"):
        checks.check(p, rhos=tau_as_k, victim=p._solve()["victim"])
