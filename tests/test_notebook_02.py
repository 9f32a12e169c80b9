"""Notebook 02 · Ballooning (paper §3.2, Figure 2; notebooks/02_ballooning.ipynb): its prose, reveals, guards, Try it
and questions."""
from __future__ import annotations


import numpy as np
import pytest

from esxlab.experiments import fig2
from esxlab.views.controls import control

from notebook_cells import (cell_by_id, cells as _cells, flat as _flat, prose as _prose, run_cells, text as _cell,
                            text_by_id)


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


FIXED = dict(sizes=(128, 192), minutes=4, measure_from_min=2, dbench_start_s=30)     # 02's dashboard


def test_02_at_400_clients_the_ballooned_line_starts_above_whatever_the_seed():
    """The text after 02's reveal: at 400 clients (the slider's end) the ballooned line starts above, by about 1 %, the
    four throughputs within about 3 % (seed 0's numbers as it gives them); seeds 1 and 2 give seed 0's throughputs to
    0.1 accesses/s. (The notebook's guard cell checked seed 0 until a student's Run All paid 7 s for it.)"""
    from esxlab.host import quietly
    src = next(c.source for c in _cells("02_ballooning") if "views.ExperimentDashboard(" in c.source)
    assert "fixed=dict(sizes=(128, 192), minutes=4, measure_from_min=2, dbench_start_s=30)" in src
    assert "clients=400," not in src and "overrides" not in src
    assert control("clients", fig2.PARAMS["clients"], owner="fig2").max == 400, "the slider's end, as the dashboard's"
    with quietly():
        runs = [fig2.run(seed=s, clients=400, **FIXED) for s in (0, 1, 2)]
    bars = [r.traces["bars"] for r in runs]
    for b in bars:
        assert b["ballooned"][0] > b["configured"][0]
        for k in ("configured", "ballooned"):
            assert np.abs(np.asarray(b[k]) - np.asarray(bars[0][k])).max() < 0.1, (k, b[k], bars[0][k])
    text = next(c.source for c in _cells("02_ballooning") if "**400 clients**" in c.source)
    assert "Seeds 1 and 2 give the\nsame numbers to 0.1 accesses/s" in text
    conf400, ball400 = bars[0]["configured"], bars[0]["ballooned"]
    files400 = 400 * fig2.PARAMS["mb_per_client"].default
    assert files400 == 2080 and 8 <= files400 / 256 < 8.2, files400
    assert conf400[1] < conf400[0] and ball400[1] < ball400[0]
    both = np.concatenate([conf400, ball400])
    assert 1.02 < both.max() / both.min() < 1.03, both
    assert (round(conf400[0], 1), round(conf400[1], 1)) == (152.6, 150.9), conf400
    assert "(configured 152.6 accesses/s at 128 MB" in _flat(text), _flat(text)
    assert round(runs[0].value("balloon overhead at 128 MB"), 2) == -1.30
    assert all(r.paper is None for r in runs[0].table), "off 40 clients: nothing compared with the paper"


def test_02_try_it_fig2_run_numbers_both_dbenches():
    """The first Try it: `fig2.run()` shows one NO row, the 160 MB overhead (esxlab's 3.8 % at seed 0 against the
    paper's 1.7 %); Figure 7's dbench (Dbench's defaults) run in Figure 2's set-up misses three throughput ratios,
    0.06–0.09 below the paper's. Checked here, not in the notebook's guard cell: two runs of all four sizes."""
    from esxlab.host import quietly
    import esxlab as esx
    with quietly():
        full, run7 = fig2.run(), fig2.run(mb_per_client=6, zipf_alpha=0.78)
    off = {r.title: r for r in full.table if r.paper is not None and not r.within}
    assert sorted(off) == ["balloon overhead at 160 MB"], sorted(off)
    assert [round(full.value(f"balloon overhead at {mb} MB"), 1) for mb in (128, 224)] == [5.3, 1.4], "the Try it"
    row = off["balloon overhead at 160 MB"]
    assert (round(row.esxlab, 1), row.paper) == (3.8, 1.7), "the Try it quotes esxlab's 3.8 % against the paper's 1.7 %"
    fig7_dbench = esx.workloads.Dbench()
    assert (fig7_dbench.mb_per_client, fig7_dbench.zipf_alpha) == (6, 0.78), "the Try it's Figure 7 dbench"
    off7 = [r for r in run7.table if r.paper is not None and not r.within]
    assert sorted(r.title for r in off7) == ["balloon overhead at 160 MB"] + [
        f"configured throughput at {mb} MB / at 256 MB" for mb in (160, 192, 224)], [r.title for r in off7]
    assert all(0.055 < r.paper - r.esxlab < 0.095 and "Figure 7" in r.note for r in off7 if "throughput" in r.title)
    assert all(r.kind == "set-up" for r in full.table if "throughput" in r.title), "listed as set-up checks"
    assert all(r.kind == "prediction" for r in run7.table), "Figure 7's dbench was not fitted to them"
    ratio = "configured throughput at {} MB / at max_mb"
    assert [round(full.value(ratio.format(mb)), 3) for mb in (128, 224)] == [0.671, 0.953]
    assert round(run7.value(ratio.format(128)), 3) == 0.635
    assert [round(r.value("balloon overhead at 128 MB"), 1) for r in (run7, full)] == [4.8, 5.3]
    text = _prose("02_ballooning")
    for said in ("esxlab's 3.8 % (seed 0) against the 1.7 %", "0.671 of the 256 MB VM's at 128 MB and 0.953 at 224 MB",
                 "(0.635 against 0.644", "(4.8 % at 128 MB against 5.3 %)"):
        assert said in text, said


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
    applies them. It sits just before the questions, so it does not break the thread from "How it works" to "Why the
    overhead is not zero"; it says what a balloon's limit, *loaded* and memory *to spare* mean, why hard does not take
    the excess twice, and that the paper states an entry rule only for low."""
    from esxlab import HostConfig
    from esxlab.balloon import BalloonDriver
    from esxlab.reclaim import HARD, HIGH, STATES, FreeMemoryStates, plan
    crux = text_by_id("02_ballooning", "3b7b443f")
    assert "**Balloon or page?" not in crux and "*Balloon or page?* below" in crux
    text = text_by_id("02_ballooning", "25a19980")
    box = text[text.index("**Balloon or page?"):text.index("## Check your understanding")]
    box = " ".join(word for word in box.split() if word != ">")           # the quote's markers
    assert "(§6.3)" in box and "*ballooning* exercise" in box and "notebook 07" in box
    assert "its allocation minus its target; a VM at or below its target has none" in box
    assert "at most the smaller of its cap (a percentage of max) and max − target, its *limit*" in box
    assert "plus the excess, up to its limit; a balloon above its limit deflates to it" in box
    assert "A VM at or below its target keeps its balloon (in high, memory to spare may go back to it)" in box
    assert "A driver is *loaded* once it is installed and the guest has booted" in box
    assert "the guest has booted" in BalloonDriver.loaded.__doc__
    assert "the paper states that rule only for low, and esxlab reads the others the same way" in box
    assert '**high**, the normal state: nothing is paged' in box and 'high_state="converge"' in box
    assert "while at most 8 % of machine memory is free (the 6 % high threshold plus two 1 % margins" in box
    assert "**soft** (below 4 % free): balloon; page only what a working balloon cannot take" in box
    assert "**hard** (below 2 %): page the whole excess, and still ask a loaded driver's balloon for it" in box
    assert ("That does not take the excess twice: ESX sets both each second from what is still above the target, a "
            "balloon never holds more than max − target, and memory ESX swapped moves into the balloon as the guest "
            "touches it again") in box
    assert "absent or still booting takes nothing: its balloon keeps its size" in box
    assert "freed no memory for 5 s" in box and "outside high ESX pages the whole excess" in box
    config = HostConfig()
    assert (config.high_state, config.soft_pct, config.hard_pct, config.balloon_stuck_s) == ("converge", 4, 2, 5)
    assert (config.high_pct, config.hysteresis_pct, config.state_entry) == (6, 1, "own")
    states = FreeMemoryStates(config, config.total_pages)      # spare: free above the goal by the margin (Reclaimer)
    assert abs(states.goal + states.margin - 0.08 * config.total_pages) < 1e-6

    def split(state, excess=100, share=1000, size=20, cap=1000, driver="working", spare=0):
        """(balloon, swap) for a VM whose balloon holds ``size`` pages and whose driver is ``driver``."""
        loaded, working = {"working": (True, True), "uncooperative": (True, False), "absent": (False, False)}[driver]
        return plan(STATES.index(state), excess, share, size, cap, loaded, working, "converge", spare)

    for state in STATES:
        assert split(state, excess=-10) == (20, 0), "no excess: the balloon keeps its size, nothing is paged"
        assert split(state, share=10)[0] == 10 and split(state, cap=10)[0] == 10, "above its limit: deflates to it"
    assert split("high", excess=-10, spare=5) == (15, 0) and split("soft", excess=-10, spare=5) == (20, 0), \
        "memory to spare goes back to a VM below its target in high only"
    assert split("high") == (120, 0) and split("high", driver="absent") == (20, 0)
    assert split("high", spare=5) == (20, 0), "with memory to spare, high asks the balloon for nothing"
    assert split("soft") == (120, 0) and split("soft", cap=60) == (60, 60), "soft pages what the balloon cannot take"
    assert split("hard") == (120, 100) and split("low") == (120, 100)
    for state in ("soft", "hard"):
        assert split(state, driver="uncooperative") == (120, 100) and split(state, driver="absent") == (20, 100)
    # not twice: once the paging has taken the excess (the balloon grew 4 pages meanwhile), neither grows any more;
    # and the balloon never holds more than max − target
    assert split("hard", excess=0, size=24) == (24, 0) and split("hard", share=50) == (50, 100)
    assert HIGH == STATES.index("high") and HARD == STATES.index("hard")


def test_02_deflate_step_says_when_a_balloon_shrinks_and_q2_matches_the_box():
    """Step 3 said a balloon deflates "when memory is plentiful again", which led a student to empty the balloon of a
    VM below its target in high; Q2's feedback said ESX pages only when ballooning is impossible or too slow, which
    the box's hard and low rules contradict."""
    from notebook_cells import question
    from esxlab.reclaim import HIGH, SOFT, plan
    crux = text_by_id("02_ballooning", "3b7b443f")
    assert "When memory is plentiful again" not in crux
    assert ("Not whenever memory is plentiful: in esxlab a balloon shrinks only when it holds more than its limit"
            in crux and "or when more than 8 % of machine memory is free and the balloon holds its VM below" in crux)
    # below target in high: kept with no memory to spare, given back (up to the shortfall) with some; above its limit
    assert plan(HIGH, -10, 1000, 48, 1000, True, True, "converge", 0) == (48, 0)
    assert plan(HIGH, -10, 1000, 48, 1000, True, True, "converge", 100) == (38, 0)
    assert plan(SOFT, -10, 30, 48, 1000, True, True, "converge", 0)[0] == 30
    q = question("02_ballooning", "the guest has only 30 MB on its free list")
    wrong = "ESX swaps the missing 20 MB itself, since the guest has no more free pages"
    message = q.check(wrong).message
    assert not q.check(wrong).correct and "In soft, ESX pages only what the balloon cannot take" in message
    assert "impossible or too slow" not in message


def test_02_try_it_balloon_vs_paging_states_seed_0s_numbers():
    """The last Try it item's numbers are the experiment's at seed 0, and its explanation holds: paging only at the
    mild squeeze took idle kernel, the balloon the never-touched pages and some cache; the crossover is where it says."""
    from esxlab.experiments import balloon_vs_paging
    res = balloon_vs_paging.run(seed=0)
    v = res.value
    never = res.traces["mild_paging_only"].mean("guest", "unbacked", 4, 10)
    balloon = v("mild: balloon size")
    text = _cell("02_ballooning", "Does the balloon always beat ESX's own paging?")
    for said in (f"touches {v('touched by the guest (its kernel and dbench' + chr(39) + 's files)'):.0f} MB",
                 f"Left 79 MB, ballooning first wins: {v('tight: throughput, balloon first'):.0f} against "
                 f"{v('tight: throughput, paging only'):.0f} accesses/s ({v('tight: balloon first / paging only'):.2f}×)",
                 f"Left 130 MB, paging only wins: {v('mild: throughput, balloon first'):.0f} against "
                 f"{v('mild: throughput, paging only'):.0f} accesses/s ({v('mild: balloon first / paging only'):.3f}×)",
                 f"Paging only paged {v('mild: paged by the host, paging only'):.1f} MB, "
                 f"{v('mild: guest kernel paged, paging only (at the end)'):.1f} MB of it idle kernel",
                 f"the balloon grew to {balloon:.1f} MB, the {never:.1f} MB the guest had never touched",
                 f"and {balloon - never:.1f} MB of its cache"):
        assert said in text, said
    assert res.row("tight: balloon first / paging only").label.startswith("tight, 79 MB left")
    assert res.row("mild: balloon first / paging only").label.startswith("mild, 130 MB left")
    assert "(24.2 MB for 192 MB of max)" in text and "a 2 MB background set" in text
    ratios = [balloon_vs_paging.run(seed=0, tight_pct=pct, mild_pct=5).value("tight: balloon first / paging only")
              for pct in (27, 28)]
    assert ratios[0] < 1 < ratios[1] and "between a 27 % and a 28 % squeeze" in text


@pytest.mark.usefixtures("own_cache")                   # runs cached to a throw-away folder
def test_02_at_22_clients_the_chart_moves_and_its_legend_says_why_the_papers_markers_went():
    """The Observe text's example, 22 clients, on the lesson's dashboard: the hidden check under the Reveal moved the
    slider there and back to see it, and each move redrew the dashboard at its last minute, away from where the
    student had scrubbed the minute slider (session 67); it computes that run now."""
    dash = run_cells("02", "1209f4c1")["dash"]
    before = dash.plotted("xy")
    dash.controls["clients"].value = 22
    assert not np.array_equal(before, dash.plotted("xy"))
    assert dash.paper_points(None)[0] == {} and "clients = 22" in dash.xy.legend.value, "off 40 clients: no markers"
