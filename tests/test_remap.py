"""Hot I/O page remapping (paper §7): bounce copies, remapping hot pages to low memory, moving
cold ones back, and the accounting of it all."""
import numpy as np
import pytest

import esxlab as esx
from esxlab.config import RemapConfig
from esxlab.workloads import Access, NetServer
from invariants import WriteLog, check_conservation

MB = esx.PAGES_PER_MB


def net_host(enabled=True, low_mb=16.0, memory_mb=128, seed=0, workload=None, vm=True, **kw):
    cfg = esx.HostConfig(memory_mb=memory_mb, remap=RemapConfig(enabled=enabled, low_memory_mb=low_mb, **kw))
    host = esx.Host(cfg, seed=seed)
    return add_web(host, workload) if vm else host


def add_web(host, workload=None):
    host.power_on(esx.VMConfig(name="web", max_mb=32, overhead_mb=1),
                  workload=workload or NetServer(buffers=64, packets_per_s=2000, data_mb=8))
    return host


def test_remapping_cuts_bounce_copies_by_orders_of_magnitude():
    off = net_host(enabled=False).run(minutes=5)
    on_host = net_host(enabled=True)
    on = on_host.run(minutes=5)
    assert off.host.bounce_copies.sum() == pytest.approx(2000 * 300, rel=0.01), "all buffers sit in high memory"
    ratio = off.host.bounce_copies.sum() / max(1, on.host.bounce_copies.sum())
    assert ratio > 100, f"only {ratio:.0f}× fewer bounce copies"
    assert on.host.bounce_copies[-60:].sum() == 0, "once remapped, the buffers never bounce again"
    assert on.host.bounce_copies.sum() == 64 * 16, "each buffer pays threshold copies, then moves"
    r = on_host.remap.stats()
    assert r.remaps == 64 and r.remapped_pages == 64 and r.bounce_copies == on.host.bounce_copies.sum()
    assert on_host.stats().bounce_copies == on.host.bounce_copies[-1]
    web = on_host.vm("web")
    assert web.totals.bounce_copies == r.bounce_copies
    # and the cost shows up in throughput
    assert np.mean(on.vm("web").throughput[-60:]) > np.mean(off.vm("web").throughput[-60:])


def copies_packet_by_packet(buffers, packets, threshold, window_s, seconds):
    """§7's rule played one packet at a time, round-robin over the buffers (the reference the
    simulator's per-buffer arithmetic must match): a transmit from a high page is one bounce
    copy; the copy that brings the page's count to ``threshold`` is its last, and the page is in
    low memory for every packet after it, in that second too. Copies per second."""
    count, last, low, nxt, out = [0] * buffers, [None] * buffers, [False] * buffers, 0, []
    for t in range(1, seconds + 1):
        n = 0
        for k in range(packets):
            b = (nxt + k) % buffers
            if low[b]:
                continue
            if last[b] is not None and t - last[b] > window_s:
                count[b] = 0
            last[b] = t
            n += 1
            count[b] += 1
            low[b] = count[b] >= threshold
        nxt = (nxt + packets) % buffers
        out.append(n)
    return out


@pytest.mark.parametrize("buffers, packets, threshold, window_s", [
    (64, 2000, 16, 10),      # the defaults: 16 copies a buffer, all in the first second
    (64, 2000, 100, 10),     # 31.25 packets a buffer a second: three whole seconds, then 400 copies
    (16, 1003, 250, 10),     # not a multiple: the buffers cross the threshold in the fourth second
    (64, 50, 3, 1),          # fewer packets than buffers: a buffer's count restarts after a 2 s gap
])
def test_a_page_is_remapped_at_the_copy_that_reaches_the_threshold(buffers, packets, threshold, window_s):
    """§7: "When a page's count exceeds a threshold, the page is transparently remapped": at that
    I/O, within the second — the transfers after it, that second's too, are not copied. (Before,
    the remapper moved the page after the second's batch, having copied the whole batch.)"""
    host = net_host(threshold=threshold, window_s=window_s,
                    workload=NetServer(buffers=buffers, packets_per_s=packets, data_mb=1))
    tr = host.run(seconds=40)
    want = copies_packet_by_packet(buffers, packets, threshold, window_s, 40)
    assert tr.host.bounce_copies.tolist() == want
    assert want[0] > 0 and want[-1] == 0 and host.remap.stats().remaps == buffers
    if window_s == 10:
        assert sum(want) == buffers * threshold, "every buffer pays exactly threshold copies"
    off = net_host(enabled=False, workload=NetServer(buffers=buffers, packets_per_s=packets, data_mb=1))
    assert (off.run(seconds=40).host.bounce_copies == packets).all(), "the buffers start in high memory"


def test_pages_without_io_are_never_moved_and_nothing_is_lost():
    cfg = esx.HostConfig(memory_mb=128, remap=RemapConfig(low_memory_mb=16, threshold=4, window_s=3))
    host = esx.Host(cfg, seed=2)
    with WriteLog(host) as log:
        web = host.power_on(esx.VMConfig(name="web", max_mb=32, overhead_mb=1),
                            workload=NetServer(buffers=32, packets_per_s=500, data_mb=8, reads_per_s=2000))
        host.run(seconds=30)
        g = web.guest
        data = g.lp_ppn[32:][g.lp_ppn[32:] >= 0]
        kernel = np.arange(g.kernel_pages)
        before = web.pmap.mpn[np.concatenate([data, kernel])].copy()
        host.run(seconds=90)
        after = web.pmap.mpn[np.concatenate([data, kernel])]
        assert (before == after).all(), "a page that never saw I/O was moved"
        assert (after >= host.machine.low_pages).all()
        buffers = g.lp_ppn[:32]
        assert (web.pmap.mpn[buffers] < host.machine.low_pages).all(), "every network buffer is remapped"
        check_conservation(host)
        log.check()


def test_remapping_carries_the_contents_of_pages_sent_as_they_are():
    host = net_host(low_mb=0.25, threshold=4, window_s=5, vm=False)
    with WriteLog(host) as log:
        add_web(host, NetServer(buffers=48, packets_per_s=400, rewrite=False))
        host.run(seconds=90)
        assert host.remap.stats().remaps == 48
        log.check()
        check_conservation(host)


class TwoPhaseNet(NetServer):
    """Transmits from buffers [0, 64) until ``switch_s``, then from [64, 128) (test helper)."""

    def __init__(self, switch_s):
        super().__init__(buffers=128, packets_per_s=1000, data_mb=1)
        self.switch_s = switch_s

    def step(self, t):
        half = 64 * (t >= self.switch_s)
        sent = half + np.arange(self.packets_per_s) % 64
        lps = np.unique(sent)
        return Access(lps, np.ones(len(lps), dtype=bool), io=sent)


def test_cold_remapped_pages_make_room_when_low_memory_runs_out():
    # low memory holds exactly 64 pages: the second set of hot buffers must displace the first
    host = net_host(low_mb=0.25, threshold=8, window_s=5, vm=False)
    with WriteLog(host) as log:
        add_web(host, TwoPhaseNet(switch_s=120))
        tr = host.run(minutes=4)
        check_conservation(host)
        log.check()
    g, low = host.vm("web").guest, host.machine.low_pages
    mpn = host.vm("web").pmap.mpn
    assert (mpn[g.lp_ppn[64:128]] < low).all(), "the new hot buffers took the low pages"
    assert (mpn[g.lp_ppn[:64]] >= low).all(), "the cold ones went back to high memory"
    r = host.remap.stats()
    assert r.moved_back >= 64 and r.low_mb == pytest.approx(0.25)
    assert tr.host.bounce_copies[-60:].sum() == 0
    assert tr.host.bounce_copies[120:140].sum() > 0, "the switch costs bounce copies until remapping catches up"


def test_a_small_host_is_all_low_memory_and_never_bounces():
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)          # default boundary 4 GB > 128 MB
    host.power_on(esx.VMConfig(name="web", max_mb=32, overhead_mb=1), workload=NetServer())
    tr = host.run(seconds=60)
    assert host.machine.low_pages == host.machine.total
    assert tr.host.bounce_copies.sum() == 0 and host.remap.stats().remaps == 0


def test_a_vm_with_no_low_pages_free_and_nothing_cold_keeps_bouncing():
    host = net_host(low_mb=0.0, threshold=2)
    tr = host.run(seconds=60)
    assert tr.host.bounce_copies[-10:].min() == 2000
    assert host.remap.stats().remap_failed > 0 and host.remap.stats().remaps == 0


@pytest.mark.parametrize("make, words", [
    (lambda: RemapConfig(threshold=0), ["threshold", "0", "1 ≤ threshold"]),
    (lambda: RemapConfig(threshold=2.5), ["threshold", "whole number"]),
    (lambda: RemapConfig(window_s=0), ["window_s", "0"]),
    (lambda: RemapConfig(low_memory_mb=-1), ["low_memory_mb", "-1"]),
    (lambda: RemapConfig(low_memory_mb=0.001), ["low_memory_mb = 0.001", "one 4 KB page", "0 (no low memory)",
                                                "low_memory_mb ≥ 0.00390625"]),     # it was 0 pages, silently
    (lambda: esx.HostConfig(memory_mb=512, remap=RemapConfig(low_memory_mb=1024)),
     ["low_memory_mb", "1024", "beyond machine memory", "512"]),
    (lambda: esx.HostConfig(remap=RemapConfig), ["HostConfig.remap", "RemapConfig"]),
    (lambda: NetServer(buffers=0), ["buffers", "0"]),
])
def test_bad_remap_config(make, words):
    with pytest.raises(esx.ConfigError) as e:
        make()
    for w in words:
        assert w in str(e.value)


def test_a_powered_off_vms_remapped_pages_are_no_longer_counted():
    """RemapStats.remapped_pages counts pages held in low memory now: none once their VM is off."""
    host = esx.Host(esx.HostConfig(memory_mb=128, remap=esx.RemapConfig(low_memory_mb=16)), seed=0)
    host.power_on(esx.VMConfig(name="web", max_mb=48, overhead_mb=1), workload=esx.workloads.NetServer(buffers=64))
    host.run(seconds=30)
    assert host.remap.stats().remapped_pages == 64
    host.power_off("web")
    host.run(seconds=5)
    assert host.remap.stats().remapped_pages == 0 and host.remap.stats().low_free_mb == 16


def test_a_remapped_page_leaves_its_large_page_broken():
    """Moving a page to its own low machine page takes it out of its 2 MB large page (later ESX), as
    paging and ballooning do."""
    host = esx.Host(esx.HostConfig.esxi6(memory_mb=256, remap=esx.RemapConfig(low_memory_mb=64)), seed=0)
    vm = host.power_on(esx.VMConfig(name="web", max_mb=48, overhead_mb=1), workload=esx.workloads.NetServer(buffers=64))
    host.run(seconds=30)
    remapped = [p for uid, p in host.remap.remapped if uid == vm.uid]
    assert remapped and not vm.in_large(np.array(remapped)).any()


def test_a_netserver_hands_each_buffer_to_the_remapper_once_per_second():
    """At 10⁶ packets/s the remapper sees one entry per buffer with its packets, not one per packet."""
    host = net_host(workload=NetServer(buffers=64, packets_per_s=10 ** 6, data_mb=1))
    calls, io = [], host.remap.io

    def spy(vm, ppns, *transfers):
        calls.append((len(ppns), *transfers))
        io(vm, ppns, *transfers)

    host.remap.io = spy
    host.run(seconds=3)
    assert calls and max(c[0] for c in calls) <= 64
    assert all(n == len(t) and t.sum() == 10 ** 6 for n, t in calls)


class PerPacketNet(NetServer):
    """NetServer with one ``io`` entry per packet, round-robin from ``_next`` (test helper: the rule
    the per-buffer counts must reproduce)."""

    def step(self, t):
        sent = (self._next + np.arange(self.packets_per_s)) % self.buffers
        acc = super().step(t)
        return Access(acc.lps, acc.writes, io=sent)


@pytest.mark.parametrize("buffers, packets, threshold, low_mb", [
    (16, 100_003, 10 ** 4, 16.0),      # several packets per buffer, not a multiple
    (64, 50, 2, 16.0),                 # fewer packets than buffers: the round-robin wraps over seconds
    (48, 48 * 1000 + 47, 5000, 0.125),  # low memory runs out: remaps fail or trade places
])
def test_per_buffer_counts_remap_exactly_as_one_count_per_packet(buffers, packets, threshold, low_mb):
    runs = []
    for make in (NetServer, PerPacketNet):
        host = net_host(low_mb=low_mb, threshold=threshold, window_s=3, workload=make(buffers, packets, data_mb=1))
        runs.append((host, host.run(seconds=40)))
    (a, ta), (b, tb) = runs
    assert (ta.host.bounce_copies == tb.host.bounce_copies).all() and ta.host.bounce_copies.sum() > 0
    assert a.remap.stats() == b.remap.stats() and list(a.remap.remapped) == list(b.remap.remapped)
    uid = a.vm("web").uid
    assert (a.remap.count[uid] == b.remap.count[uid]).all() and (a.remap.last_io[uid] == b.remap.last_io[uid]).all()
    assert (a.vm("web").pmap.mpn == b.vm("web").pmap.mpn).all()


class CustomIO(NetServer):
    """A NetServer subclass handing over ``io_transfers`` of its own (test helper)."""

    def __init__(self, transfers):
        super().__init__(buffers=4, packets_per_s=0, data_mb=1)
        self.transfers = transfers

    def step(self, t):
        return Access(np.arange(4), np.ones(4, dtype=bool), io=np.arange(4), io_transfers=self.transfers)


@pytest.mark.parametrize("transfers, words", [
    (np.array([1, 2, 3]), ["Access.io_transfers = array([1, 2, 3])", "one entry per entry of Access.io (4)"]),
    (np.array([1, -2, 3, 4]), ["Access.io_transfers", "whole numbers 0 ≤ n ≤ 1,000,000,000"]),
    (np.array([1.0, 2.0, 3.0, 4.0]), ["Access.io_transfers", "whole numbers"]),
    (5, ["Access.io_transfers = 5", "None"]),
])
def test_bad_io_transfers(transfers, words):
    host = net_host(workload=CustomIO(transfers))
    with pytest.raises(esx.ConfigError) as e:
        host.run(seconds=1)
    for w in words:
        assert w in str(e.value)


def test_io_transfers_from_a_workload_of_ones_own_count_like_repeats():
    """A workload outside esxlab may give ``io_transfers`` (checked, then passed on); 0 is no transfer."""
    host = net_host(workload=CustomIO(np.array([3, 0, 1, 2])), threshold=10 ** 6)
    tr = host.run(seconds=5)
    assert (tr.host.bounce_copies == 6).all()
    last = host.remap.last_io[host.vm("web").uid][host.vm("web").guest.lp_ppn[:4]]
    assert last[1] < 0 <= last[0]
