"""A research student's findings (a fresh tester): a stale in-process cache after patching the model,
"± 0" over one seed, raw exceptions from the Python API and Ctrl-C, fig2's idle ``sharing`` knob, and
undocumented CSV columns (the sweep's note, trace states by name, the decision log)."""
import csv

import pytest

import esxlab as esx
from esxlab import experiments as E
from esxlab import workloads as W
from esxlab.__main__ import main
from esxlab.experiments import common, result, runner, sweeps
from esxlab.experiments.result import Result, Row, render_table, summarize
from esxlab.experiments.sweeps import SweepTable
from esxlab.reclaim import STATES

FIG7_SMALL = dict(vm_mb=128, available_mb=179, clients=20, minutes=16, tax_change_min=12, dbench_start_min=1)
AFTER = "dbench VM alloc after the change"


@pytest.fixture
def no_kept_runs():
    """Start and end with empty caches: a patched run must not be left for other tests."""
    for cache in (common._prefixes, common._kept):
        cache.clear()
    yield
    for cache in (common._prefixes, common._kept):
        cache.clear()


# -- 1. the in-process cache ----------------------------------------------------------------------
def test_clear_cache_lets_a_patched_workload_change_the_next_run(monkeypatch, no_kept_runs):
    """The tester patched Dbench's default and got the cached 247.05 MB again; a fresh process said 70.6."""
    monkeypatch.setattr(common, "cleared", False)          # (clear_cache's mark, undone for the tests after)
    before = E.fig7.run(seed=0, **FIG7_SMALL).value(AFTER)
    init = W.Dbench.__init__
    monkeypatch.setattr(W.Dbench, "__init__", lambda self, *a, mb_per_client=1, **k:
                        init(self, *a, mb_per_client=mb_per_client, **k))
    assert E.fig7.run(seed=0, **FIG7_SMALL).value(AFTER) == before, "kept: same key, same (stale) run"
    E.clear_cache()
    assert E.fig7.run(seed=0, **FIG7_SMALL).value(AFTER) < before - 20, "a 20 MB file set instead of 120 MB"


def test_clear_cache_is_public_and_documented():
    assert "clear_cache" in E.__all__ and "clear_cache" in E.__doc__
    for name in ("kept", "fork", "fork_run"):
        assert "clear_cache" in getattr(common, name).__doc__, name


# -- 4. one seed has no spread -----------------------------------------------------------------------
def test_one_seed_shows_the_value_alone_and_two_seeds_mean_and_sd():
    row = Row("x", "alloc", 100, 108, 15, "MB")
    one = render_table(summarize([[row]]))
    assert "± 0" not in one.replace("± 15 MB", "") and "108 MB" in one and "esxlab (1 seed)" in one
    two = render_table(summarize([[row], [row]]))
    assert "108 ± 0 MB" in two and "esxlab mean ± sd" in two, "two equal seeds: a real zero spread"


def test_a_one_seed_sweep_prints_no_spread(capsys):
    assert main(["sweep", "remap_io", "--param", "minutes=1"]) == 0
    out = capsys.readouterr().out
    assert "esxlab (1 seed)" in out and "mean ± sd" not in out


# -- 9. errors in the Python API, and Ctrl-C ------------------------------------------------------------
def tiny_sweep() -> SweepTable:
    return SweepTable("x", ("minutes",), (0,), ((1,),), ((Row("x", "q", None, 1.0, None, note="why blank"),),))


@pytest.mark.parametrize("where, reason", [(".", "Is a directory"), ("missing/x.csv", "No such file or directory")])
def test_sweep_table_to_csv_refuses_a_path_it_cannot_write(tmp_path, where, reason):
    path = tmp_path / where
    with pytest.raises(esx.ConfigError, match=rf"^SweepTable.to_csv: path = '{path}' cannot be written \({reason}\); "
                                              r"allowed: a file name in an existing, writable directory\.$"):
        tiny_sweep().to_csv(path)


@pytest.mark.parametrize("where, reason", [("file", "is an existing file, not a directory"),
                                           ("file/sub", r"cannot be created \(Not a directory\)")])
def test_result_to_csv_refuses_a_directory_it_cannot_make(tmp_path, where, reason):
    (tmp_path / "file").write_text("")
    with pytest.raises(esx.ConfigError, match=rf"^Result.to_csv: directory = {tmp_path / where} {reason}; allowed"):
        Result("x", {}, table=[Row("x", "q", 1, 1, 1)]).to_csv(tmp_path / where)


@pytest.mark.parametrize("rows", ["x", None, [1], 3])
def test_render_table_refuses_what_is_not_a_list_of_rows(rows):
    with pytest.raises(esx.ConfigError, match=r"^render_table: rows = .* is not allowed; give a list of Row"):
        render_table(rows)


def test_a_csv_the_checks_before_running_let_through_is_one_error_line_after_it(monkeypatch, tmp_path, capsys):
    """For root, sweep --csv /proc/x.csv and reproduce --csv /proc pass the checks made before running,
    then raised FileNotFoundError once the run was done."""
    from esxlab.experiments import cli
    monkeypatch.setattr(cli, "_check_writable_file", lambda name: None)
    assert main(["sweep", "remap_io", "--param", "minutes=1", "--csv", str(tmp_path / "missing" / "x.csv")]) == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith("error: SweepTable.to_csv: path = ")
    (tmp_path / "out" / "remap_io_table.csv").mkdir(parents=True)       # a directory where a file goes
    assert main(["reproduce", "--figure", "remap_io", "--csv", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith("error: write_table_csv: path = ")


def interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize("argv, target", [(["sweep", "remap_io"], (sweeps.Plan, "run")),
                                          (["reproduce", "--figure", "6"], (runner, "run_many"))])
def test_ctrl_c_prints_one_line_and_exits_130(monkeypatch, capsys, argv, target):
    monkeypatch.setattr(*target, interrupt)
    try:
        code = main(argv)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped main() (a traceback)")
    assert code == 130
    assert capsys.readouterr().err.splitlines()[-1:] == ["interrupted"]


# -- 7. fig2 without its idle sharing knob ----------------------------------------------------------
def test_fig2_has_no_sharing_parameter_to_move(capsys):
    """fig2's sharing changed nothing (bit-identical off and esx) but marked rows "not compared"."""
    assert "sharing" not in E.fig2.PARAMS
    with pytest.raises(esx.ConfigError, match="fig2 has no parameter 'sharing'"):
        sweeps.check_grid("fig2", {"sharing": ["off", "esx"]})
    assert main(["sweep", "fig2", "--list"]) == 0
    assert "sharing" not in [line.split(" ")[0] for line in capsys.readouterr().out.splitlines()]


# -- 10. CSV columns -----------------------------------------------------------------------------------
def test_the_sweep_csv_keeps_the_note_that_explains_a_blank_paper(tmp_path):
    rows = list(csv.DictReader(open(tiny_sweep().to_csv(tmp_path / "s.csv"))))
    assert rows[0]["paper"] == "" and rows[0]["note"] == "why blank"
    for column in ("relation", "within", "kind", "note", "value"):
        assert f"``{column}``" in SweepTable.__doc__, column


def test_trace_csv_names_the_host_state_and_the_decision_log_is_written(tmp_path):
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=64, overhead_mb=1))
    host.note("a", "balloon held", 10, "the experiment holds it")
    trace = host.run(seconds=5)
    paths = Result("x", {}, traces={"run": trace}).to_csv(tmp_path)
    states = [r["host_state"] for r in csv.DictReader(open(tmp_path / "x_run.csv"))]
    assert len(states) == 5 and set(states) <= set(STATES) and states == trace.state_names()
    assert tmp_path / "x_run_decisions.csv" in paths
    log = list(csv.reader(open(tmp_path / "x_run_decisions.csv")))
    assert log[0] == list(result.DECISION_COLUMNS) and len(log) == 1 + len(trace.decisions)
    assert ["0", "a", "balloon held", "10", "the experiment holds it", ""] in log
