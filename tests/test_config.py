import math

import numpy as np
import pytest

import esxlab as esx


@pytest.mark.parametrize("kw, words", [
    (dict(tax_rate=1.0), ["tax_rate", "1.0", "0 ≤ tax_rate < 1"]),
    (dict(tax_rate=-0.1), ["tax_rate", "-0.1"]),
    (dict(tax_rate=math.nan), ["tax_rate", "nan", "not a finite number"]),
    (dict(memory_mb=-5), ["memory_mb", "-5"]),
    (dict(memory_mb="lots"), ["memory_mb", "must be a number"]),
    (dict(soft_pct=8), ["ordered", "soft_pct=8"]),
    (dict(state_entry="below"), ["state_entry", "'own'", "'higher'"]),
    (dict(sample_pages=2.5), ["sample_pages", "whole number"]),
])
def test_bad_host_config_names_parameter_value_and_range(kw, words):
    with pytest.raises(esx.ConfigError) as e:
        esx.HostConfig(**kw)
    for w in words:
        assert w in str(e.value)


@pytest.mark.parametrize("kw, words", [
    (dict(max_mb=-1), ["max_mb", "-1"]),
    (dict(min_mb=300, max_mb=256), ["min_mb", "300", "max_mb"]),
    (dict(shares=-3), ["shares", "-3"]),
    (dict(balloon="broken"), ["balloon", "'broken'", "'cooperative'"]),
    (dict(guest_os="beos"), ["guest_os", "'beos'"]),
    (dict(name=""), ["name"]),
    # limits and the balloon ceiling (issue 15; later ESX)
    (dict(limit_mb=50, min_mb=64), ["limit_mb = 50", "min_mb = 64", "reservation"]),
    (dict(limit_mb=-1), ["limit_mb", "-1"]),
    (dict(balloon_max_mb="a lot"), ["balloon_max_mb", "must be a number"]),
])
def test_bad_vm_config(kw, words):
    with pytest.raises(esx.ConfigError) as e:
        esx.VMConfig(**kw)
    for w in words:
        assert w in str(e.value)


def test_defaults_the_paper_gives():
    """§6.3's thresholds, §5.2's τ, §5.3's sampling and §6.2's overhead."""
    c = esx.HostConfig()
    assert (c.high_pct, c.soft_pct, c.hard_pct, c.low_pct) == (6, 4, 2, 1)
    assert c.tax_rate == 0.75 and c.sample_pages == 100 and c.sample_period_s == 30
    assert esx.VMConfig(max_mb=256).overhead_mb == 32


def test_defaults_from_later_esx_where_the_paper_gives_none():
    """The paper gives no reallocation period (§6.3), balloon cap (§3.2), shares per MB (§6.1) or scan rates
    (§4.3); esxlab takes later ESX's, and each Param's source says so."""
    c = esx.HostConfig()
    assert c.realloc_period_s == 15
    v = esx.VMConfig(max_mb=256)
    assert v.balloon_max_pct == 65
    assert v.effective_shares(c.shares_per_mb) == 2560
    assert (c.sharing.scan_vm_pages_s, c.sharing.scan_total_pages_s) == (50, 200)
    host, vm, sharing = esx.HostConfig.controls(), esx.VMConfig.controls(), esx.SharingConfig.controls()
    for p in (host["realloc_period_s"], host["shares_per_mb"], vm["balloon_max_pct"],
              sharing["scan_vm_pages_s"], sharing["scan_total_pages_s"]):
        assert p.source.startswith("later ESX"), p.source


def test_controls_metadata_and_replace():
    ctl = esx.HostConfig.controls()
    assert ctl["tax_rate"]["lo"] == 0 and ctl["tax_rate"]["hi"] == 1 and ctl["tax_rate"]["default"] == 0.75
    c = esx.HostConfig().replace(tax_rate=0.5)
    assert c.tax_rate == 0.5
    with pytest.raises(esx.ConfigError, match="no parameter 'taxrate'"):
        esx.HostConfig().replace(taxrate=0.5)


def test_unknown_workload_and_bad_workload_parameters():
    host = esx.Host(esx.HostConfig(memory_mb=128, swap_mb=512))
    with pytest.raises(esx.ConfigError, match="workload = 'spec' is unknown"):
        host.power_on(esx.VMConfig(name="a", max_mb=32), workload="spec")
    with pytest.raises(esx.ConfigError, match="write_fraction"):
        esx.workloads.Dbench(write_fraction=2)
    with pytest.raises(esx.ConfigError, match="schedule"):
        esx.workloads.Toucher(schedule=5)


def test_seed_and_run_arguments():
    with pytest.raises(esx.ConfigError, match="seed"):
        esx.Host(seed=-1)
    host = esx.Host(esx.HostConfig(memory_mb=64, swap_mb=256))
    with pytest.raises(esx.ConfigError, match="exactly one"):
        host.run()
    with pytest.raises(esx.ConfigError, match="minutes"):
        host.run(minutes=-1)
    with pytest.raises(esx.ConfigError, match="no VM named 'ghost'"):
        host.vm("ghost")


def test_one_parameter_type_for_config_fields_experiments_and_controls():
    from esxlab.config import Param
    from esxlab.experiments import EXPERIMENTS, get
    tau = esx.HostConfig.controls()["tax_rate"]
    assert isinstance(tau, Param) and tau.label == tau["label"] and tau.source.startswith("§5.2")
    for name in EXPERIMENTS:
        assert all(isinstance(p, Param) for p in get(name).PARAMS.values()), name
    mode = esx.SharingConfig.controls()["mode"]
    for name, default in (("fig5", "esx"), ("fig6", "off"), ("fig7", "off"), ("fig8", "esx"), ("replacement", "off")):
        assert get(name).PARAMS["sharing"] == mode.replace(default=default), f"{name}: declared once, in SharingConfig"


def test_param_validates_alike_wherever_it_is_used():
    from esxlab.config import Param
    from esxlab.experiments.params import resolve
    spec = Param(0.5, "tax", 0, 1, hi_open=True)
    assert spec.validate("X", "tax", 0.25) == 0.25 and Param(None, "swap", 0, 10, optional=True).validate("X", "s", None) is None
    with pytest.raises(esx.ConfigError, match=r"X.tax = 1 is out of range; allowed: 0 ≤ tax < 1"):
        spec.validate("X", "tax", 1)
    with pytest.raises(esx.ConfigError, match=r"HostConfig.tax_rate = 1 is out of range; allowed: 0 ≤ tax_rate < 1"):
        esx.HostConfig(tax_rate=1)
    with pytest.raises(esx.ConfigError, match=r"exp.tax = 1 is out of range"):
        resolve("exp", {"tax": spec}, {"tax": 1})
    assert esx.VMConfig(guest_os=np.str_("windows")).guest_os.__class__ is str, "a choice is stored plain"
    with pytest.raises(esx.ConfigError, match="Param has no field 'high'; its fields are: default, label"):
        spec.replace(high=2)
    with pytest.raises(KeyError):
        spec["high"]
