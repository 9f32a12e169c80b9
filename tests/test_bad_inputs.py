"""A catalogue of bad inputs (issue 7): every public constructor and function answers a bad
argument with a ConfigError (or, for reservations, an AdmissionError) whose sentence names the
parameter, the value and what is allowed — never a bare numpy or TypeError traceback."""
import dataclasses
import math

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
    return f"{x:g}"


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
    (dict(replacement="lru"), ["replacement", "'lru'", "'random'", "'clock'"]),
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
    (lambda h: h.set_shares("a", -5), ["shares", "-5", "0 ≤ shares ≤ 1e+09"]),
    (lambda h: h.set_shares("a", "lots"), ["shares", "'lots'", "0 ≤ shares ≤ 1e+09"]),
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
    (lambda: W.Dbench(cpu_us_per_access=-1), ["cpu_us_per_access", "-1", "0 ≤ cpu_us_per_access"]),
    (lambda: W.Dbench(clients="many"), ["clients", "'many'", "1 ≤ clients ≤ 10000"]),
    (lambda: W.Toucher(schedule=5), ["schedule", "5", "(start_s, mb)"]),
    (lambda: W.Toucher(schedule=[(0,)]), ["schedule", "(start_s, mb)"]),
    (lambda: W.Toucher(schedule=[("soon", 10)]), ["schedule start_s", "'soon'", "number"]),
    (lambda: W.Toucher(schedule=[(-1, 10)]), ["start_s", "-1", "0 ≤"]),
    (lambda: W.Toucher(schedule=[(0, -5)]), ["mb", "-5", "0 ≤"]),
    (lambda: W.Toucher(schedule=[(0, math.nan)]), ["mb", "nan"]),
    (lambda: W.Toucher(sweep_s=0), ["sweep_s", "0", "1 ≤ sweep_s ≤ 3600"]),
    (lambda: W.Toucher(cpu_us_per_access=-1), ["cpu_us_per_access", "-1", "0 ≤ cpu_us_per_access"]),
    (lambda: W.make("fast"), ["workload", "'fast'", "'idle'"]),
    (lambda: W.make(3.5), ["workload", "3.5"]),
])
def test_workload_constructors(make, fragments):
    expect(make, *fragments)


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
