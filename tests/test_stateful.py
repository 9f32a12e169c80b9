"""Stateful property tests (issue 7): random sequences of power on/off, workloads, parameter
changes and ticks on small hosts; after every step the memory manager's invariants hold.

Profiles: ``ESXLAB_HYPOTHESIS=long`` runs many more and longer random sequences (default: ``ci``,
derandomized so the suite is deterministic). Page sharing (ESX, KSM or off, scan rates, salting)
is drawn per host, salts per VM.
"""
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, initialize, invariant, multiple, rule

import esxlab as esx
from esxlab.admission import reserved
from esxlab.config import SharingConfig
from invariants import MinGuard, ReadLog, check_conservation, check_reservations, check_sharing

MB = esx.PAGES_PER_MB
MODES = ("cooperative", "absent", "disabled", "uncooperative", "lying")

settings.register_profile("esxlab-ci", max_examples=80, stateful_step_count=30, deadline=None, derandomize=True,
                          database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("esxlab-long", max_examples=400, stateful_step_count=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROFILE = settings.get_profile("esxlab-" + os.environ.get("ESXLAB_HYPOTHESIS", "ci"))

workloads = st.one_of(
    st.builds(esx.workloads.Idle),
    st.builds(esx.workloads.Dbench, clients=st.integers(1, 4), mb_per_client=st.sampled_from([2.0, 4.0, 8.0]),
              accesses_per_s=st.integers(20, 400), write_fraction=st.sampled_from([0.0, 0.2, 1.0])),
    st.builds(lambda a, t, b, sweep: esx.workloads.Toucher([(0, a), (t, b)], sweep_s=sweep),
              st.integers(0, 48), st.integers(1, 120), st.integers(0, 48), st.sampled_from([1, 3, 5])),
)
sharing_configs = st.builds(SharingConfig, mode=st.sampled_from(["esx", "esx", "ksm", "off"]),
                            scan_vm_pages_s=st.sampled_from([0, 50, 2000]),
                            scan_total_pages_s=st.sampled_from([0, 200, 8000]), force_salting=st.sampled_from([0, 1, 2]),
                            ksm_pages_to_scan=st.sampled_from([0, 100, 2000]))


class HostMachine(RuleBasedStateMachine):
    """One host under a random history; the rules mirror the public API."""

    names = Bundle("names")

    def __init__(self):
        super().__init__()
        self.host = None
        self.log = None
        self.guard = None
        self.counter = 0
        self.stale = False

    @initialize(memory_mb=st.integers(64, 160), swap_factor=st.sampled_from([0.5, 1.0, 2.0]),
                tax=st.sampled_from([0.0, 0.5, 0.75, 0.95]), seed=st.integers(0, 2 ** 16),
                entry=st.sampled_from(["own", "higher"]), sharing=sharing_configs)
    def make_host(self, memory_mb, swap_factor, tax, seed, entry, sharing):
        self.host = esx.Host(esx.HostConfig(memory_mb=memory_mb, swap_mb=swap_factor * memory_mb, tax_rate=tax,
                                            state_entry=entry, realloc_period_s=5, sharing=sharing), seed=seed)
        self.log = ReadLog(self.host).__enter__()        # before any power_on
        self.guard = MinGuard(self.host).__enter__()

    def teardown(self):
        if self.guard is not None:
            self.guard.__exit__()
        if self.log is not None:
            self.log.__exit__()

    # -- VMs ----------------------------------------------------------------------------------
    @rule(target=names, max_mb=st.integers(8, 64), min_frac=st.sampled_from([0.0, 0.0, 0.25, 0.5, 1.0]),
          overhead_mb=st.integers(0, 4), os_=st.sampled_from(["linux", "windows"]), mode=st.sampled_from(MODES),
          workload=workloads, shares=st.sampled_from([None, 0, 100, 1000]), salt=st.sampled_from([None, None, 1, 2]))
    def power_on(self, max_mb, min_frac, overhead_mb, os_, mode, workload, shares, salt):
        self.counter += 1
        cfg = esx.VMConfig(name=f"vm{self.counter}", max_mb=max_mb, min_mb=round(min_frac * max_mb),
                           overhead_mb=overhead_mb, guest_os=os_, balloon=mode, shares=shares, salt=salt)
        mem, swap = reserved([v.config for v in self.host.vms.values()] + [cfg])
        fits = mem <= self.host.config.total_pages and swap <= self.host.swapfile.capacity
        try:
            self.host.power_on(cfg, workload=workload)
        except esx.AdmissionError as e:
            assert cfg.name not in self.host.vms, "a refused VM must not stay half-made"
            # reservations ignore the page-sharing table: a VM that fits may still find no page to boot with
            assert not fits or self.host.machine.free < MB, f"admission refused a VM whose reservations fit: {e}"
            return multiple()
        assert fits, "admission let in a VM whose reservations do not fit"
        self.stale = True                       # its target is set at the next tick
        return cfg.name

    @rule(name=consumes(names))
    def power_off(self, name):
        if name in self.host.vms:
            self.host.power_off(name)

    # -- parameters ---------------------------------------------------------------------------
    @rule(tax=st.floats(0, 0.99))
    def set_tax_rate(self, tax):
        self.host.set_tax_rate(tax)

    @rule(name=names, shares=st.sampled_from([0, 1, 50, 640, 5000]))
    def set_shares(self, name, shares):
        if name in self.host.vms:
            self.host.set_shares(name, shares)

    @rule(name=names, frac=st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]))
    def set_min(self, name, frac):
        if name not in self.host.vms:
            return
        vm = self.host.vm(name)
        new = vm.config.replace(min_mb=round(frac * vm.config.max_mb))
        mem, swap = reserved([v.config for v in self.host.vms.values() if v is not vm] + [new])
        fits = mem <= self.host.config.total_pages and swap <= self.host.swapfile.capacity
        try:
            self.host.set_min(name, new.min_mb)
        except esx.AdmissionError:
            assert not fits, "set_min refused a min whose reservations fit"
            return
        assert fits, "set_min accepted a min whose reservations do not fit"
        self.stale = True

    @rule(name=names, mode=st.sampled_from(MODES))
    def set_balloon(self, name, mode):
        if name in self.host.vms:
            self.host.set_balloon(name, mode)

    # -- time ---------------------------------------------------------------------------------
    @rule(k=st.sampled_from([1, 1, 2, 5, 15, 40]))
    def tick(self, k):
        if k == 1:
            self.host.step()
        else:
            trace = self.host.run(seconds=k)
            assert len(trace) == self.host.time
        self.stale = False

    # -- invariants after every step ----------------------------------------------------------
    @invariant()
    def memory_is_conserved(self):
        if self.host is not None:
            check_conservation(self.host)
            check_sharing(self.host)

    @invariant()
    def nothing_lost_nothing_leaked(self):
        if self.log is not None:
            self.log.check()

    @invariant()
    def reservations_and_bounds(self):
        if self.host is not None:
            check_reservations(self.host, targets=not self.stale)

    @invariant()
    def min_is_never_reclaimed(self):
        if self.guard is not None:
            self.guard.check()


TestHostMachine = HostMachine.TestCase
TestHostMachine.settings = PROFILE
