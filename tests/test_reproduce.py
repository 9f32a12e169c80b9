"""``python -m esxlab reproduce`` over several seeds (joblib), the generated README table and
the paper-vs-esxlab plots."""
from __future__ import annotations

import csv
import itertools
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import esxlab as esx
from esxlab import experiments as E
from esxlab.__main__ import main as esxlab_main
from esxlab.errors import ConfigError
from esxlab.experiments import paper, plots, runner
from esxlab.experiments.cli import main
from esxlab.experiments.result import FITTED_LEGEND, Result, Row, render_table, summarize

pytestmark = pytest.mark.usefixtures("own_cache")       # runs cached to a throw-away folder

ROOT = Path(__file__).resolve().parents[1]
FAST = ["fig6", "remap_io"]          # the two quickest experiments at their defaults


@pytest.mark.parametrize("text, seeds", [("0-3", [0, 1, 2, 3]), ("0,2,5", [0, 2, 5]), ("7", [7]),
                                         ("1-2,5", [1, 2, 5])])
def test_parse_seeds(text, seeds):
    assert runner.parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["3-1", "a", "-1", "1,1", "", "0-2,2"])
def test_parse_seeds_refuses_with_a_sentence(text):
    with pytest.raises(esx.ConfigError, match="--seeds"):
        runner.parse_seeds(text)


def test_summarize_mean_sd_and_spread():
    tables = [[Row("x", "q", 10, v, 2, "MB"), Row("x", "beyond", None, v, None)] for v in (11.0, 12.0, 19.0)]
    q, beyond = summarize(tables)
    assert q.esxlab == pytest.approx(14) and q.sd == pytest.approx(np.std([11, 12, 19], ddof=1))
    assert q.values == (11.0, 12.0, 19.0) and q.within is False and q.spread, "sd 4.4 > tolerance 2"
    assert beyond.within is None and not beyond.spread
    text = render_table([q, beyond])
    assert "esxlab mean ± sd" in text and "14 ± 4.36 MB" in text and "NO, spread > tolerance" in text
    with pytest.raises(esx.ConfigError, match="different quantities"):
        summarize([tables[0], tables[1][:1]])


def test_setup_checks_are_listed_apart_and_not_counted():
    rows = [Row("x", "pred", 10, 10, 1), Row("x", "setup", 5, 9, 1, kind="set-up")]
    text = render_table(rows)
    assert text.index("Set-up checks") < text.index("setup") and text.index("pred") < text.index("Set-up")
    assert runner.count_line(rows, [0]) == "1/1 predictions within tolerance on seed 0 (100 %); set-up checks 0/1"
    assert runner.count_line(rows, [0, 1]).endswith("; 0 with spread > tolerance")
    assert runner.count_line(rows, [0]).startswith("1/1 predictions") and "set-up checks 0/1" in \
        runner.count_line(rows, [0])
    assert runner.count_line(rows[:1], [0]) == "1/1 predictions within tolerance on seed 0 (100 %)", \
        "no set-up rows: no '0/0' count"


def test_predictions_an_invented_value_was_fitted_to_are_counted_apart():
    """Of the predictions nothing was fitted to, one of two is within."""
    rows = [Row("fig7", "dbench throughput gain", 30, 31, 0, relation="≥", fitted=True),
            Row("fig7", "dbench active estimate before the change", 174, 161, 15),
            Row("fig7", "sum of allocations after the change", 344, 354, 8)]
    assert runner.count_line(rows, [0]) == ("2/3 predictions within tolerance on seed 0 (67 %: 1/1 of those an "
                                            "invented value was fitted to, 1/2 of the others)")
    assert runner.count_line(rows[:1], [0]) == ("1/1 predictions within tolerance on seed 0 (100 %; an invented value "
                                                "was fitted to each of them)"), "no '0/0 of the others'"


def test_a_result_marks_the_predictions_it_names_fitted():
    res = Result("mine", {}, fitted=("a",))
    assert [res.add(q, 1, 1, 0.5).fitted for q in ("a", "b")] == [True, False]
    assert not res.add("a", 1, 1, 0.5, off_setting="x moved").fitted, "not compared: nothing to mark"
    every = Result("mine", {}, fitted=("*",))
    assert every.add("a", 1, 1, 0.5).fitted and not every.add("b", 1, 1, 0.5, kind="set-up").fitted, \
        "'*': every prediction, never a set-up check"
    with pytest.raises(ConfigError, match="only a prediction is marked fitted"):
        Row("mine", "a", 1, 1, 0.5, kind="set-up", fitted=True)
    with pytest.raises(ConfigError, match="'a' is named in Result.fitted but added as a set-up check"):
        Result("mine", {}, fitted=("a",)).add("a", 1, 1, 0.5, kind="set-up")
    with pytest.raises(ConfigError, match="is a string, write \\('a',\\); allowed: a tuple \\(or list\\) of the"):
        Result("mine", {}, fitted="a")
    late = Result("mine", {})
    late.fitted = "gain"
    with pytest.raises(ConfigError, match="Result.fitted = 'gain' is not allowed"):
        late.add("g", 1, 1, 0.5)
    with pytest.raises(ConfigError, match="Row.fitted = 'no' is not allowed"):
        Row("mine", "a", 1, 1, 0.5, fitted="no")
    assert Result("mine", {}, fitted=["a"]).fitted == ("a",)


def test_tables_mark_the_fitted_predictions(tmp_path):
    res = Result("mine", {}, fitted=("a",))
    res.add("a", 1, 1, 0.5)
    res.add("b", 2, 2, 0.5)
    res.add("c", None, 2, None)
    res.add("d", 2, 2, 0.5, kind="set-up")
    text = res.render()
    lines = text.splitlines()
    head, a, b = lines[0], lines[2], lines[3]
    assert head.split() == ["experiment", "quantity", "paper", "esxlab", "tolerance", "fitted", "within"]
    assert a.split()[-2:] == ["yes", "yes"] and b.split()[-1] == "yes" and len(b.split()) == len(a.split()) - 1
    setup_head = lines[next(i for i, x in enumerate(lines) if x.startswith("Set-up checks")) + 1]
    assert "fitted" not in setup_head.split(), "a set-up check is never fitted: no column to leave empty"
    assert " ".join(FITTED_LEGEND.split()) in " ".join(text.split()), "the legend under the table"
    plain = Result("mine", {})
    plain.add("b", 2, 2, 0.5)
    assert "fitted" not in plain.render(), "no column and no legend where nothing was fitted"
    rows = list(csv.DictReader(open(res.to_csv(tmp_path)[0])))
    assert [r["fitted"] for r in rows] == ["True", "False", "", "False"], "blank where not compared"


def test_a_table_of_set_up_checks_alone_has_no_empty_predictions_table():
    res = Result("mine", {})
    res.add("d", 2, 2, 0.5, kind="set-up")
    assert res.render().startswith("Set-up checks"), res.render()


def test_footnotes_are_numbered_in_the_order_the_table_shows_them():
    res = Result("mine", {})
    res.add("s", 1, 2, 0.5, kind="set-up", note="set-up note")            # added first, shown last
    res.add("p", 1, 3, 0.5, note="prediction note")
    text = res.render()
    assert text.index("NO [1]") < text.index("NO [2]") and "[1] prediction note" in text, text


def test_a_run_with_another_dbench_marks_only_what_that_dbench_was_not_fitted_to():
    """Figure 7 run with Figure 2's dbench: its gain is out of sample; Windows' fit to the idle estimate stays."""
    run = E.fig7.run(mb_per_client=5.2, zipf_alpha=0.9, dbench_start_min=1, tax_change_min=6, minutes=11)
    assert {r.quantity for r in run.table if r.fitted} == {"idle VM active estimate"}
    bars = E.fig2.run(mb_per_client=6, zipf_alpha=0.78, sizes=(128, 224), minutes=3, measure_from_min=2)
    assert {r.quantity for r in bars.table if r.fitted} == {"balloon overhead at 128 MB", "balloon overhead at 224 MB"}


def test_fitted_names_quantities_its_experiment_predicts(fig8_runs):
    runs = {"fig2": E.fig2.run(), "fig7": E.fig7.run(), "fig8": fig8_runs["converge"],
            "tax_sweep": E.tax_sweep.run(dbench_start_min=1, warmup_min=3, minutes=2)}     # (its rows' names only)
    for name, res in runs.items():
        assert {r.quantity for r in res.table if r.fitted} == set(E.get(name).FITTED), name
    assert all(getattr(E.get(n), "FITTED", ()) in ((), ("*",)) for n in E.EXPERIMENTS if n not in runs)


def test_results_do_not_depend_on_jobs():
    one = runner.summary(runner.run_many(FAST, [0, 1], jobs=1))
    two = runner.summary(runner.run_many(FAST, [0, 1], jobs=2))
    assert one == two and any(r.sd for r in one), "same seeds, same numbers, whatever the parallelism"


def test_cli_seeds_csv_has_one_column_per_seed(tmp_path, capsys):
    assert main(["--figure", "6", "--seeds", "0-1", "--jobs", "2", "--csv", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "[2/2] fig6, seed 1" in err and "esxlab mean ± sd" in out and "on the mean over seeds 0–1" in out
    rows = list(csv.DictReader(open(tmp_path / "all_table.csv")))
    assert {"seed_0", "seed_1", "sd", "spread", "kind"} <= set(rows[0])
    r = rows[0]
    assert float(r["esxlab"]) == pytest.approx((float(r["seed_0"]) + float(r["seed_1"])) / 2)
    assert (tmp_path / "seed_0" / "fig6_estimates.csv").exists() and (tmp_path / "seed_1" / "fig6_table.csv").exists()


@pytest.mark.parametrize("argv, match", [(["--seed", "1", "--seeds", "0-3"], "not allowed with argument"),
                                         (["--seeds", "3-1"], "--seeds = '3-1'"),
                                         (["--jobs", "0"], "--jobs = 0"),
                                         (["--readme", "README.md", "--figure", "7"], "drop --figure"),
                                         (["--readme", "nowhere.md"], "generated-table markers")])
def test_cli_new_options_refuse_bad_input_before_running(argv, match, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and "[1/" not in err, "refused before any experiment ran"


def test_readme_block_round_trip(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{runner.BEGIN}\nOLD TABLE\n{runner.END}\n\nafter\n")   # (a table says "threshold")
    rows = runner.summary(runner.run_many(["remap_io"], [0, 1]))
    runner.write_readme(readme, rows, [0, 1])
    text = readme.read_text()
    assert "OLD TABLE" not in text and text.endswith("\n\nafter\n") and "orders of magnitude" in text
    assert "--seeds 0-1 --readme README.md" in text and runner.readme_hash(readme) == runner.source_hash()
    readme.write_text("no markers")
    with pytest.raises(esx.ConfigError, match="markers"):
        runner.write_readme(readme, rows, [0, 1])


def test_a_readme_with_windows_line_ends_keeps_them(tmp_path):
    """A review: write_readme turned a CRLF README into LF throughout (every line of it a change to commit)."""
    readme = tmp_path / "README.md"
    readme.write_bytes(f"# x\r\n\r\n{runner.BEGIN}\r\nOLD TABLE\r\n{runner.END}\r\n\r\nafter\r\n".encode())
    rows = [Row("e", "q", 1.0, 1.0, 0.5, "MB")]
    runner.write_readme(readme, rows, [0])
    data = readme.read_bytes()
    assert data.startswith(b"# x\r\n\r\n") and data.endswith(b"\r\n\r\nafter\r\n") and b"OLD TABLE" not in data
    assert data.count(b"\n") == data.count(b"\r\n"), "no bare LF anywhere"
    assert runner.readme_hash(readme) == runner.source_hash()


def test_source_hash_follows_the_sources(tmp_path):
    copy = tmp_path / "esxlab"
    shutil.copytree(ROOT / "esxlab", copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = runner.source_hash(copy)
    assert before == runner.source_hash(ROOT / "esxlab")
    for teaching in ("views/lesson.py", "problems/base.py", "checks.py"):        # cannot change a result
        (copy / teaching).write_text((copy / teaching).read_text() + "\n# x\n")
    assert runner.source_hash(copy) == before
    (copy / "experiments" / "fig7.py").write_text((copy / "experiments" / "fig7.py").read_text() + "\n# x\n")
    assert runner.source_hash(copy) != before


def test_dashboards_stored_runs_follow_views_and_data(tmp_path):
    """A dashboard's stored run is its views' too (a pickled Run) and shows the paper's digitized series:
    its key counts every source and data file (the paper's series were left out of it)."""
    from esxlab.views import dashboards
    assert dashboards.source_hash() == runner.source_hash(leave_out=())
    copy = tmp_path / "esxlab"
    shutil.copytree(ROOT / "esxlab", copy, ignore=shutil.ignore_patterns("__pycache__"))
    seen = {runner.source_hash(copy, leave_out=())}
    for changed in ("views/dashboards.py", "data/paper_series.json"):
        (copy / changed).write_text((copy / changed).read_text() + "\n")
        seen.add(runner.source_hash(copy, leave_out=()))
    assert len(seen) == 3


def test_paper_series_are_the_digitized_figures():
    s = E.paper_series("fig7")
    assert s["x"]["unit"] == "min" and s["y"]["unit"] == "MB" and 179 in s["series"]["idle_alloc"]["y"]
    assert E.paper_series("fig6")["series"]["estimate"]["y"][8] == 282, "Figure 6 at 16 min"
    assert E.paper_series("fig8")["series"]["sql_alloc"]["y"][0] is None, "SQL Server had not booted"
    s["series"].clear()
    assert E.paper_series("fig7")["series"], "callers get a copy"
    assert "OSDI 2002" in paper.SOURCE, "cited as digitized from the paper"
    with pytest.raises(esx.ConfigError, match="fig5"):
        E.paper_series("fig5")


def test_plots_show_paper_and_esxlab_for_each_figure(tmp_path):
    from matplotlib.image import imread
    results = {("fig2", 0): E.fig2.run(max_mb=128, sizes=(96, 112), clients=20, minutes=4, measure_from_min=2,
                                       dbench_start_s=30),
               ("fig6", 0): E.fig6.run(minutes=12, schedule=[(0, 0), (3, 100), (8, 0)]),
               ("fig7", 0): E.fig7.run(vm_mb=128, available_mb=179, clients=20, minutes=10, tax_change_min=5,
                                       dbench_start_min=1),
               ("fig8", 0): E.fig8.run(bench_start_min=8, minutes=18)}
    paths = plots.write_plots(results, tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{f}.{x}" for f in ("fig2", "fig6", "fig7", "fig8")
                                                   for x in ("png", "svg"))
    for name in ("fig2", "fig6", "fig7", "fig8"):
        svg = (tmp_path / f"{name}.svg").read_text()
        for key in E.paper_series(name)["series"]:
            assert f'id="paper-{key}"' in svg and f'id="esxlab-{key}"' in svg, f"{name}: {key} missing"
        assert "(min)" in svg or "(MB)" in svg, "axes carry units"
        png = imread(tmp_path / f"{name}.png")[..., :3]
        grey = np.all(np.abs(png - 0.55) < 0.03, axis=-1).sum()
        blue = np.all(np.abs(png - np.array([0, 0x72, 0xB2]) / 255) < 0.03, axis=-1).sum()
        assert grey > 200 and blue > 100, f"{name}.png must show the paper's (grey) and esxlab's curves"


def test_experiments_that_share_runs_go_in_one_task_at_the_first_ones_place():
    from esxlab.experiments.runner import _together
    assert E.SHARED_RUNS == (("fig7", "tax_sweep"),)
    assert _together(["fig2", "fig7", "fig8", "tax_sweep"]) == [("fig2",), ("fig7", "tax_sweep"), ("fig8",)]
    assert _together(["tax_sweep", "fig6"]) == [("tax_sweep",), ("fig6",)]
    assert _together(list(E.EXPERIMENTS)) == [(n,) for n in E.EXPERIMENTS if n not in ("fig7", "tax_sweep")][:4] \
        + [("fig7", "tax_sweep")] + [(n,) for n in E.EXPERIMENTS[6:]]


def test_run_many_hands_back_each_grouped_run_under_its_own_name(monkeypatch):
    monkeypatch.setattr(runner, "SHARED_RUNS", (("remap_io", "fig6"),))
    got = runner.run_many(["fig6", "remap_io"], [0, 1])
    assert list(got) == [("fig6", 0), ("fig6", 1), ("remap_io", 0), ("remap_io", 1)]
    assert [r.name for r in got.values()] == ["fig6", "fig6", "remap_io", "remap_io"]
    assert got["remap_io", 1].table == E.remap_io.run(seed=1).table


def test_reproduce_starts_the_longest_tasks_first_and_knows_every_experiments_time(monkeypatch):
    assert set(E.RUN_S) == set(E.EXPERIMENTS), "time a new experiment (one seed, alone) and add it to RUN_S"
    submitted = []

    def spy(fn, tasks, **kw):
        submitted.extend(tasks)
        return [fn(*task) for task in tasks]

    monkeypatch.setattr(runner, "execute", spy)
    monkeypatch.setattr(runner, "RUN_S", {"fig6": 1.0, "remap_io": 2.0})
    got = runner.run_many(["fig6", "remap_io"], [0, 1])
    assert submitted == [(("remap_io",), 0), (("remap_io",), 1), (("fig6",), 0), (("fig6",), 1)]
    assert list(got) == [("fig6", 0), ("fig6", 1), ("remap_io", 0), ("remap_io", 1)]     # handed back in name order
    assert got["fig6", 1].table == E.fig6.run(seed=1).table


def _square(x: int) -> int:
    return x * x


def test_execute_hands_each_result_over_as_it_arrives_and_stops_when_told():
    seen = []
    assert runner.execute(_square, [(2,), (3,)], jobs=2, each=lambda task, res: seen.append((task, res))) == [4, 9]
    assert seen == [((2,), 4), ((3,), 9)]

    def stop(task, res):
        raise KeyError("enough")

    with pytest.raises(KeyError, match="enough"):
        runner.execute(_square, [(1,), (2,), (3,)], jobs=1, each=stop)


def test_jobs_above_the_cores_run_as_many_as_there_are_cores(monkeypatch, capsys):
    """--jobs 1000 must not start 1000 processes: it runs as many at a time as the computer has
    cores (the results do not depend on it), and says so."""
    monkeypatch.setattr(runner, "cpu_count", lambda: 2, raising=False)
    assert runner.check_jobs(1000) == 2 and runner.check_jobs(1) == 1
    assert main(["--figure", "remap_io", "--seeds", "0-2", "--jobs", "1000"]) == 0
    out, err = capsys.readouterr()
    assert "note: reproduce: --jobs = 1000 is more than this computer's 2 cores; running 2 at a time." in err
    assert out.rstrip().endswith("s, 2 workers)")


def test_the_runner_starts_no_more_workers_than_tasks(monkeypatch):
    asked = []

    def spy(**kw):
        asked.append(kw.get("n_jobs"))
        return real(**kw)

    real = runner.parallel_config
    monkeypatch.setattr(runner, "parallel_config", spy)
    monkeypatch.setattr(runner, "cpu_count", lambda: 8, raising=False)
    assert runner.execute(_square, [(3,)], jobs=8) == [9]
    assert runner.execute(_square, [(1,), (2,), (3,)], jobs=2) == [1, 4, 9]
    assert asked == [1, 2]


def test_loky_max_cpu_count_keeps_a_dashboards_precompute_in_its_own_process(monkeypatch):
    """The README's advice for a class on one shared server: LOKY_MAX_CPU_COUNT=1 caps the workers that a dashboard's
    precompute asks for (os.cpu_count(), one per neighbouring value) at one, which joblib runs in the calling thread:
    the dashboard's precompute thread, in the kernel's process (no loky process)."""
    monkeypatch.setenv("LOKY_MAX_CPU_COUNT", "1")
    assert runner.workers(os.cpu_count() or 1, 6, "dashboard precompute: jobs") == 1
    monkeypatch.setenv("LOKY_MAX_CPU_COUNT", "2")
    assert runner.workers(64, 6, "dashboard precompute: jobs") == min(2, runner.cpu_count())


@pytest.mark.parametrize("where", ["a file", "/proc/nope"])
def test_plots_dir_is_refused_before_anything_runs(where, tmp_path, capsys):
    target = tmp_path / "afile" if where == "a file" else Path(where)
    if where == "a file":
        target.write_text("")
    assert main(["--figure", "7", "--plots", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: reproduce: --plots {target} ") and "; allowed: a directory" in err
    assert err.rstrip().endswith(".") and "[1/" not in err, "refused before any experiment ran"


def test_plots_say_which_experiments_have_a_paper_figure(tmp_path, capsys):
    assert main(["--figure", "remap_io", "--figure", "7", "--plots", str(tmp_path / "figs")]) == 0
    assert ("note: reproduce: --plots: remap_io has no digitized paper figure; plots exist for fig2, fig6, fig7, "
            "fig8.") in capsys.readouterr().err
    assert {p.name for p in (tmp_path / "figs").iterdir()} == {"fig7.png", "fig7.svg"}
    assert main(["--help"]) == 0
    assert "digitized paper figure: fig2, fig6, fig7, fig8" in " ".join(capsys.readouterr().out.split())


def test_plots_dpi_sets_the_pngs_resolution_for_slides(tmp_path, capsys):
    """``--dpi`` for slides: 120 dpi, 900 pixels wide, was small for a projector."""
    from matplotlib.image import imread
    assert main(["--figure", "7", "--plots", str(tmp_path), "--dpi", "240"]) == 0
    assert imread(tmp_path / "fig7.png").shape[1] == 1800, "7.5 in at 240 dots per inch"
    capsys.readouterr()
    for argv, said in ((["--dpi", "240"], "--dpi 240 sets the resolution of --plots' PNGs; allowed: --dpi with "
                                          "--plots DIR."),
                       (["--dpi", "5", "--plots", str(tmp_path)], "--dpi 5 is out of range; allowed: 50 ≤ --dpi ≤ 600")):
        assert main(["--figure", "7", *argv]) == 2
        err = capsys.readouterr().err
        assert said in err and "[1/" not in err, "refused before any experiment ran"
    with pytest.raises(esx.ConfigError, match="dpi"):
        plots.plot_figure("fig7", E.fig7.run(vm_mb=64, minutes=10, tax_change_min=5, dbench_start_min=1), tmp_path,
                          dpi=0)


def test_an_experiment_without_predictions_says_so_not_0_of_0():
    setup = [Row("fig5", "A: shared", 10, 10, 1, kind="set-up"), Row("fig5", "A: zero", 5, 9, 1, kind="set-up")]
    unscored = [Row("ksm_vs_esx", "esx: pages hashed", None, 7, None)]
    assert runner._describe((("fig5",), 0), [E.Result("fig5", {}, table=setup)]) == \
        "fig5, seed 0: no predictions, set-up checks 1/2"
    assert runner._describe((("ksm_vs_esx",), 3), [E.Result("ksm_vs_esx", {}, table=unscored)]) == \
        "ksm_vs_esx, seed 3: no predictions (its rows have no paper value)"
    assert runner.count_line(setup, [0]) == "no predictions on seed 0; set-up checks 1/2"


def test_the_readme_line_names_the_jobs_it_was_made_with():
    rows = [Row("x", "pred", 10, 10, 1)]
    assert "`python -m esxlab reproduce --seeds 0-3 --jobs 2 --readme README.md`" in \
        runner.readme_block(rows, [0, 1, 2, 3], jobs=2)
    assert "`python -m esxlab reproduce --seeds 0-3 --readme README.md`" in runner.readme_block(rows, [0, 1, 2, 3])


def test_plots_with_nothing_to_plot_and_empty_names_are_refused_before_anything_runs(tmp_path, capsys):
    """Only experiments without a paper figure made an empty folder (exit 0);
    --plots '' and --csv '' were silently ignored."""
    assert main(["--figure", "remap_io", "--plots", str(tmp_path / "figs")]) == 2
    err = capsys.readouterr().err
    assert "remap_io has no digitized paper figure, so there is nothing to plot" in err and "[1/" not in err
    assert not (tmp_path / "figs").exists()
    for option in ("--plots", "--csv"):
        assert main(["--figure", "7", option, ""]) == 2
        assert f"error: reproduce: {option} '' is an empty name" in capsys.readouterr().err


def test_run_many_names_its_keyword_arguments_and_reproduce_its_options(capsys):
    """``runner.run_many``, a Python API, worded its errors as ``reproduce``'s options (``--jobs``)."""
    from esxlab.__main__ import main
    from esxlab.experiments import runner
    with pytest.raises(ConfigError, match=r"^reproduce: jobs = 0 is not allowed"):
        runner.run_many(["remap_io"], [0], jobs=0)
    assert main(["reproduce", "--figure", "remap_io", "--jobs", "0"]) == 2
    assert "reproduce: --jobs = 0 is not allowed" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--seed", "0", "--seeds", "0-2"], ["--seeds", "0-2", "--seed", "0"]])
def test_reproduce_refuses_seed_and_seeds_together_even_at_the_default(argv, capsys):
    assert esxlab_main(["reproduce", "--figure", "7", *argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "--seed" in err and "--seeds" in err


def test_a_seed_that_is_not_a_whole_number_says_what_is_allowed(capsys):
    assert esxlab_main(["reproduce", "--figure", "7", "--seed", "1.5"]) == 2
    err = capsys.readouterr().err
    assert "1.5" in err and "whole number" in err and "Traceback" not in err


def test_cli_one_figure_with_csv(tmp_path, capsys):
    assert main(["--figure", "6", "--seed", "1", "--csv", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "[1/1] fig6" in err and "within tolerance" in err
    assert "estimate at 16 min" in out and "within" in out.splitlines()[0]
    assert (tmp_path / "fig6_table.csv").exists() and (tmp_path / "fig6_estimates.csv").exists()
    assert (tmp_path / "all_table.csv").exists()


def test_plots_tell_esxlab_series_apart_without_colour(tmp_path):
    """Figure 6's four esxlab lines were all solid, told apart by colour alone (blue and pink 12 CIEDE2000 apart under
    protanopia); each now has its own dash pattern, its paper line's (:data:`~esxlab.experiments.plots.LINESTYLES`)."""
    import vision
    res = E.fig6.run(minutes=12, schedule=[(0, 0), (3, 100), (8, 0)])
    svg = (plots.plot_figure("fig6", res, tmp_path)[1]).read_text()
    keys = list(E.paper_series("fig6")["series"])
    dashes = []
    for key in keys:
        group = svg[svg.index(f'id="esxlab-{key}"'):]
        style = re.search(r'style="([^"]*)"', group[:group.index("</g>")]).group(1)
        dashes.append((re.search(r"stroke-dasharray: ([^;]*)", style) or [None, "solid"])[1])
    assert len(set(dashes)) == len(keys) == 4, dashes
    assert min(vision.difference(a, b) for a, b in itertools.combinations(plots.COLOURS, 2)) >= vision.DISTINCT
