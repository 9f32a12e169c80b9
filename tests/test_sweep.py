"""Sweeps: one experiment over a grid of its parameters and seeds, run by joblib or a Dask cluster."""
import contextlib
import csv
import io

import pytest

import esxlab as esx
from esxlab import experiments as E
from esxlab.__main__ import main
from esxlab.experiments import runner, sweeps

GRID = {"minutes": [1, 2], "packets_per_s": [1000, 2000]}      # remap_io: ≈ 0.1 s a run


@pytest.fixture(scope="module")
def serial():
    return E.sweep("remap_io", GRID, seeds=[0, 1])


def test_tidy_table_has_one_row_per_run_and_quantity(serial):
    quantities = [r.quantity for r in E.remap_io.run(seed=0, minutes=1, packets_per_s=1000).table]
    assert len(serial) == 2 * 2 * 2 * len(quantities) and len(serial.tables) == 8
    assert serial.columns[:3] == ("experiment", "minutes", "packets_per_s")
    records = serial.records()
    assert [r["quantity"] for r in records[:len(quantities)]] == quantities
    last = records[-1]
    assert (last["minutes"], last["packets_per_s"], last["seed"]) == (2, 2000, 1)
    assert last["value"] == E.remap_io.run(seed=1, minutes=2, packets_per_s=2000).value(last["quantity"]), \
        "each row is that run's number, bit for bit"


def test_summary_is_mean_and_sd_per_grid_point(serial):
    rows = serial.summary()
    assert len(rows) == len(serial) // 2
    first = rows[0]
    assert first.experiment == "remap_io minutes=1 packets_per_s=1000"
    seeds = [v["value"] for v in serial.records() if v["quantity"] == first.quantity
             and (v["minutes"], v["packets_per_s"]) == (1, 1000)]
    assert first.values == tuple(seeds) and first.esxlab == pytest.approx(sum(seeds) / 2)


def test_csv_round_trips_the_numbers(serial, tmp_path):
    rows = list(csv.DictReader(open(serial.to_csv(tmp_path / "s.csv"))))
    assert list(rows[0]) == list(serial.columns) and len(rows) == len(serial)
    assert [float(r["value"]) for r in rows] == [r["value"] for r in serial.records()]


def test_fig7_over_tax_after_names_each_quantity_once_and_the_same_at_every_point(tmp_path, capsys):
    """A tester's ``sweep fig7 --param tax_after=0,0.75 --csv``: the idle VM's allocation after the
    change was 'idle VM alloc, τ = 0 after the change' at one point and 'idle VM alloc, τ = 0.75' at
    the other, and 'idle VM alloc, τ = 0' meant before the change at 0.75 only: no pivot possible.
    Quantities are now the same at every point; the printed table still shows τ."""
    out = tmp_path / "fig7.csv"
    small = ["vm_mb=128", "available_mb=179", "clients=20", "minutes=16", "tax_change_min=12", "dbench_start_min=1"]
    params = [x for p in ["tax_after=0,0.75", *small] for x in ("--param", p)]
    assert main(["sweep", "fig7", *params, "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "idle VM alloc, τ = 0.75" in text and "idle VM alloc, τ = 0 after the change" in text
    at: dict[str, list[str]] = {}
    for r in csv.DictReader(open(out)):
        at.setdefault(r["tax_after"], []).append(r["quantity"])
    assert at["0"] == at["0.75"] and len(set(at["0"])) == len(at["0"])
    assert "idle VM alloc after the change" in at["0"] and "idle VM alloc before the change" in at["0"]


def test_cli_prints_the_summary_and_writes_the_tidy_csv(tmp_path, capsys):
    out = tmp_path / "sweep.csv"
    assert main(["sweep", "remap_io", "--param", "minutes=1,2", "--seeds", "0-1", "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "remap_io minutes=2" in text and "esxlab mean ± sd" in text and "4 runs of remap_io" in text
    rows = list(csv.DictReader(open(out)))
    assert {r["seed"] for r in rows} == {"0", "1"} and {r["minutes"] for r in rows} == {"1", "2"}


@pytest.mark.parametrize("text, name, values", [("tax_after=0,0.25,0.95", "tax_after", [0, 0.25, 0.95]),
                                                ("sharing=esx,off", "sharing", ["esx", "off"]),
                                                ("sizes=(128, 160),(96,)", "sizes", [(128, 160), (96,)])])
def test_parse_param(text, name, values):
    assert sweeps.parse_param(text) == (name, values)


@pytest.mark.parametrize("args, match", [
    (("fig99", None, 0), "unknown experiment 'fig99'"),
    (("fig7", {"tax_rate": [0, 0.5]}, 0), "fig7 has no parameter 'tax_rate'; its parameters are: available_mb"),
    (("fig7", {"tax_after": [0.5, 1.5]}, 0), r"tax_after = 1.5 is out of range; allowed: 0 ≤ tax_after ≤ 0.99"),
    (("fig7", {"sharing": ["esx", "on"]}, 0), "sharing = 'on' is not allowed; choose one of"),
    (("fig7", {"tax_after": []}, 0), "tax_after has no values"),
    (("fig7", {"tax_after": [0.5, 0.5]}, 0), "names a value twice"),
    (("fig7", [("tax_after", 0.5)], 0), "give a dict of parameter name"),
    (("fig7", None, []), "seeds is empty"),
    (("fig7", None, [0, -1]), "seeds = -1 is not allowed"),
    (("fig7", None, [1, 1]), "names a seed twice"),
    (("fig7", None, "3-1"), "seeds = '3-1' is not allowed"),
    (("fig7", None, 1.5), "seeds = 1.5 is not allowed"),
])
def test_bad_input_is_refused_with_a_sentence_before_any_run(args, match, monkeypatch):
    monkeypatch.setattr(sweeps, "_tables", lambda *a: pytest.fail("ran before refusing"))
    with pytest.raises(esx.ConfigError, match=match):
        E.sweep(*args)


@pytest.mark.parametrize("jobs", [0, 1.5, True])
def test_bad_jobs_are_refused(jobs, monkeypatch):
    monkeypatch.setattr(sweeps, "_tables", lambda *a: pytest.fail("ran before refusing"))
    with pytest.raises(esx.ConfigError, match="^sweep: jobs = .* is not allowed"):
        E.sweep("remap_io", seeds=0, jobs=jobs)


@pytest.mark.parametrize("scheduler", ["nowhere", "tcp://host:port", 8786])
def test_a_malformed_scheduler_address_is_refused(scheduler):
    with pytest.raises(esx.ConfigError, match=r"^sweep: scheduler = .* (could not be reached .*allowed: the address of a "
                                              r"running Dask scheduler|is not allowed; give the scheduler's address as a str)"):
        E.sweep("remap_io", {"minutes": [1]}, scheduler=scheduler)


def test_a_rule_between_parameters_is_the_experiments_sentence():
    with pytest.raises(esx.ConfigError, match="fig7 needs dbench_start_min [+] 4 ≤ tax_change_min ≤ minutes − 4"):
        E.sweep("fig7", {"tax_change_min": [58]})


@pytest.mark.parametrize("argv, match", [(["fig7", "--param", "tax_after"], "give name=value"),
                                         (["fig7", "--jobs", "2", "--scheduler", "tcp://h:1"], "not allowed with"),
                                         (["fig7", "--param", "minutes=5", "--param", "minutes=6"], "given twice"),
                                         (["fig7", "--csv", "/no/such/dir/x.csv"], "cannot be written"),
                                         (["fig7", "--param", "tax_after=2"], "tax_after = 2 is out of range")])
def test_cli_refuses_bad_arguments(argv, match, capsys):
    assert main(["sweep", *argv]) == 2
    assert match in capsys.readouterr().err


def _progress_line(seconds: int) -> str:
    """What a run of ``seconds`` prints on stderr where it counts as long (PROGRESS_AFTER_S = 0)."""
    before, esx.host.PROGRESS_AFTER_S = esx.host.PROGRESS_AFTER_S, 0.0
    try:
        with contextlib.redirect_stderr(io.StringIO()) as err:
            esx.Host(esx.HostConfig(memory_mb=64), seed=0).run(seconds=seconds)
    finally:
        esx.host.PROGRESS_AFTER_S = before
    return err.getvalue()


@pytest.mark.parametrize("jobs", [1, 2])
def test_runs_in_the_runners_tasks_leave_the_progress_to_its_bar(jobs):
    """reproduce and sweep show a bar per task: a run inside a task (here, in this process or in
    loky workers) prints no "simulated X/Y min" line over it."""
    assert "simulated 2/2 min" in _progress_line(120), "alone, such a run shows its line"
    assert runner.execute(_progress_line, [(120,), (60,)], jobs=jobs) == ["", ""]


def test_a_dask_cluster_gives_the_serial_table_bit_for_bit(serial):
    from distributed import LocalCluster          # the "cluster" extra; the "test" extra installs it
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert len(cluster.workers) == 2
        table = E.sweep("remap_io", GRID, seeds=[0, 1], scheduler=cluster.scheduler_address)
        results = runner.run_many(["remap_io"], [0, 1], scheduler=cluster.scheduler_address)
        assert runner.execute(_progress_line, [(120,)], scheduler=cluster.scheduler_address) == [""], \
            "a Dask worker's runs leave the progress to the bar too"
    assert table == serial, "same grid, same seeds: the same numbers whichever runner"
    assert [r.table for r in results.values()] == [r.table for r in runner.run_many(["remap_io"], [0, 1]).values()]


@pytest.mark.parametrize("jobs", [2, 3])
def test_grouping_runs_of_a_seed_into_tasks_keeps_the_table(serial, jobs, monkeypatch):
    """However a seed's grid points are grouped into tasks (one group per seed, or split across workers),
    every table sits at its own point and seed, bit for bit."""
    monkeypatch.setattr(runner, "cpu_count", lambda: 4, raising=False)     # 3 jobs run 3 at a time anywhere
    assert sweeps._groups(4, 2, jobs, None) == (1 if jobs == 2 else 2)
    assert E.sweep("remap_io", GRID, seeds=[0, 1], jobs=jobs).tables == serial.tables


def test_a_fig7_sweep_over_tax_after_forks_each_seeds_prefix_and_matches_single_runs():
    """Figure 7's runs of one seed share the minutes before the tax change; the sweep forks them, and
    each table equals that run made alone from a cold start."""
    from esxlab.experiments import common
    small = dict(vm_mb=128, available_mb=179, clients=20, minutes=14, tax_change_min=8, dbench_start_min=1)
    table = E.sweep("fig7", {**{k: [v] for k, v in small.items()}, "tax_after": [0.25, 0.75]}, seeds=[2])
    for i, tau in enumerate((0.25, 0.75)):
        common._prefixes.clear()
        assert table.tables[i] == tuple(E.fig7.run(seed=2, **small, tax_after=tau).table)


def test_cli_lists_an_experiments_parameters_with_default_and_range(capsys, monkeypatch):
    monkeypatch.setattr(sweeps, "sweep", lambda *a, **k: pytest.fail("--list runs nothing"))
    assert main(["sweep", "7", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"fig7: {E.fig7.TITLE}"
    assert lines[2].split() == ["parameter", "default", "allowed", "unit", "--param", "example", "meaning"]
    assert lines[4].split()[:6] == ["available_mb", "358", "64", "≤", "available_mb", "≤"]
    tax_after = next(x for x in lines if x.startswith("tax_after "))
    assert tax_after.split()[1] == "0.75" and "0 ≤ tax_after ≤ 0.99" in tax_after
    assert "whole numbers, 1 ≤ clients ≤ 400" in next(x for x in lines if x.startswith("clients "))
    assert "one of 'esx', 'ksm', 'off'" in next(x for x in lines if x.startswith("sharing "))
    assert lines[4 + len(E.fig7.PARAMS)] == "", "the table has a row per parameter, then the rules"


def test_cli_sweep_jobs_above_the_cores_run_as_many_as_there_are_cores(capsys, monkeypatch):
    monkeypatch.setattr(runner, "cpu_count", lambda: 2, raising=False)
    assert runner.check_jobs(1000, "sweep: --jobs") == 2, "1000 worker processes for one run"
    assert main(["sweep", "remap_io", "--param", "minutes=1,2", "--seeds", "0-2", "--jobs", "1000"]) == 0
    out, err = capsys.readouterr()
    assert "note: sweep: --jobs = 1000 is more than this computer's 2 cores; running 2 at a time." in err
    assert out.rstrip().endswith("s, 2 workers")
