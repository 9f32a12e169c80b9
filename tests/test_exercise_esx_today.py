"""Exercise: ESX today — limits vs reservations, and why page sharing stopped (later ESX;
exercises/source/esx_today.ipynb, esxlab/problems/esx_today.py): its checks' feedback on right and wrong answers, its
text and its solution."""
from __future__ import annotations

import numpy as np
import pytest

import esxlab as esx
from esxlab import checks, problems
from esxlab.problems.esx_today import SharingStopped
from esxlab.problems.instructor import solve

from answers import exercise_cells, fails, line


def _targets_as_the_text_says(p, tax_rate: float) -> list[float]:
    """Exercise 1's compute_targets route, word for word: max as max_pages, the limit (else the max) as
    limit_pages, each ceiling as the active pages, and the required tax_rate."""
    mb = esx.PAGES_PER_MB
    max_pages = [v["max_mb"] * mb for v in p.vms]
    limit_pages = [(v["max_mb"] if v["limit_mb"] is None else v["limit_mb"]) * mb for v in p.vms]
    active = [min(m, lim) for m, lim in zip(max_pages, limit_pages)]
    t = esx.policy.compute_targets([v["shares"] for v in p.vms], [v["min_mb"] * mb for v in p.vms], max_pages,
                                   active, p.available_mb * mb, tax_rate, limit_pages=limit_pages)
    return [x / mb for x in t]


@pytest.mark.parametrize("seed", range(12))
def test_sharing_stopped_shows_all_three_settings_in_effect(seed):
    """SharingStopped printed only the overrides, so mode='off' alone on the line named the cause; it shows the
    three settings that can stop sharing, as the host has them, in every variant."""
    q = SharingStopped(seed)
    cfg = q.config()
    line = next(x for x in q.describe().split("\n") if x.startswith("In effect"))
    assert f"mode={cfg.sharing.mode!r}, force_salting={cfg.sharing.force_salting}, " \
           f"large_pages={cfg.large_pages}" in line


def test_limit_targets_names_one_forgotten_limit():
    """An idle host's targets with one of two limits forgotten got the general hint; it names that VM's limit."""
    from esxlab.checks import CheckFailed, verify
    from esxlab.problems.esx_today import LimitTargets
    seen = 0
    for seed in range(60):
        q = LimitTargets(seed)
        limited = [v["name"] for v in q.vms if v["limit_mb"] is not None]
        idle = next(e for e in q._expect() if e.name == "idle_mb")
        for name in limited:
            with pytest.raises(CheckFailed) as told:
                verify(idle, q._targets(q.IDLE_MB, unlimited=name))
            assert (f"{name}'s limit holds" in str(told.value)) == (len(limited) > 1), (seed, str(told.value))
            seen += len(limited) > 1
    assert seen > 10


def test_esx_today_speaks_of_no_other_vms_and_no_large_pages_in_the_2002_preset():
    text = problems.LimitTargets(0).describe()
    assert "other VMs" not in text and "more than the three VMs' max together" in text
    q = problems.SharingStopped(0)
    right = solve(q)
    other = q.ANSWERS[right["comes_back"] == "yes"]
    said = fails(q, dict(right, comes_back=other))
    assert "soft in the 2002 preset" not in said
    assert "clear state with ESXi 6's states" in said and "if large pages are switched on" in said, said


def test_busy_and_idle_targets_swapped_are_named_on_both_lines():
    p = problems.LimitTargets(0)
    right = solve(p)
    message = fails(p, dict(busy_mb=right["idle_mb"], idle_mb=right["busy_mb"]))
    assert "look swapped" in line(message, "busy_mb") and "look swapped" in line(message, "idle_mb")
    assert "look swapped" not in fails(p, dict(right, busy_mb=right["idle_mb"]))      # one list alone: not a swap


def test_sharing_stopped_names_the_variable_the_notebook_holds():
    held = next(c.source for c in exercise_cells("esx_today") if "problems.SharingStopped(" in c.source)
    assert held.startswith("q = problems.SharingStopped(")
    for seed in range(6):
        text = problems.SharingStopped(seed).describe()
        assert "(q.era, q.host_overrides, q.sharing_overrides)" in text and "q.salts" in text
        assert "p." not in text


def test_limit_targets_text_names_tax_rate_and_the_solution_follows_it(capsys):
    cells = exercise_cells("esx_today")
    text = next(c.source for c in cells if c.source.startswith("### Exercise 1"))
    solution = next(c.source for c in cells if "### BEGIN SOLUTION" in c.source and "busy_mb" in c.source)
    assert "tax_rate" in " ".join(text.split()) and "limit_pages" in text
    assert "limit_pages=limit_pages" in solution and "tax_rate=0" in solution
    for seed in range(12):
        p = problems.LimitTargets(seed)
        namespace = {"esx": esx, "p": p}
        exec(solution, namespace)
        right = solve(p)
        for tax_rate in (0, 0.75):
            assert np.allclose(_targets_as_the_text_says(p, tax_rate), right["busy_mb"], atol=1e-6), (seed, tax_rate)
        assert np.allclose(namespace["busy_mb"], right["busy_mb"]) and np.allclose(namespace["idle_mb"],
                                                                                   right["idle_mb"])
        checks.check(p, busy_mb=namespace["busy_mb"], idle_mb=namespace["idle_mb"])
        assert capsys.readouterr().out.startswith("Correct: ")
