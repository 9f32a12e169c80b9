"""The workload contract (invented): :class:`Workload`, the :class:`Access` a tick returns, the check of an
outside workload's ticks (:func:`checked`) and of its ``attach`` (:func:`attached_pages`), and the schedules'
parsing shared by the workloads that take ``(time, MB)`` steps."""
from __future__ import annotations

import abc
import inspect
import numbers
import re
from dataclasses import dataclass, field

import numpy as np

from ..config import PAGES_PER_MB
from ..content import TokenMint
from ..arrays import page_numbers, whole_numbers
from ..errors import ConfigError, check_call, check_number, shorten, shown
from ..resources import check_pages_fit


@dataclass
class Access:
    """One tick of a workload: ``lps``, the distinct logical pages touched (0 … pages − 1), and
    ``writes``, one bool per page of ``lps``, True where it is written; ``freed``: distinct logical
    pages the workload gives back to its guest this tick (the guest frees their pages: on Windows the
    zero page thread zeroes them); ``io``: logical pages (among ``lps``) sent to a device (§7), and
    ``io_transfers`` how many transfers each entry stands for (None: one each, so a page repeats
    once per transfer). Within the tick the guest frees ``freed`` first, then makes ``lps`` resident
    and accesses them (a page both freed and touched comes back zero-filled), then sends ``io``
    (``VM.step``). A write stores fresh data, found in no other page (``VM.mint``): a workload that wants
    zero pages reads anonymous pages it never wrote (``writes`` False: the guest fills them with zeroes on
    first touch), and one that wants known contents (images shared across VMs) is ``file_backed`` and
    gives them by ``disk_tokens``."""

    lps: np.ndarray
    writes: np.ndarray
    freed: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    io: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    io_transfers: np.ndarray | None = None


class _Fixed(Access):
    """An :class:`Access` that cannot be changed once made (:data:`EMPTY`, which every workload's idle tick
    returns: a change would reach every later tick of every VM); its arrays are read-only views (no resize)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray):
                value = value.view()
                value.flags.writeable = False
                object.__setattr__(self, name, value)
        object.__setattr__(self, "_made", True)

    def __setattr__(self, name: str, value: object) -> None:
        if getattr(self, "_made", False):
            self._refuse(f"EMPTY.{name} = {shorten(value)}")
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        self._refuse(f"del EMPTY.{name}")

    @staticmethod
    def _refuse(change: str) -> None:
        raise ConfigError(f"{change} is not allowed: esxlab.workloads.EMPTY is the one empty tick every workload "
                          "shares; allowed: a new Access of one's own, e.g. Access(lps, np.zeros(len(lps), "
                          "dtype=bool)).")


#: the tick that touches nothing (shared: it cannot be changed)
EMPTY = _Fixed(np.empty(0, dtype=np.int64), np.empty(0, dtype=bool))


#: the most transfers one entry of ``Access.io_transfers`` may stand for in a second (invented: far above any
#: device's rate, and low enough that a tick's sums of them never overflow 64 bits)
MAX_TRANSFERS = 10 ** 9


def checked(acc: object, pages: int, who: str, t: int) -> Access:
    """``acc``, a tick of a workload written outside esxlab, checked and as the guest needs it
    (intp page numbers): an :class:`Access` whose ``lps`` are distinct whole numbers in
    ``[0, pages)``, ``writes`` a bool array of the same length, ``freed`` distinct, ``io`` among
    ``lps`` and ``io_transfers`` None or one whole number 0 … :data:`MAX_TRANSFERS` per entry of ``io``.
    Raises ConfigError naming what is wrong: a repeated or out-of-range page would otherwise corrupt the guest's
    page tables silently (a negative one indexes from the end), as would a page sent to a device
    that the tick does not touch (it may have no guest page behind it).
    ``pages``: what the workload's ``attach`` returned; ``who``: its class name. (invented)"""
    where = f"{who}.step(t = {t})"
    if not isinstance(acc, Access):
        raise ConfigError(f"{where} returned {shorten(acc)}; it must return an esxlab.workloads.Access(lps, "
                          "writes): the distinct logical pages it touches this second and which of them it writes.")

    def pages_of(name: str, value, once: bool) -> np.ndarray:
        a = page_numbers(value, pages, once, unit="page")
        if isinstance(a, str):
            raise ConfigError(f"{where} returned Access.{name} = {shown(value)}, which {a}; allowed: "
                              + (f"a 1-D array of {'distinct ' if once else ''}whole numbers from 0 to {pages - 1}"
                                 if pages else "an empty array") + f" (attach() returned {pages} logical pages).")
        return a

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
        if not whole_numbers(n, io.shape, MAX_TRANSFERS):
            raise ConfigError(f"{where} returned Access.io_transfers = {shorten(transfers)}; allowed: None (one "
                              "transfer per entry of Access.io) or an array of whole numbers "
                              f"0 ≤ n ≤ {MAX_TRANSFERS:,} with one entry per entry of Access.io ({len(io)}), the "
                              "transfers it stands for this second.")
        transfers = n.astype(np.int64)
    return Access(lps, writes, pages_of("freed", acc.freed, True), io, transfers)


class _Checked(abc.ABCMeta):
    """Workload's metaclass: calling a workload class checks the arguments first (:func:`check_call`), so an unknown
    parameter name, too many positional ones or a required one left out is a ConfigError naming what the class takes
    (not Python's TypeError). Copies and unpickled instances, made without calling the class, are not checked. An
    ABCMeta, so a workload may also subclass ``abc.ABC``."""

    def __call__(cls, *args, **kwargs):
        check_call(cls, args, kwargs)
        return super().__call__(*args, **kwargs)


class Workload(metaclass=_Checked):
    """Base class. A subclass's :meth:`attach` calls ``super().attach(vm_pages, uid, rng)`` (which
    sets ``self.rng``) and returns how many logical pages it uses, ``n``; its :meth:`step` returns
    an :class:`Access` of pages from 0 to n − 1. Draw random numbers from ``self.rng`` only (the
    VM's seeded stream): with ``np.random`` or ``random``, two runs of one seed differ, silently.

    An instance drives one VM: it keeps that VM's state (its position, its random stream),
    so :func:`make` refuses an instance that is already attached (create one per VM)."""

    name = "workload"
    cpu_us_per_access = 1.0   # CPU time of one access, > 0 (with none, throughput, accesses per busy s, is endless)
    compressible = 0.5        # invented: fraction of its pages that compress to ≤ half a page (later ESX)
    file_backed = False       # logical pages are file blocks with private initial contents
    rng: np.random.Generator | None = None      # set by attach: the VM's stream
    wrapper: "Workload | None" = None           # the Delayed that will drive it (set by Delayed)

    def __new__(cls, *args, **kwargs):
        """Takes the class's arguments (a subclass's own ``__new__`` may pass them on) and makes the instance."""
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


def attached_pages(workload: Workload, vm_pages: int, uid: int, rng: np.random.Generator) -> int:
    """``workload.attach(vm_pages, uid, rng)``, checked: its attach called the base class's (which
    gives it ``rng``: without it ``step`` fails on ``self.rng`` and :func:`make` would hand the
    instance to a second VM) and returned a whole number ≥ 0 of logical pages that this computer
    can hold (:func:`~esxlab.resources.check_pages_fit`, the bound of the built-in workloads' sizes;
    more than the VM's memory is fine, e.g. a file set larger than memory), and that its ``cpu_us_per_access``
    is a number > 0 and its ``compressible`` one in [0, 1] (read every tick, unchecked). Returns the pages as an int;
    ConfigError naming the workload's class otherwise, and for a subclass of a built-in workload whose
    ``__init__`` skipped the built-in's (what it sets is missing). (invented)"""
    name = type(workload).__name__
    try:
        pages = workload.attach(vm_pages, uid, rng)
    except AttributeError as err:
        skipped = _skipped_init(workload, err)
        if skipped is None:
            raise
        raise ConfigError(f"{name} has no attribute {err.name!r}, which {skipped}.__init__ sets: {name}.__init__ "
                          f"must call super().__init__(…) with {skipped}'s parameters.") from None
    if workload.rng is None:
        raise ConfigError(f"{name}.attach must call super().attach(pages, uid, rng) first: it gives the workload "
                          "the VM's seeded random stream (self.rng) and marks the instance as driving this VM.")
    who = f"{name}.attach()"
    if isinstance(pages, bool) or not isinstance(pages, numbers.Integral) or pages < 0:
        raise ConfigError(f"{who} returned {shorten(pages)}; allowed: a whole number ≥ 0 (an int), how many "
                          "logical pages the workload uses (its step() touches pages 0 to that number − 1).")
    check_pages_fit(f"{who} = {shorten(pages)} logical pages", pages)
    check_number(name, "cpu_us_per_access", workload.cpu_us_per_access, 0, None, lo_open=True)
    check_number(name, "compressible", workload.compressible, 0, 1)
    return int(pages)


def _skipped_init(workload: Workload, err: AttributeError) -> str | None:
    """The name of the built-in workload class among ``workload``'s bases whose ``__init__`` the workload's class
    overrides, if ``err`` is a missing attribute of ``workload`` itself that the built-in's ``__init__`` sets (so
    the workload's did not call it); else None."""
    if getattr(err, "obj", None) is not workload or not outside(workload):
        return None
    for base in type(workload).__mro__[1:]:
        if packaged(base) and "__init__" in vars(base) and base is not Workload:
            sets = re.search(rf"self\.{re.escape(err.name)}\b", inspect.getsource(base.__init__))
            return base.__name__ if sets and type(workload).__init__ is not base.__init__ else None
    return None


def disk_contents(workload: Workload, mint: TokenMint, pages: int) -> np.ndarray | None:
    """``workload.disk_tokens(mint, pages)``, checked for a workload written outside esxlab (:func:`outside`): None,
    or one whole number ≥ 0 per logical page, as uint64 tokens; ConfigError naming the workload's class otherwise
    (a short array failed at the first page-in past its end, a negative token wrapped to a huge one). (invented)"""
    tokens = workload.disk_tokens(mint, pages)
    if tokens is None or not outside(workload):
        return tokens
    t = np.asarray(tokens) if isinstance(tokens, (np.ndarray, list, tuple)) else None
    if t is None or not whole_numbers(t, (pages,)):
        raise ConfigError(f"{type(workload).__name__}.disk_tokens(mint, {pages}) returned {shown(tokens)}; allowed: "
                          f"None (zero-filled pages) or an array of whole numbers ≥ 0, one token per logical page "
                          f"({pages}), e.g. mint.take(pages).")
    return t.astype(np.uint64)


def outside(workload: Workload) -> bool:
    """Whether ``workload`` was written outside esxlab: its ticks are checked (:func:`checked`); the
    package's are tested instead (tests/test_workload_contract.py), for speed."""
    return not packaged(type(workload))


def packaged(cls: type) -> bool:
    """Whether ``cls`` is one of esxlab's own workloads (defined in this package)."""
    return cls.__module__.startswith(__package__ + ".")


def in_seconds(steps: list[tuple]) -> list[tuple]:
    """(minute, MB, ...) steps as (second, pages, ...)."""
    return [(int(60 * m), int(mb * PAGES_PER_MB), *rest) for m, mb, *rest in steps]


def check_steps(owner: str, name: str, steps: object, fields: tuple[str, ...],
                numbers: tuple[str, ...] | None = None) -> list[tuple]:
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
