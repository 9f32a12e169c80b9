import re

import numpy as np
import pytest

import esxlab as esx
from conftest import small_host
from invariants import WriteLog, check_conservation

MB = esx.PAGES_PER_MB


def two_vm_host(tax_rate=0.75, seed=0, memory_mb=110, **kw):
    kw.setdefault("sharing", esx.config.SharingConfig(mode="off"))   # the tax alone (Fig. 7 runs without it)
    return add_two_vms(small_host(memory_mb=memory_mb, seed=seed, tax_rate=tax_rate, **kw))


def add_two_vms(host):
    host.power_on(esx.VMConfig(name="idle", max_mb=64, overhead_mb=4, guest_os="windows"))
    host.power_on(esx.VMConfig(name="dbench", max_mb=64, overhead_mb=4),
                  workload=esx.workloads.Dbench(clients=10, accesses_per_s=2000))
    return host


def test_conservation_every_tick_and_nothing_lost():
    host = small_host(memory_mb=110)
    with WriteLog(host) as log:
        add_two_vms(host)
        for _ in range(240):
            host.step()
            check_conservation(host)
            for s in host.vm_stats().values():
                assert s.private + s.shared + s.balloon + s.swapped + s.unbacked == pytest.approx(s.max)
        log.check()
    assert host.vm("dbench").totals.swap_outs + host.vm("idle").totals.swap_outs > 0, "test should exercise paging"


def test_same_seed_same_trace_other_seed_other_trace():
    a = two_vm_host(seed=3).run(minutes=3)
    b = two_vm_host(seed=3).run(minutes=3)
    c = two_vm_host(seed=4).run(minutes=3)
    for f in ("alloc", "balloon", "swapped", "active", "throughput"):
        assert np.array_equal(getattr(a.vm("dbench"), f), getattr(b.vm("dbench"), f), equal_nan=True)
    assert [str(d) for d in a.decisions] == [str(d) for d in b.decisions]
    assert not np.array_equal(a.vm("dbench").throughput, c.vm("dbench").throughput)


def settled(host, from_min):
    """Run 8 + 4 min; the idle and dbench allocations and dbench's throughput over the last 4 min, and the trace."""
    host.run(minutes=8)
    tr = host.run(minutes=4)
    sel = tr.minutes >= from_min
    return np.mean(tr.vm("idle").alloc[sel]), np.mean(tr.vm("dbench").alloc[sel]), \
        np.mean(tr.vm("dbench").throughput[sel]), tr


def test_figure7_qualitative_idle_tax_moves_memory_to_the_active_vm():
    """With τ = 0 equal shares give equal allocations; τ = 0.75 moves idle memory to dbench, which speeds up."""
    host = two_vm_host(tax_rate=0.0)
    idle0, db0, thr0, _ = settled(host, 8)
    assert abs(idle0 - db0) < 6, "equal shares, τ = 0: equal allocations"
    host.set_tax_rate(0.75)
    idle1, db1, thr1, after = settled(host, 20)
    assert idle1 < idle0 - 10 and db1 > db0 + 10
    assert thr1 > 1.1 * thr0
    assert any("lowest ρ" in d.why and d.vm == "idle" for d in after.decisions)


def test_power_off_returns_everything():
    host = two_vm_host()
    host.run(minutes=3)
    free_before = host.machine.free
    host.power_off("dbench")
    check_conservation(host)
    assert host.machine.free > free_before
    host.power_off("idle")
    assert host.machine.free == host.machine.total and host.swapfile.used == 0


def test_low_state_blocks_vms_above_target():
    host = small_host(memory_mb=64, swap_rate_mb_s=0.5)
    host.power_on(esx.VMConfig(name="a", max_mb=60, overhead_mb=1, balloon="absent"),
                  workload=esx.workloads.Toucher([(0, 55)], sweep_s=2))
    host.power_on(esx.VMConfig(name="b", max_mb=60, overhead_mb=1, balloon="absent"),
                  workload=esx.workloads.Toucher([(0, 55)], sweep_s=2))
    tr = host.run(minutes=2)
    assert "low" in tr.state_names()
    low = tr.host.state == esx.STATES.index("low")
    blocked = tr.vm("a").blocked + tr.vm("b").blocked
    assert blocked[low].sum() > 0
    check_conservation(host)


def test_double_paging_happens_and_is_counted():
    # the host pages the guest at random (no balloon); then the guest, short of memory itself,
    # writes out pages the host had already swapped: double paging (§3.1)
    host = small_host(memory_mb=64)
    host.power_on(esx.VMConfig(name="g", max_mb=48, overhead_mb=1, balloon="absent"),
                  workload=esx.workloads.Toucher([(0, 30), (40, 46)], sweep_s=3))
    host.power_on(esx.VMConfig(name="h", max_mb=48, overhead_mb=1, balloon="absent"),
                  workload=esx.workloads.Toucher([(0, 40)], sweep_s=3))
    host.run(minutes=4)
    assert host.vm("g").totals.double_paging + host.vm("h").totals.double_paging > 0


def test_the_configuration_is_the_one_truth_every_setter_changes():
    """Mid-run setters replace ``host.config`` / the VM's ``config``; what runs reads them from there."""
    host = esx.Host(esx.HostConfig(memory_mb=128, tax_rate=0.75), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=32))
    host.set_tax_rate(0.0)
    assert host.config.tax_rate == 0.0 == host.tax_rate
    host.set_shares("a", 500)
    assert vm.config.shares == 500 == vm.shares == vm.stats().shares
    host.set_shares("a", None)
    assert vm.shares == host.config.shares_per_mb * 32, "None is the default: shares per MB × max"
    host.set_min("a", 8)
    assert vm.config.min_mb == 8
    host.set_balloon("a", "disabled")
    assert vm.config.balloon == "disabled" == vm.balloon.mode
    host.set_limit("a", 16)
    assert vm.config.limit_mb == 16 and vm.config.limit_pages == 16 * esx.PAGES_PER_MB


def test_the_decision_log_gives_every_change_since_the_last_targets_as_their_reason():
    """Shares set, then τ set to what it was: the targets that move say both, not only the last."""
    W = esx.workloads
    h = esx.Host(esx.HostConfig(memory_mb=512, tax_rate=0.0, sharing=esx.SharingConfig(mode="off")), seed=0)
    h.power_on(esx.VMConfig(name="a", max_mb=400), workload=W.Toucher([(0, 380)]))
    h.power_on(esx.VMConfig(name="b", max_mb=400), workload=W.Toucher([(0, 380)]))
    first = [d.why for d in h.run(seconds=1).decisions if d.action.startswith("target")]
    assert first and all(w.startswith("a powered on; b powered on; ") for w in first), first
    h.run(minutes=1)
    h.set_shares("a", 8000)
    h.set_tax_rate(0.0)
    moved = [d for d in h.run(seconds=1).decisions if d.tick == h.time and d.action.startswith("target")]
    assert {d.vm for d in moved} == {"a", "b"}
    assert all("a shares set to 8000; tax rate set to 0.00; " in d.why for d in moved), [str(d) for d in moved]


def test_the_invariants_hold_for_the_last_uid_a_host_can_name():
    """The 32,767th VM (the largest 16-bit owner code) is checked like any other."""
    from esxlab.machine import MAX_UID
    h = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    h._next_uid = MAX_UID                                   # as if 32,766 VMs had come and gone
    h.power_on(esx.VMConfig(name="last", max_mb=8, overhead_mb=1), workload=esx.workloads.Toucher([(0, 4)]))
    h.run(seconds=10)
    check_conservation(h)


def test_runs_inside_quietly_print_no_progress_unless_asked(capsys, monkeypatch):
    """The experiments' runner shows a bar per task, so the runs in its tasks print no line of their own."""
    monkeypatch.setattr(esx.host, "PROGRESS_AFTER_S", 0.0)          # as if each minute took seconds
    host = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    with esx.host.quietly():
        host.run(seconds=120)
        assert capsys.readouterr().err == ""
        host.run(seconds=120, progress=True)
        assert "simulated 2/2 min" in capsys.readouterr().err, "asked for, it is shown"
    host.run(seconds=120)
    assert "simulated 2/2 min" in capsys.readouterr().err, "outside, a long run shows it again"


def test_the_progress_line_gives_the_rate_and_the_time_left(capsys, monkeypatch):
    """A mistyped minutes=1_000_000 showed only "simulated 957/1000000 min": now the line says how fast the
    run goes (simulated minutes per wall second) and how long it has left, by tqdm's estimate."""
    monkeypatch.setattr(esx.host, "PROGRESS_AFTER_S", 0.0)          # as if each minute took seconds
    small_host(memory_mb=64).run(seconds=180)
    last = capsys.readouterr().err.split("\r")[-1]
    assert re.fullmatch(r"  simulated 3/3 min at [\d.]+k? min/s, 00:00 left\n", last), last
