"""HostConfig/VMConfig, presets esx2002()/esxi6(), their input checks."""
from __future__ import annotations

import dataclasses
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import esxlab as esx
from esxlab.config import HostConfig, RemapConfig, SharingConfig, VMConfig
from esxlab.experiments import fig7


@pytest.mark.parametrize("kw, words", [
    (dict(tax_rate=1.0), ["tax_rate", "1.0", "0 ≤ tax_rate < 1"]),
    (dict(tax_rate=-0.1), ["tax_rate", "-0.1"]),
    (dict(tax_rate=math.nan), ["tax_rate", "nan", "not a finite number"]),
    (dict(memory_mb=-5), ["memory_mb", "-5"]),
    (dict(memory_mb="lots"), ["memory_mb", "must be a number"]),
    (dict(soft_pct=8), ["ordered", "soft_pct=8"]),
    (dict(state_entry="below"), ["state_entry", "'own'", "'higher'"]),
    (dict(sample_pages=2.5), ["sample_pages", "whole number"]),
    # the experiments take sharing="off": HostConfig shows the form it takes (a new user's trial)
    (dict(sharing="off"), ["must be a SharingConfig, e.g. sharing=esx.SharingConfig(mode='off') (mode is one of "
                           "'esx', 'ksm', 'off'); got 'off'."]),
    (dict(sharing="on"), ["e.g. sharing=esx.SharingConfig(mode='esx') (mode is one of 'esx', 'ksm', 'off'); got "
                          "'on'."]),
    (dict(remap=False), ["must be a RemapConfig, e.g. remap=esx.RemapConfig(enabled=False) (enabled is one of True, "
                         "False); got False."]),
    (dict(remap="on"), ["e.g. remap=esx.RemapConfig(enabled=True) (enabled is one of True, False); got 'on'."]),
    (dict(sharing="KSM"), ["e.g. sharing=esx.SharingConfig(mode='ksm') (mode is one of"]),    # (it suggested 'off')
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


def test_shares_follow_the_max_a_vm_has():
    """A max of 128.001 MB gave a VM of 128 MB (whole pages) and the shares of 128.001 MB (1280.01; a new user's
    trial): the default shares now count the pages the VM has."""
    assert VMConfig("a", 128.001).effective_shares(10) == VMConfig("a", 128).effective_shares(10) == 1280.0
    assert VMConfig("a", 128.5).effective_shares(10) == 1285.0


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


ROOT = Path(__file__).resolve().parents[1]


def flat(text):
    return " ".join(text.split())


def test_d1_memory_mb_source_names_358_as_fig7_uses():
    """§5.4 says about 360 MB; fig7 sizes its host from the digitized 179 + 179 = 358."""
    source = esx.HostConfig.controls()["memory_mb"].source
    assert fig7.PAPER_AVAILABLE_MB == 358 == 179 + 179
    assert "358" in source and "179 + 179" in source and "about 360" in source
    assert "from the 360" not in source


def test_d6_esx2002_docstring_names_its_later_esx_balloon_cap_and_swap_files():
    doc = flat(esx.HostConfig.esx2002.__doc__)
    assert "balloon_max_pct" in doc and "65 %" in doc and "Mem.CtlMaxPercent" in doc
    assert "ESX 2.5's default was half of max" in doc
    assert "swap_mb=None" in doc and "admission then checks no swap space" in doc
    v = esx.HostConfig.esx2002()
    assert v.swap_mb is None and v.swap_pages is None and esx.VMConfig().balloon_max_pct == 65
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    era = readme[readme.index("The two eras side by side"):readme.index("<!-- reproduce:begin")]
    row = next(line for line in era.splitlines() if line.startswith("| balloon cap"))
    assert "half of max" in row and "Mem.CtlMaxPercent" in row
    row = next(line for line in era.splitlines() if line.startswith("| swap space"))
    assert "admission checks no swap space" in row


def test_hostconfig_takes_only_memory_by_position_and_says_what_the_second_value_would_set():
    with pytest.raises(esx.ConfigError) as e:
        esx.HostConfig(512, 0.75)
    assert str(e.value) == (
        "HostConfig takes at most 1 value by position (memory_mb), got 2: 512, 0.75; name the others, e.g. "
        "HostConfig(512, tax_rate=0.75) if 0.75 is the idle memory tax τ; every name is in help(HostConfig).")
    with pytest.raises(esx.ConfigError, match=r"HostConfig\(512, swap_mb=1024\) if 1024 is the host swap space"):
        esx.HostConfig(512, 1024)       # the field a value most likely meant: τ for a fraction
    assert esx.HostConfig(512).memory_mb == 512 and esx.HostConfig(512, tax_rate=0.5).tax_rate == 0.5


@pytest.mark.parametrize("make,first_named", [
    (lambda: esx.VMConfig("db", 256, 64), "min_mb=64"),
    (lambda: SharingConfig("ksm", 100), "scan_vm_pages_s=100"),
    (lambda: RemapConfig(False, 64), "low_memory_mb=64"),
    (lambda: esx.HostConfig(*range(1, 40)), "swap_mb=2"),
])
def test_every_configuration_refuses_values_past_its_positional_fields(make, first_named):
    with pytest.raises(esx.ConfigError, match=rf"takes at most \d values? by position .*{first_named}"):
        make()


def test_the_positional_fields_still_work():
    vm = esx.VMConfig("db", 256, min_mb=64)
    assert (vm.name, vm.max_mb, vm.min_mb) == ("db", 256, 64)
    assert SharingConfig("ksm").mode == "ksm" and RemapConfig(False).enabled is False


@pytest.mark.parametrize("make,hint", [
    (lambda: esx.VMConfig(balloon_max_pct=0.65), "VMConfig.balloon_max_pct = 0.65 looks like a fraction of 1, but "
                                                 "balloon_max_pct is a percentage (65 for 65 %)"),
    (lambda: esx.HostConfig(compression_cache_pct=0.1), "(10 for 10 %)"),
    (lambda: RemapConfig(low_reserve_pct=0.05), "(5 for 5 %)"),
])
def test_a_fraction_typed_for_a_whole_percentage_is_refused(make, hint):
    with pytest.raises(esx.ConfigError) as e:
        make()
    assert hint in str(e.value) and "reads as a fraction of 1 and is refused" in str(e.value)


def test_percentages_below_one_stay_allowed_where_they_mean_something():
    """§6.3's thresholds move in half percents; 0 and 1 are whole percentages."""
    assert esx.HostConfig(low_pct=0.5, hysteresis_pct=0.5).low_pct == 0.5
    assert esx.VMConfig(balloon_max_pct=0).balloon_max_pct == 0
    with pytest.warns(UserWarning, match="is read as 1 % of max"):      # allowed, with a word (below)
        assert esx.VMConfig(balloon_max_pct=1).balloon_max_pct == 1


@pytest.mark.parametrize("make", [
    lambda: esx.VMConfig(balloon_max_pct=1),
    lambda: esx.VMConfig().replace(balloon_max_pct=1.0),
    lambda: esx.HostConfig.esxi6(minfree_low_pct=1),
])
def test_the_percentage_warning_points_at_the_users_line(make):
    with pytest.warns(UserWarning, match="is read as 1 %") as caught:
        make()
    assert caught[0].filename == __file__, caught[0].filename


def test_a_configuration_refused_for_another_reason_does_not_warn_first():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(esx.ConfigError, match="must be ordered"):
            esx.HostConfig.esxi6(minfree_soft_pct=1)


@pytest.mark.parametrize("cls", [esx.HostConfig, esx.VMConfig, esx.SharingConfig, esx.RemapConfig])
def test_config_docstrings_list_every_param_field(cls):
    """help(HostConfig) etc. list each field with its unit, meaning, range and source."""
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


def test_a_percentage_for_a_fraction_is_named():
    with pytest.raises(esx.ConfigError, match=r"tax_rate = 75 is out of range: a fraction of 1 \(0.75 for 75 %\)"):
        esx.HostConfig(tax_rate=75)
    for value in (1.5, 100):                           # not read as percentages: 1.5 %, or 1 (not allowed)
        with pytest.raises(esx.ConfigError) as err:
            esx.HostConfig(tax_rate=value)
        assert "fraction" not in str(err.value)
    with pytest.raises(esx.ConfigError, match=r"\(percentages of machine memory: 4 for 4 %\)"):
        esx.HostConfig(memory_mb=240, soft_pct=0.04)


@pytest.mark.parametrize("value", [1.0, 1, np.float64(1.0)])
def test_balloon_max_pct_of_exactly_one_warns_that_it_reads_as_one_percent(value):
    """Allowed (above: 0 and 1 are whole percentages), but 1.0 for "all of max" gave a 1 % cap silently."""
    with pytest.warns(UserWarning, match=rf"^VMConfig\.balloon_max_pct = {re.escape(repr(value))} is read as 1 % of "
                                         r"max; if you meant the fraction 1, balloon_max_pct is a percentage \(100 for "
                                         r"100 %\)\.$"):
        config = esx.VMConfig(balloon_max_pct=value)
    assert config.balloon_max_pct == 1 and config.balloon_cap_pages == int(config.max_pages / 100)


def test_replace_warns_too_and_other_values_do_not():
    with pytest.warns(UserWarning, match=r"^VMConfig\.balloon_max_pct = 1 is read as 1 % of max"):
        esx.VMConfig().replace(balloon_max_pct=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for pct in (0, 5, 65, 100):
            esx.VMConfig(balloon_max_pct=pct)
        # 1 % is a slider position of these (step 1): a value one sets on purpose, no warning
        esx.HostConfig(compression_cache_pct=1, remap=esx.RemapConfig(low_reserve_pct=1))


@pytest.mark.parametrize("value, reads", [(0.5, "a fraction of 1, but busy_pct is a percentage (50 for 50 %)"),
                                          (1, "the fraction 1, but busy_pct is a percentage (100 for 100 %)")])
def test_a_fraction_typed_for_a_percentage_whose_range_starts_above_it_gets_the_same_hint(value, reads, capsys):
    """`sweep esx_today --param busy_pct=0.5` said only "out of range; allowed: 10 ≤ busy_pct ≤ 95" (the fraction's
    hint, which --list gives, came only for a value within the range)."""
    from esxlab.__main__ import main
    assert main(["sweep", "esx_today", "--param", f"busy_pct={value}"]) == 2
    assert capsys.readouterr().err == (f"error: esx_today.busy_pct = {value} looks like {reads}; allowed: 10 ≤ "
                                       "busy_pct ≤ 95, a percentage (0 < value < 1 reads as a fraction of 1 and is "
                                       "refused).\n")
    with pytest.raises(esx.ConfigError, match=r"^HostConfig.minfree_high_pct = 0.75 looks like a fraction of 1, but "
                                              r"minfree_high_pct is a percentage \(75 for 75 %\); allowed: 100 ≤"):
        esx.HostConfig.esxi6(minfree_high_pct=0.75)
    with pytest.raises(esx.ConfigError, match=r"^esx_today.busy_pct = 5 is out of range; allowed: 10 ≤ busy_pct ≤ "
                                              r"95\.$"):
        esx.experiments.esx_today.run(busy_pct=5)


def test_a_fraction_below_one_is_still_refused_not_warned():
    with pytest.raises(esx.ConfigError, match=r"looks like a fraction of 1, but balloon_max_pct is a percentage"):
        esx.VMConfig(balloon_max_pct=0.65)


def test_sources_cite_the_sections_the_paper_gives():
    host, vm, sharing = HostConfig.controls(), VMConfig.controls(), SharingConfig.controls()
    assert "§5.4" in host["memory_mb"].source and "§3.2" in host["balloon_stuck_s"].source
    assert "1 GB" in vm["overhead_mb"].source and "default is 2" in sharing["force_salting"].source
    assert 'high_state="idle"' in HostConfig.esx2002.__doc__ and "swap_mb" in HostConfig.esx2002.__doc__


@pytest.mark.parametrize("make, says", [
    (lambda: esx.SharingConfig(mode="ESX"), "SharingConfig.mode = 'ESX' is not allowed (did you mean 'esx'?); choose "
                                            "one of 'esx', 'ksm', 'off'."),
    (lambda: esx.VMConfig(name="a", guest_os="Windows"), "VMConfig.guest_os = 'Windows' is not allowed (did you mean "
                                                         "'windows'?); choose one of 'linux', 'windows'."),
    (lambda: esx.SharingConfig(mode="on"), "SharingConfig.mode = 'on' is not allowed; choose one of 'esx', 'ksm', "
                                           "'off'."),
])
def test_a_choice_in_other_capitals_is_named(make, says):
    """'ESX' and 'Windows' got only the list of choices (a new user's trial); 'on' is no choice in other capitals."""
    with pytest.raises(esx.ConfigError) as e:
        make()
    assert str(e.value) == says
