"""A fifth student-tester's lesson findings (notebooks 00, 01, 04, 10).

00's Reveal told a student who applied τ as taught (0.75 × 56 idle MB = 42) that a guess near 42 MB "counted the
swapped pages too", and its high-state sentence took back its own claim. 04's Predict gave no identical MB to work
from, its scanner picked pages "at random" yet made passes, and its Figure 4 Try it had no answer anywhere. 10 said a
misbehaving guest "cannot keep memory it is not entitled to" where its run keeps a few MB above target, and its Try it
compared Why? entries with the pop counter without saying that an entry groups several seconds. 01 did not say why
the toucher's 4, 12 and 6 MB touch all 16 MB."""
import pytest

import esxlab as esx
from esxlab.experiments import fig4

from notebook_cells import cells as _cells, run_until as _run_until, text as _text

MB = esx.PAGES_PER_MB


@pytest.fixture(scope="module")
def tour():
    """Lesson 00 run up to its Reveal (the scenario of the tour, 5 simulated minutes)."""
    return _run_until("00_tour", "guess.reveal(")


@pytest.fixture(scope="module")
def sharing():
    """Lesson 04 run up to its Reveal (four SPEC95 VMs, 4 simulated minutes)."""
    return _run_until("04_page_sharing", "guess.reveal(")


def _security_host(mode: str) -> esx.Host:
    """Lesson 10's section 4: two dbench VMs on 176 MB, the guest's balloon driver in ``mode``, 3 minutes."""
    host = esx.Host(esx.HostConfig(memory_mb=176, swap_mb=512), seed=0)
    for name, balloon in (("honest", "cooperative"), ("guest", mode)):
        host.power_on(esx.VMConfig(name=name, max_mb=96, balloon=balloon), workload=esx.workloads.Dbench(clients=12))
    host.run(minutes=3)
    return host


def test_00_reveal_answers_a_tau_guess_with_the_run(tour):
    explain = tour["guess"]._answer[1]
    idle_mb = 64 - tour["touched"]
    reclaimed = tour["gave"]["idle"]
    assert abs(reclaimed / idle_mb - tour["tau"]) < 0.02, (reclaimed, idle_mb)
    assert f"A guess near {tour['tau'] * idle_mb:.0f} MB took τ × the idle MB" in explain, explain   # trial 49
    assert f"ESX took {reclaimed:.1f} MB back from the idle VM, {reclaimed / idle_mb:.0%} of its idle memory" in explain
    assert "counted the swapped pages too" not in explain
    assert f"{tour['idle'].swapped:.1f} MB of it are swapped" in explain and "in the first minute" in explain


def test_00_the_idle_vm_was_paged_only_in_the_seconds_the_reveal_names(tour):
    out = tour["idle_out"]
    assert out[:60].any() and out[120:130].any() and out[:60].sum() + out[120:130].sum() == out.sum()


def test_00_high_state_sentence_says_no_paging_and_balloons_converge(tour):
    crux = _text("00_tour", "## The crux")
    assert ("no reclamation while enough memory is free, in the paper's words; esxlab reads this *high* state as no "
            "paging, with balloons still bringing VMs down to their targets (notebook 07)") in crux
    assert "still lets balloons work there" not in crux
    decisions = tour["tr"].decisions
    assert not any("page out" in d.action and d.why.startswith("high") for d in decisions)
    assert any(d.action == "inflate balloon" and d.why.startswith("high") for d in decisions)


def test_04_predict_gives_the_identical_mb_of_this_workload(sharing):
    predict = _text("04_page_sharing", "## Predict, then observe")
    assert "By minute 4 each VM holds about **22 MB** that are identical in all four" in predict
    assert "its kernel's 3 MB of OS code" in predict and "22 MB in place of 12" in predict
    assert abs(sharing["common"] - 22) < 0.5 and sharing["host"].vm("vm0").guest.image_pages == 3 * MB
    explain = sharing["guess"]._answer[1]
    assert f"A guess near {3 * sharing['common']:.0f} MB applied the worked example" in explain, explain
    assert f"sharing saves {sharing['most']:.1f} MB once the scanner has found every copy" in explain


def test_04_the_scanner_visits_pages_in_a_random_order_once_per_pass():
    crux = _text("04_page_sharing", "## The crux")
    assert "picks pages **in a random order**, each page once per pass" in crux
    assert not [c.source for c in _cells("04_page_sharing") if "at random" in c.source]


def test_04_figure_4_try_it_says_where_the_answer_is():
    try_it = _text("04_page_sharing", "## Try it")
    paper = fig4.PAPER[10]
    assert f"about {100 * paper[1] / paper[0]:.0f} %" in try_it
    assert "`python -m esxlab reproduce --figure 4`" in try_it and "`print(esx.experiments.fig4.run(seed=0).render())`" in try_it
    assert callable(esx.experiments.fig4.run)


def test_10_why_entries_group_pops_so_their_count_is_not_the_counters():
    try_it = _text("10_security", "## Try it")
    assert ("A *Why?* entry whose time is a range (t = a–b s) gathers the same decision repeated over those seconds, "
            "its MB summed, so one entry may stand for several pops") in try_it
    host = _security_host("lying")
    pops = [d for d in host.trace.decisions if d.action == "balloon popped"]
    assert pops and len(pops) < host.vm("guest").totals.balloon_pops and any(d.until for d in pops)


def test_10_a_driverless_guest_keeps_a_few_mb_above_target_from_the_hosts_free_memory():
    crux = _text("10_security", "## 1. The crux")
    assert "cannot keep memory it is not entitled to" not in crux
    assert ("A misbehaving guest keeps no more than a few MB above its target: ESX pages it down (section 4), and "
            "those few MB come out of the host's free memory, not out of the other VMs") in crux
    assert "Those MB come out of the host's free memory" in _text("10_security", "p.reveal(")
    runs = {m: _security_host(m) for m in ("cooperative", "disabled")}
    guest = runs["disabled"].trace.vms["guest"]
    above = (guest.alloc[60:] - guest.target[60:]).mean()
    free = {m: h.trace.host.free[60:].mean() for m, h in runs.items()}
    assert 1 < above < 6 and abs(free["cooperative"] - free["disabled"] - above) < 0.5, (above, free)
    honest = [h.vm("honest").stats().alloc for h in runs.values()]
    assert abs(honest[0] - honest[1]) < 0.1, honest


def test_01_says_why_every_ppn_ends_up_touched():
    example = _text("01_memory_virtualization", "## A worked example")
    assert ("its kernel holds about 6.6 MB, so from minute 1 the kernel and the toucher's 12 MB need more than all 16"
            in example)
    host = esx.Host(esx.HostConfig(memory_mb=40, swap_mb=64), seed=0)
    vm = host.power_on(esx.VMConfig(name="small", max_mb=16, overhead_mb=2),
                       workload=esx.workloads.Toucher([(0, 4), (60, 12), (180, 6)]))
    host.run(minutes=5)
    kernel_mb = vm.guest.kernel_pages / MB
    assert f"about {kernel_mb:.1f} MB" in example and kernel_mb + 12 > 16
    assert host.trace.vm("small").unbacked[59] > 0 and vm.stats().unbacked == 0 and vm.stats().private == 16
