"""Accesses a guest had no page for are counted (``Counters.guest_oom``) and shown in the events table."""
import esxlab as esx
from esxlab.views.components import CounterTable


def _short_guest(seconds: int = 5):
    """A 16 MB guest asked to touch ≈ 11,700 distinct pages a tick: it holds 4,096."""
    host = esx.Host(esx.HostConfig(memory_mb=512, sharing=esx.SharingConfig(mode="off")), seed=0)
    vm = host.power_on(esx.VMConfig(name="d", max_mb=16),
                       workload=esx.workloads.Dbench(clients=40, accesses_per_s=20000))
    shorts = []
    access = vm.guest.access

    def counted(lps, writes):
        shorts.append(access(lps, writes))
        return shorts[-1]
    vm.guest.access = counted
    host.run(seconds=seconds)
    return host, vm, shorts


def test_the_pages_a_guest_had_no_room_for_are_counted_per_tick_and_since_power_on():
    host, vm, shorts = _short_guest()
    assert shorts[-1] > 0 and vm.counters.guest_oom == shorts[-1]
    assert vm.totals.guest_oom == sum(shorts) > 5 * 4096


def test_a_guest_with_room_counts_none():
    host = esx.Host(esx.HostConfig(memory_mb=512), seed=0)
    vm = host.power_on(esx.VMConfig(name="d", max_mb=256), workload=esx.workloads.Dbench())
    host.run(seconds=120)
    assert vm.totals.accesses > 0 and vm.totals.guest_oom == 0


def test_the_events_table_shows_and_explains_it():
    host, vm, _ = _short_guest(seconds=2)
    table = CounterTable()
    table.update({"d": vm.totals})
    assert table.values["d"]["guest_oom"] == vm.totals.guest_oom > 0
    assert "guest oom" in table.widget.value and "no page for some accesses" in table.widget.value
