"""Notebook 10 · Security: a misbehaving balloon, a sharing side channel, and salting (notebooks/10_security.ipynb): its
prose, reveals, guards, Try it and questions."""
from __future__ import annotations

import numpy as np
import pytest

import esxlab as esx
from esxlab.experiments.fig4 import PAPER
from esxlab.guest import KERNEL
from esxlab.pmap import SWAPPED
from esxlab.views.lesson import Question

from notebook_cells import (cell, cells as _cells, flat, guard as _guard, markdown_of as _markdown, notebook, run_until,
                            text)


W = esx.workloads


def _security_host(mode: str) -> esx.Host:
    """Lesson 10's section 4: two dbench VMs on 176 MB, the guest's balloon driver in ``mode``, 3 minutes."""
    host = esx.Host(esx.HostConfig(memory_mb=176, swap_mb=512), seed=0)
    for name, balloon in (("honest", "cooperative"), ("guest", mode)):
        host.power_on(esx.VMConfig(name=name, max_mb=96, balloon=balloon), workload=esx.workloads.Dbench(clients=12))
    host.run(minutes=3)
    return host


@pytest.fixture(scope="module")
def ten() -> dict:
    return run_until("10_security", 'title="Balloon driver modes"')


def test_10_the_sharing_feedback_argues_from_more_than_zero_pages():
    q = flat(next(c.source for c in _cells("10_security") if "turning inter-VM page sharing off" in c.source))
    feedback = q[q.index('feedback={"Nothing:'):q.index('"Memory: identical pages of different VMs now stay separate '
                                                         'copies": "Right')]
    vm_mb, _, reclaimed, zero = PAPER[10]
    assert f"({reclaimed:.0f} MB)" in feedback and f"only {zero:.0f} MB" in feedback
    assert "nearly 60 %" in feedback and 0.58 < reclaimed / vm_mb < 0.6
    assert "325 MB of zero" not in feedback


def test_10_why_entries_group_pops_so_their_count_is_not_the_counters():
    try_it = text("10_security", "## Try it")
    assert ("A *Why?* entry whose time is a range (t = a–b s) gathers the same decision repeated over those seconds, "
            "its MB summed, so one entry may stand for several pops") in try_it
    host = _security_host("lying")
    pops = [d for d in host.trace.decisions if d.action == "balloon popped"]
    assert pops and len(pops) < host.vm("guest").totals.balloon_pops and any(d.until for d in pops)


def test_10_a_driverless_guest_keeps_a_few_mb_above_target_from_the_hosts_free_memory():
    """Said after the reveal: said in the crux, it answered the Predict box before it was asked."""
    crux = text("10_security", "## 1. The crux")
    assert "cannot keep memory it is not entitled to" not in crux and "A misbehaving guest keeps" not in crux
    assert ("A misbehaving guest keeps no more than a few MB above its target: ESX pages it down, and those few MB "
            "come out of the host's free memory, not out of the other VMs") in text("10_security", "The two runs side")
    assert "Those MB come out of the host's free memory" in text("10_security", "p.reveal(")
    runs = {m: _security_host(m) for m in ("cooperative", "disabled")}
    guest = runs["disabled"].trace.vms["guest"]
    above = (guest.alloc[60:] - guest.target[60:]).mean()
    free = {m: h.trace.host.free[60:].mean() for m, h in runs.items()}
    assert 1 < above < 6 and abs(free["cooperative"] - free["disabled"] - above) < 0.5, (above, free)
    honest = [h.vm("honest").stats().alloc for h in runs.values()]
    assert abs(honest[0] - honest[1]) < 0.1, honest


def test_lesson_10_a_caught_lying_driver_is_still_asked_to_inflate_as_the_text_now_says():
    """10's Question said a caught driver is "given up on": the Why? panel still showed ESX's requests to inflate
    after the last pop. The text now says ESX keeps asking but pages the excess itself; this is that run."""
    import esxlab as esx
    host = esx.Host(esx.HostConfig(memory_mb=176, swap_mb=512), seed=0)
    host.power_on(esx.VMConfig(name="honest", max_mb=96), workload=esx.workloads.Dbench(clients=12))
    host.power_on(esx.VMConfig(name="guest", max_mb=96, balloon="lying"), workload=esx.workloads.Dbench(clients=12))
    tr = host.run(minutes=3)
    guest = [d for d in tr.decisions if d.vm == "guest"]
    pops = [d.until or d.tick for d in guest if d.action == "balloon popped"]
    asks = [d.tick for d in guest if d.action == "inflate balloon"]
    assert pops and host.vm("guest").balloon.caught is not None
    assert any(t > max(pops) for t in asks), (pops, asks)
    assert any(d.action.startswith("page out") for d in guest)
    text = _markdown("10_security.ipynb")
    assert "its requests to inflate still show in the *Why?* panel" in text


def test_10_guest_benchmark_starts_after_its_driver_loads(ten):
    dash = ten["dash"]
    guest = dict((c.name, w) for c, w in dash.vm_specs)["guest"]
    assert isinstance(guest, W.Delayed) and guest.start_s == 30
    for mode in esx.config.BALLOON_MODES:
        run = dash.compute({**dash.defaults, "guest.balloon": mode})
        assert not [d for d in run.trace.decisions if d.vm == "guest" and "not loaded yet" in d.why], mode


def test_10_every_broken_mode_differs(ten):
    dash = ten["dash"]
    runs = {m: dash.compute({**dash.defaults, "guest.balloon": m}) for m in esx.config.BALLOON_MODES}
    swap_ins = {m: r.host.vm("guest").totals.swap_ins for m, r in runs.items()}
    assert len({swap_ins[m] for m in ("absent", "uncooperative", "lying")}) == 3, swap_ins
    asks = {m: sum(d.vm == "guest" and d.action == "inflate balloon" for d in r.trace.decisions)
            for m, r in runs.items()}
    assert asks["absent"] == 0 < asks["uncooperative"] and asks["lying"] > 0, asks
    assert runs["lying"].host.vm("guest").totals.balloon_pops > 0
    assert runs["uncooperative"].host.vm("guest").totals.balloon_pops == 0


def test_10_numbers_are_the_new_runs():
    """The disabled guest's writes: 171 000 while the swap daemon's budget went to the VMs in power-on order, 170 000
    (170 460) since it goes to the VM furthest above its target first; the other three counts round as before."""
    two = text("10_security", "### Balloon modes (§3.2)")
    assert "(192 000 against 181 000 in three minutes)" in two and "(84 000 against 170 000)" in two
    assert "about an eighth faster" in two and "196 000" not in two and "nearly a fifth faster" not in two
    assert "171 000" not in two
    assert "starts at 30 s" in text("10_security", "### Predict first")
    guard = _guard("10_security", "reads, writes")
    assert '{"cooperative": 192000, "disabled": 181000}' in guard and 'modes["lying"][2] > 0' in guard
    assert '{"cooperative": 84000, "disabled": 170000}' in guard


def test_10_invented_rules_are_marked():
    crux = text("10_security", "## 1. The crux")
    assert "ESX measures a balloon's progress" not in crux
    assert "the next interaction with the driver resets its state" in crux
    assert "esxlab's own rules (invented) are these: it measures a balloon's progress in **machine pages" in crux
    row = next(line for line in cell("10_security", "### Balloon modes").splitlines() if line.startswith("| lying"))
    assert "no longer counted on (esxlab's rule, invented;" in row
    question = text("10_security", "A guest's balloon driver lies")
    assert "is esxlab's rule (invented;" in question and "its own rule, invented" in question


def test_10_salting_guard_passes_after_moving_salting():
    ns = run_until("10_security", 'title="Salting"')
    ns["salt"].set(**{"sharing.force_salting": 1})
    guard = _guard("10_security", "without salting the attacker")
    exec(guard, ns)
    ns["salt"].defaults = {"sharing.force_salting": 1}
    with pytest.raises(AssertionError):
        exec(guard, ns)


def test_10_try_it_points_to_the_counters_table():
    tried = text("10_security", "## Try it")
    assert "(the panel's page-outs)" not in tried and "the counters table's *swap outs*, in 4 KB pages" in tried


def test_10_the_stall_is_a_cost_not_a_clock_and_io_is_counted_both_ways():
    src = cell("10_security", "stall charged")
    assert "a cost, not a clock" in src and "swap-outs" in src and "write-backs" in src


def test_10_the_probe_question_takes_pages():
    src = cell("10_security", "How many of the probe pages were shared")
    q = eval(src, {"Question": Question})                  # the notebook's own call
    assert q.expect.unit == "pages" and q.check("28 pages").correct


def _run(mode: str, clients: int, **host_config):
    """The notebook's section 4 set-up, the guest's driver in ``mode``; returns (host, guest's mean speed after 1 min)."""
    host = esx.Host(esx.HostConfig(memory_mb=176, swap_mb=512, **host_config), seed=0)
    host.power_on(esx.VMConfig(name="honest", max_mb=96), workload=esx.workloads.Dbench(clients=clients))
    host.power_on(esx.VMConfig(name="guest", max_mb=96, balloon=mode), workload=esx.workloads.Dbench(clients=clients))
    trace = host.run(minutes=3)
    return host, float(trace.vms["guest"].throughput[60:].mean())


def test_the_notebook_runs_a_file_set_larger_than_the_share_and_says_so():
    cells = notebook("10").cells                       # (read from the checkout, wherever pytest runs)
    dash = next(c.source for c in cells if "SimDashboard" in c.source and "honest" in c.source)
    assert dash.count("Dbench(clients=12)") == 2
    text = " ".join(" ".join(c.source.split()) for c in cells if c.cell_type == "markdown")
    assert "file set (72 MB)" in text and "`Dbench(clients=8)`, 48 MB" in text
    assert "about a tenth faster" not in text and "swap-outs to nobody" not in text


def test_with_a_file_set_larger_than_its_share_the_guest_that_chooses_is_faster():
    (_, coop), (host, blind) = _run("cooperative", 12), _run("disabled", 12)
    assert 1.1 < coop / blind < 1.3                     # "nearly a fifth faster"
    guest = host.vm("guest").stats()
    assert 0 <= guest.alloc - guest.target < 6          # "a few MB above its target", the host in hard
    assert host.states.name == "hard"


def test_with_a_file_set_that_fits_blind_paging_takes_cold_kernel_pages_and_wins():
    (_, coop), (host, blind) = _run("cooperative", 8), _run("disabled", 8)
    assert blind > coop
    vm = host.vm("guest")
    out = np.flatnonzero(vm.pmap.state == SWAPPED)
    assert np.count_nonzero(vm.guest.ppn_lp[out] == KERNEL) >= 0.8 * len(out) > 0
    assert vm.guest.resident == vm.workload.pages         # the whole file cache kept


@pytest.mark.parametrize("clients", [8, 12])
def test_either_way_the_guest_keeps_no_more_memory_than_near_its_target(clients):
    host, _ = _run("disabled", clients)
    s = host.vm("guest").stats()
    assert s.alloc < s.target + 6 < 96


def test_the_cooperative_guest_does_less_page_io_and_its_speed_is_the_cost_models():
    """The cooperative guest's speed came from the cost model, and the text credited its choice.
    Counting every page I/O (hypervisor swap-outs too) it does a quarter fewer, about as many reads, far fewer
    writes; with a guest disk I/O as dear as a swap-in, the driverless guest is faster (section 2 says both)."""
    io = {}
    for mode in ("cooperative", "disabled"):
        t = _run(mode, 12)[0].vm("guest").totals
        io[mode] = (t.swap_ins + t.guest_disk_reads, t.swap_outs + t.guest_disk_writes)
    (cr, cw), (dr, dw) = io["cooperative"], io["disabled"]
    assert cr + cw < 0.8 * (dr + dw) and 0.9 < cr / dr < 1 and cw < 0.6 * dw
    (_, coop), (_, blind) = _run("cooperative", 12, guest_disk_ms=8), _run("disabled", 12, guest_disk_ms=8)
    assert coop < blind
