"""Nothing lost, isolation and conservation under random seeds and set-ups (Hypothesis)."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import esxlab as esx
from invariants import WriteLog, check_conservation

WORKLOADS = st.sampled_from([
    lambda: esx.workloads.Idle(),
    lambda: esx.workloads.Dbench(clients=4, mb_per_client=8, accesses_per_s=400),
    lambda: esx.workloads.Toucher([(0, 12), (40, 30), (80, 6)], sweep_s=3),
])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2 ** 31), memory_mb=st.integers(56, 120),
       vms=st.lists(st.tuples(WORKLOADS, st.sampled_from(["linux", "windows"]),
                              st.sampled_from(["cooperative", "absent", "uncooperative", "lying"]),
                              st.integers(16, 40)), min_size=1, max_size=3),
       tax=st.sampled_from([0.0, 0.5, 0.75]), replacement=st.sampled_from(["random", "clock"]))
def test_guests_read_their_last_write_whatever_the_host_does(seed, memory_mb, vms, tax, replacement):
    host = esx.Host(esx.HostConfig(memory_mb=memory_mb, swap_mb=200, tax_rate=tax, replacement=replacement),
                    seed=seed)
    with WriteLog(host) as log:
        for i, (wl, os_, balloon, max_mb) in enumerate(vms):
            try:
                host.power_on(esx.VMConfig(name=f"vm{i}", max_mb=max_mb, overhead_mb=1, guest_os=os_,
                                           balloon=balloon), workload=wl())
            except esx.AdmissionError:
                pass
        for _ in range(4):
            host.run(seconds=20)
            check_conservation(host)
            log.check()


def test_same_seed_same_everything():
    def run(seed):
        host = esx.Host(esx.HostConfig(memory_mb=90, swap_mb=200), seed=seed)
        host.power_on(esx.VMConfig(name="a", max_mb=48, overhead_mb=1),
                      workload=esx.workloads.Dbench(clients=6, accesses_per_s=500))
        host.power_on(esx.VMConfig(name="b", max_mb=48, overhead_mb=1, guest_os="windows"),
                      workload=esx.workloads.Toucher([(0, 30)]))
        host.run(minutes=2)
        return host
    a, b = run(11), run(11)
    for name in ("a", "b"):
        assert np.array_equal(a.vm(name).pmap.mpn, b.vm(name).pmap.mpn)
        assert np.array_equal(a.vm(name).pmap.state, b.vm(name).pmap.state)
    assert np.array_equal(a.machine.content, b.machine.content)
