"""Workloads: what the applications inside a guest do each simulated second.

A workload owns a range of *logical pages* (anonymous memory or file blocks) and, each
tick, says which of them it touches and which it writes. The guest turns that into PPN
accesses; the hypervisor into MPN accesses. Every workload here is an invented model
(the paper describes its benchmarks, not their access patterns), kept small and stated
in its docstring. The pages a tick touches (``len(Access.lps)``) are its work and
``cpu_us_per_access`` the CPU cost of each; with the stall time of faults and disk I/O they
give the workload's throughput (accesses per second).
"""
from __future__ import annotations

import inspect
import math
import numbers
from functools import lru_cache, partial
from dataclasses import dataclass, field

import numpy as np

from .arrays import distinct
from .config import PAGES_PER_MB
from .content import TokenMint, image_tokens
from .errors import ConfigError, check_call, check_choice, check_number, shorten
from .ranks import RankTable, pays, rank_table
from .resources import check_pages_fit


@dataclass
class Access:
    """One tick of a workload: ``lps``, the distinct logical pages touched (0 … pages − 1), and
    ``writes``, one bool per page of ``lps``, True where it is written; ``freed``: distinct logical
    pages the workload gives back to its guest this tick (the guest frees their pages: on Windows the
    zero page thread zeroes them); ``io``: logical pages (among ``lps``) sent to a device (§7), and
    ``io_transfers`` how many transfers each entry stands for (None: one each, so a page repeats
    once per transfer). Within the tick the guest frees ``freed`` first, then makes ``lps`` resident
    and accesses them (a page both freed and touched comes back zero-filled), then sends ``io``
    (``VM.step``)."""

    lps: np.ndarray
    writes: np.ndarray
    freed: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    io: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    io_transfers: np.ndarray | None = None


EMPTY = Access(np.empty(0, dtype=np.int64), np.empty(0, dtype=bool))


def checked(acc: object, pages: int, who: str, t: int) -> Access:
    """``acc``, a tick of a workload written outside esxlab, checked and as the guest needs it
    (intp page numbers): an :class:`Access` whose ``lps`` are distinct whole numbers in
    ``[0, pages)``, ``writes`` a bool array of the same length, ``freed`` distinct, ``io`` among
    ``lps`` and ``io_transfers`` None or one whole number ≥ 0 per entry of ``io``. Raises ConfigError
    naming what is wrong: a repeated or out-of-range page would otherwise corrupt the guest's
    page tables silently (a negative one indexes from the end), as would a page sent to a device
    that the tick does not touch (it may have no guest page behind it).
    ``pages``: what the workload's ``attach`` returned; ``who``: its class name. (invented)"""
    where = f"{who}.step(t = {t})"
    if not isinstance(acc, Access):
        raise ConfigError(f"{where} returned {shorten(acc)}; it must return an esxlab.workloads.Access(lps, "
                          "writes): the distinct logical pages it touches this second and which of them it writes.")

    def pages_of(name: str, value, distinct_too: bool) -> np.ndarray:
        a = np.asarray(value)
        allowed = (f"allowed: a 1-D array of {'distinct ' if distinct_too else ''}whole numbers from 0 to {pages - 1}"
                   if pages else "allowed: an empty array") + f" (attach() returned {pages} logical pages)"
        if a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
            raise ConfigError(f"{where} returned Access.{name} = {shorten(value)}; {allowed}.")
        if a.size:
            bad = ((a < 0) | (a >= pages)).nonzero()[0]
            if len(bad):
                raise ConfigError(f"{where} returned Access.{name} with page {a[bad[0]]} out of range; {allowed}.")
            if distinct_too:
                s = np.sort(a)
                twice = (s[1:] == s[:-1]).nonzero()[0]
                if len(twice):
                    raise ConfigError(f"{where} returned Access.{name} with page {s[twice[0]]} twice; {allowed}.")
        return a.astype(np.intp)

    lps = pages_of("lps", acc.lps, True)
    writes = np.asarray(acc.writes)
    if writes.dtype != bool or writes.shape != lps.shape:
        raise ConfigError(f"{where} returned Access.writes = {shorten(acc.writes)}; allowed: a bool array with one "
                          f"entry per page of Access.lps ({len(lps)}), True where the page is written.")
    io, transfers = pages_of("io", acc.io, False), acc.io_transfers
    untouched = io[~np.isin(io, lps)]
    if len(untouched):
        raise ConfigError(f"{where} returned Access.io with page {untouched[0]}, which is not in Access.lps; "
                          "allowed: pages the tick touches (a device transfer reads or writes its page).")
    if transfers is not None:
        n = np.asarray(transfers)
        if n.shape != io.shape or (n.size and (n.dtype.kind not in "iu" or n.min() < 0)):
            raise ConfigError(f"{where} returned Access.io_transfers = {shorten(transfers)}; allowed: None (one "
                              f"transfer per entry of Access.io) or an array of whole numbers ≥ 0 with one entry per "
                              f"entry of Access.io ({len(io)}), the transfers it stands for this second.")
        transfers = n.astype(np.int64)
    return Access(lps, writes, pages_of("freed", acc.freed, True), io, transfers)


class Workload:
    """Base class. A subclass's :meth:`attach` calls ``super().attach(vm_pages, uid, rng)`` (which
    sets ``self.rng``) and returns how many logical pages it uses, ``n``; its :meth:`step` returns
    an :class:`Access` of pages from 0 to n − 1. Draw random numbers from ``self.rng`` only (the
    VM's seeded stream): with ``np.random`` or ``random``, two runs of one seed differ, silently.

    An instance drives one VM: it keeps that VM's state (its position, its random stream),
    so :func:`make` refuses an instance that is already attached (create one per VM)."""

    name = "workload"
    cpu_us_per_access = 1.0
    compressible = 0.5        # invented: fraction of its pages that compress to ≤ half a page (later ESX)
    file_backed = False       # logical pages are file blocks with private initial contents
    rng: np.random.Generator | None = None      # set by attach: the VM's stream
    wrapper: "Workload | None" = None           # the Delayed that will drive it (set by Delayed)

    def __new__(cls, *args, **kwargs):
        """An unknown parameter name, or too many positional ones, is a ConfigError naming the known
        ones (not Python's TypeError)."""
        check_call(cls, args, kwargs)
        return super().__new__(cls)

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        """Bind to a VM; return how many logical pages the workload uses."""
        self.rng = rng
        self.uid = uid
        return 0

    def step(self, t: int) -> Access:
        """The pages touched in tick ``t`` (seconds of the VM's own time since power-on, from 1; a
        blocked VM's time stands still) as an :class:`Access`; the base class touches nothing."""
        return EMPTY

    def disk_tokens(self, mint: TokenMint, pages: int) -> np.ndarray | None:
        """Initial contents of file-backed logical pages, uint64 tokens of shape (``pages``,) (None: anonymous
        memory, zero-filled): by default private data from ``mint``, the VM's source of fresh private tokens."""
        return mint.take(pages) if self.file_backed else None


#: what the simulator reads of a workload besides its methods, each class's own (a Delayed has its inner's)
PER_WORKLOAD = ("name", "cpu_us_per_access", "compressible", "file_backed")


class Idle(Workload):
    """No application activity: only the guest OS's own background touches (Fig. 7's VM1)."""

    name = "idle"
    compressible = 0.7        # invented: mostly kernel text and sparse data


#: Dbench's block accesses a second per client in the paper's set-ups scaled (:meth:`Dbench.scaled`): its
#: default 8000 for the paper's 40 clients (invented, fitted with the other defaults)
ACCESSES_PER_CLIENT = 200


class Dbench(Workload):
    """A dbench-like file server (Fig. 2, Fig. 7): random reads and writes over a file set
    larger than memory, so throughput grows with the guest's buffer cache.

    Invented model: ``clients`` scale the file set (``mb_per_client`` each); each tick samples
    ``accesses_per_s`` block accesses, ``write_fraction`` of them writes, with a Zipf-like
    popularity: block r (0, 1, …) is ⌊x⌋ − 1 for x drawn from the power-law density ∝
    x^−``zipf_alpha`` on [1, pages + 1) (inverse transform; the continuous form of Zipf's law:
    dbench's clients share a file tree whose small and recent files are read far more often).
    A cache holding the most popular blocks then gains less from each extra MB, the concave
    curve of Figure 2 (gains per 32 MB shrinking .125/.108/.079/.043 of the 256 MB throughput).
    The defaults (6 MB per client, 8000 accesses/s, α = 0.78, 2.7 ms of CPU per access) were
    fitted jointly to three things (seed 0): Figure 2's shape (configured throughput relative
    to 256 MB: 0.635 / 0.708 / 0.790 / 0.885 against the paper's 0.644 / 0.770 / 0.878 / 0.957),
    Figure 7's dbench active estimate (197 MB against ≈ 197) and Figure 7's throughput gain
    under the tax (31.3 % against "over 30 %"; α = 0.8 gave 29.6 % once the idle Windows VM's
    deflated pages were zeroed, 0.75 gave 34 % and a 205 MB estimate). The hit ratio is concave in memory, but
    throughput, accesses / (CPU + misses × disk time), bends it back: the gains per 32 MB are
    +.072/+.081/+.093/+.112 of the 256 MB throughput (the old hot/cold model's rose then fell,
    +.087/+.115/+.141/+.092), while the paper's shrink, +.125/+.108/+.079/+.043. They pull apart:
    by Figure 2's own curve, growing from 179 to 243 MB gains only ≈ 17 %, so a model steep enough
    for Figure 7's gain is steeper than Figure 2 at 192–224 MB; and a file set small enough to fit
    at 256 MB (Figure 2's flattening) leaves the dbench VM asking for less than Figure 7's 243 MB.
    """

    name = "dbench"
    compressible = 0.6        # invented: file-server buffers of text-like data
    file_backed = True

    def __init__(self, clients: int = 40, mb_per_client: float = 6.0, accesses_per_s: int = 8000,
                 write_fraction: float = 0.2, cpu_us_per_access: float = 2700.0, zipf_alpha: float = 0.78) -> None:
        check_number("Dbench", "clients", clients, 1, 10000, integer=True)
        check_number("Dbench", "mb_per_client", mb_per_client, 0, None, lo_open=True)
        check_number("Dbench", "accesses_per_s", accesses_per_s, 1, 10 ** 7, integer=True)
        check_number("Dbench", "write_fraction", write_fraction, 0, 1)
        check_number("Dbench", "cpu_us_per_access", cpu_us_per_access, 0, None)
        check_pages_fit(f"Dbench(clients = {clients!r}, mb_per_client = {mb_per_client!r})",
                        clients * mb_per_client * PAGES_PER_MB)
        if clients * mb_per_client * PAGES_PER_MB < 1:
            raise ConfigError(f"Dbench file set clients × mb_per_client = {clients} × {mb_per_client!r} MB is smaller "
                              f"than one 4 KB page; allowed: clients × mb_per_client ≥ {1 / PAGES_PER_MB:g} MB.")
        check_number("Dbench", "zipf_alpha", zipf_alpha, 0, 4)
        self.clients, self.mb_per_client = int(clients), float(mb_per_client)
        self.accesses_per_s, self.write_fraction = int(accesses_per_s), float(write_fraction)
        self.cpu_us_per_access = float(cpu_us_per_access)
        self.zipf_alpha = float(zipf_alpha)

    @classmethod
    def scaled(cls, clients: int) -> "Dbench":
        """The default Dbench scaled to ``clients``: its file set and its activity
        (:data:`ACCESSES_PER_CLIENT` a second each) both grow with them, as Figures 2 and 7 scale the
        paper's set-up (with 8000 accesses for 80 clients, Figure 7 at twice the paper's sizes had a
        dbench estimate of 295 MB where 2 × 197 is expected, and missed every row). ConfigError as
        :class:`Dbench`'s."""
        dbench = cls(clients=clients)                   # (checks clients)
        dbench.accesses_per_s = ACCESSES_PER_CLIENT * dbench.clients
        return dbench

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.pages = max(1, int(self.clients * self.mb_per_client * PAGES_PER_MB))
        # the smallest integer type that holds pages + 1 (a small rank table; arrays.distinct sorts them the
        # fastest way this CPU has)
        self._index = next(t for t in (np.uint16, np.int32, np.int64) if self.pages + 1 <= np.iinfo(t).max)
        # the inverse transform's scale n^(1−α) − 1 (n = pages + 1), once: for the draws and the rank table's range
        self._scale = (self.pages + 1) ** (1 - self.zipf_alpha) - 1
        key = (self.zipf_alpha, self.pages, self._index, self._scale)
        # the rank table where it exists and is faster here than the power (ranks.pays: the same integers)
        self._ranks = _rank_table(*key) if _table_pays(*key) else None
        return self.pages

    def step(self, t: int) -> Access:
        u, a = self.rng.random(self.accesses_per_s), self.zipf_alpha
        if a != 1:                             # ((n^(1−a) − 1)·u + 1)^(1/(1−a)), in place
            u *= self._scale
            u += 1
        # block ⌊x⌋ − 1, at most pages − 1 (rounding may give x ≥ pages + 1, far beyond when α is
        # within 1e-15 of 1): the ranks ⌊min(x, pages)⌋ by table (ranks.py: the same integers as the
        # power), else clamped before the cast (which would wrap); sorted and made distinct as small
        # integers (a radix or vectorized sort, several times faster than sorting the doubles), then
        # shifted to blocks as intp (which indexes fast)
        if self._ranks is not None:
            ranks = _ranks_by_table(u, self._ranks, a)
        else:
            ranks = _ranks_by_power(u, a, self.pages, self._index)
        ranks = distinct(ranks)
        lps = np.subtract(ranks, 1, dtype=np.intp)
        return Access(lps, self.rng.random(len(lps)) < self.write_fraction)


@lru_cache(maxsize=4)                   # ≤ 5 MB each (ranks.MAX_BUCKETS, MAX_TOP)
def _rank_table(a: float, pages: int, dtype, scale: float) -> RankTable | None:
    """Dbench's ranks ⌊min(x, pages)⌋ as a function of its transformed draw z (u for α = 1, else
    scale·u + 1 with ``scale`` = n^(1−a) − 1, negated for α > 1 so that x grows with z), by
    :mod:`esxlab.ranks`; shared by every Dbench with the same α and file set (tables are read-only)."""
    n = pages + 1
    if a == 1:
        return rank_table(partial(np.power, n), 0.0, 1.0, pages, dtype, guess=lambda x: np.log(x) / np.log(n))
    y_max = scale + 1                                # the largest scale·u + 1 can round to
    sign = -1.0 if a > 1 else 1.0
    return rank_table(partial(_power, exponent=1 / (1 - a), sign=sign), sign, sign * y_max, pages, dtype,
                      guess=lambda x: sign * np.power(x, 1 - a))


def _ranks_by_table(u: np.ndarray, table: RankTable, a: float) -> np.ndarray:
    """Dbench's ranks ⌊min(x, pages)⌋ of its transformed draws ``u`` by its rank table (negated first for α > 1,
    as :func:`_rank_table` builds it; overwrites ``u``)."""
    return table(np.negative(u, out=u) if a > 1 else u)


def _ranks_by_power(u: np.ndarray, a: float, pages: int, dtype) -> np.ndarray:
    """Dbench's ranks ⌊min(x, pages)⌋ of its transformed draws ``u`` by calling the power (overwrites ``u``)."""
    x = np.power(pages + 1, u, out=u) if a == 1 else np.power(u, 1 / (1 - a), out=u)
    return np.minimum(x, pages, out=x).astype(dtype)


@lru_cache(maxsize=4)
def _table_pays(a: float, pages: int, dtype, scale: float) -> bool:
    """Whether Dbench's rank table exists for this α and file set and is faster than the power on this
    CPU (:func:`esxlab.ranks.pays`, timed once a process on 8,000 draws of a stream of its own)."""
    table = _rank_table(a, pages, dtype, scale)
    if table is None:
        return False
    u = np.random.default_rng(0).random(8000)
    z = u if a == 1 else u * scale + 1
    return pays(partial(_ranks_by_table, table=table, a=a), partial(_ranks_by_power, a=a, pages=pages, dtype=dtype), z)


def _power(z: np.ndarray, exponent: float, sign: float) -> np.ndarray:
    return np.power(sign * z, exponent)


class Toucher(Workload):
    """A user-level memory toucher (Fig. 6): allocates the amount of anonymous memory its
    schedule asks for and touches (writes) all of it every ``sweep_s`` seconds; memory it
    gives back is freed to the guest (and, on Windows, zeroed by the zero page thread).

    ``schedule`` is a list of ``(start_s, mb)`` steps; before the first step it holds 0 MB. A step
    larger than the VM is allowed on purpose: the guest then pages the working set to its own
    disk, as a real guest thrashes (``totals.guest_disk_reads``).

    Two Windows behaviours for Figure 6 (invented, both off by default):

    * ``os_overhead``: the OS touches this fraction of the working set again on the process's
      behalf (page tables, working-set lists, the system cache it pulls through), so the
      estimate of a VM running the toucher exceeds toucher + background (Fig. 6: 282 MB while
      the toucher holds 250 MB on top of a ≈ 10 MB background);
    * ``free_at_exit``: a shrinking working set only stops being touched; its pages stay the
      process's (trimmed to its standby list) until it exits (the schedule reaches 0), when
      all it ever held is freed at once, and the zero page thread zeroes it: the spike of
      224 MB after an exit from 150 MB.
    """

    name = "toucher"

    def __init__(self, schedule=((0, 100),), sweep_s: float = 5.0, cpu_us_per_access: float = 1.0,
                 os_overhead: float = 0.0, free_at_exit: bool = False) -> None:
        steps = sorted((float(s), float(mb)) for s, mb in _check_steps("Toucher", "schedule", schedule,
                                                                       ("start_s", "mb")))
        top = max((mb for _, mb in steps), default=0.0)
        check_pages_fit(f"Toucher.schedule mb = {top!r}", top * PAGES_PER_MB)
        check_number("Toucher", "sweep_s", sweep_s, 1, 3600)
        check_number("Toucher", "cpu_us_per_access", cpu_us_per_access, 0, None)
        check_number("Toucher", "os_overhead", os_overhead, 0, 1)
        check_choice("Toucher", "free_at_exit", free_at_exit, (True, False))
        self.schedule = steps
        self.sweep_s = float(sweep_s)
        self.cpu_us_per_access = float(cpu_us_per_access)
        self.os_overhead, self.free_at_exit = float(os_overhead), bool(free_at_exit)
        self.size = 0
        self.held = 0           # pages the process holds (free_at_exit: the most since its last exit)
        self._cursor = 0

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.peak = int(max((mb for _, mb in self.schedule), default=0) * PAGES_PER_MB)
        self.pages = self.peak + int(self.os_overhead * self.peak)
        return self.pages

    def size_at(self, t: float) -> int:
        """Pages the schedule holds at VM time ``t`` (s): its last step at or before ``t`` (invented)."""
        mb = 0.0
        for s, m in self.schedule:
            if t >= s:
                mb = m
        return min(int(mb * PAGES_PER_MB), self.peak)

    def _span(self, size: int) -> np.ndarray:
        """Logical pages of a working set of ``size`` pages and the OS's pages on its behalf."""
        extra = int(self.os_overhead * size)
        return np.r_[np.arange(size), self.peak + np.arange(extra)]

    def step(self, t: int) -> Access:
        new = self.size_at(t)
        keep = max(self.held, new) if self.free_at_exit and new else new
        freed = np.setdiff1d(self._span(self.held), self._span(keep)) if keep < self.held else EMPTY.lps
        self.size, self.held = new, keep
        if new == 0:
            return Access(EMPTY.lps, EMPTY.writes, freed)
        n = new + int(self.os_overhead * new)             # len(self._span(new)), not built: O(pages touched)
        per_tick = min(int(np.ceil(n / self.sweep_s)), n)
        start = self._cursor % n
        stop = start + per_tick
        self._cursor = stop % n
        # a sweep window, wrapping at the working set's end; in increasing order (self._span(new)[idx] is
        # increasing: the OS's pages lie above peak ≥ new), so a wrapped window is its part past the end first
        idx = np.arange(start, stop) if stop <= n else \
            np.concatenate([np.arange(stop - n), np.arange(start, n)])
        lps = idx if n == new else np.where(idx < new, idx, self.peak + idx - new)     # (no OS pages: idx itself)
        return Access(lps, np.ones(len(lps), dtype=bool), freed)


class Spec95(Workload):
    """A SPEC95-like batch of CPU benchmarks (Figure 4), modelled by the *contents* it leaves
    in memory, which is what page sharing sees (§4.3). Invented model, sized so that ten
    40 MB Linux VMs give Figure 4's ≈ 67 % shared and one VM ≈ 5 MB reclaimed, ~55 % of it
    zero pages (with the guest's 9 MB kernel, files + zero + data fill ≈ 39 MB of 40). Logical pages, in order:

    * ``files_mb`` of binaries and input files, read into the page cache: identical in every
      VM using the same ``image`` (a fraction ``overlap`` of them; the rest is data of this
      VM only); the last ``dup_mb`` repeat the ``dup_mb`` before them (the same page in two
      files), so even one VM shares some non-zero pages; the first ``variant_mb`` come in
      ``variants`` versions (reference inputs: VM number ``uid`` reads version ``uid mod
      variants``), so they are common to only some VMs: two VMs share none of them, ten share
      them all (Figure 4's shared fraction rising from 61 % at 2 VMs to 67 % at 10);
    * ``zero_mb`` of memory allocated and read but never written (all-zero pages);
    * ``data_mb`` of working data, ``writes_per_s`` random pages rewritten per second.

    The files and zero pages are read sequentially over the first ``warm_s`` seconds, then
    ``reads_per_s`` random pages of them per second.
    """

    name = "spec95"
    compressible = 0.4        # invented: compiled binaries and numeric data
    file_backed = True

    def __init__(self, files_mb: float = 20.6, dup_mb: float = 2.1, zero_mb: float = 2.6, data_mb: float = 6.6,
                 image: str = "spec95", overlap: float = 1.0, warm_s: float = 300, reads_per_s: int = 200,
                 writes_per_s: int = 200, cpu_us_per_access: float = 50.0, variant_mb: float = 0.0,
                 variants: int = 4) -> None:
        for name, v in (("files_mb", files_mb), ("zero_mb", zero_mb), ("data_mb", data_mb)):
            check_number("Spec95", name, v, 0, 1 << 20)
        check_number("Spec95", "dup_mb", dup_mb, 0, files_mb / 2, hi_name=f"files_mb / 2 (files_mb = {files_mb:g})")
        check_number("Spec95", "overlap", overlap, 0, 1)
        check_number("Spec95", "variant_mb", variant_mb, 0, overlap * files_mb - 2 * dup_mb,
                     hi_name=f"overlap × files_mb − 2 × dup_mb ({overlap:g} × {files_mb:g} − 2 × {dup_mb:g})")
        check_number("Spec95", "variants", variants, 1, 1 << 16, integer=True)
        check_number("Spec95", "warm_s", warm_s, 1, 10 ** 6)
        check_number("Spec95", "reads_per_s", reads_per_s, 0, 10 ** 7, integer=True)
        check_number("Spec95", "writes_per_s", writes_per_s, 0, 10 ** 7, integer=True)
        check_number("Spec95", "cpu_us_per_access", cpu_us_per_access, 0, None)
        check_pages_fit(f"Spec95(files_mb = {files_mb!r}, zero_mb = {zero_mb!r}, data_mb = {data_mb!r})",
                        (files_mb + zero_mb + data_mb) * PAGES_PER_MB)
        if not isinstance(image, str) or not image:
            raise ConfigError(f"Spec95.image must be a non-empty string naming the file set, got {image!r}.")
        self.files = int(files_mb * PAGES_PER_MB)
        self.dups = int(dup_mb * PAGES_PER_MB)
        self.zeros = int(zero_mb * PAGES_PER_MB)
        self.data = int(data_mb * PAGES_PER_MB)
        self.variant, self.variants = int(variant_mb * PAGES_PER_MB), int(variants)
        self.image, self.overlap, self.warm_s = image, float(overlap), float(warm_s)
        self.reads_per_s, self.writes_per_s = int(reads_per_s), int(writes_per_s)
        self.cpu_us_per_access = float(cpu_us_per_access)

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.pages = self.files + self.zeros + self.data
        self._read_only = self.files + self.zeros
        self._cursor = 0
        return self.pages

    def disk_tokens(self, mint: TokenMint, pages: int) -> np.ndarray:
        common = int(round(self.overlap * self.files))
        distinct_pages = np.concatenate([image_tokens(f"{self.image}-input{self.uid % self.variants}",
                                                      np.arange(self.variant)),
                                         image_tokens(self.image, np.arange(self.variant, common)),
                                         mint.take(self.files - common)])
        idx = np.arange(self.files)
        idx[self.files - self.dups:] -= self.dups          # the same page in two files
        return np.concatenate([distinct_pages[idx], np.zeros(self.zeros + self.data, dtype=np.uint64)])

    def step(self, t: int) -> Access:
        n = self._read_only
        per_tick = int(np.ceil(n / self.warm_s))
        if self._cursor < n:
            reads = np.arange(self._cursor, min(n, self._cursor + per_tick))
            self._cursor += per_tick
        else:
            reads = self.rng.integers(0, n, size=self.reads_per_s) if n else EMPTY.lps
        writes = self.files + self.zeros + self.rng.integers(0, self.data, size=self.writes_per_s) \
            if self.data else EMPTY.lps
        lps = distinct(np.concatenate([reads, writes]))
        return Access(lps, lps >= self._read_only)


class NetServer(Workload):
    """A network server with a fixed set of transmit buffers (§7): each second it fills
    ``packets_per_s`` buffers round-robin from ``buffers`` pages and hands them to the NIC
    (``io``: each page once with its packets, so a second costs O(buffers)), and reads
    ``reads_per_s`` random pages of ``data_mb`` of file data that never see I/O. With
    ``rewrite=False`` the buffers are sent as they are (like ``sendfile`` of page-cache pages),
    so remapping must carry their contents over. Invented model of the workloads §7 says
    remapping helps most."""

    name = "netserver"
    file_backed = True

    def __init__(self, buffers: int = 64, packets_per_s: int = 2000, data_mb: float = 8.0,
                 reads_per_s: int = 200, cpu_us_per_access: float = 20.0, rewrite: bool = True) -> None:
        check_number("NetServer", "buffers", buffers, 1, 1 << 20, integer=True)
        check_number("NetServer", "packets_per_s", packets_per_s, 0, 10 ** 7, integer=True)
        check_number("NetServer", "data_mb", data_mb, 0, 1 << 20)
        check_number("NetServer", "reads_per_s", reads_per_s, 0, 10 ** 7, integer=True)
        check_number("NetServer", "cpu_us_per_access", cpu_us_per_access, 0, None)
        check_pages_fit(f"NetServer.data_mb = {data_mb!r}", buffers + data_mb * PAGES_PER_MB)
        check_choice("NetServer", "rewrite", rewrite, (True, False))
        self.buffers, self.packets_per_s = int(buffers), int(packets_per_s)
        self.data = int(data_mb * PAGES_PER_MB)
        self.reads_per_s, self.cpu_us_per_access = int(reads_per_s), float(cpu_us_per_access)
        self.rewrite = bool(rewrite)
        self._next = 0

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.pages = self.buffers + self.data
        return self.pages

    def step(self, t: int) -> Access:
        """Each buffer sent this second once, in round-robin order from ``_next``, with its
        packets: ``packets_per_s // buffers``, one more for the first ``packets_per_s % buffers``."""
        k = np.arange(min(self.packets_per_s, self.buffers))
        sent = (self._next + k) % self.buffers
        per, extra = divmod(self.packets_per_s, self.buffers)
        self._next = int((self._next + self.packets_per_s) % self.buffers)
        reads = self.buffers + self.rng.integers(0, self.data, size=self.reads_per_s) if self.data else EMPTY.lps
        lps = distinct(np.concatenate([sent, reads]))
        return Access(lps, (lps < self.buffers) & self.rewrite, io=sent, io_transfers=per + (k < extra))


WORKLOADS = {"idle": Idle, "dbench": Dbench, "toucher": Toucher, "spec95": Spec95, "netserver": NetServer}


def make(spec: Workload | type[Workload] | str) -> Workload:
    """A workload from an instance, a class whose parameters all have defaults, or a name of
    :data:`WORKLOADS` ("idle", "dbench", …); ConfigError otherwise."""
    if isinstance(spec, Workload):
        if spec.rng is not None or spec.wrapper is not None:
            why = ("has already driven a VM (even one powered off since, or on another host)" if spec.rng is not None
                   else "is already wrapped in a Delayed workload, which will drive a VM with it")
            raise ConfigError(f"workload = {shorten(spec)} {why}; a workload instance keeps one VM's state, so give "
                              f"each VM its own (e.g. workload={_spelled(type(spec))}(...) again).")
        return spec
    if isinstance(spec, type) and issubclass(spec, Workload):
        needed = _required(spec)
        if needed:
            raise ConfigError(f"workload = {spec.__name__} is a class, and {spec.__name__}() needs its parameter "
                              f"{needed[0]!r}; pass an instance, e.g. workload={_spelled(spec)}({needed[0]}=…).")
        return spec()
    if isinstance(spec, str) and spec in WORKLOADS:
        return WORKLOADS[spec]()
    raise ConfigError(f"workload = {shorten(spec)} is unknown; use a Workload instance or one of "
                      f"{', '.join(repr(k) for k in WORKLOADS)}.")


def _spelled(cls: type) -> str:
    """``cls`` as a notebook names it: ``esx.workloads.Dbench`` for esxlab's own, else its bare name."""
    return f"esx.workloads.{cls.__name__}" if cls.__module__ == __name__ else cls.__name__


def _required(cls: type) -> list[str]:
    """The parameters ``cls(...)`` must be given: those of its ``__init__`` without a default."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return [p.name for p in params if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def attached_pages(workload: Workload, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
    """``workload.attach(vm_pages, uid, rng)``, checked: its attach called the base class's (which
    gives it ``rng``: without it ``step`` fails on ``self.rng`` and :func:`make` would hand the
    instance to a second VM) and returned a whole number ≥ 0 of logical pages that this computer
    can hold (:func:`~esxlab.resources.check_pages_fit`, the bound of the built-in workloads' sizes;
    more than the VM's memory is fine, e.g. a file set larger than memory). Returns it as an int;
    ConfigError naming the workload's class otherwise. (invented)"""
    pages = workload.attach(vm_pages, uid, rng)
    name = type(workload).__name__
    if workload.rng is None:
        raise ConfigError(f"{name}.attach must call super().attach(pages, uid, rng) first: it gives the workload "
                          "the VM's seeded random stream (self.rng) and marks the instance as driving this VM.")
    who = f"{name}.attach()"
    if isinstance(pages, bool) or not isinstance(pages, numbers.Integral) or pages < 0:
        raise ConfigError(f"{who} returned {shorten(pages)}; allowed: a whole number ≥ 0 (an int), how many "
                          "logical pages the workload uses (its step() touches pages 0 to that number − 1).")
    check_pages_fit(f"{who} = {shorten(pages)} logical pages", pages)
    return int(pages)


def outside(workload: Workload) -> bool:
    """Whether ``workload`` was written outside esxlab: its ticks are checked (:func:`checked`); the
    package's are tested instead (tests/test_workload_contract.py), for speed."""
    return type(workload).__module__ != Workload.__module__


class Contents(Workload):
    """Known contents, for page-sharing exercises: ``app_mb`` of an application image
    (identical in every VM running the same ``app``), ``zero_mb`` of zero pages and
    ``private_mb`` found in no other page. It reads them all in its first second; they never
    change afterwards. (invented)"""

    name = "contents"
    file_backed = True

    def __init__(self, app: str = "app", app_mb: float = 4, zero_mb: float = 1, private_mb: float = 1) -> None:
        if not isinstance(app, str) or not app:
            raise ConfigError(f"Contents.app must be a non-empty str naming the application image, got "
                              f"{shorten(app)}.")
        for name, mb in (("app_mb", app_mb), ("zero_mb", zero_mb), ("private_mb", private_mb)):
            check_number("Contents", name, mb, 0, None)
        check_pages_fit(f"Contents(app_mb = {app_mb!r}, zero_mb = {zero_mb!r}, private_mb = {private_mb!r})",
                        (app_mb + zero_mb + private_mb) * PAGES_PER_MB)
        self.app = app
        self.sizes = [int(mb * PAGES_PER_MB) for mb in (app_mb, zero_mb, private_mb)]

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.pages = sum(self.sizes)
        return self.pages

    def disk_tokens(self, mint: TokenMint, pages: int) -> np.ndarray:
        app, zero, private = self.sizes
        return np.concatenate([image_tokens(self.app, np.arange(app)), np.zeros(zero, dtype=np.uint64),
                               mint.take(private)])

    def step(self, t: int) -> Access:
        return Access(np.arange(self.pages), np.zeros(self.pages, dtype=bool)) if t == 1 else EMPTY


class HotCold(Workload):
    """A working set with locality, for replacement-policy exercises: it writes all of its
    ``hot_mb + cold_mb`` once while warming up (``warm_s`` seconds), then every second writes
    all hot pages and ``cold_per_s`` random cold ones. (invented)"""

    name = "hot-cold"

    def __init__(self, hot_mb: float = 8, cold_mb: float = 32, cold_per_s: int = 20, warm_s: int = 20) -> None:
        check_number("HotCold", "hot_mb", hot_mb, 0, None)
        check_number("HotCold", "cold_mb", cold_mb, 1 / PAGES_PER_MB, None)      # (at least one page to draw from)
        check_pages_fit(f"HotCold(hot_mb = {hot_mb!r}, cold_mb = {cold_mb!r})", (hot_mb + cold_mb) * PAGES_PER_MB)
        check_number("HotCold", "cold_per_s", cold_per_s, 0, 10 ** 7, integer=True)
        check_number("HotCold", "warm_s", warm_s, 1, None, integer=True)
        self.hot, self.cold = int(hot_mb * PAGES_PER_MB), int(cold_mb * PAGES_PER_MB)
        self.cold_per_s, self.warm_s = int(cold_per_s), int(warm_s)

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.pages = self.hot + self.cold
        return self.pages

    def step(self, t: int) -> Access:
        if t <= self.warm_s:
            per = -(-self.pages // self.warm_s)
            lps = np.arange((t - 1) * per, min(t * per, self.pages))
        else:
            lps = np.concatenate([np.arange(self.hot),
                                  self.hot + distinct(self.rng.integers(0, self.cold, self.cold_per_s))])
        return Access(lps, np.ones(len(lps), dtype=bool))


class Probe(Workload):
    """A page-sharing side-channel probe, for security exercises: one page per candidate content
    (the page ``image_tokens(name, [0])``, as :class:`Contents` holds an image named ``name``), read
    in the first second; from ``probe_at_s`` it writes one of them per second, in order, and
    nothing else. A write that breaks copy-on-write reveals that the page was shared. (invented)"""

    name = "probe"
    file_backed = True

    def __init__(self, candidates=("a", "b"), probe_at_s: int = 60) -> None:
        # (in order: a set's order, or a dict's keys, would be Python's choice, not the caller's)
        names = tuple(candidates) if isinstance(candidates, (list, tuple, np.ndarray)) else ()
        if not names or not all(isinstance(c, str) and c for c in names):
            raise ConfigError(f"Probe.candidates must be a list or tuple of non-empty str (content names, probed in "
                              f"that order), got {shorten(candidates)}.")
        check_number("Probe", "probe_at_s", probe_at_s, 2, None, integer=True)
        self.candidates = names
        self.probe_at_s = int(probe_at_s)

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.pages = len(self.candidates)
        return self.pages

    def disk_tokens(self, mint: TokenMint, pages: int) -> np.ndarray:
        return np.concatenate([image_tokens(c, np.arange(1)) for c in self.candidates])

    def step(self, t: int) -> Access:
        if t == 1:
            return Access(np.arange(self.pages), np.zeros(self.pages, dtype=bool))
        i = t - self.probe_at_s
        return Access(np.array([i]), np.ones(1, dtype=bool)) if 0 <= i < self.pages else EMPTY


class Grow(Workload):
    """A process that writes ``base_mb`` of fresh data in its first second, then sits idle until
    ``grow_at_s``, when it writes ``grow_mb`` more at once (a large buffer), for demand-paging
    exercises: a guest short of free pages must page some of its own out. (invented)"""

    name = "grow"

    def __init__(self, base_mb: float = 16, grow_mb: float = 8, grow_at_s: int = 30) -> None:
        check_number("Grow", "base_mb", base_mb, 0, None)
        check_number("Grow", "grow_mb", grow_mb, 0, None)
        check_pages_fit(f"Grow(base_mb = {base_mb!r}, grow_mb = {grow_mb!r})", (base_mb + grow_mb) * PAGES_PER_MB)
        check_number("Grow", "grow_at_s", grow_at_s, 2, None, integer=True)
        self.base, self.grow = int(base_mb * PAGES_PER_MB), int(grow_mb * PAGES_PER_MB)
        self.grow_at_s = int(grow_at_s)

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.pages = self.base + self.grow
        return self.pages

    def step(self, t: int) -> Access:
        if t == 1:
            lps = np.arange(self.base)
        elif t == self.grow_at_s:
            lps = self.base + np.arange(self.grow)
        else:
            return EMPTY
        return Access(lps, np.ones(len(lps), dtype=bool))


class Delayed(Workload):
    """``inner`` starts at ``start_s`` seconds of VM time (a whole number; a fraction is dropped):
    before that the VM is idle; from VM tick ``start_s`` (tick 1 for 0) ``inner`` runs as if the VM
    had just booted, VM tick t being its tick t − start_s + 1 (ticks count from 1). Name, contents
    (and how they compress) and CPU cost are ``inner``'s: the attributes of :data:`PER_WORKLOAD`.
    (invented helper: Figure 2's dbench starts once the balloon is in place)"""

    def __init__(self, inner: Workload, start_s: float) -> None:
        if not isinstance(inner, Workload):
            raise ConfigError(f"Delayed.inner must be a Workload instance (e.g. esx.workloads.Dbench()), got "
                              f"{shorten(inner)}.")
        check_number("Delayed", "start_s", start_s, 0, None)
        self.inner = make(inner)                 # (refuses one that drove a VM, or that another Delayed wraps)
        inner.wrapper = self                     # (so that no other VM, nor another Delayed, takes it)
        self.start_s = int(start_s)
        self._first = max(1, self.start_s)       # the VM tick of inner's tick 1
        self._pages = 0
        for attr in PER_WORKLOAD:
            setattr(self, attr, getattr(inner, attr))

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)       # (marks this instance used: make() refuses it for another VM)
        self._pages = attached_pages(self.inner, vm_pages, uid, rng)
        return self._pages

    def step(self, t: int) -> Access:
        """EMPTY before ``start_s``, then ``inner``'s tick; an inner workload written outside esxlab has
        its ticks checked here, as the VM checks such a workload of its own (:func:`checked`)."""
        if t < self._first:
            return EMPTY
        tick = t - self._first + 1
        acc = self.inner.step(tick)
        return checked(acc, self._pages, type(self.inner).__name__, tick) if outside(self.inner) else acc

    def disk_tokens(self, mint: TokenMint, pages: int) -> np.ndarray | None:
        return self.inner.disk_tokens(mint, pages)


class Deployed(Spec95):
    """A production server's memory as contents (invented for Figure 5, ``experiments/fig5.py``):
    file pages from ``images`` ((name, MB) pairs: identical in every VM naming the same image),
    then ``private_mb`` of this VM's own data (a negative size counts as 0), then ``zero_mb`` of
    zero pages; read in sequentially over ``warm_s`` seconds, then 200 random pages a second
    (:class:`Spec95`'s reads; no writes, so the contents never change)."""

    name = "deployed"

    def __init__(self, images: tuple[tuple[str, float], ...], private_mb: float, zero_mb: float,
                 warm_s: float) -> None:
        for name, mb in _check_steps("Deployed", "images", images, ("name", "mb"), numbers=("mb",)):
            if not isinstance(name, str) or not name:
                raise ConfigError(f"Deployed.images name must be a non-empty str naming a file set, got "
                                  f"{shorten(name)}.")
        check_number("Deployed", "private_mb", private_mb, None, None)
        check_number("Deployed", "zero_mb", zero_mb, 0, 1 << 20)            # (Spec95's bounds, named as given here)
        check_number("Deployed", "warm_s", warm_s, 1, 10 ** 6)
        self.images = tuple((name, int(round(mb * PAGES_PER_MB))) for name, mb in images)
        private = max(0, int(round(private_mb * PAGES_PER_MB)))
        files = sum(n for _, n in self.images) + private
        check_pages_fit(f"Deployed(images = {shorten(images)}, private_mb = {private_mb!r}, zero_mb = {zero_mb!r})",
                        files + zero_mb * PAGES_PER_MB)
        if files > (1 << 20) * PAGES_PER_MB:
            raise ConfigError(f"Deployed images and private_mb hold {files / PAGES_PER_MB:g} MB of files in all; "
                              f"allowed: at most {1 << 20} MB (Spec95.files_mb's bound).")
        super().__init__(files_mb=files / PAGES_PER_MB, dup_mb=0, zero_mb=zero_mb, data_mb=0,
                         warm_s=warm_s, writes_per_s=0)
        self.files = files

    def disk_tokens(self, mint: TokenMint, pages: int) -> np.ndarray:
        shared = [image_tokens(name, np.arange(n)) for name, n in self.images]
        private = self.files - sum(n for _, n in self.images)
        return np.concatenate(shared + [mint.take(private), np.zeros(self.zeros, dtype=np.uint64)])


class Server(Workload):
    """A server VM's memory behaviour (invented for Figure 8, ``experiments/fig8.py``): a
    footprint of data written once, at ``fill_mb_s`` MB/s, up to the size its ``footprint`` steps
    ask for, and a working set (the first pages of the footprint) following its ``active`` steps,
    swept round-robin, a third of its touches writing. Steps are ``(minute, MB)`` for the
    footprint and ``(minute, MB, sweep seconds)`` for the working set; a size holds until the
    next step, and before the first it is 0. Logical pages: as many as the largest size asked."""

    name = "server"

    def __init__(self, footprint, active, fill_mb_s: float) -> None:
        footprint = _check_steps("Server", "footprint", footprint, ("minute", "mb"))
        active = _check_steps("Server", "active", active, ("minute", "mb", "sweep_s"))
        for _, _, sweep_s in active:
            check_number("Server", "active sweep_s", sweep_s, 1, None)
        top = max([0] + [mb for _, mb, *_ in footprint + active])
        check_pages_fit(f"Server footprint or active mb = {top!r}", top * PAGES_PER_MB)
        check_number("Server", "fill_mb_s", fill_mb_s, 0, None, lo_open=True)
        self.footprint, self.active = _in_seconds(footprint), _in_seconds(active)
        self.fill = max(1, int(fill_mb_s * PAGES_PER_MB))
        self.filled = 0
        self._cursor = 0

    def attach(self, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
        super().attach(vm_pages, uid, rng)
        self.pages = max([0] + [p for _, p, *_ in self.footprint + self.active])
        return self.pages

    @staticmethod
    def _at(steps, t: int) -> tuple:
        now = (0, 0, 1)
        for step in steps:
            if t >= step[0]:
                now = step
        return now

    def step(self, t: int) -> Access:
        ws, sweep = self._at(self.active, t)[1:]
        want = max(self._at(self.footprint, t)[1], ws)
        old = self.filled
        self.filled = max(old, min(want, old + self.fill))      # pages old … filled − 1 are new
        ws = min(ws, self.filled)
        hot = []
        if ws:                      # the sweep's next ``per`` pages, wrapping at ws, of those written before
            per, c = math.ceil(ws / sweep), self._cursor % ws
            end = c + min(per, ws)
            hot = [np.arange(c, min(end, ws, old), dtype=np.int64)]
            if end > ws:
                hot.append(np.arange(min(end - ws, old), dtype=np.int64))
            self._cursor = (c + per) % ws
        n_hot = sum(len(h) for h in hot)
        if old == self.filled:      # the footprint is full: the sweep alone (the usual tick)
            lps = hot[0] if len(hot) == 1 else np.concatenate(hot or [np.empty(0, dtype=np.int64)])
            return Access(lps, self.rng.random(n_hot) < 1 / 3)
        writes = np.ones(self.filled - old + n_hot, dtype=bool)
        writes[self.filled - old:] = self.rng.random(n_hot) < 1 / 3
        return Access(np.concatenate([np.arange(old, self.filled, dtype=np.int64), *hot]), writes)


def _in_seconds(steps) -> list[tuple]:
    """(minute, MB, ...) steps as (second, pages, ...)."""
    return [(int(60 * m), int(mb * PAGES_PER_MB), *rest) for m, mb, *rest in steps]


def _check_steps(owner: str, name: str, steps, fields: tuple[str, ...], numbers: tuple[str, ...] | None = None
                 ) -> list[tuple]:
    """``steps`` as a list of tuples of ``len(fields)`` values, those named in ``numbers`` (default:
    all) finite numbers ≥ 0; raises ConfigError naming ``owner.name`` and the field."""
    try:
        rows = [tuple(step) for step in steps]
    except TypeError:
        rows = None
    if rows is None or isinstance(steps, (str, bytes)) or any(len(r) != len(fields) for r in rows):
        kind = "pairs" if len(fields) == 2 else "tuples"
        raise ConfigError(f"{owner}.{name} must be a list of ({', '.join(fields)}) {kind}, got {shorten(steps)}.")
    for row in rows:
        for label, value in zip(fields, row):
            if numbers is None or label in numbers:
                check_number(owner, f"{name} {label}", value, 0, None)
    return rows
