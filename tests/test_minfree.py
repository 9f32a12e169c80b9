"""The era presets and ESXi 6's sliding-scale minFree states (issue 15; later ESX, not the paper)."""
import numpy as np
import pytest

import esxlab as esx
from esxlab.config import minfree_mb
from esxlab.reclaim import CLEAR, HARD, HIGH, LOW, SOFT, FreeMemoryStates

MB = esx.PAGES_PER_MB


@pytest.mark.parametrize("memory_mb, want", [
    (4096, 0.06 * 4096),                                              # 245.76
    (12 * 1024, 0.06 * 4096 + 0.04 * 8192),                           # 573.44
    (28 * 1024, 0.06 * 4096 + 0.04 * 8192 + 0.02 * 16384),            # 901.12
    (128 * 1024, 245.76 + 327.68 + 327.68 + 1024),                    # 1925.12
    (1024, 61.44),                                                    # 6 % of a small host
])
def test_minfree_sliding_scale_by_hand(memory_mb, want):
    assert minfree_mb(memory_mb) == pytest.approx(want)
    assert esx.HostConfig.esxi6(memory_mb=memory_mb).minfree_mb == pytest.approx(want)


def test_128_gb_host_minfree_is_the_documented_1925_mb():
    assert esx.HostConfig.esxi6(memory_mb=131072).minfree_mb == pytest.approx(1925.12)


def test_esxi6_thresholds_are_percentages_of_minfree():
    cfg = esx.HostConfig.esxi6(memory_mb=4096)                        # minFree 245.76 MB
    t = {k: v / MB for k, v in cfg.threshold_pages().items()}
    assert t == pytest.approx({"high": 737.28, "clear": 245.76, "soft": 157.2864, "hard": 78.6432, "low": 39.3216})
    assert cfg.replace(minfree_high_pct=400).threshold_pages()["high"] / MB == pytest.approx(983.04)


def test_presets_and_their_names():
    old, new = esx.HostConfig.esx2002(), esx.HostConfig.esxi6()
    assert old == esx.HostConfig() and old.preset == "esx2002"
    assert (old.state_model, old.large_pages, old.compression, old.sharing.force_salting) == ("esx2002", False, False, 1)
    assert new.preset == "esxi6"
    assert (new.state_model, new.large_pages, new.compression, new.sharing.force_salting) == ("esxi6", True, True, 2)
    host = esx.Host(esx.HostConfig.esxi6(memory_mb=1024))
    assert host.preset == "esxi6" and "esxi6" in repr(host)
    assert "esx2002" in repr(esx.Host())
    assert esx.HostConfig(state_model="esxi6").preset == "esxi6", "the label follows the states when left out"


def test_a_preset_label_that_contradicts_the_states_is_refused():
    """The label names the era the configuration started from; ESXi 6's label on 2002's states (or the
    reverse) would show one era in the repr and run another."""
    for call in (lambda: esx.HostConfig(preset="esxi6"), lambda: esx.HostConfig.esx2002(state_model="esxi6"),
                 lambda: esx.HostConfig.esxi6().replace(state_model="esx2002")):
        with pytest.raises(esx.ConfigError, match="contradicts itself.*changes nothing by itself"):
            call()


def test_replace_keeps_a_preset_left_out_left_out():
    """HostConfig() resolves its preset, left out ("auto"), to 'esx2002'; replace(state_model="esxi6") said that
    label contradicted the states though the user never gave one. A preset given stays given: the contradiction
    is refused as at construction."""
    cfg = esx.HostConfig(memory_mb=1024).replace(state_model="esxi6")
    assert (cfg.preset, cfg.state_model, cfg.memory_mb) == ("esxi6", "esxi6", 1024)
    assert cfg.replace(state_model="esx2002").preset == "esx2002"
    assert esx.HostConfig().replace(preset="esxi6", state_model="esxi6").preset == "esxi6"
    for call in (lambda: esx.HostConfig(preset="esx2002").replace(state_model="esxi6"),
                 lambda: esx.HostConfig.esx2002().replace(state_model="esxi6"),
                 lambda: esx.HostConfig().replace(preset="esx2002", state_model="esxi6")):
        with pytest.raises(esx.ConfigError, match="contradicts itself"):
            call()


def test_every_field_stays_overridable():
    cfg = esx.HostConfig.esxi6(memory_mb=2048, large_pages=False, minfree_high_pct=400, tax_rate=0.5)
    assert (cfg.memory_mb, cfg.large_pages, cfg.minfree_high_pct, cfg.tax_rate) == (2048, False, 400, 0.5)
    assert cfg.preset == "esxi6" and cfg.compression
    assert esx.HostConfig.esx2002(large_pages=True).large_pages


@pytest.mark.parametrize("call, words", [
    (lambda: esx.HostConfig.esxi6(memry_mb=4), ["esxi6", "'memry_mb'", "its parameters are"]),
    (lambda: esx.HostConfig.esx2002(preset="esx3"), ["preset", "'esx3'", "'esxi6'"]),
    (lambda: esx.HostConfig.esxi6(minfree_soft_pct=120), ["ordered", "minfree_soft_pct=120"]),
    (lambda: esx.HostConfig.esxi6(minfree_high_pct=50), ["minfree_high_pct", "50"]),
    (lambda: esx.HostConfig(state_model="esx5"), ["state_model", "'esx5'"]),
    (lambda: minfree_mb(-1), ["memory_mb", "-1"]),
    (lambda: esx.HostConfig.esxi6(4096), ["by name", "HostConfig.esxi6(memory_mb=4096)", "4096"]),
])
def test_bad_preset_input_is_a_config_error(call, words):
    with pytest.raises(esx.ConfigError) as e:
        call()
    for w in words:
        assert w in str(e.value)


def test_esxi6_state_machine_walks_high_clear_soft_hard_low_and_back():
    cfg = esx.HostConfig.esxi6(memory_mb=4096)                        # minFree 62914.56 pages … in MB: 245.76
    s = FreeMemoryStates(cfg, cfg.total_pages)
    margin = s.margin / MB
    assert margin == pytest.approx(min(0.01 * 4096, 245.76 / 4))      # 40.96 MB
    seen = []
    for free_mb in (800, 240, 150, 70, 30):                           # below each threshold in turn
        s.update(int(free_mb * MB))
        seen.append(s.state)
    assert seen == [HIGH, CLEAR, SOFT, HARD, LOW]
    s.update(int((39.3216 + margin - 1) * MB))
    assert s.state == LOW                                             # hysteresis: not yet above low + margin
    s.update(int(300 * MB))
    assert s.state == CLEAR                                           # clear is left only above high + margin
    s.update(int((737.28 + margin + 1) * MB))
    assert s.state == HIGH


def test_paper_states_never_enter_clear():
    cfg = esx.HostConfig.esx2002(memory_mb=1000)
    s = FreeMemoryStates(cfg, cfg.total_pages)
    for free_mb in np.r_[np.linspace(100, 0, 60), np.linspace(0, 100, 60)]:
        s.update(int(free_mb * MB))
        assert s.state != CLEAR
    s.update(int(35 * MB))
    assert s.state == SOFT and s.goal / MB == pytest.approx(70)       # 6 % + 1 % margin
    s.update(int(15 * MB))
    assert s.state == HARD
    s.update(int(71 * MB))
    assert s.state == HIGH


def test_an_esxi6_host_runs_and_reports_the_clear_state():
    host = esx.Host(esx.HostConfig.esxi6(memory_mb=384, swap_mb=512), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=256, overhead_mb=8), workload=esx.workloads.Toucher([(0, 240)]))
    host.power_on(esx.VMConfig(name="b", max_mb=256, overhead_mb=8), workload=esx.workloads.Toucher([(0, 240)]))
    tr = host.run(minutes=3)
    names = set(tr.state_names())
    assert "clear" in names and names <= set(esx.STATES)
    assert host.stats().state in esx.STATES


def test_esxi6_reclaims_nothing_in_the_high_state():
    """ESXi 6's high state forces no reclamation: a VM above its target keeps its memory while free
    memory stays above the clear threshold (the 2002 preset's "converge" reading balloons it)."""
    def run(**kw):
        host = esx.Host(esx.HostConfig.esxi6(memory_mb=512, **kw), seed=0)
        host.power_on(esx.VMConfig(name="v", max_mb=500, overhead_mb=8), workload=esx.workloads.Toucher([(0, 375)]))
        tr = host.run(minutes=3)
        assert set(tr.state_names()) == {"high"}
        return tr.vm("v")
    v = run()
    assert esx.HostConfig.esxi6().high_state == "idle"
    assert v.alloc[-1] > v.target[-1] + 10 and v.balloon.max() == 0 and v.swapped.max() == 0
    assert run(high_state="converge").balloon.max() > 10


def test_the_decision_log_names_the_clear_state_it_reclaims_nothing_in():
    """A VM left above target while ESXi 6's clear state drives the tick is logged as "clear state",
    never "high state: enough free memory" (free memory is then below 100 % of minFree)."""
    W = esx.workloads
    h = esx.Host(esx.HostConfig.esxi6(memory_mb=512), seed=0)
    h.power_on(esx.VMConfig(name="a", max_mb=256, min_mb=32), workload=W.Dbench(clients=8, mb_per_client=8,
                                                                                 accesses_per_s=2000))
    h.power_on(esx.VMConfig(name="b", max_mb=256, guest_os="windows"), workload=W.Toucher([(0, 150)]))
    h.power_on(esx.VMConfig(name="c", max_mb=128, limit_mb=64), workload=W.HotCold())
    tr = h.run(minutes=3)
    states = ["high", *tr.state_names()]          # states[t - 1]: judged at the end of tick t − 1, drives tick t
    left = [(d, states[d.tick - 1]) for d in tr.decisions if d.action == "left above target"]
    assert any(s == "clear" for _, s in left)
    for d, s in left:
        assert d.why.startswith(f"{s} state"), (str(d), s)
