"""Notebook 07 · Free-memory states and admission control (paper §6.2, §6.3; notebooks/07_states_and_admission.ipynb):
its prose, reveals, guards, Try it and questions."""
from __future__ import annotations

import re

import pytest

import esxlab as esx
from esxlab.problems.free_memory_states import lesson_vms, power_on_all, smallest_admitting_mb
from esxlab.sampling import Sampler

from notebook_cells import cells, markdown_of as _markdown, run_until, text as _cell, text_by_id

pytestmark = pytest.mark.usefixtures("own_cache")       # runs cached to a throw-away folder


def test_07_texts_say_one_tick_can_drop_two_rungs_and_who_is_blocked():
    ladder = text_by_id("07_states_and_admission", "07-05")
    assert "one tick can drop more than one rung" in ladder and "from soft straight to low" in ladder
    assert "192" not in ladder, "the Predict asks for 192 MB: nothing above the Reveal may show it"
    tight = text_by_id("07_states_and_admission", "29275f28")
    assert "blocks each VM while it is above its target" in tight and "blocks them while it does" not in tight
    assert "vm2, whose toucher grows last, is never above its target, so it is never blocked" in tight
    assert "62.6 MB" in tight and "it drops in one tick from soft to low (it never shows hard) and stays in low" in tight


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


def test_power_on_all_takes_one_config():
    one = esx.VMConfig(name="vm0", max_mb=96, min_mb=32)
    assert power_on_all(one, memory_mb=256, swap_mb=512) is None
    assert "cannot power on 'vm0'" in power_on_all(one, memory_mb=48, swap_mb=512)


def test_07_first_dashboard_stays_on_the_run_its_text_describes():
    ns = run_until("07_states_and_admission", "tight_dash = views.SimDashboard(")
    dash, tight = ns["dash"], ns["tight_dash"]
    assert dash.values == dash.defaults == {"memory_mb": 240}, "no later cell moves the first dashboard"
    assert dash.run.host.config.memory_mb == 240 and tight.run.host.config.memory_mb == 192
    assert tight.run.trace.state_names().count("low") > len(tight.run.trace) / 2, "the 192 MB run the text reads"
    code = [c.source for c in cells("07_states_and_admission") if c.cell_type == "code"]
    first = next(i for i, s in enumerate(code) if s.startswith("touchers = "))
    assert not [s for s in code[first + 1:] if re.search(r"(?<![\w.])dash\.(controls|set\()", s)]


def test_07_points_at_09s_switch():
    from notebook_cells import prose as notebook_prose
    prose = notebook_prose("07_states_and_admission")
    assert "notebook 09's dashboard switches between them on Figure 8" in prose


def test_07_the_fully_active_start_is_esxlabs_invention():
    assert "invented: the paper does not say where the averages start" in Sampler.__init__.__doc__
    text = _cell("07_states_and_admission", "## 4. The ladder in motion")
    assert "esxlab starts every VM's estimate at fully active" in text
    assert "(invented: the paper does not say where the averages start; the sampling is §5.3, notebook 06)" in text


def test_the_smallest_host_reserves_min_plus_overhead_for_each_vm():
    assert smallest_admitting_mb(lesson_vms(), swap_mb=512) == 3 * (32 + 32)
    assert smallest_admitting_mb(lesson_vms(max_mb=128, min_mb=40), swap_mb=512) == 3 * (40 + 32)


def test_a_refusal_is_the_sentence_for_the_vm_that_does_not_fit():
    assert power_on_all(lesson_vms(), memory_mb=192, swap_mb=512) is None
    refusal = power_on_all(lesson_vms(max_mb=128, min_mb=40), memory_mb=176, swap_mb=512)
    assert refusal.startswith("cannot power on 'vm2': memory reservation short by 40.0 MB"), refusal


def test_no_host_in_the_slider_range_admits_too_large_vms():
    assert smallest_admitting_mb(lesson_vms(max_mb=512, min_mb=512), swap_mb=512) is None


def test_07_the_ladder_diagram_wears_the_strips_colours():
    """The diagram filled low pink (#CC79A7, the bar chart's *overhead*) and high saturated green, the strip
    below it maroon and pale green."""
    import re
    from pathlib import Path
    from esxlab.views.components import STATE_COLORS
    svg = (Path(__file__).parent.parent / "notebooks" / "images" / "07_states.svg").read_text()
    fills = dict((name, fill) for fill, name in re.findall(r'<rect [^>]*fill="(#[0-9A-Fa-f]{6})"[^>]*/><text [^>]*>'
                                                             r'(high|soft|hard|low)</text>', svg))
    high, _clear, soft, hard, low = STATE_COLORS
    assert fills == {"high": high, "soft": soft, "hard": hard, "low": low}, fills


def test_07_the_blocking_question_compares_two_hosts():
    """The question on blocking in low asked the student to pick the reason stated in section 2; it now compares a
    host that blocks its VMs above target with one that lets them run, and only the blocking host is right. The
    hosts are named neutrally (no "follows ESX's rule"), the reason is given in the right choice's feedback, not
    in section 2 above it, and the 192 MB run, where blocking brings no free memory back, is tied to it."""
    from notebook_cells import question
    q = question("07_states_and_admission", "Host A lets the two VMs run; host B blocks them")
    right = "Host B: its blocked VMs take none of the freed pages back, so what paging frees stays free"
    assert q.expect.value == right and q.check(right).correct
    assert [c for c in q.expect.choices if q.check(c).correct] == [right] and len(q.expect.choices) == 3
    assert "(The paper gives the rule, not its reason.)" in q.prompt and "ESX's rule" not in q.prompt
    assert "can fault pages back in as fast as paging frees them" in q.check(right).message
    both = next(c for c in q.expect.choices if c.startswith("Both alike"))
    assert "192 MB run is no counter-example: there the targets leave no free memory" in q.check(both).message
    ladder = text_by_id("07_states_and_admission", "07-05")
    assert "In low ESX stops every VM above its target until paging brings it back at (or below) its target" in ladder
    assert "asks you to work one out" in ladder
    for reason in ("fault pages in", "lets reclamation catch up", "not entitled", "find no machine page"):
        assert reason not in ladder, reason
    tight = text_by_id("07_states_and_admission", "29275f28")
    assert ("this run is no guide to the blocking question of section 5: the targets (each VM's min) and the "
            "overheads fill the whole machine, so paging a VM to its target leaves nothing free") in tight
    assert "a blocked VM runs again as soon as it is back at its target and faults its pages straight back" in tight


def test_07_learning_goals_do_not_answer_the_prediction():
    """The goals stated the admission rule (min + overhead in memory, max − min in swap): with the Predict box's
    min and overhead that is the answer, 3 × (32 + 32), before the student is asked."""
    goals = text_by_id("07_states_and_admission", "07-00").split("*How to use:*")[0]
    assert "Learning goals" in goals and "what it must reserve in machine memory and in swap" in goals
    for giveaway in ("overhead", "max − min", "min +", "+ overhead"):
        assert giveaway not in goals, giveaway
    assert not re.search(r"\bmin\b", goals), goals


def test_07_the_table_says_what_02_teaches_for_soft_and_hard():
    """Notebook 02's box (for the ballooning exercise) and 07's table give the same rules: in soft an uncooperative
    driver's balloon cannot take the excess, and in hard esxlab's 2002 balloons keep inflating while ESX pages."""
    from esxlab.reclaim import HARD, SOFT, plan
    ladder = text_by_id("07_states_and_admission", "07-05")
    assert "an *uncooperative* driver that has freed no memory for 5 s, balloon at its cap" in ladder
    assert "**page** the whole excess: ESX's own swapping, random victims; balloons keep inflating too" in ladder
    assert esx.HostConfig().balloon_stuck_s == 5
    # excess 100 pages, balloon 20 of at most 1000: loaded but not freeing memory, soft pages it all; hard pages the
    # whole excess and a working balloon is still asked for it
    assert plan(SOFT, 100, 1000, 20, 1000, True, False) == (120, 100)
    assert plan(HARD, 100, 1000, 20, 1000, True, True) == (120, 100)


def test_07_both_dashboards_titles_follow_their_memory_slider():
    """A browser trial moved the section-4 dashboard's slider 240 → 288 MB: only the chart's axis said so."""
    calls = [c.source for c in cells("07_states_and_admission") if "views.SimDashboard(" in c.source]
    assert len(calls) == 2 and all('title="Free-memory states at {memory_mb:g} MB"' in s for s in calls)
