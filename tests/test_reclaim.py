"""Reclamation where the mechanisms meet (issue 10): one reclaim loop, the paper's accounting,
balloons that converge, a host that climbs out of low, a trace and a decision log that agree
with what happened. Each scenario is the issue's own, with its right value."""
from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

import esxlab as esx
from esxlab import PAGES_PER_MB
from esxlab.config import SharingConfig
from esxlab.pmap import SHARED
from esxlab.experiments import fig7
from esxlab.reclaim import FreeMemoryStates, HARD, HIGH, LOW, SOFT, plan

from invariants import WriteLog, check_conservation

MB = esx.PAGES_PER_MB
W = esx.workloads


# -- the per-VM rule ------------------------------------------------------------------------------
def test_plan_soft_balloons_the_excess_and_pages_only_the_rest():
    """Soft: the balloon asks for the excess, up to max − target and its cap; paging does the rest."""
    # 10 MB above target, balloon 4 MB, reclaimed share 40 MB, cap 100 MB
    assert plan(SOFT, 10 * MB, 40 * MB, 4 * MB, 100 * MB, True, True) == (14 * MB, 0)
    # the cap leaves 3 MB of the excess to the swap daemon
    assert plan(SOFT, 10 * MB, 40 * MB, 4 * MB, 11 * MB, True, True) == (11 * MB, 3 * MB)
    # a driver that frees nothing goes on being asked, while the excess is paged
    assert plan(SOFT, 10 * MB, 40 * MB, 4 * MB, 100 * MB, True, False) == (14 * MB, 10 * MB)
    # no driver: its balloon keeps its size, the excess is paged
    assert plan(SOFT, 10 * MB, 40 * MB, 4 * MB, 100 * MB, False, False) == (4 * MB, 10 * MB)
    # an inflation asked for while the VM was blocked goes on
    assert plan(SOFT, 0, 40 * MB, 4 * MB, 100 * MB, True, True, asked=12 * MB) == (12 * MB, 0)


def test_plan_hard_pages_the_whole_excess_and_a_balloon_above_its_share_deflates():
    """Hard pages the excess while the balloon works; a balloon above max − target shrinks to it."""
    assert plan(HARD, 10 * MB, 40 * MB, 4 * MB, 100 * MB, True, True) == (14 * MB, 10 * MB)
    assert plan(LOW, -5 * MB, 20 * MB, 30 * MB, 100 * MB, True, True) == (20 * MB, 0)


def test_plan_high_reclaims_nothing_or_converges_by_the_balloon_alone():
    """High never pages; "idle" holds the balloon, "converge" lets a working balloon take the excess."""
    assert plan(HIGH, 10 * MB, 40 * MB, 4 * MB, 100 * MB, True, True, "idle") == (4 * MB, 0)
    assert plan(HIGH, 10 * MB, 40 * MB, 4 * MB, 100 * MB, True, True, "converge") == (14 * MB, 0)
    assert plan(HIGH, 10 * MB, 40 * MB, 4 * MB, 100 * MB, True, False, "converge") == (4 * MB, 0)
    # spare free memory: no converging, and a balloon that holds its VM below target gives it back,
    # up to the deficit; a VM above its target gets nothing back
    assert plan(HIGH, 10 * MB, 40 * MB, 4 * MB, 100 * MB, True, True, "converge", spare=1) == (4 * MB, 0)
    assert plan(HIGH, -8 * MB, 40 * MB, 20 * MB, 100 * MB, True, True, "idle", spare=5 * MB) == (15 * MB, 0)
    assert plan(HIGH, -3 * MB, 40 * MB, 20 * MB, 100 * MB, True, True, "idle", spare=5 * MB) == (17 * MB, 0)
    # spare memory is the host's: a VM with room to grow (not held down) is not converged either,
    # and gets nothing back from its balloon
    assert plan(HIGH, 10 * MB, 40 * MB, 4 * MB, 100 * MB, True, True, "converge", spare=1, held_down=False) == (4 * MB, 0)
    assert plan(HIGH, -8 * MB, 40 * MB, 20 * MB, 100 * MB, True, True, "idle", spare=5 * MB, held_down=False) == (20 * MB, 0)


@pytest.mark.parametrize("min_mb", [0, 300])
def test_converge_leaves_a_busy_vm_alone_while_free_memory_is_to_spare(min_mb):
    """High state, free memory well above the goal: "converge" reclaims nothing (§6.3), even from a
    VM above its target because its neighbour's shares (or unused min, §6.2) entitle the neighbour
    to more than it uses. It used to balloon the busy VM, whose guest then paged, for good."""
    host = esx.Host(esx.HostConfig(memory_mb=454 if min_mb == 0 else 512, tax_rate=0.0,
                                   sharing=SharingConfig(mode="off")), seed=0)
    assert host.config.high_state == "converge"
    host.power_on(esx.VMConfig(name="idle", max_mb=256 if min_mb == 0 else 320, min_mb=min_mb))
    host.power_on(esx.VMConfig(name="busy", max_mb=256), workload=esx.workloads.Toucher(schedule=[(0, 220)]))
    tr = host.run(minutes=4)
    b = tr.vm("busy")
    assert set(tr.state_names()) == {"high"} and tr.host.free[-1] > 100
    assert b.alloc[-1] > b.target[-1] + 40                     # above its target, with memory to spare
    assert (b.balloon == 0).all() and b.throughput[-60:].min() == b.throughput[30]


def test_a_host_leaves_soft_and_memory_moves_from_a_vm_without_a_balloon_to_those_held_down():
    """Soft pages what balloons cannot take, until free memory is back *above* the goal: the point
    where soft is left. It used to stop at the goal, one fraction of a page short, and the host
    stayed in soft for good while the VM without a balloon sat above its target. Then in high, the
    busy VMs' balloons give back what that VM holds above its target (its excess brings soft, which
    pages it): they used to wait 24 MB below target, their guests paging, while it sat 40 MB above."""
    host = esx.Host(esx.HostConfig(memory_mb=512, sharing=SharingConfig(mode="off")), seed=0)
    host.power_on(esx.VMConfig(name="old", max_mb=256, balloon="absent"),
                  workload=esx.workloads.Toucher(schedule=[(0, 200), (60, 0)]))
    for name in ("new", "new2"):
        host.power_on(esx.VMConfig(name=name, max_mb=256), workload=esx.workloads.Toucher(schedule=[(90, 230)]))
    tr = host.run(minutes=10)
    states = tr.state_names()
    assert "soft" in states[:300] and Counter(states[300:])["soft"] < 60, Counter(states[300:])
    for name in ("new", "new2"):
        assert tr.vm(name).alloc[-1] >= tr.vm(name).target[-1] - 8, name
    assert tr.vm("old").alloc[-1] - tr.vm("old").target[-1] < 20
    gave = [d for d in tr.decisions if d.action == "deflate balloon" and d.vm == "new"]
    assert any("held above target by VMs with no usable balloon" in d.why for d in gave), gave


def test_free_memory_states_enter_on_their_threshold_and_leave_with_hysteresis():
    """§6.3 thresholds 6/4/2/1 % of 10,000 pages with a 1 % margin (and the 'higher' entry reading)."""
    s = FreeMemoryStates(esx.HostConfig(memory_mb=10000 / MB), 10000)
    names = []
    for free in (650, 399, 450, 501, 650, 701):
        s.update(free)
        names.append(s.name)
    assert names == ["high", "soft", "soft", "soft", "soft", "high"]
    s.update(99)
    assert s.name == "low"
    higher = FreeMemoryStates(esx.HostConfig(memory_mb=10000 / MB, state_entry="higher"), 10000)
    higher.update(590)
    assert higher.name == "soft"


# -- the scenarios -------------------------------------------------------------------------
def burst_host(seed=0):
    host = esx.Host(esx.HostConfig(memory_mb=256, swap_mb=1024, tax_rate=0.0, sharing=SharingConfig(mode="off")),
                    seed=seed)
    for name in ("a", "b"):
        host.power_on(esx.VMConfig(name=name, max_mb=200, overhead_mb=4), workload=W.Toucher([(0, 185)], sweep_s=5))
    return host


def test_a_two_vm_burst_leaves_low_within_five_minutes_and_the_balloons_hold_the_excess():
    """Two 185 MB working sets on 256 MB: low at first, then high for good, the excess in the balloons."""
    tr = burst_host().run(minutes=15)
    low = np.flatnonzero(tr.host.state == LOW)
    assert len(low) and tr.t[low[-1]] < 300, "the host leaves low within 5 min and does not return"
    late = tr.minutes >= 10
    assert (tr.host.state[late] == HIGH).mean() > 0.95
    for name in ("a", "b"):
        v = tr.vm(name)
        # all it may not back (max − target) is in its balloon, but for the cold kernel pages the
        # host swapped in the burst, which the guest never touches again (≈ 62 + 23 of 85 MB)
        assert v.balloon[late].mean() > 50, f"{name}: its balloon holds the excess (issue: ≈ 82 MB)"
        assert abs(v.balloon[late].mean() + v.swapped[late].mean() - (200 - v.target[late].mean())) < 3
        assert abs(v.alloc[late].mean() - v.target[late].mean()) < 3, f"{name} sits at its target"
        assert v.blocked[late].sum() == 0, f"{name}: blocking is never a steady state"


def test_the_hard_states_swap_budget_goes_to_the_vm_furthest_above_its_target_first():
    """A bug hunt's fuzzed scenario (512 MB, τ = 0.95, 8 MB/s): hard's swap budget went to the VMs in power-on
    order, so v2 and v3 (a few MB above target, faulting the pages straight back) took it every tick and v4 (no
    balloon, far above target, powered on last) got 15,402 of 280,572 pages: the host sat in hard or low for 137
    ticks, 51 in a row after minute 2. Paged furthest above target first, as a fault's make_free does: 45 ticks,
    none in a row after minute 2, v4 paged 69,603 of 92,160."""
    host = esx.Host(esx.HostConfig(memory_mb=512, tax_rate=0.95, swap_rate_mb_s=8), seed=240)
    vms = (("v0", 286, "linux", "cooperative", dict(min_mb=21.5, limit_mb=228.8), W.Dbench(2, 21.5, 1855)),
           ("v1", 286, "linux", "absent", {}, W.Dbench(2, 32, 990)),
           ("v2", 107, "windows", "uncooperative", {}, W.Toucher([(0, 43)], sweep_s=1)),
           ("v3", 286, "windows", "cooperative", {}, W.Dbench(2, 32, 1189)),
           ("v4", 286, "windows", "disabled", {}, W.Dbench(2, 21.5, 1724)))
    for name, max_mb, os_, balloon, more, wl in vms:
        host.power_on(esx.VMConfig(name=name, max_mb=max_mb, overhead_mb=0.5, guest_os=os_, balloon=balloon, **more),
                      workload=wl)
    tr = host.run(seconds=400)
    hard = tr.host.state >= HARD
    assert hard.sum() < 60, "in hard or low 45 ticks (137 with the budget in power-on order)"
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, hard[120:].astype(int), 0])))[::2]      # lengths of hard spells
    assert runs.max(initial=0) <= 5, "after minute 2 the host leaves hard at once (51 ticks in a row before)"
    paged = Counter()
    for d in tr.decisions:
        if "page out" in d.action and "(fault)" not in d.action and d.why.startswith(("hard", "low")):
            paged[d.vm] += d.pages
    assert paged["v4"] > 0.6 * sum(paged.values()), paged


def test_in_low_a_vm_a_little_above_its_target_keeps_a_part_of_the_swap_budget():
    """A bug hunt's case (ESXi 6, 128 MB, 8 MB/s): v1 thrashes far above its target, v0 sits 0.4–3.9 MB above its
    own. With the whole budget to the VM furthest above target, low paged v1 every tick (which faulted it straight
    back once the state rose) and v0 0.7 MB in 200 s, so v0 was blocked 71 ticks and ran 129 s; with a part kept
    for each VM in proportion to its excess, v0 is paged 19.7 MB, blocked 42 ticks and runs 158 s."""
    cfg = esx.HostConfig.esxi6(memory_mb=128, swap_mb=512, tax_rate=0.5, swap_rate_mb_s=8, replacement="random",
                               compression=False, large_pages=False, realloc_period_s=15, sample_period_s=5)
    host = esx.Host(cfg, seed=1)
    host.power_on(esx.VMConfig(name="v0", max_mb=179, overhead_mb=0.5, balloon="uncooperative"),
                  workload=W.Toucher([(0, 40)], sweep_s=5))
    host.power_on(esx.VMConfig(name="v1", max_mb=112, min_mb=20, overhead_mb=0.5, balloon="disabled"),
                  workload=W.Toucher([(0, 80)], sweep_s=3))
    tr = host.run(seconds=200)
    v0 = tr.vm("v0")
    paged = sum(d.pages for d in tr.decisions if d.vm == "v0" and "page out" in d.action and "(fault)" not in d.action)
    assert (tr.host.state == LOW).any() and paged / MB > 10, paged / MB
    assert v0.blocked.sum() < 50 and host.vm("v0").vm_time > 150, (v0.blocked.sum(), host.vm("v0").vm_time)


def test_a_nudged_balloon_shrinks_by_the_deficit_not_to_zero():
    """g's target rises a few MB above its allocation: its balloon gives back about that, not all of it.

    The issue's scenario, with the hog growing to 150 MB (not 120) so that memory stays short: in
    this model a host with memory to spare empties every balloon (no memory stranded behind one)."""
    host = esx.Host(esx.HostConfig(memory_mb=200, swap_mb=1024, tax_rate=0.75, sharing=SharingConfig(mode="off")),
                    seed=11)
    host.power_on(esx.VMConfig(name="g", max_mb=128, overhead_mb=4), workload=W.Toucher([(0, 100), (30, 10)]))
    host.power_on(esx.VMConfig(name="hog", max_mb=160, overhead_mb=4),
                  workload=W.Toucher([(40 + 4 * i, 2 * i) for i in range(1, 76)], sweep_s=3))
    host.run(minutes=10)
    g = host.vm("g")
    before = g.stats()
    assert before.balloon > 50, "the scenario starts from a large balloon"
    host.set_shares("g", 2 * g.shares)
    host.step()                                       # targets are recomputed at the next tick
    assert g.stats().target > before.target + 5
    host.run(minutes=3)
    assert g.stats().balloon >= 45, "the balloon shrinks by the deficit, not to zero (issue: ≈ 50 MB)"


def test_figure7_with_the_default_configuration_strands_no_memory():
    """Default host (sharing on, τ = 0.75, per-VM swap): no VM is held back by its balloon while
    free memory is well above the high threshold, dbench gets what the idle VM's shared zero pages
    do not use, and the tax still reclaims the idle VM's private pages."""
    def run(tax_rate):
        host = esx.Host(esx.HostConfig(memory_mb=424, tax_rate=tax_rate), seed=0)
        host.power_on(esx.VMConfig(name="idle", max_mb=256, guest_os="windows"))
        host.run(minutes=3)
        host.power_on(esx.VMConfig(name="dbench", max_mb=256), workload=W.Dbench())
        return host, host.run(minutes=15)
    host, tr = run(0.75)
    late = tr.minutes >= 10
    free = tr.host.free                      # "sits": free memory well above high for the last 5 s
    sits = np.minimum.reduce([np.r_[np.zeros(k), free[:len(free) - k]] for k in range(5)])
    well_above = sits > (host.config.high_pct + 2 * host.config.hysteresis_pct) / 100 * host.config.memory_mb
    for name in ("idle", "dbench"):
        v = tr.vm(name)
        # a VM held down by its balloon: nothing unbacked left for its guest to grow into
        held_down = v.unbacked < 1
        assert v.balloon[late & well_above & held_down].max(initial=0) < 1, \
            f"{name} is held back by a balloon beside free memory"
    assert tr.host.shared_saved[late].mean() > 20, "the idle VM's zero pages are shared"
    assert tr.vm("dbench").alloc[late].mean() > 240, "dbench gets the memory sharing saves"
    _, untaxed = run(0.0)
    assert tr.vm("idle").private[late].mean() < untaxed.vm("idle").private[late].mean() - 10, \
        "the tax reclaims the idle VM's private pages"


def test_no_trace_row_shows_a_state_its_free_memory_contradicts():
    """The state is judged at the end of the tick on the free memory the row records."""
    host = burst_host()
    tr = host.run(minutes=6)
    s = host.states
    for state, free in zip(tr.host.state.astype(int), tr.host.free * MB):
        deeper = [x for x in (SOFT, HARD, LOW) if x > state]
        assert all(free >= s.entry[x] for x in deeper), (state, free)
        assert state == HIGH or free <= s.thresholds[state - 1] + s.margin, (state, free)
    assert set(tr.host.state.astype(int)) >= {HIGH, LOW}, "the burst visits the states"


def test_figure7_and_the_tax_sweep_agree():
    """Their τ = 0.75 idle allocations are within 3 MB (the sweep runs Figure 7's history)."""
    from esxlab.experiments import fig7, tax_sweep
    for seed in (0, 3):
        a = fig7.run(seed=seed).value("idle VM alloc, τ = 0.75")
        b = tax_sweep.run(seed=seed, tax_step=0.75, tax_max=0.75).value("idle VM alloc, τ = 0.75")
        assert abs(a - b) <= 3, (seed, a, b)


# -- the decision log ----------------------------------------------------------------------------
def test_the_decision_log_prints_the_price_before_the_decision_and_what_moved():
    """ρ before the change (VMStats.rho's definition), increments, deflations, nothing rounded to 0."""
    host = esx.Host(esx.HostConfig(memory_mb=110, swap_mb=440, tax_rate=0.0, sharing=SharingConfig(mode="off")), seed=0)
    host.power_on(esx.VMConfig(name="idle", max_mb=64, overhead_mb=4, guest_os="windows"))
    host.power_on(esx.VMConfig(name="dbench", max_mb=64, overhead_mb=4), workload=W.Dbench(clients=10))
    host.run(minutes=8)
    host.set_tax_rate(0.75)
    tr = host.run(minutes=4)
    moved = [d for d in tr.decisions if d.tick == 8 * 60 + 1 and d.action.startswith("target")]
    assert {d.vm for d in moved} == {"idle", "dbench"}
    i = int(np.searchsorted(tr.t, 8 * 60))                 # the state the decision saw: the end of t = 480 s
    for d in moved:
        logged = float(re.search(r"ρ = ([0-9.e-]+)", d.why).group(1))
        v, row = host.vm(d.vm), tr.vm(d.vm)
        before = esx.policy.rho(v.shares, row.alloc[i] * MB, row.active[i] * MB, 0.75)
        assert logged == pytest.approx(before, rel=1e-3), "ρ at the allocation before the decision"
    idle_down = next(d for d in moved if d.vm == "idle")
    assert "lowest ρ" in idle_down.why and idle_down.action == "target down"
    actions = {d.action for d in tr.decisions}
    assert "inflate balloon" in actions and "deflate balloon" in actions
    assert not any(" 0.0 MB" in str(d) for d in host.trace.decisions)
    assert all(d.pages > 0 for d in host.trace.decisions if d.action != "block" and not d.action.startswith("state"))
    assert len(host.trace.decisions) < 200, "small periodic adjustments and repeats are coalesced"


def test_vmstats_rho_and_the_policy_share_one_definition():
    """VMStats.rho is policy.rho at the VM's allocation and active estimate."""
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    v = host.power_on(esx.VMConfig(name="a", max_mb=64), workload=W.Toucher([(0, 20)]))
    host.run(seconds=40)
    s = v.stats()
    assert s.rho == pytest.approx(esx.policy.rho(s.shares, v.alloc_pages, v.active_pages, host.tax_rate))
    # above its limit, its active estimate counts up to the limit, as revocation and the decision log count it (the
    # stats said 0.0796, the uncapped estimate's ρ, where the log beside them said 0.03222)
    host.set_limit("a", 16)
    host.step()
    s, logged = v.stats(), [d.why for d in host.trace.decisions if d.action.startswith("target")][-1]
    estimate = f"active 16 MB, its limit (estimate {v.active_pages / MB:.0f} MB)"
    assert v.active_pages > v.config.limit_pages and estimate in logged, logged
    assert s.rho == pytest.approx(esx.policy.rho(s.shares, v.alloc_pages, v.config.limit_pages, host.tax_rate))
    assert f"ρ = {s.rho:.4g} shares/page" in logged, (s.rho, logged)


def test_repeated_decisions_are_one_entry_with_a_tick_range():
    """Paging every second of a soft episode is one line, its pages summed."""
    host = burst_host()
    tr = host.run(minutes=3)
    ranged = [d for d in tr.decisions if d.until is not None]
    assert ranged and all(d.until > d.tick for d in ranged)
    assert any(f"t={d.tick:>5}–{d.until}s" in str(d) for d in ranged)


# -- issue 11's reclamation faults ---------------------------------------------------------------
def test_a_vm_below_its_min_makes_progress_when_host_swap_is_full_at_the_reservation():
    """34 MB host, 16 MB swap, min 32: the VM reaches its min and runs (issue 11, fault 2)."""
    host = esx.Host(esx.HostConfig(memory_mb=34, swap_mb=16, sharing=SharingConfig(mode="off")), seed=0)
    g = host.power_on(esx.VMConfig(name="g", max_mb=48, min_mb=32, overhead_mb=1, balloon="absent"),
                      workload=W.Toucher([(0, 40)], sweep_s=4))
    tr = host.run(minutes=3)
    assert g.stats().alloc >= 32, "never below its min"
    assert g.totals.stalls == 0
    ran = tr.vm("g").throughput[60:] > 0
    assert ran.mean() > 0.4, "it runs at least every other second"
    assert any(d.action == "block" and d.vm == "g" for d in tr.decisions), "the log says why it waits"


def test_a_vm_whose_min_is_its_max_is_never_swapped_by_the_sharing_table():
    """The table grows only into memory no reservation needs (issue 11, fault 4)."""
    host = esx.Host(esx.HostConfig(memory_mb=256, sharing=SharingConfig(scan_vm_pages_s=5000, scan_period_s=1)),
                    seed=0)
    v = host.power_on(esx.VMConfig(name="v", max_mb=256, min_mb=256, overhead_mb=0),
                      workload=W.Dbench(clients=40, mb_per_client=8))
    host.run(seconds=120)
    assert v.stats().swapped == 0 and v.totals.swap_outs == 0


@pytest.mark.parametrize("fill_mb", [36, 62])
def test_a_vm_at_its_min_is_not_paged_while_another_still_has_pages_above_its_min(fill_mb):
    """Min + overhead fill the host; b (min = max) faults ``fill_mb`` in while a's pages are
    compressed for it, two victims freeing one machine page. The fault pages a again, never b,
    whose min is a guarantee (§6.2), and once a has no private page left its compression cache
    goes to swap. Before, one round of the fault path's passes came up short and paged b itself
    (36 MB: 12 page-outs, the long stateful profile's case), and a's cache was memory no page-out
    could reach (62 MB: 305)."""
    host = esx.Host(esx.HostConfig(memory_mb=64, swap_mb=32, compression=True, compression_cache_pct=10,
                                   sharing=SharingConfig(mode="off")), seed=0)
    a = host.power_on(esx.VMConfig(name="a", max_mb=16, overhead_mb=2), workload=W.Toucher([(0, 12.8)], sweep_s=1))
    b = host.power_on(esx.VMConfig(name="b", max_mb=62, min_mb=62, overhead_mb=0),
                      workload=W.Toucher([(0, fill_mb)], sweep_s=1))
    tr = host.run(seconds=3)
    assert any(d.vm == a.name and d.action.startswith("compress") for d in tr.decisions), "a's pages compressed"
    assert b.totals.swap_outs == 0 and b.stats().swapped == 0
    check_conservation(host)


def test_a_fault_larger_than_memory_is_served_in_a_few_large_pieces(monkeypatch):
    """A 256 MB VM with no balloon writes 200 MB in one tick on a 96 MB host: its fault is served
    in pieces as large as reclamation can page (a handful of calls), not one page at a time
    once memory is full (7,893 calls and 107 s for three ticks before)."""
    calls = []
    real = esx.Host._make_free
    monkeypatch.setattr(esx.Host, "_make_free", lambda self, n, *a, **k: calls.append(n) or real(self, n, *a, **k))
    h = esx.Host(esx.HostConfig(memory_mb=96, swap_mb=512, sharing=esx.SharingConfig(mode="off")), seed=0)
    with WriteLog(h) as log:
        vm = h.power_on(esx.VMConfig(name="a", max_mb=256, overhead_mb=1, balloon="absent"),
                        workload=esx.workloads.Toucher([(0, 200)], sweep_s=1))
        booted = len(calls)
        h.run(seconds=3)
    assert vm.totals.swap_outs > 30 * esx.PAGES_PER_MB                # paged out 9,607 pages, before and now
    assert len(calls) - booted <= 20, len(calls) - booted
    log.check()
    check_conservation(h)


def test_taking_more_victims_for_a_page_never_takes_a_vm_below_the_floor_it_is_reclaimed_to():
    """A stage may take victims and free no machine page yet (compression keeps two to a page;
    share before swap may match two victims with each other), so a page-out takes more victims
    until one is freed, but never below the floor the VM is reclaimed to (its min, target or
    limit). Before, the per-tick limit path of a VM whose limit is its min took it one page below
    its min (the long stateful profile: 2048 → 2047 with the other VM above its min)."""
    host = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=32, overhead_mb=1), workload=W.Toucher([(0, 8)]))
    host.run(seconds=3)

    class Hoarding:                   # takes one victim a call, frees nothing: the worst stage
        action, taken = "page out", 0

        def __init__(self):
            self.calls = 0

        def swap_out(self, v, n, protect=None):
            self.calls += 1
            self.taken = 1
            v.pmap.set_state(v.pmap.state.nonzero()[0][:1], 0)       # one page leaves the VM, no frame freed
            return 0

    host.reclaimer.swapper = fake = Hoarding()
    start = vm.alloc_pages
    got, _ = host.reclaimer._page_out(vm, 10, floor=start - 4)
    assert got == 0 and vm.alloc_pages == start - 4 and fake.calls == 4, "stops at the floor, not one page under"


def test_a_vm_over_its_limit_is_not_paged_by_the_high_states_budget():
    """Once the limit's own budget (the swap daemon's rate) was spent, a second VM over its limit fell through to
    the general budget and was paged in the high state, logged "high state: page to reach target"."""
    host = esx.Host(esx.HostConfig(memory_mb=1024, high_state="idle", sharing=esx.SharingConfig(mode="off")), seed=0)
    for name in ("a", "b"):
        host.power_on(esx.VMConfig(name=name, max_mb=480, balloon="absent"),
                      workload=esx.workloads.Toucher([(0, 400)], sweep_s=5))
    host.run(seconds=40)
    assert host.states.name == "high"
    for name in ("a", "b"):
        host.set_limit(name, 200)
    seen = len(host.recorder.decisions)
    host.step()
    new = host.recorder.decisions[seen:]
    assert any("above its limit" in d.why for d in new)
    assert not [d for d in new if d.action == "page out" and d.why.startswith("high state")]


def test_the_decision_log_names_share_before_swap():
    """A page-out whose victims share instead (§4.3) was logged as "page out": Figure 8's boot read 533 MB paged
    where 80 MB reached the swap area. It reads "share / page out" now, as compression's stage names itself."""
    from esxlab.experiments import fig8
    run = fig8.run(seed=0, bench_start_min=8, minutes=18).traces["run"]
    shared = sum(d.pages for d in run.decisions if d.action.startswith("share / page out"))
    assert shared > 400 * PAGES_PER_MB
    off = fig8.run(seed=0, bench_start_min=8, minutes=18, sharing="off").traces["run"]
    assert [d for d in off.decisions if "page out" in d.action] and not [d for d in off.decisions if "share" in d.action]


@pytest.mark.parametrize("min_mb, told", [(224, True), (190, False)])
def test_a_low_state_with_nothing_to_reclaim_says_so_once(min_mb, told):
    """Two VMs whose mins and overhead reserve all 512 MB (admission control, §6.2, admits them) left the host in
    low for good, 0 MB free, with nothing in the log after its first page-outs. The log says, once, that low has
    nothing to reclaim and why; with smaller mins the host returns to high and nothing is said."""
    import esxlab as esx
    host = esx.Host(esx.HostConfig(memory_mb=512, sharing=esx.SharingConfig(mode="off")), seed=0)
    for name in "ab":
        host.power_on(esx.VMConfig(name=name, max_mb=256, min_mb=min_mb), workload=esx.workloads.Toucher(((0, 240),)))
    run = host.run(minutes=10)
    said = [d for d in run.decisions if d.action == "nothing to reclaim"]
    assert len(said) == told and (not told or "every VM is at or below its target" in said[0].why)
    assert (run.state_names()[-1] == "low") == told


def test_a_pop_of_an_empty_balloon_is_a_decision_too():
    """The reclaimer found pops by mirroring the balloon's total of pages popped, so a pop that released no pages
    (an empty balloon) was counted in ``pops`` but never logged. (The log folds the same decision within two
    seconds into one line, its pages summed: the lying driver's pops sum to its total.)"""
    import esxlab as esx
    host = esx.Host(esx.HostConfig(memory_mb=512, swap_mb=512), seed=0)
    host.power_on(esx.VMConfig(name="guest", max_mb=96), workload=esx.workloads.Idle())
    host.run(seconds=10)
    vm = host.vm("guest")
    assert vm.balloon.size == 0 and vm.balloon.pops == 0
    vm.balloon.pop(vm)
    host.step()
    pops = [d.pages for d in host.recorder.decisions if d.vm == "guest" and d.action == "balloon popped"]
    assert pops == [0] and vm.balloon.pops == 1


@pytest.mark.parametrize("free", [-5, 10 ** 9, "20", None, float("nan")])
def test_free_memory_states_refuse_what_is_not_a_count_of_free_pages(free):
    cfg = esx.HostConfig(memory_mb=240, swap_mb=512)
    states = FreeMemoryStates(cfg, cfg.total_pages)
    with pytest.raises(esx.ConfigError, match=r"free counts machine pages, not MB \(256 a MB\)"):
        states.update(free)
    assert states.name == "high"                       # the refused value changed nothing
    states.update(np.int64(2 * 256))                   # 2 MB of 240: below 1 %
    assert states.name == "low"


def test_a_balloon_inflated_in_high_says_it_is_esxlabs_reading():
    """Under ``high_state="converge"`` (the default) a balloon inflates in the high state,
    where §6.3 reclaims nothing; the decision log says so, not only "high state"."""
    tr = fig7.run(seed=0).traces["run"]
    high = [d for d in tr.decisions if d.action == "inflate balloon" and d.why.startswith("high state")]
    assert high, "Figure 7's tax change inflates the idle VM's balloon in high"
    assert all("esxlab's reading; §6.3 reclaims nothing in high" in d.why for d in high), high[0].why
    assert not [d for d in tr.decisions if "esxlab's reading" in d.why and not d.why.startswith("high state")]


def test_a_copy_on_write_fault_pages_the_others_not_the_writer_below_its_min():
    """A fault's copy-on-write breaks take machine pages but add nothing to the writer's alloc: the
    writer replaces its own pages only down to its min (the fault's second pass, §6.2), and the
    rest comes from a VM above its own min. Before, the writer (1,584 pages, min 1,536) paged 64 of
    its own for 64 breaks and ended at 1,530, below its min, while b kept its 32 MB."""
    host = esx.Host(esx.HostConfig.esx2002(memory_mb=64, swap_mb=64, tax_rate=0.0, large_pages=False), seed=0)
    a = host.power_on(esx.VMConfig(name="a", max_mb=8, min_mb=6, overhead_mb=0, guest_os="windows"),
                      workload=esx.workloads.Idle())
    b = host.power_on(esx.VMConfig(name="b", max_mb=32, overhead_mb=0), workload=esx.workloads.Toucher([(0, 30)]))
    host.run(seconds=40)
    shared = (a.pmap.state == SHARED).nonzero()[0][:64]
    assert len(shared) == 64 and a.alloc_pages - 64 < a.config.min_pages <= a.alloc_pages
    host.machine.alloc(host.machine.free, b.uid)          # no free machine memory: the fault must page
    a.write(shared, np.arange(64) + 12345)
    assert a.alloc_pages >= a.config.min_pages
    assert b.swapped_pages > 0, "b, above its min, gave the rest"


def test_a_stall_says_why_no_page_was_found():
    """A fault that finds nothing to page says why: host swap full, or every VM at its floor. It said "host swap is
    full" either way: a long stateful run stalled with 41,754 swap slots free, every page above target shared."""
    host = esx.Host(esx.HostConfig(memory_mb=64, swap_mb=256, sharing=SharingConfig(mode="off")), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=56, min_mb=56, overhead_mb=1),
                  workload=esx.workloads.Toucher([(0, 50)]))
    host.run(seconds=10)
    a = host.vm("a")
    with pytest.raises(esx.errors.Stall, match="no VM has pages paging may take") as e:     # a fault of a (within
        host.reclaimer.make_free(host.machine.free + 10, host.vms.values(), a, np.arange(a.pages), grows=0)  # target)
    assert "swap is full" not in str(e.value)
    # the host's own request (a VM's overhead at power-on), refused before any paging: a is at its min
    with pytest.raises(esx.errors.Stall, match=r"^10 machine pages short: the VMs above their min are charged only 0 "
                                               r"pages, the most paging could free$"):
        host.reclaimer.make_free(host.machine.free + 10, host.vms.values())


def test_a_fault_above_target_counts_only_pages_paging_can_take():
    """A VM above its target may be served only from its own pages and the others' excess; that excess counts the
    private pages only, since shared ones are never victims. Before, b's 1,680 shared pages counted, so a fault that
    could not be served paged 6,144 pages (a's and b's) for nothing before it stalled; now it stalls at once."""
    host = esx.Host(esx.HostConfig.esx2002(memory_mb=64, swap_mb=128, large_pages=False,
                                           sharing=SharingConfig(mode="esx", scan_vm_pages_s=2000,
                                                                 scan_total_pages_s=8000)), seed=0)
    a = host.power_on(esx.VMConfig(name="a", max_mb=16, overhead_mb=1),
                      workload=esx.workloads.Toucher([(0, 12)], sweep_s=1))
    b = host.power_on(esx.VMConfig(name="b", max_mb=16, overhead_mb=1, guest_os="windows"))
    host.run(seconds=60)
    private = b.pmap.count(esx.pmap.PRIVATE)
    assert b.pmap.count(SHARED) > 1000
    a.target = a.alloc_pages - 1                   # a above its target
    b.target = private // 2                        # b's excess: more than its private pages
    takeable = host.machine.free + a.private_pages() + min(b.alloc_pages - b.floor_pages, private)
    assert b.alloc_pages - b.floor_pages > private
    with pytest.raises(esx.errors.Stall, match="above its target"):
        host.reclaimer.make_free(takeable + 100, host.vms.values(), requester=a, protect=np.empty(0, dtype=np.intp))
    assert a.swapped_pages + b.swapped_pages == 0, "nothing paged for a fault that cannot be served"
