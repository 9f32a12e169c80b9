"""A researcher's trial of the API and the command line (2026-12-05): what it found, held."""
from __future__ import annotations

import pytest

import esxlab as esx
from esxlab import resources


def test_power_on_refuses_vms_that_together_outgrow_this_computer(monkeypatch):
    """Each VM fitting alone is not enough: the VMs running together are added up (two 1 TB VMs on a
    23.5 GiB machine peaked at 97 % of its memory before)."""
    host = esx.Host(esx.HostConfig(memory_mb=512, swap_mb=512))
    a, b = (esx.VMConfig(name=n, max_mb=128, overhead_mb=4) for n in "ab")
    one = resources.vm_bytes(a.max_pages)
    monkeypatch.setattr(resources, "machine_bytes", lambda: int(1.5 * one / resources.USABLE_FRACTION))
    host.power_on(a)
    with pytest.raises(esx.ConfigError, match=r"power_on 'b' \(max_mb = 128\) with 1 VM running needs about"):
        host.power_on(b)
    assert list(host.vms) == ["a"]
    host.power_off("a")
    host.power_on(b)                          # room again once the first is off


def test_a_time_in_minutes_off_a_tick_is_named_by_the_parameter_set(capsys):
    """`--param tax_change_min=31.33` is inside --list's range; it used to fail inside the run with
    "run: minutes = 28.33 is 1699.8 s", a value the user never typed."""
    from esxlab.experiments import cli, fig7
    assert cli.sweep_main(["fig7", "--param", "tax_change_min=31.33"]) == 2
    err = capsys.readouterr().err
    assert "fig7 tax_change_min = 31.33 min is 1879.8 s, not a whole number of seconds" in err, err
    assert "e.g. 31.25 or 31.5" in err
    with pytest.raises(esx.ConfigError, match=r"fig7 minutes = 60.01 min is 3600.6 s"):
        fig7.run(minutes=60.01)


def test_the_list_says_minutes_fall_on_a_tick():
    from esxlab.experiments import sweeps
    text = " ".join(sweeps.describe_params("fig7").split())
    assert "A time in minutes must fall on a tick, a whole number of seconds" in text


def test_fig2s_note_does_not_credit_the_paper_with_esxlabs_scaling_rule():
    """The paper ran Figure 2 at 40 clients and 128–256 MB only; 50 clients for 320 MB is esxlab's rule."""
    from esxlab.experiments import fig2
    text = fig2.run(clients=20, max_mb=320, sizes=(256,), minutes=4, measure_from_min=3).render()
    assert "50 for 320 MB" not in text
    assert "esxlab compares a 320 MB VM only with 50 (40 scaled by max_mb / 256)" in " ".join(text.split()), text


def test_a_misspelled_trace_series_names_the_series_there_are():
    """`trace.vm(name).allocc` was a bare AttributeError from a SimpleNamespace."""
    import copy
    import pickle
    host = esx.Host(esx.HostConfig(memory_mb=256))
    host.power_on(esx.VMConfig(name="a", max_mb=64, overhead_mb=4))
    tr = host.run(seconds=3)
    with pytest.raises(esx.Error, match=r"trace.vm\('a'\) has no series 'allocc'; allowed: one of alloc, target"):
        tr.vm("a").allocc
    with pytest.raises(AttributeError, match=r"trace.host has no series 'fre'; allowed: one of free, state"):
        tr.host.fre
    assert not hasattr(tr.host, "fre") and getattr(tr.host, "fre", 7) == 7
    assert list(vars(tr.vm("a"))) == list(esx.trace.VM_FIELDS)
    again = pickle.loads(pickle.dumps(tr))
    assert (again.vm("a").alloc == tr.vm("a").alloc).all()
    with pytest.raises(esx.Error, match=r"trace.vm\('a'\) has no series 'x'"):
        again.vm("a").x
    assert (copy.deepcopy(tr.host).free == tr.host.free).all()


def test_compute_targets_names_a_none_as_written():
    """A student's `limit_pages=[65536, None, 393216]` was reported as `limit_pages[1] = nan`."""
    with pytest.raises(esx.ConfigError, match=r"compute_targets.limit_pages\[1\] = None \(in \[65, None, 90\]\)"):
        esx.policy.compute_targets([1, 1, 1], [0, 0, 0], [100, 100, 100], [10, 10, 10], 200, 0.5,
                                   limit_pages=[65, None, 90])
