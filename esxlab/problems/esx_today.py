"""Exercise ``esx_today``: vSphere's limits and reservations, and why page sharing stopped (later
ESX, not the paper: ``VMConfig.limit_mb`` is vSphere's memory limit, ``VMConfig.min_mb`` its
reservation; salting is ``Mem.ShareForceSalting``, KB 2097593; large pages are ESX 3.5+ with a
hardware-assisted MMU).

* :class:`LimitTargets`: the targets min-funding revocation (§5.1) sets for three busy VMs with
  shares, reservations and limits, on a busy host and on an idle one (a limit holds even there).
* :class:`SharingStopped`: a host where page sharing saves nothing; which setting stops it, and
  does sharing come back by itself once memory gets short?
"""
from __future__ import annotations

import itertools

from ..checks import Expect, Mistake
from ..config import PAGES_PER_MB, HostConfig, VMConfig
from ..errors import ConfigError
from ..host import Host
from ..policy import compute_targets
from ..workloads import Contents
from .base import Hidden, Problem, paired, pick, swapped, unit_mistakes


class LimitTargets(Problem):
    """Three busy VMs (every page active, so the idle memory tax plays no part) with shares, a
    reservation (``min_mb``) and perhaps a limit (``limit_mb``): the targets of
    :func:`esxlab.policy.compute_targets` when the host may hand out ``available_mb``, and when it
    has memory to spare. A limit is a ceiling like max: the target never exceeds it, busy host
    or idle (later ESX: vSphere's memory limit)."""

    ANSWER_NAMES = ("busy_mb", "idle_mb")

    NAMES = ("web", "db", "batch")
    IDLE_MB = 1 << 14          # "an idle host": more than every VM's max together

    def _draw(self, rng):
        roles = rng.permutation(3)        # which VM gets a tight limit, a large reservation, neither
        self.vms = []
        for name, role in zip(self.NAMES, roles):
            if role == 0:
                v = dict(max_mb=pick(rng, (1024, 2048)), shares=pick(rng, (2000, 4000)),
                         min_mb=pick(rng, (0, 128)), limit_mb=pick(rng, (256, 384, 512)))
            elif role == 1:
                v = dict(max_mb=pick(rng, (1024, 2048)), shares=1000, min_mb=pick(rng, (384, 512, 640)), limit_mb=None)
            else:
                v = dict(max_mb=2048, shares=pick(rng, (2000, 4000)), min_mb=pick(rng, (0, 128)),
                         limit_mb=pick(rng, (None, 1536)))
            self.vms.append(dict(name=name, **v))
        self.available_mb = 64 * int(rng.integers(20, 33))

    def _targets(self, available_mb: float, limits: bool = True, reservations: bool = True,
                 shares: bool = True, unlimited: str = "") -> list[float]:
        """Targets in MB; the flags switch a rule off (the typical mistakes), ``unlimited`` one VM's limit."""
        configs = [VMConfig(name=v["name"], max_mb=v["max_mb"], min_mb=v["min_mb"] if reservations else 0,
                            limit_mb=v["limit_mb"] if limits and v["name"] != unlimited else None) for v in self.vms]
        t = compute_targets([v["shares"] if shares else 1 for v in self.vms], [c.min_pages for c in configs],
                            [c.max_pages for c in configs], [c.limit_pages for c in configs],   # busy: all active
                            available_mb * PAGES_PER_MB, 0.0, limit_pages=[c.limit_pages for c in configs])
        return [float(x) / PAGES_PER_MB for x in t]

    def _interesting(self):
        """The host is short (the ceilings exceed what it may hand out), one VM sits at its limit
        and another at its reservation, below their ceilings, and ignoring any rule shows."""
        busy = self._targets(self.available_mb)
        top = [v["max_mb"] if v["limit_mb"] is None else v["limit_mb"] for v in self.vms]
        limited = any(v["limit_mb"] is not None and abs(t - v["limit_mb"]) < 1 for v, t in zip(self.vms, busy))
        reserved = any(0 < v["min_mb"] < c and abs(t - v["min_mb"]) < 1 for v, t, c in zip(self.vms, busy, top))
        far = lambda other: max(abs(a - b) for a, b in zip(busy, other)) > 8
        return (sum(top) > self.available_mb + 64 and limited and reserved
                and far(self._targets(self.available_mb, limits=False))
                and far(self._targets(self.available_mb, reservations=False))
                and far(self._targets(self.available_mb, shares=False)))

    def describe(self) -> str:
        rows = "\n".join(f"  {v['name']:>5}: max {v['max_mb']:>4} MB, {v['shares']:>4} shares, reservation "
                         f"{v['min_mb']:>3} MB, limit {'none' if v['limit_mb'] is None else str(v['limit_mb']) + ' MB'}"
                         for v in self.vms)
        return (f"Three busy VMs (p.vms; every page they hold is active, so the idle memory tax does not matter):\n"
                f"{rows}\n"
                f"1. The host is busy: the policy may hand out {self.available_mb} MB (p.available_mb) in all. What "
                "targets (MB) does min-funding\n   revocation set? Answer `busy_mb = [web, db, batch]`.\n"
                "2. Now the host has memory to spare: it may hand out more than the three VMs' max together. What "
                "targets now?\n   Answer `idle_mb = [web, db, batch]`.")

    def _solve(self):
        return dict(busy_mb=self._targets(self.available_mb), idle_mb=self._targets(self.IDLE_MB))

    SWAPPED = ("the two lists look swapped: `busy_mb` is for the busy host (p.available_mb to hand out), `idle_mb` "
               "for the idle one, where every VM may hold all it is allowed to.")

    def _expect(self):
        a = self.available_mb
        busy, idle = self._targets(a), self._targets(self.IDLE_MB)
        order = f"[{', '.join(self.NAMES)}], the order of p.vms"
        limited = [v for v in self.vms if v["limit_mb"] is not None]   # one alone: its slip is "limits ignored"
        to_busy, to_idle = swapped("busy_mb", busy, "idle_mb", idle, self.SWAPPED)
        # each rule ignored (_targets' flags) → what it says
        rules = {"limits": "it looks as if the limits were ignored: a limit is a ceiling like max — the VM's target "
                           "never goes above it, and what it cannot take goes to the others.",
                 "reservations": "it looks as if the reservations were ignored: a reservation (min) is guaranteed — no "
                                 "VM's target goes below it, whatever its shares.",
                 "shares": "it looks as if every VM got the same share: memory is divided in proportion to shares, "
                           "within each VM's reservation and limit."}
        ignored = {rule: Mistake(self._targets(a, **{rule: False}), hint) for rule, hint in rules.items()}
        return [
            paired(Expect("busy_mb", "numbers", busy, tol=1.0, unit="MB", order=order, per="VM", nonnegative=True,
                          hint="start from memory in proportion to shares; a VM never goes below its reservation nor "
                               "above its max or its limit, and what one VM cannot take is shared by the others in "
                               "proportion to their shares. The targets add up to what the host may hand out.",
                          mistakes=(*ignored.values(), *unit_mistakes(busy, "MB", "pages", "GB", "KB"), *to_busy)),
                   *((self._targets(a, **{x: False, y: False}), ignored[x], ignored[y])
                     for x, y in itertools.combinations(rules, 2))),
            Expect("idle_mb", "numbers", idle, tol=1.0, unit="MB", order=order, per="VM", nonnegative=True,
                   hint="with memory to spare every VM may have all it is allowed to hold.",
                   mistakes=(Mistake(self._targets(self.IDLE_MB, limits=False),
                                     "a limit holds even on an idle host: the VM is reclaimed down to it (balloon "
                                     "first, then swap) although memory is free — the classic 'ballooning on an "
                                     "idle host' report."),
                             *(Mistake(self._targets(self.IDLE_MB, unlimited=v["name"]),
                                       f"{v['name']}'s limit holds on an idle host too: a limit is a ceiling like "
                                       "max, whatever memory is free.")
                               for v in (limited if len(limited) > 1 else ())),
                             Mistake([float(v["min_mb"]) for v in self.vms],
                                     "a reservation is a floor, not a size: with memory to spare a VM may hold far "
                                     "more than its reservation."),
                             *unit_mistakes(idle, "MB", "pages", "GB", "KB"), *to_idle)),
        ]


class SharingStopped(Problem):
    """Two VMs with an identical application image on a host with memory to spare, where page
    sharing saves (almost) nothing. The host is built from an era preset with a few overrides,
    as an administrator would write it; exactly one setting stops sharing: ``sharing off``
    (``SharingConfig.mode``), ``salting`` (``force_salting`` 2 puts every VM without a salt in a
    group of its own; with 1, different salts never share) or ``large pages`` (guest memory on
    2 MB pages: the scanner hashes the small pages inside but shares nothing until a large page
    is broken up, which happens only under memory pressure). The esxi6 preset turns salting
    (2) and large pages on by default; the esx2002 preset neither.

    The model answers: the cause is the setting whose reversal alone brings the savings back
    (each reversal is run), and the same host is rerun short of memory to see whether sharing
    resumes by itself."""

    ANSWER_NAMES = ("cause", "comes_back")
    VARIABLE = "q"
    _planted = Hidden()                         # the cause (an answer), and the answers once solved
    _solution = Hidden(None)

    CAUSES = ("sharing off", "salting", "large pages")
    ANSWERS = ("yes", "no")
    # (era, host overrides, sharing overrides, VM salts), by the cause they leave (private: keyed by the answer)
    _SCENARIOS = {
        "sharing off": [("esx2002", {}, dict(mode="off"), (None, None)),
                        ("esxi6", dict(large_pages=False), dict(mode="off", force_salting=1), (None, None)),
                        ("esxi6", dict(large_pages=False), dict(mode="off"), (7, 7))],
        "salting": [("esxi6", dict(large_pages=False), {}, (None, None)),
                    ("esx2002", {}, dict(force_salting=2), (None, None)),
                    ("esx2002", {}, dict(force_salting=1), (1, 2))],
        "large pages": [("esxi6", {}, {}, (7, 7)),
                        ("esxi6", {}, dict(force_salting=1), (None, None)),
                        ("esx2002", dict(large_pages=True), {}, (None, None))],
    }
    _FIXES = {"sharing off": ("sharing", dict(mode="esx")), "salting": ("sharing", dict(force_salting=0)),
             "large pages": ("host", dict(large_pages=False))}
    VM_MB = 24
    APP_MB = 12
    RUN_S = 60
    SAVES_MB = 2.0           # "sharing works": at least this much saved

    def _draw(self, rng):
        self._planted = pick(rng, self.CAUSES)
        self.era, self.host_overrides, self.sharing_overrides, self.salts = pick(rng, self._SCENARIOS[self._planted])
        self.host_mb = pick(rng, (256, 320, 384))
        self._solution = None

    def config(self, pressure: bool = False, fix: str | None = None) -> HostConfig:
        """The host's configuration; ``pressure`` shrinks it until memory is short; ``fix`` reverses
        one cause, one of :data:`CAUSES` ('sharing off': mode "esx"; 'salting': force_salting 0; 'large pages':
        large_pages False)."""
        host = dict(self.host_overrides, memory_mb=self.pressure_mb if pressure else self.host_mb)
        sharing = dict(self.sharing_overrides, scan_vm_pages_s=self.VM_MB * PAGES_PER_MB)
        if fix is not None:
            if fix not in self._FIXES:
                raise ConfigError(f"SharingStopped.config: fix = {fix!r} is not a cause; choose one of "
                                  f"{', '.join(map(repr, self.CAUSES))}.")
            part, change = self._FIXES[fix]
            (host if part == "host" else sharing).update(change)
        cfg = getattr(HostConfig, self.era)(**host)
        return cfg.replace(sharing=cfg.sharing.replace(**sharing))

    @property
    def pressure_mb(self) -> float:
        """A host the two VMs' touched pages nearly fill (invented sizing)."""
        return 2 * (self.VM_MB + 2) * 0.85

    def _saved(self, pressure: bool = False, fix: str | None = None) -> float:
        host = Host(self.config(pressure, fix), seed=self.seed)
        for i, salt in enumerate(self.salts):
            host.power_on(VMConfig(name=f"vm{i + 1}", max_mb=self.VM_MB, overhead_mb=2, salt=salt),
                          workload=Contents("app", self.APP_MB, 0, self.VM_MB - self.APP_MB - 4))
        host.run(seconds=self.RUN_S)
        return float(host.sharing.stats().saved_mb)

    def describe(self) -> str:
        args = ", ".join([f"memory_mb={self.host_mb}"] + [f"{k}={v!r}" for k, v in self.host_overrides.items()])
        sharing = ", ".join(f"{k}={v!r}" for k, v in self.sharing_overrides.items()) or "the preset's"
        salts = " and ".join("no salt" if s is None else f"salt={s}" for s in self.salts)
        return (f"An administrator configured a host as\n  HostConfig.{self.era}({args})\n"
                f"with sharing settings: {sharing} (q.era, q.host_overrides, q.sharing_overrides).\n"
                f"In effect (preset and overrides together): {self._in_effect()} (q.config()).\n"
                f"It runs two {self.VM_MB} MB VMs ({salts}, q.salts) whose {self.APP_MB} MB application image is "
                "identical, byte for byte;\ntogether they use far less memory than the host has. After "
                f"{self.RUN_S} s page sharing has saved (almost) nothing.\n"
                f"Which setting is the cause (`cause`: one of {', '.join(map(repr, self.CAUSES))})? If the VMs then "
                "grew until memory ran\nshort, would sharing start saving memory by itself, without a setting "
                "changed (`comes_back`: 'yes' or 'no')?")

    def _in_effect(self) -> str:
        """The three settings that may stop sharing, as the host has them (preset and overrides together): each
        variant shows all three, so the cause is found by the rules, not by which setting was written out."""
        cfg = self.config()
        return f"mode={cfg.sharing.mode!r}, force_salting={cfg.sharing.force_salting}, large_pages={cfg.large_pages}"

    def _solve(self):
        if self._solution is None:
            restored = [c for c in self.CAUSES if self._saved(fix=c) >= self.SAVES_MB]
            self._solution = dict(cause=restored[0] if len(restored) == 1 else "none",
                                  comes_back="yes" if self._saved(pressure=True) >= self.SAVES_MB else "no")
        return dict(self._solution)

    def _expect(self):
        right = self._solve()
        other = self.ANSWERS[right["comes_back"] == "yes"]
        return [
            Expect("cause", "choice", right["cause"], choices=self.CAUSES,
                   hint="for each setting ask: reversed alone, would the two identical images share? Mind what the "
                        "preset turns on by default.",
                   mistakes=tuple(Mistake(c, self._decoy(c)) for c in self.CAUSES if c != right["cause"])),
            Expect("comes_back", "choice", right["comes_back"], choices=self.ANSWERS,
                   hint="ask what memory pressure changes: the free-memory state, and what ESX does in it.",
                   mistakes=(Mistake(other, "memory pressure breaks large pages up (in the clear state with ESXi 6's "
                                            "states; in soft with the paper's, if large pages are switched on), so "
                                            "sharing resumes when memory runs short only when large pages were "
                                            "holding it back; pressure changes neither the sharing mode nor the "
                                            "salts."),))]

    def _decoy(self, cause: str) -> str:
        """Why ``cause`` is not what stops sharing in this configuration (its teaching sentence)."""
        cfg = self.config()
        if cause == "sharing off":
            return f"the scanner is on here (mode {cfg.sharing.mode!r}); look at who may share with whom, and at pages."
        if cause == "salting":
            return (f"work out the sharing groups under force_salting = {cfg.sharing.force_salting}: 0 ignores salts, "
                    "1 lets VMs with equal salts share (no salt is one common salt), 2 also gives each VM without a "
                    "salt a group of its own. These two VMs are in one group.")
        return ("large pages are off on this host (the esx2002 preset's default, or overridden), so every page is a "
                "small page the scanner can share.")
