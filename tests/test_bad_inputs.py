"""A catalogue of bad inputs (issue 7): every public constructor and function answers a bad
argument with a ConfigError (or, for reservations, an AdmissionError) whose sentence names the
parameter, the value and what is allowed — never a bare numpy or TypeError traceback."""
import dataclasses
import math
import warnings
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import esxlab as esx
from esxlab import config as cfgmod
from conftest import small_host

VALIDATED = [c for c in vars(cfgmod).values()
             if isinstance(c, type) and issubclass(c, cfgmod.Validated) and c is not cfgmod.Validated]


def expect(fn, *fragments, kind=esx.ConfigError):
    """Call ``fn``; it must raise ``kind`` with every fragment in its message."""
    with pytest.raises(kind) as info:
        fn()
    msg = str(info.value)
    missing = [f for f in fragments if f not in msg]
    assert not missing, f"message {msg!r} does not mention {missing}"
    return msg


def bound_text(x: float) -> str:
    """A bound as the message writes it: whole numbers in full (1048576), others as %g."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


# -- every field of every config dataclass, from its declared range ---------------------------
def field_cases():
    for cls in VALIDATED:
        for name, m in cls.controls().items():
            if m["choices"] is not None:
                yield pytest.param(cls, name, "bogus", [repr(c) for c in m["choices"]], id=f"{cls.__name__}.{name}=bogus")
                continue
            bounds = [bound_text(b) for b in (m["lo"], m["hi"]) if b is not None]
            bad = [math.nan, math.inf, "ten", True]
            if m["lo"] is not None:
                bad.append(m["lo"] if m["lo_open"] else m["lo"] - 1)
            if m["hi"] is not None:
                bad.append(m["hi"] if m["hi_open"] else m["hi"] * 2 + 1)
            if m["integer"]:
                bad.append((m["lo"] or 0) + 1.5)
            for v in bad:
                yield pytest.param(cls, name, v, bounds, id=f"{cls.__name__}.{name}={v!r}")


@pytest.mark.parametrize("cls,name,value,allowed", list(field_cases()))
def test_config_field_out_of_range_names_parameter_value_and_range(cls, name, value, allowed):
    expect(lambda: cls(**{name: value}), name, repr(value), *allowed)


def test_catalogue_covers_every_config_class():
    names = {c.__name__ for c in VALIDATED}
    assert {"HostConfig", "VMConfig"} <= names


@pytest.mark.parametrize("kwargs,fragments", [
    (dict(low_pct=3, hard_pct=2), ["low_pct=3", "hard_pct=2", "low ≤ hard ≤ soft ≤ high"]),
    (dict(soft_pct=7), ["soft_pct=7", "high_pct=6"]),
    (dict(sharing="x"), ["sharing", "'x'", "SharingConfig"]),
    (dict(remap=3), ["remap", "3", "RemapConfig"]),
])
def test_host_config_relations(kwargs, fragments):
    expect(lambda: esx.HostConfig(**kwargs), *fragments)


@pytest.mark.parametrize("kwargs,fragments", [
    (dict(name=""), ["name", "''", "non-empty string"]),
    (dict(name=7), ["name", "7", "string"]),
    (dict(max_mb=32, min_mb=48), ["min_mb = 48", "max_mb = 32", "0 ≤ min_mb ≤ max_mb"]),
    (dict(salt="pepper"), ["salt", "'pepper'", "integer"]),
    (dict(salt=True), ["salt", "True", "integer"]),
])
def test_vm_config_relations(kwargs, fragments):
    expect(lambda: esx.VMConfig(**kwargs), *fragments)


def test_replace_names_an_unknown_parameter_and_the_known_ones():
    expect(lambda: esx.VMConfig().replace(maxmb=64), "'maxmb'", "max_mb")
    expect(lambda: esx.HostConfig().replace(memory_mb=-5), "memory_mb", "-5", "1")


# -- the Host ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,fragments", [
    (dict(config="big"), ["config", "HostConfig", "str"]),
    (dict(seed=-1), ["seed", "-1", "non-negative integer"]),
    (dict(seed=1.5), ["seed", "1.5", "integer"]),
    (dict(seed="0"), ["seed", "'0'", "integer"]),
    (dict(replacement=42), ["replacement", "42", "ReplacementPolicy", "'random'", "'clock'"]),
])
def test_host_constructor(kwargs, fragments):
    expect(lambda: esx.Host(**kwargs), *fragments)


@pytest.fixture
def running():
    host = small_host(memory_mb=96)
    host.power_on(esx.VMConfig(name="a", max_mb=32, min_mb=8, overhead_mb=2))
    return host


@pytest.mark.parametrize("call,fragments", [
    (lambda h: h.power_on("a2"), ["VMConfig", "str"]),
    (lambda h: h.power_on(esx.VMConfig(name="a", max_mb=8)), ["'a'", "already running", "unique"]),
    (lambda h: h.power_on(esx.VMConfig(name="b", max_mb=8), workload="fast"), ["workload", "'fast'", "'idle'", "'dbench'"]),
    (lambda h: h.power_on(esx.VMConfig(name="b", max_mb=8), workload=42), ["workload", "42", "Workload"]),
    (lambda h: h.set_tax_rate(1.0), ["tax_rate", "1.0", "0 ≤ tax_rate < 1"]),
    (lambda h: h.set_tax_rate(-0.25), ["tax_rate", "-0.25", "0 ≤ tax_rate < 1"]),
    (lambda h: h.set_tax_rate(math.nan), ["tax_rate", "nan", "0 ≤ tax_rate < 1"]),
    (lambda h: h.set_tax_rate("high"), ["tax_rate", "'high'", "0 ≤ tax_rate < 1"]),
    (lambda h: h.set_tax_rate(None), ["tax_rate", "None", "0 ≤ tax_rate < 1"]),
    (lambda h: h.set_shares("a", -5), ["shares", "-5", "0 ≤ shares ≤ 1000000000"]),
    (lambda h: h.set_shares("a", "lots"), ["shares", "'lots'", "0 ≤ shares ≤ 1000000000"]),
    (lambda h: h.set_shares("zz", 10), ["'zz'", "running", "'a'"]),
    (lambda h: h.set_min("a", -1), ["min_mb", "-1", "0 ≤ min_mb"]),
    (lambda h: h.set_min("a", 40), ["min_mb = 40", "max_mb = 32", "0 ≤ min_mb ≤ max_mb"]),
    (lambda h: h.set_min("a", "half"), ["min_mb", "'half'", "0 ≤ min_mb"]),
    (lambda h: h.set_min("zz", 1), ["'zz'", "running"]),
    (lambda h: h.set_balloon("a", "exploding"), ["balloon", "'exploding'", "'cooperative'", "'lying'"]),
    (lambda h: h.set_balloon("zz", "absent"), ["'zz'", "running"]),
    (lambda h: h.run(), ["minutes=", "seconds="]),
    (lambda h: h.run(minutes=1, seconds=60), ["minutes=", "seconds="]),
    (lambda h: h.run(minutes=-1), ["minutes", "-1", "0 ≤ minutes"]),
    (lambda h: h.run(seconds=math.inf), ["seconds", "inf", "0 ≤ seconds"]),
    (lambda h: h.run(seconds="10"), ["seconds", "'10'", "0 ≤ seconds"]),
    (lambda h: h.vm("zz"), ["'zz'", "running", "'a'"]),
    (lambda h: h.power_off("zz"), ["'zz'", "running"]),
    (lambda h: h.set_limit("a", -1), ["limit_mb", "-1", "0 ≤ limit_mb"]),
    (lambda h: h.set_limit("a", "low"), ["limit_mb", "'low'"]),
    (lambda h: h.set_limit("a", 4), ["min_mb = 8", "limit_mb = 4", "min_mb ≤ limit_mb"]),
    (lambda h: h.set_limit("zz", 8), ["'zz'", "running"]),
    (lambda h: h.note("zz", "balloon held", 1, "why"), ["'zz'", "running", "'a'"]),
    (lambda h: h.note("a", "balloon held", "y", "why"), ["pages", "'y'"]),
    (lambda h: h.note("a", "balloon held", -1, "why"), ["pages", "-1"]),
    (lambda h: h.note("a", "", 1, "why"), ["action", "non-empty string"]),
    (lambda h: h.note("a", "balloon held", 1, None), ["why", "None", "non-empty string"]),
])
def test_host_methods(running, call, fragments):
    before = (running.time, {n: (v.config, v.shares, v.balloon.mode) for n, v in running.vms.items()}, running.tax_rate)
    expect(lambda: call(running), *fragments)
    after = (running.time, {n: (v.config, v.shares, v.balloon.mode) for n, v in running.vms.items()}, running.tax_rate)
    assert after == before, "a refused call must not change the host"


def test_admission_errors_name_the_short_reservation(running):
    # 96 MB: "a" reserves 8 + 2 MB of memory (86 MB left) and 24 MB of swap (360 of 384 MB left)
    expect(lambda: running.power_on(esx.VMConfig(name="b", max_mb=90, min_mb=90, overhead_mb=2)),
           "'b'", "memory reservation short by 6.0 MB", kind=esx.AdmissionError)
    expect(lambda: running.power_on(esx.VMConfig(name="c", max_mb=400, overhead_mb=2)),
           "'c'", "swap reservation short by 40.0 MB", kind=esx.AdmissionError)
    running.power_on(esx.VMConfig(name="d", max_mb=64, min_mb=62, overhead_mb=2))      # 74 of 96 MB reserved
    expect(lambda: running.set_min("a", 32), "'a'", "memory reservation short by 2.0 MB", kind=esx.AdmissionError)
    assert running.vm("a").config.min_mb == 8


# -- workloads ---------------------------------------------------------------------------------
W = esx.workloads


@pytest.mark.parametrize("make,fragments", [
    (lambda: W.Dbench(clients=0), ["clients", "0", "1 ≤ clients ≤ 10000"]),
    (lambda: W.Dbench(clients=2.5), ["clients", "2.5", "whole", "1 ≤ clients ≤ 10000"]),
    (lambda: W.Dbench(mb_per_client=0), ["mb_per_client", "0", "0 < mb_per_client"]),
    (lambda: W.Dbench(accesses_per_s=0), ["accesses_per_s", "0", "1 ≤ accesses_per_s"]),
    (lambda: W.Dbench(write_fraction=1.5), ["write_fraction", "1.5", "0 ≤ write_fraction ≤ 1"]),
    (lambda: W.Dbench(cpu_us_per_access=-1), ["cpu_us_per_access", "-1", "0 < cpu_us_per_access"]),
    (lambda: W.Dbench(clients="many"), ["clients", "'many'", "1 ≤ clients ≤ 10000"]),
    (lambda: W.Toucher(schedule=5), ["schedule", "5", "(start_s, mb)"]),
    (lambda: W.Toucher(schedule=[(0,)]), ["schedule", "(start_s, mb)"]),
    (lambda: W.Toucher(schedule=[("soon", 10)]), ["schedule start_s", "'soon'", "number"]),
    (lambda: W.Toucher(schedule=[(-1, 10)]), ["start_s", "-1", "0 ≤"]),
    (lambda: W.Toucher(schedule=[(0, -5)]), ["mb", "-5", "0 ≤"]),
    (lambda: W.Toucher(schedule=[(0, math.nan)]), ["mb", "nan"]),
    (lambda: W.Toucher(sweep_s=0), ["sweep_s", "0", "1 ≤ sweep_s ≤ 3600"]),
    (lambda: W.Toucher(cpu_us_per_access=-1), ["cpu_us_per_access", "-1", "0 < cpu_us_per_access"]),
    (lambda: W.HotCold(cold_per_s=10 ** 11), ["cold_per_s", "100000000000", "0 ≤ cold_per_s ≤ 10000000"]),
    (lambda: W.HotCold(cold_mb=0.001), ["cold_mb", "0.001", "0.00390625 ≤ cold_mb"]),    # no page to draw from
    (lambda: W.Deployed((("os", 1),), 1, -1, 10), ["Deployed.zero_mb", "-1"]),           # (it was Spec95.zero_mb)
    (lambda: W.Deployed((("os", 1),), 1, 1, 0), ["Deployed.warm_s", "0"]),
    (lambda: W.Probe({"b", "a"}), ["Probe.candidates", "list or tuple"]),                # (in no order of yours)
    # a bound that comes from other parameters names them (it said "0 ≤ dup_mb ≤ 2", with no word of files_mb)
    (lambda: W.Spec95(files_mb=4, dup_mb=3), ["Spec95.dup_mb", "3", "dup_mb ≤ files_mb / 2 (files_mb = 4) = 2"]),
    (lambda: W.Spec95(files_mb=4, dup_mb=1, overlap=0.5, variant_mb=3),
     ["Spec95.variant_mb", "overlap × files_mb − 2 × dup_mb (0.5 × 4 − 2 × 1) = 0"]),
    # a default the user never typed is not the one blamed (it said "Spec95.dup_mb = 2.1 is out of range")
    (lambda: W.Spec95(files_mb=4), ["Spec95.files_mb = 4 is too small for dup_mb = 2.1 (the default); allowed: "
                                    "files_mb ≥ 2 × dup_mb = 4.2, or a dup_mb ≤ files_mb / 2 = 2 given too."]),
    # no room for variants: the bound is 0, not a negative number
    (lambda: W.Spec95(overlap=0.2, variant_mb=1),
     ["Spec95.variant_mb = 1 is out of range; allowed: 0 ≤ variant_mb ≤ max(0, overlap × files_mb − 2 × "
      "dup_mb) (max(0, 0.2 × 20.6 − 2 × 2.1)) = 0."]),
    (lambda: W.make("fast"), ["workload", "'fast'", "'idle'"]),
    (lambda: W.make(3.5), ["workload", "3.5"]),
])
def test_workload_constructors(make, fragments):
    expect(make, *fragments)


@pytest.mark.parametrize("overlap", [0, 0.2, 0.5, 1])
def test_spec95_takes_every_overlap_its_docstring_allows(overlap):
    """0 ≤ overlap ≤ 1: Spec95(overlap=0.2) was refused for variant_mb = 0, which the user never set, under a
    negative bound; with no variants there is nothing to place. A small file set with a dup_mb that fits runs."""
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    for i in range(2):
        host.power_on(esx.VMConfig(name=f"v{i}", max_mb=40, overhead_mb=4), workload=W.Spec95(overlap=overlap))
    host.power_on(esx.VMConfig(name="small", max_mb=40, overhead_mb=4), workload=W.Spec95(files_mb=4, dup_mb=1))
    host.run(seconds=30)
    assert host.stats().shared_saved > 0


class Custom(W.Workload):
    """A workload written by a student: 10 logical pages; each tick returns what it was given."""

    def __init__(self, access):
        self.access = access

    def attach(self, vm_pages, uid, rng):
        super().attach(vm_pages, uid, rng)
        return 10

    def step(self, t):
        return self.access


def run_custom(access):
    host = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    vm = host.power_on(esx.VMConfig(name="c", max_mb=16), workload=Custom(access))
    host.run(seconds=2)
    return vm


@pytest.mark.parametrize("access,fragments", [
    (None, ["Custom.step(t = 1) returned None", "esxlab.workloads.Access(lps, writes)"]),
    (W.Access(np.array([3, 5, 3]), np.zeros(3, dtype=bool)), ["Access.lps = array([3, 5, 3]), which holds page 3 twice", "distinct",
                                                               "from 0 to 9", "10 logical pages"]),
    (W.Access(np.array([-1]), np.zeros(1, dtype=bool)), ["Access.lps = array([-1]), which holds page -1, outside 0 ≤ page < 10", "from 0 to 9"]),
    (W.Access(np.array([10]), np.zeros(1, dtype=bool)), ["Access.lps = array([10]), which holds page 10, outside"]),
    (W.Access(np.array([1.5]), np.zeros(1, dtype=bool)), ["Access.lps = array([1.5]), which holds float64 values, not integers (1.5 is no page)", "whole numbers"]),
    (W.Access(np.array([[1, 2]]), np.zeros(2, dtype=bool)), ["Access.lps = array([[1, 2]]), which has 2 dimensions", "1-D array"]),
    (W.Access(np.array([1, 2]), np.array([1, 0])), ["Access.writes = array([1, 0])", "bool array",
                                                    "one entry per page of Access.lps (2)"]),
    (W.Access(np.array([1, 2]), np.zeros(3, dtype=bool)), ["Access.writes", "(2)"]),
    (W.Access(np.array([1]), np.zeros(1, dtype=bool), freed=np.array([4, 4])), ["Access.freed = array([4, 4]), which holds page 4 twice"]),
    (W.Access(np.array([1]), np.zeros(1, dtype=bool), io=np.array([12])), ["Access.io = array([12]), which holds page 12, outside"]),
])
def test_a_custom_workloads_bad_tick_is_named_not_a_corrupt_guest(access, fragments):
    """A workload written outside esxlab has each tick checked: a repeated or out-of-range page
    would otherwise corrupt the guest's page tables silently (−1 indexes the last page)."""
    expect(lambda: run_custom(access), *fragments)


def test_a_custom_workload_may_return_lists():
    """Python lists of the right kind are accepted, and do what the same arrays do."""
    got = run_custom(W.Access([4, 1, 7], [True, False, True]))
    want = run_custom(W.Access(np.array([4, 1, 7]), np.array([True, False, True])))
    assert got.guest.resident == want.guest.resident == 3
    assert np.array_equal(got.peek(got.guest.lp_ppn[[4, 1, 7]]), want.peek(want.guest.lp_ppn[[4, 1, 7]]))


# -- policy functions ----------------------------------------------------------------------------
GOOD_SPP = dict(shares=1000, pages=256, active_fraction=0.5, tax_rate=0.75)


@pytest.mark.parametrize("name,value,fragments", [
    ("shares", -1, ["0 ≤ shares"]),
    ("pages", 0, ["0 < pages"]),
    ("active_fraction", 1.5, ["0 ≤ active_fraction ≤ 1"]),
    ("active_fraction", math.nan, ["0 ≤ active_fraction ≤ 1"]),
    ("tax_rate", 1, ["0 ≤ tax_rate < 1"]),
    ("pages", "many", ["0 < pages"]),
])
def test_shares_per_page(name, value, fragments):
    expect(lambda: esx.policy.shares_per_page(**dict(GOOD_SPP, **{name: value})), name, repr(value), *fragments)


GOOD_CT = dict(shares=[100.0, 100.0], min_pages=[0, 0], max_pages=[100, 100], active_pages=[10, 90],
               available=120, tax_rate=0.5)


@pytest.mark.parametrize("name,value,fragments", [
    ("shares", [100.0, -1.0], ["shares", "-1", "≥ 0"]),
    ("shares", [100.0, math.nan], ["shares", "nan"]),
    ("shares", [100.0], ["shares", "1", "2"]),
    ("min_pages", [0, 150], ["min_pages", "150", "max_pages", "100"]),
    ("min_pages", [0, -3], ["min_pages", "-3", "≥ 0"]),
    ("max_pages", [100, 100, 100], ["max_pages", "3", "2"]),
    ("active_pages", [10, -1], ["active_pages", "-1", "≥ 0"]),
    ("available", -5, ["available", "-5"]),
    ("available", math.nan, ["available", "nan"]),
    ("tax_rate", 1.0, ["tax_rate", "1.0", "0 ≤ tax_rate < 1"]),
    ("shares", "abc", ["shares", "'abc'"]),
])
def test_compute_targets(name, value, fragments):
    expect(lambda: esx.policy.compute_targets(**dict(GOOD_CT, **{name: value})), *fragments)


def test_compute_targets_good_input_still_works():
    t = esx.policy.compute_targets(**GOOD_CT)
    assert t.sum() <= 120 and (t >= 0).all() and (t <= 100).all()


# -- fuzz: whatever the argument, a ConfigError or success, never another exception --------------
junk = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.floats(allow_nan=True, allow_infinity=True),
                 st.integers(-10 ** 12, 10 ** 12), st.lists(st.integers(0, 3), max_size=2), st.just(np.float64(0.5)))


@settings(max_examples=60, deadline=None)
@given(method=st.sampled_from(["set_tax_rate", "set_shares", "set_min", "set_balloon", "run_s", "run_m", "vm"]),
       value=junk)
def test_host_methods_never_leak_other_exceptions(method, value):
    host = small_host(memory_mb=64)
    host.power_on(esx.VMConfig(name="a", max_mb=16, overhead_mb=1))
    short = value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        short = min(abs(value), 2)                # a valid duration: keep the run short
    calls = {"set_tax_rate": lambda: host.set_tax_rate(value), "set_shares": lambda: host.set_shares("a", value),
             "set_min": lambda: host.set_min("a", value), "set_balloon": lambda: host.set_balloon("a", value),
             "run_s": lambda: host.run(seconds=short), "run_m": lambda: host.run(minutes=short),
             "vm": lambda: host.vm(value)}
    try:
        calls[method]()
    except (esx.ConfigError, esx.AdmissionError) as e:
        assert str(e).endswith("."), "errors are sentences"


@settings(max_examples=60, deadline=None)
@given(cls=st.sampled_from(VALIDATED), data=st.data())
def test_config_constructors_never_leak_other_exceptions(cls, data):
    names = [f.name for f in dataclasses.fields(cls)]
    name = data.draw(st.sampled_from(names))
    value = data.draw(junk)
    try:
        cls(**{name: value})
    except esx.ConfigError as e:
        assert name in str(e)


# -- the catalogue (issue 11): every public boundary × every class of bad input -------------------
# Each case is (boundary, value, valid): a valid value must be accepted (and run, for Host methods);
# any other must raise an esx.Error (CheckFailed/NotImplementedError for checkers' answers, an
# "error:" line and a non-zero exit for the CLI) whose sentence names the parameter and the value.
# The machine is taken to have 4 GiB, so "too big for memory" cases are the same on every computer.
from dataclasses import dataclass, field as dc_field
from typing import Any, Callable

from esxlab import checks, problems, resources
from esxlab.problems import instructor
from esxlab.errors import shorten
from esxlab.experiments import EXPERIMENTS, get as get_experiment
from esxlab.experiments.params import check_seed, resolve

HUGE = 10 ** 400


@dataclass
class Spec:
    """One parameter of one public boundary: how to call it with a value, and its rules."""

    name: str                       # e.g. "HostConfig.memory_mb"
    call: Callable[[Any], Any]
    kind: str                       # number, integer, choice, string, int, object, list
    valid: Any                      # a value that is accepted
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    optional: bool = False          # None is valid
    choices: tuple = ()
    big: Any = None                 # inside the declared range, too big for this (4 GiB) machine
    mention: str = ""               # what the sentence must name (default: the last part of name)
    extra: list = dc_field(default_factory=list)   # more (value, valid) pairs
    hi_open: bool = False           # hi itself is refused (τ < 1)


def np_scalar(v):
    return {bool: np.bool_, int: np.int64, float: np.float64, str: np.str_}[type(v)](v)


def variants(s: Spec):
    """(value, valid) pairs: every class of bad input the issue lists, the numpy twin of a valid value,
    then the boundary's own extra cases (which override a generic case of the same value)."""
    special = {(type(v), repr(v)) for v, _ in s.extra}
    for value, valid in generic_variants(s):
        if (type(value), repr(value)) not in special:
            yield value, valid
    yield from s.extra


def generic_variants(s: Spec):
    v = s.valid
    bool_ok = s.kind == "choice" and all(isinstance(c, bool) for c in s.choices)
    int_ok = s.kind == "int" and s.lo is None and s.hi is None       # any integer (a salt)
    yield from [(HUGE, int_ok), (-HUGE, int_ok), (math.inf, False), (-math.inf, False), (math.nan, False),
                (np.array([v]), False), (True, bool_ok), (None, s.optional), ([v], False), ({"x": v}, False)]
    if not isinstance(v, (list, tuple)) and not hasattr(v, "__dict__") and not isinstance(v, type):
        yield np_scalar(v), True
    if s.kind in ("number", "integer"):
        yield str(v), False
        if s.lo is not None:
            yield (s.lo if s.lo_open else s.lo - 1), False
        if s.hi is not None:
            yield s.hi * 2 + 1, False
            if s.hi_open:
                yield s.hi, False
        if s.kind == "integer":
            yield (s.lo or 0) + 1.5, False
    elif s.kind in ("choice", "string"):
        yield ("bogus" if s.kind == "choice" else ""), False
        yield 7, False
    if s.big is not None:
        yield s.big, False


def config_specs():
    valid_for = {"swap_mb": 64, "shares": 100.0, "low_memory_mb": 64, "limit_mb": 64, "balloon_max_mb": 32}
    for cls in VALIDATED:
        for name, m in cls.controls().items():
            default = m["default"]
            valid = valid_for.get(name, default)
            kind = "choice" if m["choices"] is not None else ("integer" if m["integer"] else "number")
            big = {("HostConfig", "memory_mb"): 1 << 20, ("HostConfig", "swap_mb"): 1 << 22,
                   ("VMConfig", "max_mb"): 1 << 20}.get((cls.__name__, name))
            yield Spec(f"{cls.__name__}.{name}", lambda x, cls=cls, name=name: cls(**{name: x}), kind, valid,
                       m["lo"], m["hi"], m["lo_open"], m["optional"], m["choices"] or (), big,
                       hi_open=m["hi_open"])
    yield Spec("HostConfig.remap.low_memory_mb", lambda x: esx.HostConfig(remap=esx.RemapConfig(low_memory_mb=x)),
               "number", 64, 0, 1 << 20, mention="low_memory_mb", big=1 << 20, optional=True)
    yield Spec("VMConfig.name", lambda x: esx.VMConfig(name=x), "string", "web")
    yield Spec("VMConfig.os_version", lambda x: esx.VMConfig(os_version=x), "string", "2")
    yield Spec("VMConfig.salt", lambda x: esx.VMConfig(salt=x), "int", 3, 0, 2 ** 64 - 1, optional=True,
               extra=[(-1, False), (2 ** 64, False), (2 ** 64 + 7, False), (0, True), (2 ** 64 - 1, True)])
    for name, cls in (("sharing", esx.SharingConfig), ("remap", esx.RemapConfig)):
        yield Spec(f"HostConfig.{name}", lambda x, name=name: esx.HostConfig(**{name: x}), "object", cls())


def workload_specs():
    # class: {parameter: (kind, a valid value, lo, hi, lo_open, big)}, the last four optional (None, None,
    # False, None): lo and hi as refused with the other parameters at their defaults (Spec95's dup_mb ≤ files_mb / 2
    # is 10.3 at files_mb = 20.6); big, a value too large for memory where "out of range" is not the refusal
    table = {
        W.Dbench: dict(clients=("integer", 2, 1, 10000), mb_per_client=("number", 1.0, 0, None, True, 1e12),
                       accesses_per_s=("integer", 100, 1, 10 ** 7), write_fraction=("number", 0.2, 0, 1),
                       cpu_us_per_access=("number", 1.0, 0, None, True), zipf_alpha=("number", 0.8, 0, 4)),
        W.Toucher: dict(sweep_s=("number", 5.0, 1, 3600), cpu_us_per_access=("number", 1.0, 0, None, True),
                        os_overhead=("number", 0.0, 0, 1)),
        W.Spec95: dict(files_mb=("number", 8.0, 0, 1 << 20, False, 1 << 20), dup_mb=("number", 0.5, 0, 10.3),
                       zero_mb=("number", 1.0, 0, 1 << 20), data_mb=("number", 1.0, 0, 1 << 20),
                       overlap=("number", 0.5, 0, 1), warm_s=("number", 10.0, 1, 10 ** 6),
                       reads_per_s=("integer", 10, 0, 10 ** 7), writes_per_s=("integer", 10, 0, 10 ** 7),
                       cpu_us_per_access=("number", 1.0, 0, None, True), image=("string", "bench")),
        W.NetServer: dict(buffers=("integer", 8, 1, 1 << 20), packets_per_s=("integer", 100, 0, 10 ** 7),
                          data_mb=("number", 1.0, 0, 1 << 20, False, 1 << 20), reads_per_s=("integer", 10, 0, 10 ** 7),
                          cpu_us_per_access=("number", 1.0, 0, None, True), rewrite=("choice", False)),
        W.HotCold: dict(hot_mb=("number", 8.0, 0, None, False, 1e9),
                        cold_mb=("number", 32.0, 1 / esx.PAGES_PER_MB, None, False, 1e9),
                        cold_per_s=("integer", 20, 0, 10 ** 7), warm_s=("integer", 20, 1, None)),
        W.Contents: dict(app=("string", "app"), app_mb=("number", 4.0, 0, None, False, 1e9),
                         zero_mb=("number", 1.0, 0, None, False, 1e9), private_mb=("number", 1.0, 0, None, False, 1e9)),
        W.Grow: dict(base_mb=("number", 16.0, 0, None, False, 1e9), grow_mb=("number", 8.0, 0, None, False, 1e9),
                     grow_at_s=("integer", 30, 2, None)),
        W.Probe: dict(probe_at_s=("integer", 60, 2, None)),
    }
    for cls, params in table.items():
        for name, (kind, valid, *rest) in params.items():
            lo, hi, lo_open, big = (rest + [None, None, False, None][len(rest):])
            choices = (True, False) if kind == "choice" else ()
            yield Spec(f"{cls.__name__}.{name}", lambda x, cls=cls, name=name: cls(**{name: x}), kind, valid,
                       lo, hi, bool(lo_open), choices=choices, big=big, extra=[("False", False)] if choices else [])
    yield Spec("Toucher.schedule start_s", lambda x: W.Toucher([(x, 5)]), "number", 3.0, 0, None, mention="start_s")
    yield Spec("Toucher.schedule mb", lambda x: W.Toucher([(0, x)]), "number", 3.0, 0, None, mention="mb", big=1e9)
    yield Spec("Toucher.schedule", lambda x: W.Toucher(x), "object", [(0, 5)],
               extra=[([(0, 5, 1)], False), ("05", False), ([(0,)], False), (np.array([[0, 5]]), True)])
    yield Spec("Deployed.images mb", lambda x: W.Deployed((("os", x),), 1, 1, 10), "number", 2.0, 0, None,
               mention="mb", big=1e6)
    yield Spec("Deployed.private_mb", lambda x: W.Deployed((("os", 1),), x, 1, 10), "number", 1.0, big=1e6)
    yield Spec("Deployed.zero_mb", lambda x: W.Deployed((("os", 1),), 1, x, 10), "number", 1.0, 0, 1 << 20, big=1e6)
    yield Spec("Deployed.warm_s", lambda x: W.Deployed((("os", 1),), 1, 1, x), "number", 10.0, 1, 10 ** 6)
    yield Spec("Server.footprint mb", lambda x: W.Server([(0, x)], [], 1), "number", 1.0, 0, None, mention="mb",
               big=1e9)
    yield Spec("Server.fill_mb_s", lambda x: W.Server([(0, 1)], [], x), "number", 1.0, 0, None, lo_open=True)
    yield Spec("Delayed.start_s", lambda x: W.Delayed(W.Idle(), x), "number", 5.0, 0, None)
    yield Spec("Probe.candidates", lambda x: W.Probe(x), "object", ["a", "b"], mention="candidates",
               extra=[(("a",), True), ("ab", False), ([], False), (["a", ""], False), ({"a", "b"}, False)])
    yield Spec("workload", lambda x: W.make(x), "choice", "idle", choices=tuple(W.WORKLOADS),
               extra=[(W.Toucher, True), (int, False)])


def running_host():
    host = small_host(memory_mb=96)
    host.power_on(esx.VMConfig(name="a", max_mb=32, min_mb=8, overhead_mb=2))
    return host


def host_specs():
    def on(method, *before, **kw):
        def call(x):
            host = running_host()
            args = before + (x,) if not kw else before
            getattr(host, method)(*args, **({k: x for k in kw}))
            host.run(seconds=1)                   # an accepted value leaves a host that runs
        return call
    yield Spec("Host.config", lambda x: esx.Host(config=x).run(seconds=1), "object",
               esx.HostConfig(memory_mb=64), mention="config", optional=True)
    yield Spec("Host.seed", lambda x: esx.Host(esx.HostConfig(memory_mb=64), seed=x), "int", 1, 0, 2 ** 63 - 1,
               extra=[(2 ** 63, False), (2 ** 64, False), (-1, False), (3.0, False)])
    yield Spec("Host.set_tax_rate", on("set_tax_rate"), "number", 0.5, 0, 1, mention="tax_rate", hi_open=True)
    yield Spec("Host.set_shares", on("set_shares", "a"), "number", 100.0, 0, 1e9, mention="shares", optional=True)
    yield Spec("Host.set_shares name", lambda x: running_host().set_shares(x, 10),
               "string", "a", mention="name", extra=[("zz", False)])
    yield Spec("Host.set_min", on("set_min", "a"), "number", 16.0, 0, 32, mention="min_mb")
    yield Spec("Host.set_balloon", on("set_balloon", "a"), "choice", "absent", choices=esx.config.BALLOON_MODES,
               mention="balloon")
    yield Spec("Host.run seconds", on("run", seconds=True), "integer", 2, 0, 6 * 10 ** 7, mention="seconds",
               big=5 * 10 ** 7, extra=[(2.5, False)])
    yield Spec("Host.run minutes", on("run", minutes=True), "number", 0.05, 0, 10 ** 6, mention="minutes",
               big=10 ** 6, extra=[(0.01, False)])
    yield Spec("Host.run progress", lambda x: running_host().run(seconds=1, progress=x), "choice", False,
               choices=(True, False), mention="progress", optional=True)
    yield Spec("Host.vm", lambda x: running_host().vm(x), "string", "a", mention="name", extra=[("zz", False)])
    yield Spec("Host.power_off", lambda x: running_host().power_off(x), "string", "a", mention="name")
    yield Spec("Host.power_on config", lambda x: running_host().power_on(x), "object",
               esx.VMConfig(name="b", max_mb=8, overhead_mb=1), mention="config")
    yield Spec("Host.power_on workload",
               lambda x: running_host().power_on(esx.VMConfig(name="b", max_mb=8, overhead_mb=1), workload=x),
               "choice", "idle", choices=tuple(W.WORKLOADS), mention="workload", optional=True,
               extra=[(W.Idle(), True), (W.Dbench, True), (3.5, False)])


def trace_specs():
    host = running_host()
    trace = host.run(seconds=3)
    yield Spec("Trace.vm", lambda x: trace.vm(x), "string", "a", mention="VM named", extra=[("zz", False)])
    yield Spec("Trace.mean field", lambda x: trace.mean("a", x), "choice", "alloc", choices=esx.trace.VM_FIELDS,
               mention="field")
    yield Spec("Trace.mean start_min", lambda x: trace.mean("a", "alloc", x), "number", 0.01, 0, None)
    yield Spec("Trace.mean end_min", lambda x: trace.mean("a", "alloc", 0.02, x), "number", 0.04, 0.02, None,
               optional=True)
    yield Spec("experiment", lambda x: get_experiment(x), "choice", "fig7", choices=tuple(EXPERIMENTS),
               extra=[(7, True), ("7", True), (99, False)])


def policy_specs():
    good = dict(shares=1000, pages=256, active_fraction=0.5, tax_rate=0.75)
    rules = dict(shares=(0, None, False), pages=(0, None, True), active_fraction=(0, 1, False), tax_rate=(0, 1, False))
    for name, (lo, hi, lo_open) in rules.items():
        yield Spec(f"shares_per_page.{name}", lambda x, name=name: esx.policy.shares_per_page(**dict(good, **{name: x})),
                   "number", float(good[name]), lo, hi, lo_open, hi_open=name == "tax_rate")
    for name in ("shares", "min_pages", "max_pages", "active_pages"):
        valid = list(GOOD_CT[name])
        yield Spec(f"compute_targets.{name}", lambda x, name=name: esx.policy.compute_targets(**dict(GOOD_CT, **{name: x})),
                   "object", valid, extra=[([valid[0]] * 3, False)] * (name != "shares") + [([HUGE, 1], False), ([math.nan, 1], False),
                                           (np.array(valid), True), ([-1, 1], False), (["a", "b"], False)])
    for name, valid in (("available", 120), ("tax_rate", 0.5)):
        yield Spec(f"compute_targets.{name}", lambda x, name=name: esx.policy.compute_targets(**dict(GOOD_CT, **{name: x})),
                   "number", valid, 0, 1 if name == "tax_rate" else None, hi_open=name == "tax_rate")
    yield Spec("idle_cost.tax_rate", esx.policy.idle_cost, "number", 0.75, 0, 1, hi_open=True, mention="tax_rate")
    good_rho = dict(shares=1000, alloc_pages=256, active_pages=64, tax_rate=0.75)
    for name in ("alloc_pages", "active_pages"):
        yield Spec(f"rho.{name}", lambda x, name=name: esx.policy.rho(**dict(good_rho, **{name: x})), "number",
                   float(good_rho[name]), 0, None, extra=[(0, True)])
    v = np.array([1000.0, 1000.0])
    yield Spec("revoke.tax_rate", lambda x: esx.policy.revoke(v, v * 0, v, v / 2, 1000.0, x), "number", 0.5, 0, 1,
               hi_open=True, mention="tax_rate")


def checker_specs():
    p = problems.RhoVictim(seed=0)
    exp = {e.name: e for e in instructor.expect(p)}
    right = {n: e.value for n, e in exp.items()}
    yield Spec("check problem", lambda x: checks.check(x, **right), "object", p, mention="problem",
               extra=[("RhoVictim", False), (problems.RhoVictim, False), ({}, False)])
    for name in exp:
        yield Spec(f"check {name}", lambda x, name=name: checks.check(p, **dict(right, **{name: x})), "object",
                   right[name], mention=name, extra=[("rho", False), (np.array(1.0), False)])
    for cls in (problems.RhoVictim, problems.TaxTargets):
        yield Spec(f"{cls.__name__}.seed", lambda x, cls=cls: cls(seed=x), "int", 1, 0, 2 ** 63 - 1, mention="seed",
                   extra=[(-1, False), (2 ** 64, False)])


def experiment_specs():
    for name in EXPERIMENTS:
        mod = get_experiment(name)
        for pname, prm in mod.PARAMS.items():
            if prm.check is not None:
                kind = "object"
            else:
                kind = "choice" if prm.choices is not None else ("integer" if prm.integer else "number")
            yield Spec(f"{name}.{pname}", lambda x, mod=mod, name=name, pname=pname: resolve(name, mod.PARAMS, {pname: x}),
                       kind, prm.default, prm.lo, prm.hi, prm.lo_open, choices=prm.choices or (), mention=pname,
                       hi_open=prm.hi_open)
    yield Spec("experiments seed", check_seed, "int", 0, 0, 2 ** 63 - 1, mention="seed",
               extra=[(2 ** 64, False), (-1, False)])


def cli_cases(tmp):
    existing = tmp / "existing.csv"
    existing.write_text("")
    from esxlab.__main__ import main
    bad = [["reproduce", "--seed", str(10 ** 26)], ["reproduce", "--seed", "-1"], ["reproduce", "--seed", "x"],
           ["reproduce", "--figure", "99"], ["reproduce", "--figure", "nope"], ["reproduce", "--csv", str(existing)],
           ["reproduce", "--csv", "/proc/x"], ["reproduce", "--bogus"], ["exercises", "--release", "/proc/x", "build"],
           ["exercises", "--source", "/nonexistent", "check"], ["exercises", "frobnicate"], ["frobnicate"]]
    return [(argv, main) for argv in bad]


def all_specs():
    yield from config_specs()
    yield from workload_specs()
    yield from host_specs()
    yield from trace_specs()
    yield from policy_specs()
    yield from checker_specs()
    yield from experiment_specs()


def verdict(spec: Spec, value, valid: bool) -> str | None:
    """None if the boundary answered ``value`` as it should; else what went wrong."""
    refusals = (esx.Error, checks.CheckFailed, NotImplementedError) if spec.name.startswith("check") else esx.Error
    try:
        spec.call(value)
    except refusals as e:
        if valid:
            return f"refused a valid value: {e}"
        msg = str(e)
        mention = spec.mention or spec.name.split(".")[-1].split(" ")[-1]
        shown = {shorten(value), repr(value)[:40], f"{value:g}" if isinstance(value, float) else ""}
        if not msg.rstrip().endswith((".", ".)")):
            return f"not a sentence: {msg!r}"
        if isinstance(e, esx.Error) and mention not in msg:
            return f"does not name {mention!r}: {msg!r}"
        if isinstance(e, esx.Error) and not any(s and s in msg for s in shown):
            return f"does not name the value: {msg!r}"
        return None
    except Exception as e:                                # noqa: BLE001 — a leak is what we look for
        return f"leaked {type(e).__name__}: {e}"
    return None if valid else "accepted silently"


def test_catalogue_of_bad_inputs(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(resources, "machine_bytes", lambda: 4 << 30)
    tried = sentences = accepted = 0
    wrong = []
    for spec in all_specs():
        for value, valid in variants(spec):
            tried += 1
            problem = verdict(spec, value, valid)
            if problem:
                wrong.append(f"{spec.name} = {shorten(value)}: {problem}")
            elif valid:
                accepted += 1
            else:
                sentences += 1
    for argv, main in cli_cases(tmp_path):
        tried += 1
        capsys.readouterr()
        try:
            rc = main(argv)
        except SystemExit as e:                           # argparse's own usage error
            rc = e.code
        out = capsys.readouterr()
        text = (out.err + out.out).strip()
        if rc == 0 or "error:" not in text or not text.endswith((".", ")")):
            wrong.append(f"CLI {' '.join(argv)}: exit {rc}, {text[-200:]!r}")
        else:
            sentences += 1
    with capsys.disabled():
        print(f"\nbad-input catalogue: {tried} tried, {sentences} refused with a sentence, "
              f"{accepted} accepted as valid, {len(wrong)} wrong")
    assert not wrong, f"{len(wrong)} of {tried} inputs answered wrongly:\n" + "\n".join(wrong[:60])
    counts = f"{tried:,} tried, {sentences:,} refused with a sentence, {accepted:,} accepted as valid"
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8").split())
    assert counts in readme, f"README.md's bad-input paragraph should state the catalogue's counts: {counts}"
    assert tried > 1000


def test_an_unknown_parameter_name_is_a_sentence_naming_the_known_ones():
    """A misspelt keyword (HostConfig(memroy_mb=…), Dbench(client=…)) is an esx.Error, not Python's TypeError."""
    import inspect
    from esxlab.config import RemapConfig, SharingConfig
    workloads = [c for _, c in inspect.getmembers(W, inspect.isclass)
                 if issubclass(c, W.Workload) and W.packaged(c)]
    assert len(workloads) >= 6
    for cls in [esx.HostConfig, esx.VMConfig, SharingConfig, RemapConfig, *workloads]:
        with pytest.raises(esx.ConfigError,
                           match=rf"^{cls.__name__} has no parameter 'bogus'; (its parameters are: |it takes no)"):
            cls(bogus=1)
    with pytest.raises(esx.ConfigError, match="takes at most"):
        esx.VMConfig("a", 64, *range(20))
    with pytest.raises(esx.ConfigError, match=r"^Idle takes no parameters; got 1 positional \(3\)\.$"):
        W.Idle(3)                                # the same check for configs and workloads (errors.check_call)


@pytest.mark.parametrize("call", [lambda: esx.HostConfig(tax_rate=Fraction(1, 2)),
                                  lambda: esx.VMConfig("a", Fraction(193, 2)),
                                  lambda: esx.HostConfig(minfree_high_pct=Fraction(1, 2)),
                                  lambda: esx.HostConfig(tax_rate=Decimal("0.5")),
                                  lambda: small_host().set_tax_rate(Fraction(1, 3))])
def test_a_fraction_or_a_decimal_is_told_to_be_a_float(call):
    """Before: a Fraction passed validation, then a tick raised TypeError (Fraction.__format__) in host.py; a
    Fraction in a whole-percent field raised it at once; a Decimal was told it 'must be a number'."""
    assert expect(call, " is a ", ", not a float or an int (give a float, e.g. 0.5); allowed: ").endswith(".")


def test_a_small_numpy_float_is_checked_without_numpy_warnings():
    """Before: VMConfig(max_mb=np.float16(64)) printed numpy's 'overflow encountered in cast' (the bound 1048576
    compared in float16 is inf); the value was right, the warning a student's puzzle."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert esx.VMConfig("a", np.float16(64)).max_mb == 64
        expect(lambda: esx.VMConfig("a", np.float16(0.5)),
               f"VMConfig.max_mb = {np.float16(0.5)!r} is out of range; allowed: ")   # numpy 1.x: 0.5
    assert expect(lambda: esx.HostConfig(tax_rate=np.float16(64)), "a fraction of 1 (0.64 for 64 %)")


def test_a_numpy_time_span_is_no_number():
    """A review: VMConfig("a", np.timedelta64(64, "s")) raised Python's bare TypeError (numpy makes a time span an
    integer type), as the checkers' answers did until the student's trial."""
    expect(lambda: esx.VMConfig("a", np.timedelta64(64, "s")), f"VMConfig.max_mb = {np.timedelta64(64, 's')!r} is a "
           "timedelta64, not a float or an int (give a float, e.g. 0.5); allowed: 1 ≤ max_mb ≤ 1048576.")


def test_a_toucher_whose_accesses_cost_no_cpu_is_refused():
    """Before: Toucher([(0, 20)], cpu_us_per_access=0) reported throughput 0 while it touched 1024 pages a second."""
    expect(lambda: W.Toucher([(0, 20)], cpu_us_per_access=0),
           "Toucher.cpu_us_per_access = 0 is out of range; allowed: 0 < cpu_us_per_access.")


class Valued(W.Workload):
    """A workload of one's own whose class values are set per instance."""

    def __init__(self, **values):
        vars(self).update(values)

    def attach(self, vm_pages, uid, rng):
        super().attach(vm_pages, uid, rng)
        return 10

    def step(self, t):
        return W.Access(np.arange(10), np.ones(10, dtype=bool), io=np.arange(2), io_transfers=self.transfers)


@pytest.mark.parametrize("values,fragments", [
    (dict(cpu_us_per_access=-1), ["Valued.cpu_us_per_access = -1 is out of range", "0 < cpu_us_per_access"]),
    (dict(cpu_us_per_access=math.nan), ["Valued.cpu_us_per_access = nan is not a finite number"]),
    (dict(cpu_us_per_access=0), ["Valued.cpu_us_per_access = 0 is out of range"]),
    (dict(cpu_us_per_access="5"), ["Valued.cpu_us_per_access must be a number, got '5' (str)"]),
    (dict(cpu_us_per_access=None), ["Valued.cpu_us_per_access must be a number, got None"]),
    (dict(compressible="0.5"), ["Valued.compressible must be a number, got '0.5' (str)", "0 ≤ compressible ≤ 1"]),
    (dict(compressible=50), ["Valued.compressible = 50 is out of range: a fraction of 1 (0.5 for 50 %)"]),
    (dict(compressible=-0.1), ["Valued.compressible = -0.1 is out of range; allowed: 0 ≤ compressible ≤ 1."]),
])
def test_a_custom_workloads_class_values_are_checked_at_power_on(values, fragments):
    """Before: a negative or NaN cost gave throughput 0 silently, "5" or None a TypeError at vm.py:~423; a
    compressible of "0.5" a UFuncTypeError in compression.py, of 50 was taken as 1."""
    host = small_host()
    workload = Valued(transfers=None, **values)
    expect(lambda: host.power_on(esx.VMConfig(name="c", max_mb=16), workload=workload), *fragments)
    assert not host.vms and workload.rng is None


def test_io_transfers_too_many_to_count_are_refused():
    """Before: io_transfers of 2**62 overflowed the bounce count to a negative number."""
    host = small_host()
    host.power_on(esx.VMConfig(name="c", max_mb=16), workload=Valued(transfers=np.array([1, 2 ** 62])))
    expect(lambda: host.run(seconds=1), "Valued.step(t = 1) returned Access.io_transfers = array([",
           "allowed: None (one transfer per entry of Access.io) or an array of whole numbers 0 ≤ n ≤ 1,000,000,000")
    host = small_host()
    host.power_on(esx.VMConfig(name="c", max_mb=16), workload=Valued(transfers=np.array([1, 10 ** 9])))
    host.run(seconds=2)
