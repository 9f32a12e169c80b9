"""A researcher sweeps an experiment module of their own, outside the package (``sweep(my_module)``
once answered "unknown experiment <module 'myexp'>"): by the module or its import name, from
Python or the command line, in this process or in workers that import it by name, with the same table."""
from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import types
import warnings
from pathlib import Path

import pytest

import esxlab as esx
import own_experiment_example as example          # tests/ is on sys.path (pytest's rootdir-relative import)
from esxlab import experiments as E, workloads as W
from esxlab.__main__ import main
from esxlab.experiments import SweepFailed, common, runner, sweep, sweeps
from esxlab.experiments.params import Param
from esxlab.errors import ConfigError

ROOT = Path(esx.__file__).resolve().parents[1]
GRID = {"sample_period_s": [10, 120]}


@pytest.fixture(scope="module")
def serial():
    return E.sweep(example, GRID, seeds=[0, 1])


def test_an_own_module_sweeps_by_object_or_name_with_one_or_two_jobs_bit_for_bit(serial):
    assert serial.experiment == "own_experiment_example" and serial.params == ("sample_period_s",)
    assert serial.tables[1] == tuple(example.run(seed=1, sample_period_s=10).table), "each table is that run's"
    assert serial.tables[0] != serial.tables[2], "the knob moves the allocations"
    by_name = E.sweep("own_experiment_example", GRID, seeds=[0, 1], jobs=2)
    assert by_name == serial, "workers import the module by its name and give the same table, bit for bit"
    assert E.lookup(example) == E.lookup("own_experiment_example") == "own_experiment_example"
    assert E.get("own_experiment_example") is example


def test_the_cli_lists_an_own_modules_parameters(capsys):
    assert main(["sweep", "own_experiment_example", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"own_experiment_example: {example.TITLE}"
    assert lines[4].split()[:5] == ["sample_period_s", "30", "1", "≤", "sample_period_s"]


def _readme_example() -> str:
    """The README's ``myexp.py`` (its Sweeps section's Python block that starts "# myexp.py")."""
    blocks = re.findall(r"```python\n(# myexp\.py.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) == 1, "README.md's Sweeps section shows one myexp.py"
    return blocks[0]


def test_the_readmes_example_sweeps_from_the_command_line_by_its_dotted_name_with_two_jobs(tmp_path):
    """``python -m esxlab sweep mypkg.myexp`` imports the module from the current directory (``python -m``
    puts it on sys.path), and so do its two loky workers; the CSV is the same as one job's."""
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    (tmp_path / "mypkg" / "myexp.py").write_text(_readme_example())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = {}
    for jobs in ("1", "2"):
        argv = ["sweep", "mypkg.myexp", "--param", "sample_period_s=10,120", "--seeds", "0-1", "--jobs", jobs,
                "--csv", f"j{jobs}.csv"]
        done = subprocess.run([sys.executable, "-m", "esxlab", *argv], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "4 runs of mypkg.myexp (2 grid points × 2 seeds)" in done.stdout
        out[jobs] = (tmp_path / f"j{jobs}.csv").read_text()
    rows = list(csv.DictReader(out["2"].splitlines()))
    assert {r["experiment"] for r in rows} == {"mypkg.myexp"} and {r["sample_period_s"] for r in rows} == {"10", "120"}
    assert out["1"] == out["2"]


def _module(name: str = "handmade", **attrs) -> types.ModuleType:
    module = types.ModuleType(name)
    vars(module).update(attrs)
    return module


@pytest.mark.parametrize("attrs, wrong", [
    (dict(run=example.run), "has no PARAMS"),
    (dict(PARAMS=example.PARAMS), "has no run function"),
    (dict(PARAMS={"period": 30}, run=example.run), "has PARAMS['period'] = 30, not a Param"),
    (dict(PARAMS=[("period", 30)], run=example.run), "has PARAMS = [('period', 30)], not a dict"),
    (dict(PARAMS={"seed": Param(0, "seed")}, run=example.run),
     "has the parameter name 'seed', not a keyword argument of run other than seed"),
    (dict(PARAMS=example.PARAMS, run=example.run, RULES=("x < 1",)), "has RULES = ('x < 1',), not a tuple of Rule"),
    (dict(PARAMS={"x": Param(10, "x", 0, 5)}, run=example.run),        # (sweep --list offered x=10 as the example)
     "has PARAMS['x'] whose default its own range refuses (handmade.x = 10 is out of range; allowed: 0 ≤ x ≤ 5)"),
])
def test_a_module_that_is_not_an_experiment_module_is_one_sentence_pointing_to_fig7(attrs, wrong, monkeypatch):
    monkeypatch.setattr(sweeps, "_tables", lambda *a: pytest.fail("ran before refusing"))
    contract = r"an experiment module has PARAMS, .* and run\(seed=0, \*\*params\) .*/experiments/fig7\.py has\.$"
    with pytest.raises(esx.ConfigError, match=rf"^experiment module 'handmade' {re.escape(wrong)}; {contract}"):
        E.sweep(_module(**attrs))


def test_a_module_with_a_helper_of_its_own_named_hosts_sweeps(serial):
    """A module of one's own may well have a function named ``hosts`` (its hosts): a sweep took it for the plan of what
    the runs simulate, called it as hosts(**params) before running and stopped with a TypeError."""
    def hosts(seed: int) -> list:
        raise AssertionError("the module's own helper, not a plan of its runs")

    notebook = _module(PARAMS=example.PARAMS, run=example.run, TITLE=example.TITLE, hosts=hosts)
    assert E.sweep(notebook, GRID, seeds=[0, 1]).tables == serial.tables


def test_a_name_that_imports_no_experiment_module_is_refused(capsys):
    with pytest.raises(esx.ConfigError, match="^experiment module 'json' has no PARAMS; "):
        E.sweep("json")
    with pytest.raises(esx.ConfigError, match="^unknown experiment 'no_such_pkg.myexp' \\(no module "
                                              "'no_such_pkg.myexp' can be imported from here: .*\\); choose a figure "
                                              "number .* or the import name of a module of your own, e.g. "
                                              "mypkg.myexp"):
        E.sweep("no_such_pkg.myexp")
    assert main(["sweep", "no_such_module", "--list"]) == 2
    assert "unknown experiment 'no_such_module'" in capsys.readouterr().err


def test_a_module_no_worker_can_import_runs_with_one_job_here_and_is_refused_with_two(serial, monkeypatch):
    """A module defined in __main__ or a notebook (here: made by hand) cannot travel to a worker by name."""
    notebook = _module(PARAMS=example.PARAMS, run=example.run, TITLE=example.TITLE)
    assert E.sweep(notebook, GRID, seeds=[0, 1]).tables == serial.tables
    monkeypatch.setattr(sweeps, "_tables", lambda *a: pytest.fail("ran before refusing"))
    for where in (dict(jobs=2), dict(scheduler="tcp://127.0.0.1:1")):
        with pytest.raises(esx.ConfigError, match=r"^sweep: (jobs = 2|scheduler = 'tcp://127.0.0.1:1') runs "
                                                  r"experiment module 'handmade' in other processes, which import it "
                                                  r"by its name, and none can .*; allowed: jobs=1"):
            E.sweep(notebook, GRID, seeds=[0, 1], **where)


def test_reproduce_runs_only_the_packages_experiments(capsys):
    assert main(["reproduce", "--figure", "own_experiment_example"]) == 2
    assert "reproduce compares with the paper, so it runs only the package's experiments" in capsys.readouterr().err


def test_a_parameter_named_like_a_column_of_the_table_is_refused():
    module = _module(PARAMS={"value": Param(1, "a value", 0, 2)}, run=lambda seed=0, **p: None)
    with pytest.raises(esx.ConfigError, match="^sweep: handmade.value has the name of a column of the sweep's table"):
        E.sweep(module, {"value": [1]})


TINY = """from esxlab.experiments import remap_io
from esxlab.experiments.params import Param

PARAMS = {"minutes": Param(1, "run length", 1, 3, integer=True, unit="min")}


def run(seed=0, minutes=1):
    return remap_io.run(seed=seed, minutes=minutes, packets_per_s=PACKETS)
"""


def test_workers_started_before_the_module_existed_import_it_and_its_edits(tmp_path, monkeypatch):
    """loky keeps its workers between sweeps: they started before the module's directory joined sys.path,
    and they imported the module before it was edited; they run the file as it is when the sweep starts."""
    E.sweep("remap_io", {"minutes": [1]}, seeds=[0, 1], jobs=2)          # the workers are up
    (tmp_path / "tinyexp_a1.py").write_text(TINY + "\nPACKETS = 1000\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tinyexp_a1", raising=False)
    first = E.sweep("tinyexp_a1", {"minutes": [1, 2]}, seeds=[0, 1], jobs=2)
    assert first == E.sweep("tinyexp_a1", {"minutes": [1, 2]}, seeds=[0, 1], jobs=1)
    (tmp_path / "tinyexp_a1.py").write_text(TINY + "\nPACKETS = 30000\n")   # another size: no stale bytecode
    edited = E.sweep("tinyexp_a1", {"minutes": [1, 2]}, seeds=[0, 1], jobs=2)
    assert edited != first, "the workers ran the edited file"
    assert edited == E.sweep("tinyexp_a1", {"minutes": [1, 2]}, seeds=[0, 1], jobs=1)
    assert edited.tables[0] == tuple(E.remap_io.run(seed=0, minutes=1, packets_per_s=30000).table)


def test_a_module_edited_while_its_sweep_runs_stops_the_sweep():
    own = runner.Own.of(example)
    assert own is not None and own.name == "own_experiment_example" and Path(own.root) == Path(__file__).parent
    assert runner.load(own) is example
    with pytest.raises(esx.ConfigError, match=r"^sweep: own_experiment_example \(.*\) changed since the sweep "
                                              r"started \(sha256 [0-9a-f]{16} now, 0{16} then\)"):
        runner.load(runner.Own(own.name, own.root, "0" * 16))


def test_a_dask_cluster_imports_an_own_module_by_name_and_checks_it_is_the_same_file(serial):
    from distributed import LocalCluster          # the "cluster" extra; the "test" extra installs it
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        table = E.sweep(example, GRID, seeds=[0, 1], scheduler=cluster.scheduler_address)
        other = runner.Own("own_experiment_example", runner.Own.of(example).root, "0" * 16)
        with pytest.raises(esx.ConfigError, match=r"worker\(s\) .* do not run this own_experiment_example \(sha256 "
                                                  r"[0-9a-f]{16}; here sha256 0{16}\); allowed: workers that import "
                                                  "the same file by that name"):
            runner.execute(print, [(1,)], scheduler=cluster.scheduler_address, label="sweep", own=[other])
    assert table == serial


def _same_stat_edit(path: Path, old: str, new: str) -> None:
    """Edit ``path``, keeping its size and modification time (as a quick edit in the same second does):
    only its content tells the two versions apart, not Python's bytecode check (size and second)."""
    assert len(old) == len(new)
    stat = path.stat()
    path.write_text(path.read_text().replace(old, new))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_a_module_imported_then_edited_before_its_first_sweep_runs_the_edited_file_with_any_jobs(tmp_path, monkeypatch):
    """Imported in a notebook cell, then edited, ``jobs=1`` ran the old
    code in this process while ``jobs=2``'s workers ran the new file; every sweep now runs the file on disk."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)        # as a user's Python does: a .pyc is written
    (tmp_path / "tinyexp_b1.py").write_text(TINY + "\nPACKETS = 1000\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "tinyexp_b1", raising=False)
    import tinyexp_b1                                              # the notebook's earlier cell
    _same_stat_edit(tmp_path / "tinyexp_b1.py", "PACKETS = 1000", "PACKETS = 3000")
    one = E.sweep(tinyexp_b1, {"minutes": [1]}, seeds=[0, 1], jobs=1)
    assert one.tables[0] == tuple(E.remap_io.run(seed=0, minutes=1, packets_per_s=3000).table), "the edited file"
    assert E.sweep(tinyexp_b1, {"minutes": [1]}, seeds=[0, 1], jobs=2) == one
    assert E.sweep("tinyexp_b1", {"minutes": [1]}, seeds=[0, 1], jobs=1) == one
    assert tinyexp_b1.PACKETS == 3000, "the sweep imported the module again, in place"


BAD_RUN = """from esxlab.experiments.params import Param

PARAMS = {"x": Param(1, "x", 0, 3, integer=True)}


def run(seed=0, **params):
    return 42
"""


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_run_that_returns_no_result_is_one_sentence_with_any_jobs(jobs, tmp_path, monkeypatch):
    """run() returning 42 gave ``AttributeError: 'int' object has no attribute 'table'``, from a worker too."""
    (tmp_path / f"badret_j{jobs}.py").write_text(BAD_RUN)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(esx.ConfigError, match=rf"^sweep: badret_j{jobs}\.run\(\) returned 42 \(int\), not an "
                                              r"esxlab\.experiments\.Result; allowed: a Result .*fig7\.py's run"):
        E.sweep(f"badret_j{jobs}", {"x": [1]}, seeds=[0, 1], jobs=jobs)


def test_workers_started_after_clear_cache_are_a_warning(monkeypatch):
    """After clear_cache() (the model patched here), workers that import esxlab afresh ran
    the unpatched code without a word; a one-task sweep, or jobs=1, runs here and needs no warning."""
    from esxlab.experiments import common
    monkeypatch.setattr(common, "cleared", False, raising=False)
    grid = {"minutes": [1]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        E.sweep("remap_io", grid, seeds=[0, 1], jobs=2)                # no clear_cache yet
        E.clear_cache()
        E.sweep("remap_io", grid, seeds=[0, 1], jobs=1)
        E.sweep("remap_io", grid, seeds=[0], jobs=2)                   # one task: it runs in this process
    with pytest.warns(UserWarning, match=r"^sweep: 2 worker processes import esxlab afresh and do not see changes "
                                         r"made to it in this process .*; run with jobs=1 to use them\.$") as caught:
        E.sweep("remap_io", grid, seeds=[0, 1], jobs=2)
    assert len(caught) == 1 and caught[0].filename == __file__, "one line, naming the caller's line"


def test_a_module_without_parameters_says_so(capsys):
    """An empty PARAMS gave "its parameters are: ." and an empty table under --list."""
    empty = _module("noparams", PARAMS={}, run=lambda seed=0: E.remap_io.run(seed=seed, minutes=1))
    with pytest.raises(esx.ConfigError, match=r"^sweep: noparams has no parameter 'x'; it has none \(its PARAMS is "
                                              r"empty\), so it sweeps over seeds alone\.$"):
        E.sweep(empty, {"x": [1]})
    assert sweeps.describe_params(empty).splitlines()[2] == ("Parameters: none (its PARAMS is empty); sweep it over "
                                                             "seeds alone, e.g. --seeds 0-3.")


STUDY = '''
from esxlab.experiments import Result
from esxlab.experiments.params import Param, resolve

PARAMS = {"x": Param(1, "a knob", 0, 10, step=1, unit="")}


def run(seed=0, **params):
    p = resolve("study", PARAMS, params)
    if p.x == 2 and seed == 1:
        raise ValueError(f"the model blew up at x={p.x} seed {seed}")
    res = Result("study", dict(vars(p), seed=seed))
    res.add("x squared", None, p.x ** 2, 0, "")
    if seed == 1 and p.x == 3:
        res.add("only in seed 1", None, 1, 0, "")
    return res
'''
AFTER = "dbench VM alloc after the change"
FIG7_SMALL = dict(vm_mb=128, available_mb=179, clients=20, minutes=16, tax_change_min=12, dbench_start_min=1)


@pytest.fixture
def study(tmp_path, monkeypatch):
    """A module of the researcher's own, ``study``, importable from ``tmp_path`` (the current directory)."""
    (tmp_path / "study.py").write_text(STUDY)
    (tmp_path / "broken.py").write_text("PARAMS = {}\ndef run(seed=0)\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for name in ("study", "broken"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return tmp_path


@pytest.fixture
def no_kept_runs():
    """Start and end with empty caches: a patched run must not be left for other tests."""
    for cache in (common._prefixes, common._kept):
        cache.clear()
    yield
    for cache in (common._prefixes, common._kept):
        cache.clear()


def test_a_run_that_raises_is_named_in_one_sentence_and_the_finished_seeds_are_kept(study):
    with pytest.raises(SweepFailed) as failed:
        sweep("study", {"x": [1, 2]}, seeds=range(3))
    assert str(failed.value) == ("sweep: study.run(seed=1, x=2) raised ValueError at study.py line 11: the model "
                                 "blew up at x=2 seed 1; run that call alone for its traceback")
    assert failed.value.table.seeds == (0,) and len(failed.value.table.tables) == 2
    assert isinstance(failed.value.__cause__.__cause__, ValueError), "the traceback is kept in this process"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_command_line_writes_the_finished_seeds_then_names_the_run(study, capsys, jobs):
    assert main(["sweep", "study", "--param", "x=1,2", "--seeds", "0-2", "--jobs", jobs, "--csv", "out.csv"]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in err and err.splitlines()[-1].startswith("error: sweep: study.run(seed=1, x=2) raised "
                                                                        "ValueError at study.py line 11")
    if jobs == "1":                    # in parallel, seed 1 may fail before seed 0 has finished
        assert "2 runs of study (2 grid points × 1 seed; a run failed: 6 runs asked for)" in out
        assert len((study / "out.csv").read_text().splitlines()) == 3      # a header, seed 0 at x = 1 and x = 2


def test_seeds_with_different_rows_name_the_row_and_the_seed_after_the_csv_is_written(study, capsys):
    assert main(["sweep", "study", "--param", "x=1,3", "--seeds", "0-1", "--csv", "out.csv"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == ("error: summarize: the seeds' tables list different quantities (study x=3, seed 1 "
                                    "has 'only in seed 1', which study x=3, seed 0 has not); every seed must run the "
                                    "same experiments with the same parameters, and add the same rows.")
    assert len((study / "out.csv").read_text().splitlines()) == 6, "every run's rows are written first"


def test_a_module_that_does_not_compile_is_one_sentence(study, capsys):
    assert main(["sweep", "broken", "--param", "x=1"]) == 2
    assert capsys.readouterr().err == ("error: sweep: experiment module 'broken' does not compile: broken.py line 2: "
                                       "SyntaxError: expected ':'; fix it and run again.\n")
    with pytest.raises(ConfigError, match="does not compile"):
        sweep("broken", {})


@pytest.mark.parametrize("code, error", [
    ("import nonexistent_pkg_xyz\n", "brokenimp.py line 1: ModuleNotFoundError: No module named 'nonexistent_pkg_xyz'; "
                                      "install the missing module, or fix the import, and run again."),
    ("PARAMS = {}\n\nraise KeyError('sizes')\n", "brokenimp.py line 3: KeyError: 'sizes'; fix it and run again.")],
    ids=["a missing import", "an error raised"])
def test_a_module_that_raises_on_import_is_one_sentence_not_an_unknown_experiment(study, capsys, code, error):
    """`sweep brokenimp --list` printed ~30 lines of traceback through esxlab's own files and exited 1."""
    (study / "brokenimp.py").write_text(code)
    assert main(["sweep", "brokenimp", "--list"]) == 2
    assert capsys.readouterr().err == f"error: sweep: experiment module 'brokenimp' raised on import: {error}\n"
    with pytest.raises(ConfigError, match="^experiment module 'brokenimp' raised on import: ") as err:
        sweep("brokenimp", {})
    assert type(err.value.__cause__).__name__ in error, "the error itself, with its traceback, is kept"
    assert main(["sweep", "no_module_of_that_name", "--list"]) == 2
    assert "unknown experiment 'no_module_of_that_name' (no module 'no_module_of_that_name' can be imported from " \
        "here: work in the directory that holds no_module_of_that_name.py, or install it)" in capsys.readouterr().err


def test_clear_cache_lets_a_patched_workload_change_the_next_run(monkeypatch, no_kept_runs):
    """Dbench's default, patched, gave the cached 247.05 MB again; a fresh process said 70.6."""
    monkeypatch.setattr(common, "cleared", False)          # (clear_cache's mark, undone for the tests after)
    before = E.fig7.run(seed=0, **FIG7_SMALL).value(AFTER)
    init = W.Dbench.__init__
    monkeypatch.setattr(W.Dbench, "__init__", lambda self, *a, mb_per_client=None, **k:    # 1 MB, whatever asked
                        init(self, *a, mb_per_client=1, **k))
    assert E.fig7.run(seed=0, **FIG7_SMALL).value(AFTER) == before, "kept: same key, same (stale) run"
    E.clear_cache()
    assert E.fig7.run(seed=0, **FIG7_SMALL).value(AFTER) < before - 20, "a 20 MB file set instead of 120 MB"


def test_clear_cache_is_public_and_documented():
    assert "clear_cache" in E.__all__ and "clear_cache" in E.__doc__
    for name in ("kept", "fork", "fork_run"):
        assert "clear_cache" in getattr(common, name).__doc__, name


def test_a_module_of_your_own_named_like_a_package_experiment_runs_its_own_code(tmp_path, monkeypatch):
    """A fig7.py of your own, given as the module, ran the package's Figure 7."""
    import sys

    from esxlab import experiments as E
    (tmp_path / "fig7.py").write_text(
        "from esxlab.experiments import remap_io\nfrom esxlab.experiments.params import Param\n\n"
        'PARAMS = {"minutes": Param(1, "run length", 1, 3, integer=True, unit="min")}\n\n\n'
        "def run(seed=0, minutes=1):\n    return remap_io.run(seed=seed, minutes=minutes)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fig7", raising=False)
    import importlib
    mine = importlib.import_module("fig7")
    table = sweep(mine, {"minutes": [1]})
    assert table.experiment == "fig7"
    assert table.tables[0] == tuple(E.remap_io.run(seed=0, minutes=1).table)


def test_a_script_run_as_main_is_named_by_its_file():
    import types

    from esxlab.experiments import lookup
    from esxlab.experiments.params import Param
    module = types.ModuleType("__main__")
    module.__file__ = "/somewhere/myexp.py"
    module.PARAMS, module.run = {"x": Param(1, "x", 0, 2)}, lambda seed=0, x=1: None
    assert lookup(module) == "myexp"


@pytest.mark.parametrize("name, why", [
    ("taxsamp.py", "a file name: give its import name, 'taxsamp')"),
    ("study/taxsamp.py", "a file name: give its import name, 'taxsamp', from study/)"),
    ("mystudy.taxsmp", "no module 'mystudy.taxsmp' can be imported from here: work in the directory that holds "
                       "mystudy/taxsmp.py, or install it)"),
    ("taxsmp", "did you mean 'tax_sweep'? If it is a module of your own, no module 'taxsmp' can be imported from "
               "here: work in the directory that holds taxsmp.py, or install it)"),
    ("fig 7", "did you mean 'fig7'?)"),
    ("esxlab.experiments.fig77", "did you mean 'fig7'?)")])
def test_an_unknown_own_experiment_says_why(name, why):
    """It read '(no module of that import name on sys.path)', with no did-you-mean for a misspelled name."""
    import esxlab as esx
    with pytest.raises(esx.ConfigError, match=f"^unknown experiment '{name}' \\({re.escape(why)}; choose "):
        sweep(name)


def test_a_file_of_a_package_is_named_by_its_dotted_import_name(tmp_path, monkeypatch):
    """`sweep pkg/exp.py`, pkg a package, was told to give 'exp' from pkg/ (a helper's trial): 'pkg.exp' works from
    here."""
    import esxlab as esx
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    with pytest.raises(esx.ConfigError, match=re.escape("(a file name: give its import name, 'exp', from pkg/)")):
        sweep("pkg/exp.py")
    (tmp_path / "pkg" / "__init__.py").write_text("")
    with pytest.raises(esx.ConfigError, match=re.escape("(a file name: give its import name, 'pkg.exp'); choose ")):
        sweep("pkg/exp.py")
    monkeypatch.chdir(tmp_path / "pkg")                     # (a review: from elsewhere, it was told 'exp')
    with pytest.raises(esx.ConfigError, match=re.escape(f"(a file name: give its import name, 'pkg.exp', from "
                                                        f"{tmp_path}/)")):
        sweep(str(tmp_path / "pkg" / "exp.py"))


def test_reproduce_suggests_the_experiment_meant(capsys):
    """`reproduce fig7` said only 'unrecognized arguments: fig7.'; a misspelled --figure had no did-you-mean."""
    assert main(["reproduce", "fig7"]) == 2
    assert capsys.readouterr().err == ("error: reproduce: unrecognized arguments: fig7; experiments are chosen with "
                                       "--figure, e.g. reproduce --figure 7 --figure tax_sweep.\n")
    assert main(["reproduce", "--figure", "fig77"]) == 2
    assert "unknown experiment 'fig77' (did you mean 'fig7'?); choose a figure number" in capsys.readouterr().err
    assert main(["reproduce", "--figure", "ksm"]) == 2
    assert "unknown experiment 'ksm' (did you mean 'ksm_vs_esx'?)" in capsys.readouterr().err
    assert main(["reproduce", "--figure", "7,zz"]) == 2, "a list is split: 7, then zz"
    assert "unknown experiment 'zz'" in capsys.readouterr().err
    assert main(["sweep", "fig7", "--param", "tax_rate=0.5", "tax_before=0"]) == 2
    assert capsys.readouterr().err.endswith("unrecognized arguments: tax_before=0; give each parameter its own "
                                            "--param, e.g. --param tax_before=0.\n")
    assert main(["reproduce", "--sed", "3"]) == 2
    assert capsys.readouterr().err == "error: reproduce: unrecognized arguments: --sed 3 (did you mean '--seed'?).\n"
    assert main(["sweep", "fig7", "--parm=tax_rate=0"]) == 2
    assert capsys.readouterr().err.endswith("unrecognized arguments: --parm=tax_rate=0 (did you mean '--param'?).\n")


def test_the_readmes_own_workload_and_policy_run_and_give_the_swap_ins_it_states():
    """README, "Your own workload and replacement policy": the block runs as written, its policy's swap-ins and
    random's (the same block without ``replacement=``) are the numbers its last comment states, and the highest PPNs
    first pay what the text says (the example reads no signal, so as not to hand out the capstone's answer)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Your own workload and replacement policy"):]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    stated = re.search(r"# ([\d,]+) \(seed 0\); without replacement= \(random, §3\.3\): ([\d,]+)", block)
    ours, theirs = (int(x.replace(",", "")) for x in stated.groups())

    def swap_ins(code: str) -> int:
        ns: dict = {}
        exec(compile(code, "README.md", "exec"), ns)
        return ns["host"].vm("a").totals.swap_ins

    assert swap_ins(block) == ours
    assert swap_ins(block.replace(", replacement=Lowest()", "")) == theirs
    paid = re.search(r"first \(`private\[::-1\]\[:n\]`\)\s+pay ([\d,]+) swap-ins", section).group(1)
    highest = int(paid.replace(",", ""))
    assert swap_ins(block.replace("return private[:n]", "return private[::-1][:n]")) == highest > theirs > ours


def test_the_readmes_sampling_period_example_reads_what_its_sweep_gives(tmp_path, monkeypatch):
    """The README's prose under its myexp.py sweep gives numbers from the sweep: it said the idle VM holds 77 MB at
    10 s (seeds 0–3) and 42 MB of it shared on seed 0, where the sweep gives 79.2 and 39.6 MB since Dbench draws
    float32 (b256143)."""
    (tmp_path / "myexp.py").write_text(_readme_example())
    monkeypatch.syspath_prepend(str(tmp_path))
    import myexp
    table = E.sweep(myexp, {"sample_period_s": [10, 30, 120]}, seeds=range(4))
    mean = {(r.experiment.split("=")[1], r.quantity.split()[0]): r.esxlab for r in table.summary()}
    runs = {s: myexp.run(0, sample_period_s=s).traces["run"] for s in (10, 30)}
    prose = " ".join((ROOT / "README.md").read_text().split())
    assert (f"the two VMs hold about {round(mean['120', 'idle'] / 5) * 5:.0f} MB each" in prose
            and abs(mean["120", "idle"] - mean["120", "dbench"]) < 2)
    # as the sweep's table prints them (3 significant figures)
    assert (f"({mean['10', 'dbench']:.3g} and {mean['30', 'dbench']:.3g} MB, the idle VM {mean['10', 'idle']:.3g} and "
            f"{mean['30', 'idle']:.3g} MB; seeds 0–3)") in prose
    shared = [runs[s].mean("idle", "shared", 4) for s in (10, 30)]
    active = [runs[s].mean("dbench", "true_active", 4) for s in (10, 30)]
    assert f"({shared[0]:.1f} against {shared[1]:.1f} MB on seed 0)" in prose, shared
    assert f"(dbench {active[0]:.0f} MB at 10 s, {active[1]:.0f} MB at 30 s)" in prose, active
