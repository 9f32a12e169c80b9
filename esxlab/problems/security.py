"""Exercise ``security``: the page-sharing timing side channel, and salting against it (later
ESX: ``Mem.ShareForceSalting``, VMware KB 2097593; the attack after Suzaki et al., EuroSec 2011)."""
from __future__ import annotations

import numpy as np

from ..checks import Expect, Mistake
from ..config import PAGES_PER_MB, HostConfig, SharingConfig, VMConfig
from ..host import Host
from ..workloads import Contents, Probe
from .base import Hidden, Problem, pick


class SideChannel(Problem):
    """An attacker VM times one write to each of its candidate pages after the ESX scanner has
    run: a write that breaks copy-on-write (§4.2) is slower by the copy, so that candidate was
    shared with another VM — the victim holds it. Then: do the host's salting settings stop it?"""

    VERSIONS = ("openssl-1.0.1e", "openssl-1.0.1f", "openssl-1.0.1g", "openssl-1.0.2", "openssl-1.0.2k",
                "openssl-1.1.0", "openssl-1.1.0l", "openssl-1.1.1", "openssl-1.1.1w", "openssl-3.0.2")
    N_CANDIDATES = 6
    MAX_MB = 16
    PROBE_AT_S = 30
    JITTER_US = 0.25          # invented: standard deviation of the attacker's timer noise (normal)
    VERDICTS = ("revealed", "hidden")
    ANSWER_NAMES = ("secret", "salted")
    _secret = Hidden()                          # the answer, and the noise that hides it (the trial of session 49)
    _jitter = Hidden()

    def _draw(self, rng):
        self.candidates = tuple(sorted(rng.choice(self.VERSIONS, self.N_CANDIDATES, replace=False).tolist()))
        self._secret = pick(rng, self.candidates)
        self.force_salting = pick(rng, (1, 2))
        self.salts = {"victim": pick(rng, (None, 1, 2)), "attacker": pick(rng, (None, 1, 2))}
        self._jitter = rng.normal(0, self.JITTER_US, self.N_CANDIDATES)
        self._timings: list[float] | None = None

    def _probe(self, force_salting: int, salts: dict) -> list[int]:
        """Copy-on-write breaks of each probe write, in candidate order, on a host whose ESX scanner
        covers every page each second."""
        sharing = SharingConfig(mode="esx", scan_vm_pages_s=self.MAX_MB * PAGES_PER_MB, scan_total_pages_s=1 << 20,
                                scan_period_s=1, force_salting=force_salting)
        host = Host(HostConfig(memory_mb=128, sharing=sharing), seed=self.seed)
        host.power_on(VMConfig(name="victim", max_mb=self.MAX_MB, salt=salts["victim"]),
                      workload=Contents(self._secret, 1 / PAGES_PER_MB, 0, 1))
        attacker = host.power_on(VMConfig(name="attacker", max_mb=self.MAX_MB, salt=salts["attacker"]),
                                 workload=Probe(self.candidates, self.PROBE_AT_S))
        breaks: list[int] = []
        while len(breaks) < len(self.candidates):
            host.step()
            if attacker.vm_time >= self.PROBE_AT_S:
                breaks.append(int(attacker.counters.cow_breaks))
        return breaks

    @property
    def timings_us(self) -> list[float]:
        """The attacker's timer readings (µs) of its write to each candidate, in order: a private write's
        cost plus a copy per copy-on-write break (HostConfig costs) plus timer jitter."""
        if self._timings is None:
            cost = HostConfig().cow_copy_us
            self._timings = [round(float(Probe.cpu_us_per_access + b * cost + j), 2)
                             for b, j in zip(self._probe(0, self.salts), self._jitter)]
        return self._timings

    def _verdict(self, force_salting: int, salts: dict) -> str:
        return self.VERDICTS[0] if any(self._probe(force_salting, salts)) else self.VERDICTS[1]

    def _interesting(self):
        """Salting has something to decide, and the unsalted attack finds exactly one slow write."""
        slow = sum(t > Probe.cpu_us_per_access + HostConfig().cow_copy_us / 2 for t in self.timings_us)
        return slow == 1 and (None not in self.salts.values() or self.force_salting == 2 or
                              len(set(self.salts.values())) == 2)

    def describe(self) -> str:
        rows = "\n".join(f"  {c:>15}: {t:5.2f} µs" for c, t in zip(self.candidates, self.timings_us))
        return ("An attacker VM loaded one page of each candidate library version, waited until ESX's scanner had "
                "hashed\nevery page twice, then timed one write to each page (p.candidates, p.timings_us). A write "
                f"to a private page\ntakes about {Probe.cpu_us_per_access:g} µs; a copy-on-write copy costs "
                f"{HostConfig().cow_copy_us:g} µs more (HostConfig.cow_copy_us). The timer adds noise with a\n"
                f"standard deviation of {self.JITTER_US:g} µs (normal: about one reading in three is off by more than "
                f"{self.JITTER_US:g} µs,\none in twenty by more than {2 * self.JITTER_US:g} µs).\n{rows}\n"
                "Which version does the victim VM run (`secret`)? The administrator then turns salting on: "
                f"force_salting = {self.force_salting}\n(Mem.ShareForceSalting), victim salt "
                f"{self.salts['victim']}, attacker salt {self.salts['attacker']} (p.force_salting, p.salts). "
                "Would the same attack\nnow reveal the version or keep it hidden (`salted`: 'revealed' or "
                "'hidden')?")

    def _solve(self):
        times = self.timings_us
        return dict(secret=self.candidates[int(np.argmax(times))], salted=self._verdict(self.force_salting, self.salts))

    def _expect(self):
        right = self._solve()
        times = self.timings_us
        other = self.VERDICTS[1 - self.VERDICTS.index(right["salted"])]
        fs = self.force_salting                  # the hint names the setting this problem uses
        if right["salted"] == "revealed":
            why = (f"these salts put both VMs in one sharing group: with force_salting = {fs} VMs with equal salts "
                   f"share{' (None is one common salt)' if fs == 1 else ''}; only different groups never share.")
        elif fs == 2 and None in self.salts.values():
            # only what applies: a VM without a salt is a group of its own, whatever the other's salt (the trial of
            # session 49: two VMs without a salt were told "different salts never share")
            which = "neither VM has one" if set(self.salts.values()) == {None} else "one VM has none"
            why = (f"the two VMs are in different sharing groups: with force_salting = {fs} a VM without a salt "
                   f"shares only with itself ({which}).")
        else:
            unsalted = ", and no salt (None) is one common group of its own, apart from every numbered salt" \
                if None in self.salts.values() else ""
            why = (f"the two VMs are in different sharing groups: with force_salting = {fs} different salts never "
                   f"share{unsalted}.")
        return [
            Expect("secret", "choice", right["secret"], choices=self.candidates,
                   hint="compare each write's time with a private write: which one paid for a copy?",
                   mistakes=(Mistake(self.candidates[int(np.argmin(times))],
                                     "the fastest write found a private page; a write to a shared page is slower: "
                                     "copy-on-write must copy the page first."),)),
            Expect("salted", "choice", right["salted"], choices=self.VERDICTS,
                   hint="work out each VM's sharing group under these settings.",
                   mistakes=(Mistake(other, why),)),
        ]
