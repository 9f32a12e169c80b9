"""Accesses a guest had no page for are counted (``Counters.guest_oom``; per tick against the guest's own count:
``tests/test_guest.py``) and shown in the events table."""
import esxlab as esx
from esxlab.views.components import CounterTable


def _short_guest(seconds: int):
    """A 16 MB guest asked to touch ≈ 11,700 distinct pages a tick (it holds 4,096); its guest_oom each tick."""
    host = esx.Host(esx.HostConfig(memory_mb=512, sharing=esx.SharingConfig(mode="off")), seed=0)
    vm = host.power_on(esx.VMConfig(name="d", max_mb=16),
                       workload=esx.workloads.Dbench(clients=40, accesses_per_s=20000))
    per_tick = []
    for _ in range(seconds):
        host.step()
        per_tick.append(vm.counters.guest_oom)
    return vm, per_tick


def test_a_short_guest_counts_every_tick_and_since_power_on():
    vm, per_tick = _short_guest(5)
    assert min(per_tick[1:]) > 4096 and vm.totals.guest_oom == sum(per_tick)


def test_a_guest_with_room_counts_none():
    host = esx.Host(esx.HostConfig(memory_mb=512), seed=0)
    vm = host.power_on(esx.VMConfig(name="d", max_mb=256), workload=esx.workloads.Dbench())
    host.run(seconds=120)
    assert vm.totals.accesses > 0 and vm.totals.guest_oom == 0


def test_the_events_table_shows_and_explains_it():
    vm, _ = _short_guest(2)
    table = CounterTable()
    table.update({"d": vm.totals})
    assert table.values["d"]["guest_oom"] == vm.totals.guest_oom > 0
    assert "guest oom" in table.widget.value and "no page for some accesses" in table.widget.value
