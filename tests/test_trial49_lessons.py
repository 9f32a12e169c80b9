"""A student's trial of notebooks 09, 10 and 11: the fixes, each checked on the lesson as a reader and a kernel see it."""
from __future__ import annotations

import json

import pytest

import esxlab as esx
from esxlab import views
from esxlab.views.controls import control
from esxlab.views.lesson import Question
from notebook_cells import cell, cells, run_until, text

W = esx.workloads


def _guard(name: str, marker: str) -> str:
    """The source of the collapsed check cell of ``name`` containing ``marker``."""
    found = [c for c in cells(name) if c.cell_type == "code" and marker in c.source
             and "guard" in c.metadata.get("tags", [])]
    assert len(found) == 1, (name, marker)
    return found[0].source


# -- 1. 10's dashboard: the pressure reaches the guest after its driver has loaded; every mode differs ----------
@pytest.fixture(scope="module")
def ten() -> dict:
    return run_until("10_security", 'title="Balloon driver modes"')


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
    two = text("10_security", "### Balloon modes (§3.2)")
    assert "(191 000 against 180 000 in three minutes)" in two and "(83 000 against 170 000)" in two
    assert "about an eighth faster" in two and "196 000" not in two and "nearly a fifth faster" not in two
    assert "starts at 30 s" in text("10_security", "### Predict first")
    guard = _guard("10_security", "reads, writes")
    assert '{"cooperative": 191000, "disabled": 180000}' in guard and 'modes["lying"][2] > 0' in guard


# -- 2. esxlab's own balloon rules are marked as esxlab's ------------------------------------------------------
def test_10_invented_rules_are_marked():
    crux = text("10_security", "## 1. The crux")
    assert "ESX measures a balloon's progress" not in crux
    assert "the next interaction with the driver resets its state" in crux
    assert "esxlab's own rules (invented) are these: it measures a balloon's progress in **machine pages" in crux
    row = next(line for line in cell("10_security", "### Balloon modes").splitlines() if line.startswith("| lying"))
    assert "no longer counted on (esxlab's rule, invented;" in row
    question = text("10_security", "A guest's balloon driver lies")
    assert "is esxlab's rule (invented;" in question and "its own rule, invented" in question


def test_pop_reason_cites_the_paper_for_the_pop_only():
    host = esx.Host(esx.HostConfig(memory_mb=176, swap_mb=512), seed=0)
    host.power_on(esx.VMConfig(name="honest", max_mb=96), workload=W.Dbench(clients=12))
    host.power_on(esx.VMConfig(name="guest", max_mb=96, balloon="lying"),
                  workload=W.Delayed(W.Dbench(clients=12), start_s=30))
    host.run(seconds=60, progress=False)
    pops = [d for d in host.trace.decisions if d.action == "balloon popped"]
    assert pops
    assert all("rather than count on the driver (§3.2)" not in d.why and "(invented)" in d.why
               and "(a pop, §3.2" in d.why for d in pops)
    caught = [d for d in host.trace.decisions if "not counted on again" in d.why]
    assert caught and all("by esxlab's rule (invented)" in d.why for d in caught)


# -- 3. check cells hold after a student moves a control ---------------------------------------------------------
def test_09_guard_passes_after_moving_tau_and_can_fail():
    ns = run_until("09_dynamic_reallocation", "views.ExperimentDashboard(fig8")
    ns["dash"].set(tax_rate=0.0)
    guard = _guard("09_dynamic_reallocation", "the paper's numbers are shown")
    exec(guard, ns)                       # τ = 0 on the dashboard: the checks still check τ = 0.75
    ns["dash"].defaults = {**ns["dash"].defaults, "tax_rate": 0.0}
    with pytest.raises(AssertionError):   # the check cell still checks something
        exec(guard, ns)


def test_10_salting_guard_passes_after_moving_salting():
    ns = run_until("10_security", 'title="Salting"')
    ns["salt"].set(**{"sharing.force_salting": 1})
    guard = _guard("10_security", "without salting the attacker")
    exec(guard, ns)
    ns["salt"].defaults = {"sharing.force_salting": 1}
    with pytest.raises(AssertionError):
        exec(guard, ns)


def test_11_guard_passes_after_moving_pages_to_scan():
    ns = run_until("11_esx_vs_ksm", "four = {mode: lesson_sharing")
    ns["dash"].set(**{"sharing.ksm_pages_to_scan": 10})
    guard = _guard("11_esx_vs_ksm", "ksm4, esx4")
    exec(guard.split("# the Try it's longer run")[0], ns)     # (the rest does not read the dashboard)
    ns["dash"].defaults = {**ns["dash"].defaults, "sharing.ksm_pages_to_scan": 10}
    with pytest.raises(AssertionError, match="the dashboard's run is the Reveal's"):
        exec(guard, ns)


# -- 4. the salting label says what mode 2 does ----------------------------------------------------------------
def test_salting_label_two():
    spec = esx.config.SharingConfig.controls()["force_salting"]
    labels = dict((v, k) for k, v in control("sharing.force_salting", spec).options)
    assert labels[2] == "2: equal salts share; a VM without one, only with itself"
    assert "every VM has its own salt" not in json.dumps(labels)


# -- 5. the Why? panel follows the VM box ------------------------------------------------------------------------
def test_why_panel_follows_the_vm_box():
    dash = views.SimDashboard(esx.HostConfig(memory_mb=176, swap_mb=512),
                              [(esx.VMConfig(name="a", max_mb=96), W.Dbench(clients=12)),
                               (esx.VMConfig(name="b", max_mb=96), W.Dbench(clients=12))], minutes=1, watch="b",
                              why_follows_vm=True)
    assert dash.vm_pick.value == "b"
    assert dash.why.shown and all(d.vm in ("b", "") for d in dash.why.shown)
    assert "about b or the whole host" in dash.why.widget.value
    dash.vm_pick.value = "a"
    assert dash.why.shown and all(d.vm in ("a", "") for d in dash.why.shown)


def test_why_panel_all_vms_shows_every_vm():
    dash = views.ExperimentDashboard(esx.experiments.fig8, ["tax_rate"], trace_key="run",
                                     fixed=dict(minutes=18, bench_start_min=8), sum_vms=True,
                                     why_follows_vm=True)
    assert dash.vm_pick.value == views.dashboards.ALL_VMS
    decisions = dash.run.trace.decisions
    assert dash.why.shown == [d for d in decisions if d.tick <= dash.run.trace.t[-1]][-dash.why.limit:]
    dash.vm_pick.value = "sql"
    assert dash.why.shown and all(d.vm in ("sql", "") for d in dash.why.shown)
    assert "ρ" in " ".join(d.why for d in [d for d in decisions if d.vm == "sql"])


def test_why_panel_without_the_option_shows_every_vm():
    dash = views.SimDashboard(esx.HostConfig(memory_mb=176, swap_mb=512),
                              [(esx.VMConfig(name="a", max_mb=96), W.Dbench(clients=12)),
                               (esx.VMConfig(name="b", max_mb=96), W.Dbench(clients=12))], minutes=1, watch="b")
    assert {d.vm for d in dash.why.shown} - {""} == {"a", "b"}


def test_09_and_10_panels_follow_the_vm_box():
    assert "why_follows_vm=True" in cell("09_dynamic_reallocation", "views.ExperimentDashboard(fig8")
    assert "why_follows_vm=True" in cell("10_security", 'title="Balloon driver modes"')


def test_09_try_it_says_how_to_pick_a_vm():
    assert "pick a VM in the *VM* box and the panel lists that VM's decisions" in text(
        "09_dynamic_reallocation", "## Try it")


# -- 6. where the page-outs are counted --------------------------------------------------------------------------
def test_10_try_it_points_to_the_counters_table():
    tried = text("10_security", "## Try it")
    assert "(the panel's page-outs)" not in tried and "the counters table's *swap outs*, in 4 KB pages" in tried


# -- 7. balloons at esxlab's boot peak -----------------------------------------------------------------------------
def test_09_says_balloons_hold_memory_at_the_boot_peak():
    crux = text("09_dynamic_reallocation", "## 1. The crux")
    assert "at esxlab's boot peak 137 MB are already in balloons" in crux
    assert 'round(missing["balloon"]) == 137' in _guard("09_dynamic_reallocation", "saved_by_formula")


# -- 8. KSM's pages_to_scan is greyed out where it changes nothing -------------------------------------------------
def test_11_pages_to_scan_disabled_unless_ksm():
    ns = run_until("11_esx_vs_ksm", 'title="ESX vs KSM"')
    dash = ns["dash"]
    scan = dash.controls["sharing.ksm_pages_to_scan"]
    assert not scan.disabled
    dash.set(**{"sharing.mode": "esx"})
    assert scan.disabled and not dash.applies("sharing.ksm_pages_to_scan")
    assert all(v["sharing.ksm_pages_to_scan"] == dash.values["sharing.ksm_pages_to_scan"]
               for v in dash.neighbours(dash.values))        # no run is precomputed for a control that does nothing
    dash.set(**{"sharing.mode": "off"})
    assert scan.disabled
    dash.set(**{"sharing.mode": "ksm"})
    assert not scan.disabled


# -- 9. small things in the Questions ------------------------------------------------------------------------------
def test_11_hint_keeps_the_counters_name():
    q = eval(cell("11_esx_vs_ksm", "What is pages_sharing"), {"Question": Question})
    said = q.check(9).message
    assert "pages_sharing counts" in said and "Pages_sharing" not in said


def test_09_question_1_names_the_likely_slips():
    q = eval(cell("09_dynamic_reallocation", "How many MB does page sharing save?"), {"Question": Question})
    generic = q.check(100).message
    for slip, words in ((136, "leaves out the 20 MB of free memory"), (116, "subtracts the free memory"),
                        (176, "counts the 20 MB of free memory twice")):
        said = q.check(slip).message
        assert words in said and said != generic, (slip, said)
    assert q.check(156).correct
