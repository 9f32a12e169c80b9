"""Notebook 02 · Ballooning (paper §3.2, Figure 2; notebooks/02_ballooning.ipynb): its prose, reveals, guards, Try it
and questions."""
from __future__ import annotations


import numpy as np

from esxlab.experiments import fig2

from notebook_cells import cell_by_id, cells as _cells, text as _cell, text_by_id


def test_02_observe_says_the_throughput_units_differ_from_the_papers():
    assert 'ylabel="dbench throughput (accesses/s)"' in cell_by_id("02_ballooning", "1209f4c1")
    text = text_by_id("02_ballooning", "fac68d29")
    assert "esxlab's throughput is in accesses/s, the paper's Figure 2 in MB/s, so compare ratios" in text


def test_02_the_middle_overheads_are_read_off_the_figure():
    text = _cell("02_ballooning", "The overhead shrinks at 192 MB")
    assert "The paper's own points" not in text
    assert f"{fig2.PAPER[128][2]} % at 128 MB and {fig2.PAPER[224][2]} % at 224 MB (§3.2)" in text
    gaps = [f"{fig2.PAPER[mb][0] - fig2.PAPER[mb][1]:.2f}" for mb in (160, 192)]
    assert "read off its Figure 2" in text and f"digitized: gaps of {gaps[0]} and {gaps[1]} MB/s" in text


def test_02_at_400_clients_the_ballooned_line_starts_above_whatever_the_seed():
    """The text after 02's reveal says seeds 1 and 2 give seed 0's throughputs at 400 clients to 0.1 accesses/s."""
    from esxlab.experiments import fig2
    from esxlab.host import quietly
    fixed = dict(sizes=(128, 192), minutes=4, measure_from_min=2, dbench_start_s=30)     # 02's dashboard
    src = next(c.source for c in _cells("02_ballooning") if "views.ExperimentDashboard(" in c.source)
    assert "fixed=dict(sizes=(128, 192), minutes=4, measure_from_min=2, dbench_start_s=30)" in src
    with quietly():
        bars = [fig2.run(seed=s, clients=400, **fixed).traces["bars"] for s in (0, 1, 2)]
    for b in bars:
        assert b["ballooned"][0] > b["configured"][0]
        for k in ("configured", "ballooned"):
            assert np.abs(np.asarray(b[k]) - np.asarray(bars[0][k])).max() < 0.1, (k, b[k], bars[0][k])
    text = next(c.source for c in _cells("02_ballooning") if "**400 clients**" in c.source)
    assert "Seeds 1 and 2 give the\nsame numbers to 0.1 accesses/s" in text


def test_02_at_400_clients_the_ballooned_vm_drops_more_accesses_and_reads_less_from_disk():
    """The cause the text after 02's reveal gives: a batch larger than the guest's room is cut (guest_oom), the
    ballooned VM (less room) cuts more, and those accesses would have been misses (fewer disk reads)."""
    from esxlab import Host, HostConfig, SharingConfig, VMConfig
    from esxlab.experiments.common import hold_balloon
    from esxlab.host import quietly
    from esxlab.workloads import Dbench, Delayed
    totals = {}
    for size, balloon in ((128, 0), (256, 128)):                  # configured 128 MB; 256 MB ballooned to 128
        host = Host(HostConfig(memory_mb=size + 64, swap_mb=size, sharing=SharingConfig(mode="off")), seed=0)
        dbench = Dbench.scaled(400, **{k: fig2.PARAMS[k].default for k in ("mb_per_client", "zipf_alpha")})
        vm = host.power_on(VMConfig(name="dbench", max_mb=size), workload=Delayed(dbench, 30))
        if balloon:
            hold_balloon(host, vm, balloon)
        with quietly():
            host.run(minutes=4)
        totals[balloon] = vm.totals
    assert dbench.accesses_per_s == 80_000
    assert totals[128].guest_oom > totals[0].guest_oom > 0
    assert totals[128].guest_disk_reads < totals[0].guest_disk_reads
    text = next(c.source for c in _cells("02_ballooning") if "**400 clients**" in c.source)
    assert "80,000 accesses a second" in text and "`guest_oom`" in text


def test_02_learning_goals_do_not_answer_the_prediction():
    """The goals said the overhead is "small but not zero": the answer to the Predict box (how many percent slower)
    before the student is asked."""
    goals = text_by_id("02_ballooning", "fdba9e2d").split("*How to use:*")[0]
    assert "Learning goals" in goals and "say where the overhead comes from" in goals
    for giveaway in ("small", "not zero", "few percent", "negligible", "tiny"):
        assert giveaway not in goals, giveaway


def test_02_teaches_the_state_rules_the_ballooning_exercise_needs():
    """The ballooning exercise (lab 1, with notebooks 00-02) asks how ESX splits a VM's excess between balloon and
    swap in each free-memory state, which notebook 07 (lab 5) teaches; 02's box states the rules, as reclaim.plan
    applies them."""
    from esxlab import HostConfig
    from esxlab.reclaim import STATES, plan
    text = text_by_id("02_ballooning", "3b7b443f")
    box = text[text.index("**Balloon or page?"):text.index("**Why the overhead")]
    box = " ".join(word for word in box.split() if word != ">")           # the quote's markers
    assert "(§6.3)" in box and "*ballooning* exercise" in box and "notebook 07" in box
    assert "its allocation minus its target; a VM at or below its target has none" in box
    assert "plus the excess, never more than its cap (a percentage of max) nor max − target" in box
    assert "a balloon larger than that deflates to it" in box
    assert '**high**, the normal state: nothing is paged' in box and 'high_state="converge"' in box
    assert "**soft** (entered below 4 % of machine memory free): balloon; page only what a working balloon" in box
    assert "**hard** (below 2 %): page the whole excess, and still ask a loaded driver's balloon for it" in box
    assert "absent or still booting takes nothing: its balloon keeps its size" in box
    assert "freed no memory for 5 s" in box and "outside high ESX pages the whole excess" in box
    config = HostConfig()
    assert (config.high_state, config.soft_pct, config.hard_pct, config.balloon_stuck_s) == ("converge", 4, 2, 5)

    def split(state, excess=100, share=1000, size=20, cap=1000, driver="working"):
        """(balloon, swap) for a VM whose balloon holds ``size`` pages and whose driver is ``driver``."""
        loaded, working = {"working": (True, True), "uncooperative": (True, False), "absent": (False, False)}[driver]
        return plan(STATES.index(state), excess, share, size, cap, loaded, working, "converge")

    for state in STATES:
        assert split(state, excess=-10) == (20, 0), "no excess: the balloon does not grow, nothing is paged"
        assert split(state, share=10)[0] == 10, "a balloon larger than max − target deflates to it"
    assert split("high") == (120, 0) and split("high", driver="absent") == (20, 0)
    assert split("soft") == (120, 0) and split("soft", cap=60) == (60, 60), "soft pages what the balloon cannot take"
    assert split("hard") == (120, 100) and split("low") == (120, 100)
    for state in ("soft", "hard"):
        assert split(state, driver="uncooperative") == (120, 100) and split(state, driver="absent") == (20, 100)
