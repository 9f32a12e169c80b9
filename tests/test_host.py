"""The Host/VM API: power on/off, step/run, vm.touch/peek, stats, repr."""
from __future__ import annotations

import re
import time

import numpy as np
import pytest

import esxlab as esx
from esxlab import resources
from esxlab.config import PAGES_PER_MB
from esxlab.guest import PROFILES
from esxlab.pmap import UNBACKED
from esxlab.vm import VM

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


@pytest.mark.parametrize("call, sentence", [
    (lambda h: h.set_tax_rate(2), "host.set_tax_rate(tax_rate): tax_rate = 2 is out of range; allowed: 0 ≤ tax_rate < 1."),
    (lambda h: h.set_shares("a", -5), "host.set_shares('a', shares): shares = -5 is out of range; allowed: 0 ≤ shares "
                                      "≤ 1000000000."),
    (lambda h: h.set_min("a", 40), "host.set_min('a', min_mb): min_mb = 40 is larger than max_mb = 32; allowed: 0 ≤ "
                                   "min_mb ≤ max_mb."),
    (lambda h: h.set_limit("a", -1), "host.set_limit('a', limit_mb): limit_mb = -1 is out of range; allowed: 0 ≤ "
                                     "limit_mb ≤ 1048576."),
    (lambda h: h.set_balloon("a", "off"), "host.set_balloon('a', mode): mode = 'off' is not allowed; choose one of "
                                          "'cooperative', 'absent', 'disabled', 'uncooperative', 'lying'.")],
    ids=["set_tax_rate", "set_shares", "set_min", "set_limit", "set_balloon"])
def test_a_setter_names_itself_and_its_argument_not_the_configurations_field(call, sentence):
    """`host.set_tax_rate(2)` said "HostConfig.tax_rate = 2 is out of range", naming a configuration the user
    never wrote (and set_balloon's mode, "balloon = 'off'", the field it sets); the host and its configuration are
    left as they were."""
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=32))
    before = (host.config, vm.config)
    with pytest.raises(esx.ConfigError) as err:
        call(host)
    assert str(err.value) == sentence and (host.config, vm.config) == before


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


def test_the_log_prints_the_tax_rate_set_not_one_the_host_refuses():
    """set_tax_rate(0.999) was logged "tax rate set to 1.00" and "τ = 1.00", a rate set_tax_rate refuses (an API
    hunt): two decimals where they are exact, else the rate itself."""
    h = esx.Host(esx.HostConfig(memory_mb=256, tax_rate=0.0, sharing=esx.SharingConfig(mode="off")), seed=0)
    h.power_on(esx.VMConfig(name="idle", max_mb=200))
    h.power_on(esx.VMConfig(name="busy", max_mb=200), workload=esx.workloads.Toucher([(0, 190)]))
    h.run(minutes=2)
    h.set_tax_rate(0.999)
    why = [d.why for d in h.run(seconds=1).decisions if d.tick == h.time and d.action.startswith("target")]
    assert why and all("tax rate set to 0.999; " in w and w.endswith("τ = 0.999)") for w in why), why
    h.set_tax_rate(0.75)
    why = [d.why for d in h.run(seconds=1).decisions if d.tick == h.time and d.action.startswith("target")]
    assert why and all("tax rate set to 0.75; " in w and w.endswith("τ = 0.75)") for w in why), why


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


SCENARIOS = {
    "esx sharing": dict(memory_mb=600),
    "ksm sharing": dict(memory_mb=600, sharing=esx.SharingConfig(mode="ksm")),
    "compression under pressure": dict(memory_mb=400, compression=True),
    "esxi6 preset": dict(memory_mb=500, state_model="esxi6", large_pages=True, compression=True),
}


def dbench_host(**vm):
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=32, overhead_mb=2, **vm), workload="dbench")
    host.run(minutes=1, progress=False)
    return host, vm


def never_built(monkeypatch):
    """Make building a VM fail at once: a check that lets a huge VM through fails fast, holding nothing."""
    def refuse(*args, **kwargs):
        raise AssertionError("power_on went on to build the VM")

    monkeypatch.setattr(VM, "__init__", refuse)


def three_vm_host(config: esx.HostConfig, off: str = "") -> esx.Host:
    """Three VMs (idle Windows, dbench, a toucher) for three minutes; ``off`` is powered off after two."""
    host = esx.Host(config, seed=0)
    host.power_on(esx.VMConfig(name="idle", max_mb=256, guest_os="windows"), workload="idle")
    host.power_on(esx.VMConfig(name="db", max_mb=256), workload="dbench")
    host.power_on(esx.VMConfig(name="touch", max_mb=128, min_mb=64), workload="toucher")
    host.run(minutes=2)
    if off:
        host.power_off(off)
    host.run(minutes=1)
    return host


def test_power_on_refuses_vms_that_together_outgrow_this_computer(monkeypatch):
    """Each VM fitting alone is not enough: the VMs running together are added up (two 1 TB VMs on a
    23.5 GiB machine peaked at 97 % of its memory before)."""
    host = esx.Host(esx.HostConfig(memory_mb=512, swap_mb=512))
    a, b = (esx.VMConfig(name=n, max_mb=128, overhead_mb=4) for n in "ab")
    one = resources.vm_bytes(a.max_pages)
    monkeypatch.setattr(resources, "machine_bytes", lambda: int(1.5 * one / resources.USABLE_FRACTION))
    host.power_on(a)
    with pytest.raises(esx.ConfigError, match=r"power_on 'b' \(max_mb = 128\) with 1 VM running needs about"):
        host.power_on(b)
    assert list(host.vms) == ["a"]
    host.power_off("a")
    host.power_on(b)                          # room again once the first is off


def test_a_powered_off_vm_refuses_stats_and_holds_no_memory():
    host, vm = dbench_host()
    host.power_off("a")
    with pytest.raises(esx.ConfigError) as e:
        vm.stats()
    assert str(e.value) == ("vm.stats(): VM 'a' was powered off at t = 60 s and holds no memory; its history is in "
                            "host.trace.vm('a'); allowed: vm.stats() of a running VM (host.vm(name) gives one).")
    assert vm.alloc_pages == 0 and vm.swapped_pages == 0 and vm.pmap.count(UNBACKED) == vm.pages
    assert (vm.pmap.mpn == -1).all() and host.stats().free > host.config.memory_mb - 1
    free = host.machine.free
    for call in (lambda: vm.peek([0]), lambda: vm.touch([0])):
        with pytest.raises(esx.ConfigError, match="was powered off at t = 60 s"):
            call()
    assert host.machine.free == free                             # the refused touch took no machine page
    assert np.isfinite(host.trace.vm("a").alloc).all()           # the history stays
    again = host.power_on(esx.VMConfig(name="a", max_mb=32, overhead_mb=2))
    assert again.stats().max == 32


@pytest.mark.parametrize("ppns,problem", [
    (np.array([8192]), "holds PPN 8192, outside 0 ≤ PPN < 8192"),
    (np.array([-1]), "holds PPN -1, outside 0 ≤ PPN < 8192"),
    (np.array([0.0, 1.0]), "holds float64 values, not integers (.astype(int) makes them PPNs)"),
    (np.array([0.5]), "holds float64 values, not integers (0.5 is no PPN)"),
    ([2 ** 70], "holds PPN 1180591620717411303424, outside 0 ≤ PPN < 8192"),
    ([1, "a"], "holds 'a' (str), not an integer PPN"),
    (np.array([[0, 1], [2, 3]]), "has 2 dimensions"),
    (5, "is one PPN, not an array (write [5])"),
    (None, "is not an array of PPNs"),
    ("0", "is not an array of PPNs"),
    (np.ones(8192, bool), "is a boolean mask (give the PPNs it selects: np.flatnonzero(mask))"),
    (np.ma.masked_array([1, 9999], mask=[False, True]),      # before: the mask was ignored, PPN 9999 refused
     "has masked entries, which esxlab would not skip (give the PPNs left unmasked: x[~x.mask])"),
])
def test_peek_says_what_is_wrong_with_its_ppns(ppns, problem):
    host, vm = dbench_host()
    with pytest.raises(esx.ConfigError) as e:
        vm.peek(ppns)
    assert problem in str(e.value)
    assert str(e.value).startswith("vm.peek(ppns): ppns ")
    assert str(e.value).endswith("allowed: a 1-D array (or list) of integer PPNs, 0 ≤ PPN < vm.pages = 8192, "
                                 "e.g. np.arange(vm.pages).")


def test_write_refuses_masked_tokens():
    """Before: vm.write(ppns, tokens) with a masked array of tokens wrote its masked entries too (the mask ignored)."""
    host, vm = dbench_host()
    before = vm.peek([0, 1])
    tokens = np.ma.masked_array(np.array([7, 8], dtype=np.uint64), mask=[False, True])
    with pytest.raises(esx.ConfigError) as e:
        vm.write([0, 1], tokens)
    assert str(e.value) == ("vm.write(ppns, tokens): tokens = a MaskedArray of shape (2,) (uint64) has masked entries, "
                            "which esxlab would not skip (give the tokens left unmasked and their PPNs: "
                            "vm.write(ppns[~x.mask], x[~x.mask])); allowed: a 1-D array of whole numbers ≥ 0 (page "
                            "contents), one per PPN of ppns (2), e.g. vm.mint.take(len(ppns)).")
    assert (vm.peek([0, 1]) == before).all()
    vm.write([0], tokens[~tokens.mask])                           # a mask with nothing masked, or none, is fine
    vm.write([1], np.ma.masked_array([8], mask=[False]))
    assert (vm.peek([0, 1]) == [7, 8]).all()


def test_peek_takes_a_list_and_an_empty_one():
    host, vm = dbench_host()
    assert np.array_equal(vm.peek([0, 1, 2]), vm.peek(np.arange(3)))
    assert vm.peek([]).shape == (0,)


def test_touch_refuses_a_ppn_twice_and_keeps_the_accounting_when_it_faults():
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=32, overhead_mb=2))        # idle: most pages unbacked
    with pytest.raises(esx.ConfigError, match="holds PPN 3 twice"):
        vm.touch(np.array([3, 3]))
    unbacked = np.flatnonzero(vm.pmap.state == UNBACKED)[:10].tolist()
    before, free = vm.alloc_pages, host.machine.free
    vm.touch(unbacked)
    assert len(unbacked) == 10 and vm.alloc_pages == before + 10 and host.machine.free == free - 10


def test_drop_backing_is_no_longer_public():
    """On its own it left the pages' states behind (a host's free memory rose while the VM's alloc did not):
    only the host's power_off and the balloon use it."""
    host, vm = dbench_host()
    assert not hasattr(vm, "drop_backing")


def test_the_engine_never_calls_the_checked_entry_points(monkeypatch):
    """The checks cost the hot path nothing: a run with faults, ballooning, paging and a power-off goes
    through none of them."""
    def refuse(*args, **kwargs):
        raise AssertionError("the engine called a checked entry point")

    monkeypatch.setattr(VM, "_user_ppns", refuse)
    monkeypatch.setattr(VM, "_running", refuse)
    host = esx.Host(esx.HostConfig(memory_mb=96), seed=1)
    host.power_on(esx.VMConfig(name="a", max_mb=64, overhead_mb=2), workload="dbench")
    host.power_on(esx.VMConfig(name="b", max_mb=64, overhead_mb=2, guest_os="windows"), workload="dbench")
    host.run(minutes=3, progress=False)
    assert host.trace.vm("a").balloon.max() > 0 and host.trace.vm("a").swapped.max() > 0
    host.power_off("b")
    host.run(seconds=5, progress=False)


def test_a_vm_whose_kernel_would_page_out_for_minutes_is_refused_up_front(monkeypatch):
    never_built(monkeypatch)
    host = esx.Host()
    free, started = host.machine.free, time.perf_counter()
    with pytest.raises(esx.ConfigError) as e:
        host.power_on(esx.VMConfig(name="a", max_mb=262144))
    assert time.perf_counter() - started < 1 and not host.vms and host.machine.free == free
    text = str(e.value)
    assert text.startswith("power_on 'a' (max_mb = 262144): its guest kernel (26,219 MB) is larger than the 480 MB "
                           "of machine memory this host has for it, so its boot would page out 25,739 MB a megabyte "
                           "at a time: about 2 min of computing (esxlab refuses a power-on estimated above 60 s); ")
    most = int(text.split("max_mb ≤ ")[1].split()[0])
    kernel = PROFILES["linux"].kernel_pages

    def estimate(mb):
        return resources.power_on_seconds(mb, kernel(mb) / 256, 480)

    assert estimate(most) <= resources.POWER_ON_LIMIT_S < estimate(most + 1)


def test_a_vm_whose_boot_takes_seconds_is_still_allowed():
    """16 GB on the default 512 MB host: about a second of paging at boot (fuzzing report: 0.4 s)."""
    assert resources.power_on_seconds(16384, PROFILES["linux"].kernel_pages(16384) / 256, 480) < 10
    host = esx.Host()
    host.power_on(esx.VMConfig(name="a", max_mb=8192))
    assert host.vm("a").swapped_pages > 0                          # its 824 MB kernel partly paged out (§6.2)


def test_power_on_counts_the_vms_swap_file_in_the_memory_it_needs(monkeypatch):
    """1 TB: 15 GB of VM arrays (VMConfig's own check lets it through on a 24 GiB computer), plus 6 GB of
    swap file of max − min, created at power-on."""
    monkeypatch.setattr(resources, "machine_bytes", lambda: 24 << 30)
    never_built(monkeypatch)
    config = esx.VMConfig(name="a", max_mb=1 << 20)
    with pytest.raises(esx.ConfigError, match=r"^power_on 'a' \(max_mb = 1048576\) with 0 VMs running \(swap files "
                                              r"of max − min included\) needs about 20\.0 GiB .* allowed: a smaller VM\.$"):
        esx.Host().power_on(config)


def test_host_names_a_parameter_it_does_not_take():
    with pytest.raises(esx.ConfigError, match=r"^Host has no parameter 'memory'; its parameters are: config, "
                                              r"replacement, seed\.$"):
        esx.Host(memory=512)
    with pytest.raises(esx.ConfigError, match=r"^Host has no parameter 'memory_mb': it is a field of HostConfig; "
                                              r"allowed: Host\(HostConfig\(memory_mb=…\), seed=…\)"):
        esx.Host(memory_mb=512)


def test_a_powered_off_vm_takes_no_memory_by_any_way_in():
    """After power_off, vm.touch_range and vm.read (public names the engine
    calls) still faulted pages in for the old VM object, memory the host never got back (212.6 → 134.5 MB free)."""
    host = esx.Host(esx.HostConfig(memory_mb=256), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=128), workload="idle")
    host.power_on(esx.VMConfig(name="b", max_mb=64), workload="idle")
    host.run(seconds=60)
    host.power_off("a")
    free = host.machine.free
    for call in (lambda: vm.touch_range(0, 20000), lambda: vm.read(np.arange(5000)),
                 lambda: vm.write(np.arange(10), np.arange(10, dtype=np.uint64))):
        with pytest.raises(esx.ConfigError, match="was powered off at t = 60 s"):
            call()
    assert host.machine.free == free and vm.alloc_pages == 0
    assert repr(vm) == "<VM 'a' max_mb=128 alloc_mb=0.0 powered off at t=60s>"
    assert repr(host.vm("b")).startswith("<VM 'b' max_mb=64 alloc_mb=") and "running, t=60s" in repr(host.vm("b"))
    host.run(seconds=10)


@pytest.mark.parametrize("lo, hi", [(32760, 40000), (-10, 5), (10, 5), (1.5, 3), (0, 3.0), ("0", 3)])
def test_touch_range_outside_the_vm_is_a_sentence(lo, hi):
    host = esx.Host(esx.HostConfig(memory_mb=256), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=128), workload="idle")
    with pytest.raises(esx.ConfigError, match=r"allowed: whole numbers with 0 ≤ lo ≤ hi ≤ vm.pages = 32768"):
        vm.touch_range(lo, hi)


@pytest.mark.parametrize("off", ["", "db"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_host_memory_adds_up_exactly(scenario, off):
    """Memory adds up: total == Σ alloc + overhead + free + sharing_table − shared_saved (HostStats' docstring)."""
    host = three_vm_host(esx.HostConfig(**SCENARIOS[scenario]), off)
    s = host.stats()
    alloc = sum(v.alloc for v in host.vm_stats().values())
    assert s.sharing_table == host.sharing.table_pages / PAGES_PER_MB > 0
    assert alloc + s.overhead + s.free + s.sharing_table - s.shared_saved == s.total
    if scenario.startswith("compression"):
        assert host.compression.pages > 0          # the cache held machine pages, counted in alloc
    tr = host.trace
    assert tr.host.sharing_table[-1] == s.sharing_table


def test_hoststats_docstring_states_the_identity():
    doc = esx.HostStats.__doc__
    assert "total == Σ alloc + overhead + free + sharing_table − shared_saved" in doc
    assert "compression cache" in doc and "``sharing_table`` (MB)" in doc


def test_the_vm_docstring_says_its_target_is_in_pages_where_its_stats_give_mb():
    """``vm.target`` (pages) and ``vm.stats().target`` (MB) differ by PAGES_PER_MB; help(VM) said neither."""
    doc = " ".join(esx.VM.__doc__.split())
    assert "``target`` (the allocation §6.1's policy gives it, in pages, where ``vm.stats().target`` is MB)" in doc
    host = esx.Host(esx.HostConfig(memory_mb=96), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=64), workload="dbench")
    host.run(seconds=40)
    assert vm.target < vm.pages and vm.stats().target == vm.target / esx.PAGES_PER_MB


def test_host_has_a_real_docstring():
    """help(esx.Host) says what it owns, its main methods, units and an example."""
    doc = esx.Host.__doc__
    assert "README" not in doc
    for word in ("power_on", "power_off", "run", "step", "stats", "vm_stats", "trace", "set_tax_rate", "MB",
                 "Example::"):
        assert word in doc, word
    example = doc.split("Example::")[1]
    code = "\n".join(line.strip() for line in example.strip().splitlines())
    exec(code, {**{n: getattr(esx, n) for n in ("Host", "HostConfig", "VMConfig")}, "print": lambda *a: None})


class _FailsAt(esx.workloads.Workload):
    """Touches its first page every tick; raises at tick ``at`` while ``broken``."""

    def __init__(self, at: int) -> None:
        self.at, self.broken = at, True

    def attach(self, vm_pages, uid, rng):
        super().attach(vm_pages, uid, rng)
        return 16

    def step(self, t):
        if self.broken and t == self.at:
            raise RuntimeError("a bug in my workload")
        return esx.workloads.Access(np.array([0]), np.array([False]))


def test_a_tick_an_error_stopped_half_way_stops_the_host():
    """A workload of one's own raised at t = 3: the host's clock was then a second ahead of its trace, and after the
    bug was fixed it ran on with t = 3 missing from the trace (t = 2, 4, 5, …). The host now refuses to run on, saying
    where and why it stopped; its trace so far stays readable."""
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    wl = _FailsAt(3)
    host.power_on(esx.VMConfig(name="a", max_mb=32), workload=wl)
    with pytest.raises(RuntimeError, match="a bug in my workload"):
        host.run(seconds=10)
    wl.broken = False
    for again in (lambda: host.run(seconds=5), host.step):
        with pytest.raises(esx.HostStopped, match=r"stopped in the middle of the tick at t = 3 s \(RuntimeError: a bug "
                                                   r"in my workload\).*Build a new Host") as raised:
            again()
        assert isinstance(raised.value, esx.Error)
    assert host.trace.t.tolist() == [1, 2] and host.time == 3


class _InterruptedAt(_FailsAt):
    def step(self, t):
        if t == self.at:
            raise KeyboardInterrupt
        return super().step(t)


def test_an_interrupt_inside_a_tick_stops_the_host_too():
    """run() defers Ctrl-C to between two ticks; a loop of one's own over host.step() (as fig6 and two exercises
    step) does not, and an interrupt raised mid-tick left the same hole in the trace (t = 1, 3, 4, …)."""
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=32), workload=_InterruptedAt(2))
    with pytest.raises(KeyboardInterrupt):
        for _ in range(5):
            host.step()
    with pytest.raises(esx.HostStopped, match=r"at t = 2 s \(KeyboardInterrupt: \)"):
        host.step()
    assert host.trace.t.tolist() == [1]


def test_the_logged_rho_of_a_vm_above_its_limit_is_the_one_revocation_prices_it_at():
    """A VM touching more than its limit: revocation counts its active estimate up to the limit (later ESX), but the
    log printed ρ with the whole estimate, 0.042 where revocation used 0.017, and could name the wrong VM lowest."""
    from esxlab.policy import rho
    host = esx.Host(esx.HostConfig(memory_mb=256, swap_mb=256), seed=0)
    host.power_on(esx.VMConfig("a", 64), workload=esx.workloads.Toucher([(0, 32)], sweep_s=2))
    host.power_on(esx.VMConfig("b", 64), workload=esx.workloads.Toucher([(0, 8)], sweep_s=2))
    host.run(minutes=3)
    a = host.vm("a")
    alloc, active = a.alloc_pages, a.active_pages
    assert active > 8 * esx.PAGES_PER_MB, "the VM touches more than the limit about to be set"
    host.set_limit("a", 8)
    host.step()
    logged = next(d for d in host.trace.decisions if d.vm == "a" and d.action == "target down" and d.tick == host.time)
    used = rho(a.shares, alloc, 8 * esx.PAGES_PER_MB, host.tax_rate)
    assert f"lowest ρ = {used:.4g} shares/page" in logged.why, logged.why
    assert f"active 8 MB, its limit (estimate {active / esx.PAGES_PER_MB:.0f} MB)" in logged.why, logged.why


@pytest.mark.parametrize("args, said", [
    (("", "", 1, "why"), "note.action = '' is not allowed; allowed: a non-empty string."),
    (("", "act", 1, 3), "note.why = 3 is not allowed; allowed: a non-empty string."),
    (("", "act", -1, "why"), "note.pages = -1 is out of range; allowed: 0 ≤ pages."),
])
def test_note_refuses_in_one_form(args, said):
    """note's text arguments were refused as "note action = '': allowed: …", its pages as "note.pages = -1 is out of
    range; …" (an API hunt): one form, the parameter as note.<name>."""
    with pytest.raises(esx.ConfigError) as e:
        esx.Host().note(*args)
    assert str(e.value) == said


def test_a_vm_given_a_powered_off_vm_s_name_logs_entries_of_its_own():
    """The log merges the same decision again within two seconds into one entry; a VM powered on under the name of one
    just powered off had its entries merged into the old VM's (an API hunt's reading of Host._log)."""
    h = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    h.power_on(esx.VMConfig(name="a", max_mb=32))
    h.note("a", "held by the experiment", 5, "why")
    h.note("a", "held by the experiment", 5, "why")            # the same VM: one entry of 10 pages
    h.power_off("a")
    h.power_on(esx.VMConfig(name="a", max_mb=32))
    h.note("a", "held by the experiment", 3, "why")
    mine = [d.pages for d in h.trace.decisions if d.action == "held by the experiment"]
    assert mine == [10, 3]


def test_a_vms_page_calls_refuse_a_bad_ppn_and_never_write_another_vms_page():
    """Before: vm.store of an unbacked PPN (MPN −1) wrote the last machine page, b's; vm.read([-1]) read the last PPN;
    an out-of-range PPN gave a bare IndexError; vm.write([-1], …) wrote the last PPN."""
    host = esx.Host(esx.HostConfig(memory_mb=256), seed=0)
    vm = host.power_on(esx.VMConfig(name="a", max_mb=64), workload="idle")
    b = host.power_on(esx.VMConfig(name="b", max_mb=64), workload="idle")
    host.run(seconds=5)
    assert not hasattr(vm, "store"), "the engine's unchecked store is private (vm.write is the checked way in)"
    theirs = b.peek(np.arange(b.pages))
    unbacked = np.flatnonzero(vm.pmap.state == UNBACKED)[:3]
    last = vm.peek([vm.pages - 1])
    for call, fragment in [(lambda: vm.read(np.array([-1])), "holds PPN -1, outside 0 ≤ PPN < 16384"),
                           (lambda: vm.read([vm.pages]), "holds PPN 16384, outside 0 ≤ PPN < 16384"),
                           (lambda: vm.read([3, 3]), "holds PPN 3 twice"),
                           (lambda: vm.write(np.array([-1]), np.array([7], dtype=np.uint64)), "holds PPN -1"),
                           (lambda: vm.write(np.array([vm.pages]), np.array([7], dtype=np.uint64)), "PPN 16384"),
                           (lambda: vm.write(unbacked, np.array([7])), "tokens = array([7]); allowed: a 1-D array"),
                           (lambda: vm.write(unbacked, -np.ones(3, dtype=int)), "whole numbers ≥ 0")]:
        with pytest.raises(esx.ConfigError, match="allowed: ") as info:
            call()
        assert fragment in str(info.value)
    assert (vm.peek([vm.pages - 1]) == last).all()
    vm.write(unbacked, np.array([7, 8, 9], dtype=np.uint64))     # unbacked pages: faulted in, then written
    assert (vm.read(unbacked) == [7, 8, 9]).all() and (b.peek(np.arange(b.pages)) == theirs).all()
    host.power_off("a")
    with pytest.raises(esx.ConfigError, match="was powered off at t = 5 s"):
        vm.write(unbacked, np.array([1, 2, 3], dtype=np.uint64))
    assert (b.peek(np.arange(b.pages)) == theirs).all()
