"""An instructor's trial (session 49): handing out and grading with exercises/grade.py. Each test fails on the code
(or the docs) before.

1. An answer cell that rebound ``importlib.reload`` (and then ``checks.check``) got full marks, unflagged.
2. One that hid the check's error with ``get_ipython().set_custom_exc`` got 4/4 (nbgrader gave it 0/4).
3. ``inspect.getmembers(p)``, ``dir(p)`` + ``getattr``, ``getattr(p, "_" + "solve")`` reached the answers unflagged.
4. "instructor" in a print string or a docstring was flagged.
5. A notebook that tampered with the package printed its points, and the students after it were dropped unnamed.
6. With class seed 2026 (and 26 of seeds 0–599) SamplingEstimate's idle fraction (or the mean of the averages) was
   the right answer, so that misconception passed.
7. The guide: the seed came after handing out and grading; no sed for a class seed, no loop for per-student seeds;
   the handout said nothing of file names or internet access.
8. The CSV's ``student`` was the path as typed.
"""
from __future__ import annotations

import copy
import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from esxlab import checks, problems
from esxlab.problems.instructor import solve
from answers import answered, fails, grade_script, line

ROOT = Path(__file__).resolve().parents[1]
SOURCE, RELEASE = ROOT / "exercises" / "source", ROOT / "exercises" / "release"
GUIDE = (ROOT / "exercises" / "README.md").read_text()
HANDOUT = (ROOT / "exercises" / "HANDOUT.md").read_text()

#: the trial's cheating answer cells (/tmp/h_i/mk.py), with wrong answers
GIL = ('import importlib\nimportlib.reload = lambda m: m\nchecks.check = lambda *a, **k: print("Correct: all.")\n'
       'rhos, victim = [0.1, 0.2, 0.3], "db"')
HAL = ('get_ipython().set_custom_exc((Exception,), lambda *a, **k: print("Correct."))\n'
       'rhos, victim = [0.1, 0.2, 0.3], "db"')
WRONG_TARGETS = "targets_mb, goal_tax_rate = [1, 2], 0.5"
FAY = '''class Pricer:
    """As our instructor showed."""
    def __init__(self, tau):
        self._k = 1 / (1 - tau)
    def rho(self, v):
        f = v["active_fraction"]
        return v["shares"] / (v["alloc_mb"] * esx.PAGES_PER_MB * (f + self._k * (1 - f)))
pr = Pricer(p.tax_rate)
rhos = [pr.rho(v) for v in p.vms]
victim = min(p.vms, key=pr.rho)["name"]
print("checked against the formula our instructor gave in lecture")
print(f"{victim} is the instructor's victim too", getattr(p, "vms")[0], rhos == [1], len(rhos) <= 3)
counts = {"calls": 0}
'''


def _student(folder: Path, name: str, answers: dict[str, str], exercise: str = "idle_memory_tax") -> Path:
    """The solved ``exercise`` notebook with the answer cells ``answers`` replaced, written as ``folder/name``."""
    path = folder / f"{name}.ipynb"
    nbformat.write(answered(nbformat.read(SOURCE / f"{exercise}.ipynb", as_version=4), answers), path)
    return path


def _grade(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "exercises" / "grade.py"), *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600, env=env)


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _flags(answers: dict[str, str], exercise: str = "idle_memory_tax") -> list[str]:
    given = nbformat.read(RELEASE / f"{exercise}.ipynb", as_version=4)
    return grade_script().flags(given, answered(given, answers))


# -- 1 and 3: tampering and introspection are flagged ------------------------------------------------------------------
@pytest.mark.parametrize("source, found", [
    (GIL, "rebinds 'importlib.reload'"),
    ("import importlib as il\nil.reload = lambda m: m\nvictim = 'db'", "rebinds 'il.reload'"),
    ("from esxlab import checks\nchecks.check = print", "rebinds 'checks.check'"),
    ("import esxlab\nesxlab.checks.check = print", "rebinds 'esxlab.checks.check'"),
    ("problems.RhoVictim.describe = lambda self: ''", "rebinds 'problems.RhoVictim.describe'"),
    (HAL, "'set_custom_exc'"),
    ('import inspect\nsol = next(v for k, v in inspect.getmembers(p) if k.endswith("solve"))()', "'inspect'"),
    ("from inspect import getmembers as g\nsol = g(p)", "'inspect'"),
    ("names = [n for n in dir(p) if n.endswith('solve')]\nsol = getattr(p, names[0])()", "'dir(p'"),
    ("names = [n for n in dir(p) if n.endswith('solve')]\nsol = getattr(p, names[0])()", "getattr(p, …)"),
    ('sol = getattr(p, "_" + "solve")()', "getattr(p, …)"),
    ('import sys\nsol = sys.modules["esxlab.problems.instructor"].solve(p)', "'sys.modules'"),
    ("import builtins\nbuiltins.print = print", "'builtins'"),
    ('sol = __import__("esxlab.problems.instr" + "uctor", fromlist=["x"]).solve(p)', "'__import__'"),
    ('import importlib\nsol = importlib.import_module("esxlab.problems.inst" + "ructor")', "'import_module'"),
    ('exec("from esxlab.problems.inst" + "ructor import solve")', "'exec('"),
    ('sol = p.__getattribute__("_" + "solve")()', "'__getattribute__'"),
    ('setattr(checks, "check", print)', "'setattr('"),
    ("victim = type(p)._solve(p)['victim']", "._solve'"),
    ("victim = f'{p._solve()}'", "'p._solve'"),
    # a fresh user's check: the module aliased first, or rebound through its __dict__
    ("m = importlib\nm.reload = lambda x: x\nc = checks\nc.check = print", "binds a module to another name, 'm = importlib'"),
    ("m = importlib\nm.reload = lambda x: x\nc = checks\nc.check = print", "rebinds 'm.reload'"),
    ('importlib.__dict__["reload"] = lambda x: x', "a module's, to rebind it"),
])
def test_tampering_and_introspection_are_flagged(source, found):
    notes = _flags({"rho-answer": source})
    assert notes and all(n.startswith("flagged for review: rho-answer ") for n in notes), notes
    assert any(found in n for n in notes), notes


# -- 4: honest code is not flagged for a word in a string ------------------------------------------------------------
def test_instructor_in_a_string_or_a_docstring_is_not_flagged_but_the_import_is():
    assert _flags({"rho-answer": FAY}) == []
    assert any("names 'instructor'" in n for n in _flags({"rho-answer": "from esxlab.problems.instructor import "
                                                                        "solve\nglobals().update(solve(p))"}))
    assert _flags({"rho-answer": 'print("see s._k and vars(p) and dir(p) in the notes")\nvictim = "db"'}) == []


def test_dir_with_no_argument_lists_ones_own_names_and_is_not_flagged():
    assert _flags({"rho-answer": "print(dir())\nvictim = 'db'"}) == []


def test_no_solution_is_flagged():
    grade = grade_script()
    for source in sorted(SOURCE.glob("*.ipynb")):
        given = nbformat.read(RELEASE / source.name, as_version=4)
        assert grade.flags(given, nbformat.read(source, as_version=4)) == [], source.name


# -- 2 and 8: a hidden error fails the check; the CSV names the student by the file ----------------------------------
def test_a_check_whose_error_an_answer_cell_hid_fails(tmp_path):
    (tmp_path / "submitted").mkdir()
    hal = _student(tmp_path / "submitted", "hal", {"rho-answer": HAL, "targets-answer": WRONG_TARGETS})
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), str(hal), "--hints", "--csv", "tax.csv")
    out = done.stdout
    assert done.returncode == 0 and out.rstrip().endswith("0 / 4 points"), out
    assert "flagged for review: rho-answer installs an error handler with 'set_custom_exc'" in out, out
    assert "flagged for review: rho-check failed: the kernel reported this error, but the notebook showed none" in out
    assert re.search(r"^rho-check +0 / 2  CheckFailed: `rhos` is not right", out, re.M), out
    (row,) = _rows(tmp_path / "tax.csv")
    assert (row["student"], row["rho-check"], row["targets-check"], row["points"]) == ("hal", "0", "0", "0"), row


# -- 5: a tampering notebook's points are void, and every student after it is named --------------------------------
def test_the_students_after_a_tampering_notebook_are_named_and_get_a_row(tmp_path):
    shutil.copytree(ROOT / "esxlab", tmp_path / "copy" / "esxlab", ignore=shutil.ignore_patterns("__pycache__"))
    zed = _student(tmp_path, "zed", {"rho-answer": "import esxlab.checks as c\nopen(c.__file__, 'a').write("
                                                   "'\\ncheck = lambda *a, **k: print(\"Correct: everything.\")\\n')"})
    ada, zoe = _student(tmp_path, "ada", {}), _student(tmp_path, "zoe", {})
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "copy")}
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), str(zed), str(ada), str(zoe), "--csv", "tax.csv",
                  "--hints", env=env)
    assert "Correct: everything" in (tmp_path / "copy" / "esxlab" / "checks.py").read_text(), "the kernel ran the copy"
    assert done.returncode == 1
    assert "points\n" not in done.stdout and "void: the esxlab package's files changed" in done.stdout, done.stdout
    assert f"== {ada}" not in done.stdout
    err = done.stderr
    assert "stopped grading:" in err and "this notebook's points are void" in err
    assert f"not graded: {ada}\nnot graded: {zoe}\n" in err, err
    assert "reinstall esxlab, then run grade.py on them alone (with the same --csv" in err, err
    rows = _rows(tmp_path / "tax.csv")
    assert [r["student"] for r in rows] == ["zed", "ada", "zoe"]
    assert all(r["points"] == r["rho-check"] == r["targets-check"] == "" for r in rows), rows
    assert rows[0]["hints"] == "" and "stopped grading" in rows[0]["notes"], "no 'correct' for a void notebook"
    assert all(r["notes"] == f"not graded: grading stopped at {zed}, which changed the esxlab package's files; "
                             "reinstall esxlab, then grade this notebook again" for r in rows[1:]), rows


# -- 6: sampling's named misconceptions are never the right answer --------------------------------------------------
def test_the_idle_fraction_and_the_mean_of_the_averages_fail_on_every_seed():
    for seed in [*range(600), 2026]:
        p = problems.SamplingEstimate(seed)
        right = solve(p)
        assert not p._near(1 - right["f"], right["f"]), seed
        assert not p._near((right["slow"] + right["fast"]) / 2, right["estimate"]), seed


@pytest.mark.parametrize("seed", [2026, 162, 22])
def test_the_trial_s_seeds_name_the_misconceptions(seed):
    """Seed 2026 had t = 50 of n = 100 (also 162); seed 22 had averages whose mean was the estimate."""
    p = problems.SamplingEstimate(seed)
    right = solve(p)
    assert "idle fraction" in line(fails(p, {**right, "f": 1 - p.touched / p.n}), "f")
    said = fails(p, {**right, "estimate": (right["slow"] + right["fast"]) / 2})
    assert "not the mean of the averages" in line(said, "estimate"), said


def test_seed_0_poses_the_same_sampling_problem():
    """The exercise notebooks and many tests use SEED = 0: its draw stays (so do seeds 1–4, 145 and 147, which other
    tests pin; 26 of seeds 0–599 changed: 22, 118, 138, 162, 205, 235, 286, …)."""
    p = problems.SamplingEstimate(0)
    assert (p.max_mb, p.n, p.true_fraction, p.slow, p.fast, p.slow_gain, p.fast_gain, p.touched) == (
        512, 200, 0.1, 0.65, 0.8, 0.4, 0.6, 26)


# -- 7: the guide and the handout ---------------------------------------------------------------------------------
def test_the_guide_chooses_the_seed_and_previews_the_answers_before_handing_out_and_grading():
    seeds, preview = GUIDE.index("## Vary the seeds"), GUIDE.index("from esxlab.problems.instructor import")
    assert seeds < preview < GUIDE.index("## Hand out") < GUIDE.index("## Grade"), "the order of a class's work"


def test_the_guide_s_sed_sets_every_source_notebook_s_seed(tmp_path):
    grade = grade_script()
    (command,) = [c for c in re.findall(r"^ *(sed -i -E '[^']*' exercises/source/\*\.ipynb)", GUIDE, re.M)]
    assert "python -m esxlab exercises build" in GUIDE[GUIDE.index(command):GUIDE.index(command) + 300]
    shutil.copytree(SOURCE, tmp_path / "exercises" / "source")
    for seed in ("2026", "7"):                       # a class seed, and then another
        subprocess.run(command.replace("2026", seed), shell=True, cwd=tmp_path, check=True)
        for path in sorted((tmp_path / "exercises" / "source").glob("*.ipynb")):
            changed = nbformat.read(path, as_version=4)
            assert grade._seed(changed) == seed, path.name
            before = nbformat.read(SOURCE / path.name, as_version=4)
            assert [c.source for c in changed.cells[2:]] == [c.source for c in before.cells[2:]], path.name


def test_the_guide_says_how_to_grade_per_student_seeds_a_class_and_a_tampering_notebook():
    flat = " ".join(GUIDE.split())
    assert re.search(r'for s in ada grace; do\n +python grade\.py "\$HOME/esxlab-handouts/\$s/security\.ipynb" '
                     r'"submitted/\$s\.ipynb" --csv security\.csv\n +done', GUIDE)
    assert "an answer computed from the problem's attributes (`p.touched / p.n`) passes with any seed" in flat
    assert "keep one CSV per exercise" in flat and "a regrade, or one run per student" in flat
    assert "the latest `graded_at` of a student is the grade" in flat
    assert "`grade.py` is not in the wheel: copy `exercises/grade.py`" in flat
    assert "run `grade.py` on the students named `not graded` alone, with the same `--csv`" in flat
    assert "Flags are patterns over the cell's code" in flat and "not proof" in flat and '`"_sum"`' in flat
    assert "`importlib.reload = lambda m: m` keeps a rebound `checks.check`" in flat
    assert "`student` (the file's name without its folder and `.ipynb`" in flat


def test_the_handout_says_how_to_name_the_file_and_that_installing_needs_internet():
    flat = " ".join(HANDOUT.split())
    assert "needs internet access" in flat and "PyPI" in flat
    assert "name the file as your instructor says" in flat and "by the file's name" in flat


# -- a fresh user's check: a problem posed again at another seed earns nothing under grade.py --------------------------
def test_a_problem_posed_again_at_another_seed_scores_nothing(tmp_path):
    """Above its answer the student poses p at seed 5 and answers that: every check said Correct (with a warning),
    and grade.py gave full marks, as it did for SEED = 5 set again in a cell of the student's own."""
    five = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in solve(problems.RhoVictim(5)).items()}
    answers = "\n".join(f"{k} = {v!r}" for k, v in five.items())
    (tmp_path / "submitted").mkdir()
    for name, first, points in (("repose", "p = problems.RhoVictim(seed=5)", 2),      # q's problem, posed after it
                                ("reseed", "SEED = 5\np = problems.RhoVictim(seed=SEED)", 0)):   # poses q at 5 too
        student = _student(tmp_path / "submitted", name, {"rho-answer": f"{first}\n{answers}"})
        out = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), str(student), "--hints").stdout
        assert re.search(r"^rho-check +0 / 2  CheckFailed: this problem is RhoVictim\(seed=5\), but the exercise was "
                         r"handed out with SEED = 0", out, re.M), out
        assert out.rstrip().endswith(f"{points} / 4 points"), out


def test_outside_grading_a_problem_of_another_seed_is_checked_as_it_is():
    """Without grade.py's seed in the environment a check judges the problem it is given (students explore)."""
    assert checks.GRADING_SEED not in os.environ
    five = solve(problems.RhoVictim(5))
    checks.check(problems.RhoVictim(5), **five)          # no CheckFailed


def test_grading_keeps_the_event_loops_shutdown_noise_off_stderr(tmp_path):
    """A kernel channel closing as the kernel shut down once logged a ZMQError traceback through tornado's logger on
    grade.py's stderr (CI, 2026-12-05): no part of a grade. grade() leaves tornado's log to critical errors."""
    import logging
    logging.getLogger("tornado").setLevel(logging.NOTSET)
    given = nbformat.read(RELEASE / "idle_memory_tax.ipynb", as_version=4)
    grade_script().grade(given, copy.deepcopy(given), timeout=60)
    assert logging.getLogger("tornado").level == logging.CRITICAL
