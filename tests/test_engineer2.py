"""A fresh engineer's review (stop 38): four bugs where mechanisms meet, each found by reading the code."""
import copy
import dataclasses

import numpy as np

import esxlab as esx
from esxlab.errors import Stall
from esxlab.pmap import BALLOONED


def test_a_copied_host_reads_its_own_tax_rate():
    """``experiments.common.fork`` deep-copies a host; its VMs read τ through a closure over the original host,
    so the copy's ρ used the original's τ (0.219 where 0.082, in the reviewer's run)."""
    host = esx.Host(esx.HostConfig(memory_mb=512, tax_rate=0.0), seed=0)
    host.power_on(esx.VMConfig(name="idle", max_mb=256, guest_os="windows"))
    host.run(seconds=60)
    fork = copy.deepcopy(host)
    fork.set_tax_rate(0.75)
    vm = fork.vm("idle")
    assert vm.stats().rho == vm.rho(0.75) != vm.rho(0.0)
    assert host.vm("idle").stats().rho == host.vm("idle").rho(0.0)


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


def test_accesses_the_guest_had_no_room_for_are_not_counted_as_work():
    """A 16 MB guest asked to touch ≈ 11,700 pages a tick serves only what fits; the rest were dropped but still
    counted in its throughput."""
    host = esx.Host(esx.HostConfig(memory_mb=512, sharing=esx.SharingConfig(mode="off")), seed=0)
    vm = host.power_on(esx.VMConfig(name="d", max_mb=16),
                       workload=esx.workloads.Dbench(clients=40, accesses_per_s=20000))
    served, shorts = [], []
    access = vm.guest.access

    def counted(lps, writes):
        shorts.append(access(lps, writes))
        served.append(len(lps) - shorts[-1])
        return shorts[-1]
    vm.guest.access = counted
    host.run(seconds=5)
    assert served[-1] < 0.5 * vm.workload.accesses_per_s       # the guest is short of pages
    assert vm.throughput == vm._throughput(served[-1])
    assert vm.counters.guest_oom == shorts[-1] and vm.totals.guest_oom == sum(shorts)     # and counts them


def test_a_fault_served_in_pieces_pops_the_balloon_once():
    """When a fault is served in pieces, each piece used the page states read before the first: after the first
    piece popped the balloon, the next saw its pages still ballooned and popped it again (0 pages)."""
    host = esx.Host(esx.HostConfig(memory_mb=512, sharing=esx.SharingConfig(mode="off")), seed=0)
    vm = host.power_on(esx.VMConfig(name="v", max_mb=64), workload=esx.workloads.Idle())
    host.run(seconds=5)
    free = (vm.guest.ppn_lp < 0).nonzero()[0][:64]
    vm.balloon_pages(free)
    vm.balloon.held = free.astype(np.int64)
    make_free = vm.env.make_free

    def in_pieces(n, requester=None, protect=None, partial=False):
        if not partial:
            raise Stall("pieces, please")
        return make_free(min(n, 16), requester, protect, partial)
    vm.env = dataclasses.replace(vm.env, make_free=in_pieces)
    assert (vm.pmap.state[free] == BALLOONED).all()
    vm.touch(free)
    assert vm.balloon.pops == 1 and vm.balloon.unlogged_pops == [64]
