"""Configuration: frozen dataclasses with the paper's defaults, validation and slider metadata.

Every numeric or choice field is declared by a :class:`Param` (label, lo, hi, step, unit,
source) that validation and the notebook views both read, so a range is declared once; the
experiments' knobs are Params too. ``source`` says where a default comes from: the paper's
section, a later ESX manual, or "invented" (esxlab's own choice where the paper is silent;
README.md's table "What is modelled, and where the paper is silent" gathers them).
"""
from __future__ import annotations

import dataclasses
import numbers
import textwrap
import warnings
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Callable, TypeVar

import numpy as np

from .errors import (ConfigError, check_call, check_choice, check_known, check_number, describe_range, shorten,
                     user_stacklevel)
from .resources import HOST_BYTES_PER_PAGE, SWAP_BYTES_PER_PAGE, VM_BYTES_PER_PAGE, check_fits

PAGE_KB = 4
PAGES_PER_MB = 1024 // PAGE_KB

BALLOON_MODES = ("cooperative", "absent", "disabled", "uncooperative", "lying")
GUEST_OSES = ("linux", "windows")
STATE_ENTRY = ("own", "higher")
HIGH_STATE = ("idle", "converge")
REPLACEMENT_POLICIES = ("random", "clock")       # esxlab.swap.POLICIES implements each
PRESETS = ("esx2002", "esxi6")
STATE_MODELS = ("esx2002", "esxi6")
# later ESX (ESXi 6 "sliding scale" minFree): (MB of machine memory, % of it) from the first MB on
#: the largest VMConfig.salt: esxlab's salts are 64-bit numbers, mixed into a page's hash (invented; later ESX's
#: sched.mem.pshare.salt is a string in the VM's configuration)
SALT_MAX = 2 ** 64 - 1
MINFREE_SCALE = ((4096, 6.0), (8192, 4.0), (16384, 2.0), (float("inf"), 1.0))


def minfree_mb(memory_mb: float) -> float:
    """ESXi 6's minFree in MB for ``memory_mb`` of machine memory: 6 % of the first 4 GB, 4 % of
    the next 8 GB, 2 % of the next 16 GB, 1 % of the rest (later ESX, vSphere 6 resource
    management: a 128 GB host keeps 245.76 + 327.68 + 327.68 + 1024 = 1925.12 MB). ConfigError
    for a negative or non-finite size."""
    check_number("minfree_mb", "memory_mb", memory_mb, 0, None)
    total, left = 0.0, float(memory_mb)
    for size, pct in MINFREE_SCALE:
        part = min(left, size)
        total += part * pct
        left -= part
    return total / 100          # one division: 1925.12, not 1925.1200000000001


@dataclass(frozen=True)
class Param:
    """One parameter, declared once: its default, allowed values and how a slider shows it.

    The same type declares configuration fields (through :func:`param`), experiment knobs
    (``PARAMS`` in :mod:`esxlab.experiments`) and the notebooks' controls
    (:func:`esxlab.views.control`). Allowed values are a range ``lo``…``hi`` (ends open if asked,
    whole numbers if ``integer``), or ``choices``, or a ``check(label, value)`` of its own for
    structured values (it raises ConfigError itself); ``optional`` also allows None. ``source``
    says where the default comes from (paper section, later ESX, or "invented"). A percentage moved
    in whole steps (unit "%…", ``step`` ≥ 1) refuses a value strictly between 0 and 1 as a fraction of
    1 typed for it (0.65 for 65 %), as ``check_number`` refuses 75 for a fraction; a configuration warns of
    exactly 1 where that may be the fraction 1 typed for 100 % (:meth:`maybe_fraction_one`).
    ``spec["label"]`` reads like ``spec.label`` (the older dict form of a config's ``controls()``).
    """

    default: Any
    label: str
    lo: float | None = None
    hi: float | None = None
    step: float | None = None
    unit: str = ""
    source: str = ""
    lo_open: bool = False
    hi_open: bool = False
    integer: bool = False
    optional: bool = False
    choices: tuple | None = None
    check: Callable[[str, Any], None] | None = None
    why_range: str = ""

    def validate(self, owner: str, name: str, value: Any) -> Any:
        """``value`` if allowed (a choice comes back as the plain choice, not a numpy scalar);
        else ConfigError naming ``owner.name``, the value and what is allowed (and ``why_range``, where a
        bound is not obvious: "896 MB: the five VMs' min + overhead")."""
        if value is None and self.optional:
            return None
        if self.check is not None:
            self.check(f"{owner}.{name}", value)
            return value
        if self.choices is not None:
            return check_choice(owner, name, value, self.choices)
        # a percentage given 0 < value ≤ 1 is likely a fraction of 1 (0.5 for 50 %): refused as one below 1, and
        # named as one where out of range (1 is allowed where in range: 1 %)
        fraction = (self.whole_percent and isinstance(value, (numbers.Integral, float, np.floating))
                    and not isinstance(value, bool) and 0 < value <= 1)      # (not a Fraction: check_number's)
        try:
            check_number(owner, name, value, self.lo, self.hi, self.lo_open, self.hi_open, self.integer)
        except ConfigError as err:
            if fraction:
                raise self._fraction(owner, name, value) from None
            if not self.why_range:
                raise
            raise ConfigError(f"{str(err).removesuffix('.')} ({self.why_range}).") from None
        if fraction and value < 1:
            raise self._fraction(owner, name, value)
        return value

    def _fraction(self, owner: str, name: str, value: Any) -> ConfigError:
        """The sentence for ``value``, a fraction of 1 (0 < value ≤ 1) given for this percentage ``name``."""
        return ConfigError(f"{owner}.{name} = {value!r} looks like {'the fraction' if value == 1 else 'a fraction of'} "
                           f"1, but {name} is a percentage "
                           f"({value * 100:g} for {value * 100:g} %); allowed: {self.allowed(name)}.")

    @property
    def whole_percent(self) -> bool:
        """A percentage moved in whole steps (unit "%…", step ≥ 1): 0 < value < 1 is refused as a fraction."""
        return self.unit.startswith("%") and self.step is not None and self.step >= 1

    def maybe_fraction_one(self, value: Any) -> bool:
        """Whether ``value`` is exactly 1 in a percentage that may be the fraction 1 typed for 100 %: one moved in
        steps larger than 1 (so no slider sets 1; typed) whose range holds 100 (``balloon_max_pct = 1.0``)."""
        return self.whole_percent and self.step > 1 and (self.hi is None or self.hi >= 100) and value == 1

    def allowed(self, name: str) -> str:
        """What the field ``name`` allows, as :meth:`validate`'s sentences say it (e.g. ``0 ≤ tax_rate < 1``)."""
        if self.check is not None:
            text = f"a {'tuple' if isinstance(self.default, (tuple, list)) else 'value'} shaped like the default"
        elif self.choices is not None:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        else:
            text = ("whole numbers, " if self.integer else "") + describe_range(name, self.lo, self.hi, self.lo_open,
                                                                               self.hi_open)
            if self.whole_percent:
                text += ", a percentage (0 < value < 1 reads as a fraction of 1 and is refused)"
        return text + (", or None" if self.optional else "")

    def describe(self, name: str) -> str:
        """One line of a configuration's docstring: the field, its unit, meaning, allowed values,
        default and source."""
        unit = f" ({self.unit})" if self.unit else ""
        return (f"* ``{name}``{unit}: {self.label}; allowed: {self.allowed(name)}; default {self.default!r}; "
                f"source: {self.source or 'invented'}.")

    def replace(self, **changes: Any) -> "Param":
        """A copy with ``changes`` (e.g. a narrower ``hi`` or another ``default``); ConfigError
        for a name that is not a field of Param."""
        names = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(names))
        if unknown:
            raise ConfigError(f"Param has no field {unknown[0]!r}; its fields are: {', '.join(names)}.")
        return dataclasses.replace(self, **changes)

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None


def param(default: Any, label: str, lo: float | None = None, hi: float | None = None, *,
          step: float | None = None, unit: str = "", source: str = "invented",
          lo_open: bool = False, hi_open: bool = False, integer: bool = False,
          optional: bool = False, choices: tuple | None = None) -> Any:
    """A dataclass field declared by a :class:`Param` (kept in the field's ``metadata["param"]``)."""
    spec = Param(default, label, lo, hi, step, unit, source, lo_open, hi_open, integer, optional, choices)
    return field(default=default, metadata={"param": spec})


_Config = TypeVar("_Config", bound="Validated")     # replace() returns its own class
_Class = TypeVar("_Class", bound=type)


def documented(cls: _Class) -> _Class:
    """``cls`` (a dataclass) with one line per :func:`param` field appended to its docstring, made
    from the field's :class:`Param` (unit, meaning, allowed values, default, source), so ``help()``
    shows what ``controls()`` knows and the two never drift."""
    lines = "\n".join(textwrap.fill(spec.describe(name), 110, initial_indent="    ", subsequent_indent="      ",
                                     break_on_hyphens=False)      # ("low-memory" stays one word)
                      for name, spec in cls.controls().items())
    cls.__doc__ = f"{cls.__doc__}\n\n    Parameters (from each field's ``param``):\n\n{lines}\n"
    return cls


class Validated:
    """Mixin: ``__post_init__`` checks every field declared with :func:`param`; an unknown
    parameter name is a ConfigError naming the known ones. Only the fields before a ``KW_ONLY``
    marker may be given by position (``HostConfig(512)``, ``VMConfig("db", 256)``): more positional
    values are a ConfigError saying which field the first extra one would have set."""

    def __new__(cls, *args: Any, **kwargs: Any):
        _check_positional(cls, args)
        check_call(cls, args, kwargs)
        return super().__new__(cls)

    def __post_init__(self) -> None:
        owner = type(self).__name__
        ones = []
        for name, spec in self.controls().items():
            value = spec.validate(owner, name, getattr(self, name))
            if spec.maybe_fraction_one(value):       # allowed (1 % is a percentage), but say how it reads
                ones.append(f"{owner}.{name} = {value!r} is read as 1 {spec.unit}; if you meant the fraction 1, "
                            f"{name} is a percentage (100 for 100 %).")
            object.__setattr__(self, name, value)
        self._check_relations()
        for message in ones:                          # only for a configuration that is made
            warnings.warn(message, UserWarning, stacklevel=user_stacklevel())

    def _check_relations(self) -> None:
        """Cross-field rules; subclasses override."""

    def replace(self: _Config, **changes: Any) -> _Config:
        """A copy with ``changes`` applied (validated again)."""
        check_known(type(self).__name__, changes, [f.name for f in dataclasses.fields(self)])
        return dataclasses.replace(self, **changes)

    @classmethod
    def controls(cls) -> dict[str, Param]:
        """The :class:`Param` of every field declared with :func:`param`: name → Param."""
        return {f.name: f.metadata["param"] for f in dataclasses.fields(cls) if "param" in f.metadata}


def _likely(owner: str, fields: list, value: Any) -> Any:
    """The field of ``fields`` (keyword-only ones, in order) that ``value`` most likely meant: the first that
    accepts it, one taking fractions first for a value between 0 and 1 (``HostConfig(512, 0.75)``: τ, not a
    0.75 MB swap area); else the first field."""
    def takes(f: Any) -> bool:
        try:
            f.metadata["param"].validate(owner, f.name, value)
        except (ConfigError, TypeError, ValueError):
            return False
        return True
    fits = [f for f in fields if "param" in f.metadata and takes(f)]
    if isinstance(value, float) and 0 < value < 1:
        fits = [f for f in fits if (f.metadata["param"].hi or 2) <= 1] or fits
    return fits[0] if fits else fields[0]


def _check_positional(cls: type, args: tuple) -> None:
    """ConfigError if ``args`` holds more values than ``cls`` takes by position: which fields
    those are, and what the first extra value would have meant by its place (``HostConfig(512,
    0.75)`` reads 0.75 as ``swap_mb``, not ``tax_rate``)."""
    fields = [f for f in dataclasses.fields(cls) if f.init]
    names = [f.name for f in fields if not f.kw_only]
    if len(args) <= len(names) or len(names) == len(fields):       # (no KW_ONLY: check_call says it)
        return
    extra = args[len(names)]
    beyond = _likely(cls.__name__, fields[len(names):], extra)
    spec = beyond.metadata.get("param")
    meaning = f"the {spec.label}{f' in {spec.unit}' if spec.unit else ''}" if spec else f"its {beyond.name}"
    example = ", ".join([*(shorten(a) for a in args[:len(names)]), f"{beyond.name}={shorten(extra)}"])
    given = ", ".join([*(shorten(a) for a in args[:6]), *(["…"] if len(args) > 6 else [])])
    raise ConfigError(
        f"{cls.__name__} takes at most {len(names)} value{'s' * (len(names) != 1)} by position "
        f"({', '.join(names)}), got {len(args)}: {given}; name the others, e.g. "
        f"{cls.__name__}({example}) if {shorten(extra)} is {meaning}; every name is in help({cls.__name__}).")


@documented
@dataclass(frozen=True)
class HostConfig(Validated):
    """Host-wide parameters (paper §5, §6). ``memory_mb`` is the machine memory ESX manages
    for VMs: guest pages and per-VM overhead memory both come out of it. ``sharing``
    (:class:`SharingConfig`, §4) and ``remap`` (:class:`RemapConfig`, §7) are sub-configurations.
    Only ``memory_mb`` may be given by position: ``HostConfig(512, tax_rate=0.75)``."""

    memory_mb: float = param(512, "machine memory", 1, 1 << 20, step=16, unit="MB",
                             source="default: the RAM of Fig. 7's host (§5.4: 512 MB, of which about 360 MB were "
                                    "available for VMs; experiments.fig7 sizes its host from 358 MB, the digitized "
                                    "179 + 179 at τ = 0)")
    _: KW_ONLY                                     # the rest by name: HostConfig(512, tax_rate=0.75)
    swap_mb: float | None = param(None, "host swap space", 0, 1 << 22, step=16, unit="MB", optional=True,
                                  source="§6.2 (one shared area, max − min reserved per VM); None: a swap "
                                         "file per VM of max − min, created at power-on (later ESX)")
    tax_rate: float = param(0.75, "idle memory tax τ", 0, 1, step=0.05, hi_open=True, source="§5.2: default 75 %")
    shares_per_mb: float = param(10, "default shares per MB of max", 0, 1000, step=1,
                                 source="later ESX doc: normal = 10 shares/MB")
    high_pct: float = param(6, "high free-memory threshold", 0, 50, step=0.5, unit="%", source="§6.3")
    soft_pct: float = param(4, "soft free-memory threshold", 0, 50, step=0.5, unit="%", source="§6.3")
    hard_pct: float = param(2, "hard free-memory threshold", 0, 50, step=0.5, unit="%", source="§6.3")
    low_pct: float = param(1, "low free-memory threshold", 0, 50, step=0.5, unit="%", source="§6.3")
    hysteresis_pct: float = param(1, "hysteresis margin", 0, 20, step=0.5, unit="%",
                                  source="invented: §6.3 says only 'significantly exceeding'")
    state_entry: str = param("own", "state entry rule", choices=STATE_ENTRY,
                             source="inferred: 'own' = enter soft below 4 %; 'higher' = below 6 %")
    high_state: str = param("converge", "reclamation in the high state", choices=HIGH_STATE,
                            source="§6.3 read two ways: 'idle' = no reclamation in high; 'converge' = "
                                   "balloons keep moving VMs to their targets ('in all states … targets')")
    balloon_stuck_s: int = param(5, "balloon counted on while it frees memory for", 1, 3600, step=1, unit="s",
                                 integer=True, source="invented: §3.2 says only that a balloon may be unable "
                                 "to reclaim quickly enough; after this long without machine pages freed "
                                 "the swap stage takes over")
    realloc_period_s: float = param(15, "reallocation period", 1, 3600, step=1, unit="s",
                                    source="later ESX doc: ESX 2.x rebalances every 15 s")
    sample_pages: int = param(100, "sampled pages per period (n)", 1, 10000, step=10, integer=True, source="§5.3")
    sample_period_s: float = param(30, "sampling period", 1, 3600, step=5, unit="s", source="§5.3")
    slow_gain: float = param(0.25, "slow EWMA gain", 0, 1, step=0.05, lo_open=True,
                             source="invented: fitted to Fig. 6's slow decay")
    fast_gain: float = param(0.7, "fast EWMA gain", 0, 1, step=0.05, lo_open=True,
                             source="invented: fitted to Fig. 6's fast rise")
    replacement: str = param("random", "swap replacement policy", choices=REPLACEMENT_POLICIES,
                             source="§3.3: ESX picks victims at random; clock: LRU-like, for comparison (invented)")
    swap_rate_mb_s: float = param(32, "hypervisor page-out rate", 0, 1 << 16, step=1, unit="MB/s", lo_open=True,
                                  source="invented: the paper gives no swap daemon rate")
    swap_in_ms: float = param(8, "cost of a hypervisor swap-in", 0, 1000, step=0.5, unit="ms",
                              source="invented: one random disk read")
    guest_disk_ms: float = param(4, "cost of a guest disk page I/O", 0, 1000, step=0.5, unit="ms",
                                 source="invented: mostly sequential guest I/O")
    cow_copy_us: float = param(2, "cost of a copy-on-write break", 0, 10000, step=0.5, unit="µs",
                               source="invented: a 4 KB copy plus a fault")
    zero_alloc_us: float = param(1, "cost of allocating a zeroed page", 0, 10000, step=0.5, unit="µs",
                                 source="invented: a 4 KB zeroing plus a fault")
    preset: str = param("auto", "era preset (a label)", choices=("auto", *PRESETS),
                        source="the preset this configuration started from (HostConfig.esx2002 / .esxi6); "
                               "shown in Host's repr and dashboards, changes no behaviour by itself; "
                               "'auto': the era of state_model; it must agree with state_model")
    state_model: str = param("esx2002", "free-memory states", choices=STATE_MODELS,
                             source="esx2002: §6.3's high/soft/hard/low at *_pct of machine memory; esxi6: "
                                    "later ESX's high/clear/soft/hard/low at minfree_*_pct of minFree")
    minfree_high_pct: float = param(300, "high threshold (esxi6)", 100, 1000, step=25, unit="% of minFree",
                                    source="later ESX: 300 % of minFree (write-ups of ESXi 6's memory states "
                                           "disagree: 300 % in some, 400 % in others)")
    minfree_clear_pct: float = param(100, "clear threshold (esxi6)", 0, 1000, step=4, unit="% of minFree",
                                     source="later ESX (ESXi 6): 100 % of minFree")
    minfree_soft_pct: float = param(64, "soft threshold (esxi6)", 0, 1000, step=4, unit="% of minFree",
                                    source="later ESX (ESXi 6): 64 % of minFree")
    minfree_hard_pct: float = param(32, "hard threshold (esxi6)", 0, 1000, step=4, unit="% of minFree",
                                    source="later ESX (ESXi 6): 32 % of minFree")
    minfree_low_pct: float = param(16, "low threshold (esxi6)", 0, 1000, step=4, unit="% of minFree",
                                   source="later ESX (ESXi 6): 16 % of minFree")
    large_pages: bool = param(False, "large pages (2 MB)", choices=(False, True),
                              source="later ESX (3.5+ with a hardware MMU): guest memory backed by 2 MB "
                                     "machine pages, broken up under memory pressure only")
    compression: bool = param(False, "memory compression", choices=(False, True),
                              source="later ESX (4.1+, Mem.MemZipEnable): a stage between balloon and swap")
    compression_cache_pct: float = param(10, "compression cache", 0, 100, step=1, unit="% of the VM's memory",
                                         source="later ESX (Mem.MemZipMaxPct): 10 % per one blog, 50 per a study guide; not verified")
    decompress_us: float = param(20, "cost of a decompression", 0, 10000, step=1, unit="µs",
                                 source="invented: later ESX says only 'microseconds, not a swap-in's "
                                        "milliseconds'")
    sharing: "SharingConfig" = field(default_factory=lambda: SharingConfig())
    remap: "RemapConfig" = field(default_factory=lambda: RemapConfig())
    _preset_auto = False      # True where preset was left out ("auto"), which __post_init__ resolves

    @classmethod
    def esx2002(cls, *args: Any, **overrides: Any) -> "HostConfig":
        """The paper's ESX Server (2002): today's defaults (§6.3's four states at 6/4/2/1 % of
        machine memory; salting 1 with no salts set: every VM may share with every other; no compression, no large
        pages), with ``overrides`` (any field) applied and validated. Two defaults are esxlab's readings, not the
        paper's plain text: ``high_state="converge"`` (balloons keep moving VMs to their targets in high; the
        literal "no reclamation" is ``high_state="idle"``) and ``swap_mb=None`` (a swap file per VM, later ESX:
        admission then checks no swap space, where §6.2 refuses a VM whose max − min does not fit in the one swap
        area; give ``swap_mb`` for that). Where the paper gives no value, some defaults are later ESX's (each
        field's ``source`` says so): reallocation every 15 s, 10 shares per MB, scans of 50 / 200 pages/s, and each
        VM's balloon cap ``VMConfig.balloon_max_pct`` = 65 % of max (ESXi's ``Mem.CtlMaxPercent``; §3.2 gives no
        cap, and ESX 2.5's default was half of max: ``balloon_max_pct=50``).
        ConfigError for an unknown field or a bad value."""
        return cls._preset("esx2002", {}, args, overrides)

    @classmethod
    def esxi6(cls, *args: Any, **overrides: Any) -> "HostConfig":
        """ESXi 6 (later ESX, not the paper): minFree on a sliding scale (:func:`minfree_mb`) and
        five states — high (``minfree_high_pct``: no reclamation, ``high_state="idle"``, except of
        a VM above its limit), clear (100 %: large pages are broken so sharing
        can work), soft (64 %: balloon), hard (32 %: compress and swap), low (16 %: compress, swap
        and block); memory compression on (10 % cache per VM), large pages on, inter-VM sharing
        only between VMs with equal salts (``Mem.ShareForceSalting = 2``, the default since 2015).
        ``overrides`` replace whole fields (a ``sharing=SharingConfig(...)`` of your own replaces
        the preset's salting too). ConfigError for an unknown field or a bad value."""
        return cls._preset("esxi6", dict(state_model="esxi6", large_pages=True, compression=True,
                                         state_entry="own", high_state="idle",
                                         sharing=SharingConfig(force_salting=2)), args, overrides)

    @classmethod
    def _preset(cls, name: str, fields: dict, args: tuple, overrides: dict) -> "HostConfig":
        if args:
            raise ConfigError(f"HostConfig.{name} takes parameters by name, e.g. HostConfig.{name}(memory_mb=4096); "
                              f"got {len(args)} positional: {', '.join(shorten(a) for a in args)}.")
        check_known(f"HostConfig.{name}", overrides, [f.name for f in dataclasses.fields(cls)])
        return cls(**{"preset": name, **fields, **overrides})

    @property
    def minfree_mb(self) -> float:
        """ESXi 6's minFree for this host's ``memory_mb`` (:func:`minfree_mb`; later ESX)."""
        return minfree_mb(self.memory_mb)

    def threshold_pages(self) -> dict[str, float]:
        """Free-memory thresholds in pages by state name: §6.3's high/soft/hard/low percentages of
        machine memory (``state_model="esx2002"``), or the ESXi 6 percentages of minFree with
        the extra "clear" state (``"esxi6"``)."""
        if self.state_model == "esxi6":
            base = self.minfree_mb * PAGES_PER_MB / 100
            return {s: getattr(self, f"minfree_{s}_pct") * base for s in ("high", "clear", "soft", "hard", "low")}
        return {s: getattr(self, f"{s}_pct") / 100 * self.total_pages for s in ("high", "soft", "hard", "low")}

    def replace(self, **changes: Any) -> "HostConfig":
        """A copy with ``changes`` applied (validated again); a preset left out when this configuration was made
        stays left out (``"auto"``, the era of the copy's state_model) unless ``changes`` give one. So
        ``HostConfig()`` and ``HostConfig(preset="esx2002")``, equal otherwise, differ here: only the first takes
        ``state_model="esxi6"`` alone (``dataclasses.replace`` keeps the resolved preset, as the second does)."""
        return super().replace(**({"preset": "auto", **changes} if self._preset_auto else changes))

    def _check_relations(self) -> None:
        if self.preset == "auto":
            object.__setattr__(self, "preset", self.state_model)      # the era whose states it uses
            object.__setattr__(self, "_preset_auto", True)            # (not a field: replace reads it)
        elif self.preset != self.state_model:
            raise ConfigError(
                f"HostConfig(preset = {self.preset!r}, state_model = {self.state_model!r}) contradicts itself: the "
                f"preset names the era the configuration started from and changes nothing by itself, and the "
                f"{self.preset} era uses state_model = {self.preset!r}; use HostConfig.{self.state_model}(...) and "
                "override what you want from the other era, or leave preset out.")
        if not (self.minfree_low_pct <= self.minfree_hard_pct <= self.minfree_soft_pct <= self.minfree_clear_pct
                <= self.minfree_high_pct):
            raise ConfigError(
                "HostConfig minFree thresholds must be ordered low ≤ hard ≤ soft ≤ clear ≤ high; got "
                f"minfree_low_pct={self.minfree_low_pct}, minfree_hard_pct={self.minfree_hard_pct}, "
                f"minfree_soft_pct={self.minfree_soft_pct}, minfree_clear_pct={self.minfree_clear_pct}, "
                f"minfree_high_pct={self.minfree_high_pct} (percentages of minFree: 64 for 64 %).")
        swap = self.memory_mb if self.swap_mb is None else self.swap_mb
        check_fits(f"HostConfig(memory_mb = {self.memory_mb!r}, swap_mb = {self.swap_mb!r})",
                   self.total_pages * HOST_BYTES_PER_PAGE + swap * PAGES_PER_MB * SWAP_BYTES_PER_PAGE,
                   "allowed: less machine memory or swap")
        if not (self.low_pct <= self.hard_pct <= self.soft_pct <= self.high_pct):
            raise ConfigError(
                "HostConfig thresholds must be ordered low ≤ hard ≤ soft ≤ high; got "
                f"low_pct={self.low_pct}, hard_pct={self.hard_pct}, soft_pct={self.soft_pct}, high_pct={self.high_pct} "
                "(percentages of machine memory: 4 for 4 %).")
        for name, cls, field, on, off in (("sharing", SharingConfig, "mode", "esx", "off"),
                                          ("remap", RemapConfig, "enabled", True, False)):
            value = getattr(self, name)
            if not isinstance(value, cls):        # e.g. sharing="off", as the experiments' own knob takes it
                choices = cls.controls()[field].choices
                word = str(value).strip().lower() if isinstance(value, (str, bool)) else None     # 'ESX' is 'esx'
                example = next((c for c in choices if str(c).lower() == word),
                               on if word in ("on", "true", "yes", "enabled") else off)
                raise ConfigError(f"HostConfig.{name} must be a {cls.__name__}, e.g. {name}=esx.{cls.__name__}("
                                  f"{field}={example!r}) ({field} is one of {', '.join(map(repr, choices))}); "
                                  f"got {shorten(value)}.")
        if self.remap.low_memory_mb is not None and self.remap.low_memory_mb > self.memory_mb:
            raise ConfigError(f"HostConfig.remap.low_memory_mb = {self.remap.low_memory_mb!r} is beyond machine "
                              f"memory; allowed: 0 ≤ low_memory_mb ≤ memory_mb = {self.memory_mb!r}.")

    @property
    def total_pages(self) -> int:
        """``memory_mb`` in 4 KB pages: the machine memory available to VMs."""
        return int(round(self.memory_mb * PAGES_PER_MB))

    @property
    def swap_pages(self) -> int | None:
        """Pages of the shared host swap area, or None for per-VM swap files (later ESX)."""
        return None if self.swap_mb is None else int(round(self.swap_mb * PAGES_PER_MB))


@documented
@dataclass(frozen=True)
class VMConfig(Validated):
    """One VM's parameters (paper §6.1): max (its configured "physical" memory), min, shares,
    plus its guest OS, balloon driver and overhead memory (§6.2).

    ``min_mb`` is what vSphere calls the VM's *reservation*; ``limit_mb`` (later ESX, vSphere's
    memory *limit*) caps the machine memory it may hold below its configured ``max_mb`` (a limit at
    or above ``max_mb`` limits nothing, as vSphere allows one above the VM's memory size): a VM
    above its limit is reclaimed even on an idle host, balloon first, then compression/swap (its
    compression cache, charged to it, is capped at ``compression_cache_pct`` of the limit), and a
    fault takes it at most one second of its balloon's rate above the limit: beyond that it
    replaces its own pages, as vSphere swaps a VM whose balloon is too slow for its limit. A
    limit below what the VM touches in one simulated second cannot be met: the pages of the
    access being served stay resident (a floor of the one-second tick, invented).
    ``balloon_max_mb`` (later ESX ``sched.mem.maxmemctl``) caps its balloon beside the
    percentage cap ``balloon_max_pct`` (``Mem.CtlMaxPercent``); the lower cap wins.

    Plain fields: ``name`` (unique among a host's running VMs), ``os_version`` (guests of the same
    ``guest_os`` and version share their image's pages, §4) and ``salt`` (None or an integer: with
    ``SharingConfig.force_salting`` ≥ 1, only VMs with equal salts share, later ESX). Only ``name`` and
    ``max_mb`` may be given by position: ``VMConfig("db", 256, min_mb=64)``."""

    name: str = "vm"
    max_mb: float = param(256, "max (configured memory)", 1, 1 << 20, step=16, unit="MB",
                          source="§6.1 (256 MB: the VM size of Figures 2 and 7)")
    _: KW_ONLY                                     # the rest by name: VMConfig("db", 256, min_mb=64)
    min_mb: float = param(0, "min (guaranteed; vSphere's reservation)", 0, 1 << 20, step=16, unit="MB",
                          source="§6.1 (0, none guaranteed: invented); later ESX calls it the memory reservation")
    limit_mb: float | None = param(None, "limit", 0, 1 << 20, step=16, unit="MB", optional=True,
                                   source="later ESX: vSphere's memory limit (None: unlimited, i.e. max)")
    shares: float | None = param(None, "memory shares", 0, 1e9, step=100, optional=True,
                                 source="later ESX doc: left unset, 10 shares per MB of max (the normal level)")
    overhead_mb: float = param(32, "overhead memory", 0, 4096, step=1, unit="MB",
                               source="§6.2: typically 32 MB; VMs above 1 GB need more, the paper gives no rule: "
                                      "flat here unless set (later ESX 2.5: + 32 MB per GB)")
    guest_os: str = param("linux", "guest OS", choices=GUEST_OSES)
    os_version: str = "1"                          # guests of the same OS and version share their image
    balloon: str = param("cooperative", "balloon driver", choices=BALLOON_MODES, source="§3.2 limitations")
    balloon_max_pct: float = param(65, "balloon cap", 0, 100, step=5, unit="% of max",
                                   source="later ESX doc: ESXi's Mem.CtlMaxPercent = 65 %; the paper gives no cap "
                                          "(§3.2), ESX 2.5's default was half of max")
    balloon_max_mb: float | None = param(None, "balloon ceiling", 0, 1 << 20, step=16, unit="MB", optional=True,
                                         source="later ESX: sched.mem.maxmemctl (None: only the % cap)")
    balloon_rate_mb_s: float = param(4, "max balloon rate", 0, 4096, step=0.5, unit="MB/s", lo_open=True,
                                     source="invented: §3.2 says only 'adaptively rate-limited'")
    #: later ESX's sched.mem.pshare.salt: VMs share pages only with VMs of an equal salt (None: no salt; see
    #: SharingConfig.force_salting); 0 ≤ salt ≤ SALT_MAX
    salt: int | None = None

    def _check_relations(self) -> None:
        for name in ("name", "os_version"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ConfigError(f"VMConfig.{name} must be a non-empty string, got {shorten(value)} "
                                  f"({type(value).__name__}).")
        check_fits(f"VMConfig.max_mb = {self.max_mb!r}", self.max_pages * VM_BYTES_PER_PAGE,
                   "allowed: a smaller VM")
        if self.min_mb > self.max_mb:
            raise ConfigError(f"VMConfig.min_mb = {self.min_mb} is larger than max_mb = {self.max_mb}; "
                              "allowed: 0 ≤ min_mb ≤ max_mb.")
        if self.limit_mb is not None and self.limit_mb < self.min_mb:
            raise ConfigError(f"VMConfig.min_mb = {self.min_mb} (the reservation) is above limit_mb = "
                              f"{self.limit_mb}; allowed: min_mb ≤ limit_mb (or limit_mb = None).")
        if self.salt is not None:
            if isinstance(self.salt, (bool, np.bool_)) or not isinstance(self.salt, numbers.Integral):
                raise ConfigError(f"VMConfig.salt must be None or an integer, got {shorten(self.salt)} "
                                  f"({type(self.salt).__name__}); allowed: None or 0 ≤ salt ≤ {SALT_MAX}.")
            object.__setattr__(self, "salt", int(self.salt))
            if not 0 <= self.salt <= SALT_MAX:       # a larger one would wrap to another VM's salt and share with it
                raise ConfigError(f"VMConfig.salt = {shorten(self.salt)} is out of range; allowed: None or "
                                  f"0 ≤ salt ≤ {SALT_MAX} (2**64 − 1: esxlab's salts are 64-bit numbers).")

    @property
    def max_pages(self) -> int:
        """``max_mb`` in 4 KB pages: the guest's configured physical memory (§6.1)."""
        return int(round(self.max_mb * PAGES_PER_MB))

    @property
    def min_pages(self) -> int:
        """``min_mb`` in 4 KB pages: memory guaranteed to the VM (§6.1)."""
        return int(round(self.min_mb * PAGES_PER_MB))

    @property
    def overhead_pages(self) -> int:
        """``overhead_mb`` in 4 KB pages: the VM's overhead memory, reserved at power-on (§6.2)."""
        return int(round(self.overhead_mb * PAGES_PER_MB))

    @property
    def reserved_pages(self) -> int:
        """Machine memory reserved for the VM at power-on, in pages: its min plus its overhead (§6.2)."""
        return self.min_pages + self.overhead_pages

    @property
    def limit_pages(self) -> int:
        """The most machine memory the VM may hold, in pages: its limit, or max if none (later ESX)."""
        return self.max_pages if self.limit_mb is None else min(self.max_pages, int(round(self.limit_mb * PAGES_PER_MB)))

    @property
    def balloon_cap_pages(self) -> int:
        """The balloon's ceiling in pages: ``balloon_max_pct`` of max, or ``balloon_max_mb`` if lower."""
        cap = int(self.max_pages * self.balloon_max_pct / 100)
        return cap if self.balloon_max_mb is None else min(cap, int(round(self.balloon_max_mb * PAGES_PER_MB)))

    def effective_shares(self, shares_per_mb: float) -> float:
        """The VM's shares (§5.1): ``shares`` if set, else ``shares_per_mb`` (the host's default) per MB of max,
        counted in whole pages as the VM has them (:attr:`max_pages`: a max of 128.001 MB is 128 MB, and so are its
        shares)."""
        return float(self.shares) if self.shares is not None else shares_per_mb * self.max_pages / PAGES_PER_MB


SHARING_MODES = ("esx", "ksm", "off")


@documented
@dataclass(frozen=True)
class SharingConfig(Validated):
    """Content-based page sharing (paper §4): which scanner, how fast, and who may share.

    ``mode`` "esx" (the default, esxlab's choice: the paper's sharing figures, 4, 5 and 8, run with it; for Figures
    2 and 7 it does not say) is the
    paper's random scanner (§4.2–4.3) with hint frames; "ksm" is a Linux-KSM-style scanner
    (stable/unstable trees) for comparison; "off" never shares. ``force_salting`` follows later ESX's
    ``Mem.ShareForceSalting``: 0 ignores salts (2002 behaviour), 1 lets only VMs with equal ``VMConfig.salt``
    share (None is one common salt), 2 gives every VM without a salt its own, so sharing is intra-VM only.
    Only ``mode`` may be given by position."""

    mode: str = param("esx", "page sharing (scanner)", choices=SHARING_MODES,
                      source="esx: §4.2–4.3, on by default (esxlab); ksm: Linux mm/ksm.c")
    _: KW_ONLY
    scan_vm_pages_s: float = param(50, "max scan rate per VM", 0, 1 << 20, step=10, unit="pages/s",
                                   source="later ESX doc: Mem.ShareScanVM = 50")
    scan_total_pages_s: float = param(200, "max scan rate, whole host", 0, 1 << 22, step=10, unit="pages/s",
                                      source="later ESX doc: Mem.ShareScanTotal = 200")
    scan_period_s: int = param(5, "scanner wake-up period", 1, 600, step=1, unit="s", integer=True,
                               source="invented: the scanner wakes every few seconds for rate × period pages")
    scan_batch_min: int = param(32, "least pages a VM's scan takes", 1, 1 << 20, integer=True, unit="pages",
                                source="invented: a VM whose share of a wake-up is smaller saves its credit "
                                "for a later one (same rate, fewer scans: many-VM hosts)")
    force_salting: int = param(1, "salting (Mem.ShareForceSalting)", choices=(0, 1, 2),
                               source="later ESX doc (KB 2097593), whose default is 2 (intra-VM only); "
                                      "esxlab's 1 with no salts set keeps 2002's inter-VM sharing")
    ksm_pages_to_scan: int = param(100, "KSM pages_to_scan", 0, 1 << 20, step=10, integer=True,
                                   unit="pages/wake-up", source="Linux ksm default 100")
    ksm_sleep_ms: float = param(20, "KSM sleep_millisecs", 1, 60000, step=10, unit="ms",
                                source="Linux ksm default 20")
    ksm_max_page_sharing: int = param(256, "KSM max_page_sharing", 2, 1 << 20, integer=True,
                                      source="Linux ksm default 256")


@documented
@dataclass(frozen=True)
class RemapConfig(Validated):
    """Hot I/O page remapping (paper §7). Machine pages below ``low_memory_mb`` are reachable
    by 32-bit DMA; I/O on a guest page backed by high memory costs a bounce copy. A page is
    remapped to low memory at its ``threshold``-th bounce copy (no two ``window_s`` apart), within
    the tick: its later transfers need no copy;
    when free low memory falls below ``low_reserve_pct``, remapped pages idle for
    ``window_s`` move back to high memory. ``low_memory_mb`` counts whole 4 KB pages: 0 (no low memory) or at
    least one page. Only ``enabled`` may be given by position."""

    enabled: bool = param(True, "remap hot I/O pages", choices=(True, False), source="§7")
    _: KW_ONLY
    low_memory_mb: float | None = param(None, "DMA boundary (low memory)", 0, 1 << 20, step=64, unit="MB",
                                        optional=True, source="§7: 4 GB for 32-bit PCI; None = 4096 MB "
                                        "or all of machine memory if smaller")
    threshold: int = param(16, "bounce copies before remapping", 1, 1 << 20, integer=True,
                           source="invented: §7 gives no threshold")
    window_s: float = param(10, "hotness window", 1, 3600, step=1, unit="s",
                            source="invented: counts restart after this long without I/O")
    low_reserve_pct: float = param(5, "free low memory kept", 0, 100, step=1, unit="% of low",
                                   source="invented: §7 leaves low-memory replacement open")
    bounce_copy_us: float = param(5, "cost of a bounce copy", 0, 10000, step=0.5, unit="µs",
                                  source="invented: a 4 KB copy through a bounce buffer")

    def _check_relations(self) -> None:
        mb, page = self.low_memory_mb, 1 / PAGES_PER_MB
        if mb is not None and 0 < mb < page:
            raise ConfigError(f"RemapConfig.low_memory_mb = {mb!r} is less than one 4 KB page ({page:g} MB), and low "
                              f"memory counts whole pages: it would be none; allowed: 0 (no low memory) or "
                              f"low_memory_mb ≥ {page:g}.")

    @property
    def low_mb(self) -> float:
        """The boundary in MB (None → 4096)."""
        return 4096.0 if self.low_memory_mb is None else float(self.low_memory_mb)
