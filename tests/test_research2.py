"""A researcher's second round of findings (/work/notes/tester_research2.md, findings 4, 6 and 7):
host memory adds up in ``HostStats`` (the sharing table has a field, §4.3), ``help()`` of Host and the
configurations says what each field means, and a trace has a repr and a friendlier ``mean``."""
import dataclasses
import re

import pytest

import esxlab as esx
from esxlab.config import PAGES_PER_MB


def small_host(config: esx.HostConfig, off: str = "") -> esx.Host:
    """Three VMs (idle Windows, dbench, a toucher) for three minutes; ``off`` is powered off after two."""
    host = esx.Host(config, seed=0)
    host.power_on(esx.VMConfig(name="idle", max_mb=256, guest_os="windows"), workload="idle")
    host.power_on(esx.VMConfig(name="db", max_mb=256), workload="dbench")
    host.power_on(esx.VMConfig(name="touch", max_mb=128, min_mb=64), workload="toucher")
    host.run(minutes=2)
    if off:
        host.power_off(off)
    host.run(minutes=1)
    return host


SCENARIOS = {
    "esx sharing": dict(memory_mb=600),
    "ksm sharing": dict(memory_mb=600, sharing=esx.SharingConfig(mode="ksm")),
    "compression under pressure": dict(memory_mb=400, compression=True),
    "esxi6 preset": dict(memory_mb=500, state_model="esxi6", large_pages=True, compression=True),
}


@pytest.mark.parametrize("off", ["", "db"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_host_memory_adds_up_exactly(scenario, off):
    """Finding 4: total == Σ alloc + overhead + free + sharing_table − shared_saved (HostStats' docstring)."""
    host = small_host(esx.HostConfig(**SCENARIOS[scenario]), off)
    s = host.stats()
    alloc = sum(v.alloc for v in host.vm_stats().values())
    assert s.sharing_table == host.sharing.table_pages / PAGES_PER_MB > 0
    assert alloc + s.overhead + s.free + s.sharing_table - s.shared_saved == s.total
    if scenario.startswith("compression"):
        assert host.compression.pages > 0          # the cache held machine pages, counted in alloc
    tr = host.trace
    assert tr.host.sharing_table[-1] == s.sharing_table


def test_hoststats_docstring_states_the_identity():
    doc = esx.HostStats.__doc__
    assert "total == Σ alloc + overhead + free + sharing_table − shared_saved" in doc
    assert "compression cache" in doc and "``sharing_table`` (MB)" in doc


def test_host_has_a_real_docstring():
    """Finding 6: help(esx.Host) says what it owns, its main methods, units and an example."""
    doc = esx.Host.__doc__
    assert "README" not in doc
    for word in ("power_on", "power_off", "run", "step", "stats", "vm_stats", "trace", "set_tax_rate", "MB",
                 "Example::"):
        assert word in doc, word
    example = doc.split("Example::")[1]
    code = "\n".join(line.strip() for line in example.strip().splitlines())
    exec(code, {**{n: getattr(esx, n) for n in ("Host", "HostConfig", "VMConfig")}, "print": lambda *a: None})


@pytest.mark.parametrize("cls", [esx.HostConfig, esx.VMConfig, esx.SharingConfig, esx.RemapConfig])
def test_config_docstrings_list_every_param_field(cls):
    """Finding 6: help(HostConfig) etc. list each field with its unit, meaning, range and source."""
    doc = re.sub(r"\s+", " ", cls.__doc__)
    for name, spec in cls.controls().items():
        line = re.search(rf"\* ``{name}``(.*?)(?= \* ``|$)", doc)
        assert line, name
        text = line.group(1)
        assert spec.label in text and re.sub(r"\s+", " ", spec.source) in text, name
        if spec.unit:
            assert f"({spec.unit})" in text, name
        assert "allowed:" in text and f"default {spec.default!r}" in text, name
    assert "0 ≤ tax_rate < 1" in re.sub(r"\s+", " ", esx.HostConfig.__doc__)
    assert all(f.name in doc for f in dataclasses.fields(cls)), "a plain field is not mentioned"


@pytest.fixture(scope="module")
def trace():
    host = esx.Host(esx.HostConfig(memory_mb=360), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=128))
    host.power_on(esx.VMConfig(name="b", max_mb=64))
    return host.run(minutes=2)


def test_trace_repr_is_a_one_line_summary(trace):
    text = repr(trace)
    assert "object at 0x" not in text and "\n" not in text
    assert "120 ticks" in text and "2 simulated min" in text and "'a', 'b'" in text
    assert f"free {trace.host.free[-1]:.1f} MB" in text and "state 'high'" in text
    assert "0 ticks" in repr(esx.Host(seed=0).trace)


def test_mean_end_before_start_says_so(trace):
    with pytest.raises(esx.ConfigError) as e:
        trace.mean("a", "alloc", 1, 0.5)
    assert "end_min = 0.5 must be after start_min = 1" in str(e.value)
    with pytest.raises(esx.ConfigError, match="end_min = 1 must be after start_min = 1"):
        trace.mean("a", "alloc", 1, 1)


@pytest.mark.parametrize("name", ["", None])
def test_mean_of_a_host_field(trace, name):
    assert trace.mean(name, "free", 1) == pytest.approx(trace.host.free[trace.t >= 60].mean())
    assert trace.mean(name, "overhead") == 64


def test_mean_says_where_the_other_scope_is(trace):
    with pytest.raises(esx.ConfigError, match=r"host series \(trace\.host\.free\); allowed: name = None"):
        trace.mean("a", "free")
    with pytest.raises(esx.ConfigError, match=r"VM's series \(trace\.vm\(name\)\.alloc\)"):
        trace.mean(None, "alloc")
