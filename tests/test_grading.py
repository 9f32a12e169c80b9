"""Grading (exercises/grade.py, esxlab/problems/instructor.py): grading a class, the CSV, handing out, the instructor's
workflow."""
from __future__ import annotations

import copy
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from esxlab import exercises, problems
from esxlab.errors import ConfigError, install_hint
from esxlab.exercises import graded
from esxlab.problems import base
from esxlab.problems.instructor import expect, solve

from answers import answered, grade_script, solved as _solved

pytest.importorskip("nbclient")                         # the "exercises" extra; the "test" extra installs it


ROOT = Path(__file__).resolve().parents[1]
SOURCE, RELEASE = ROOT / "exercises" / "source", ROOT / "exercises" / "release"
GUIDE = (ROOT / "exercises" / "README.md").read_text()
HANDOUT_TEXT = (ROOT / "exercises" / "HANDOUT.md").read_text()
#: answer cells that try to cheat the checks, with wrong answers
GIL = ('import importlib\nimportlib.reload = lambda m: m\nchecks.check = lambda *a, **k: print("Correct: all.")\n'
       'rhos, victim = [0.1, 0.2, 0.3], "db"')
HAL = ('get_ipython().set_custom_exc((Exception,), lambda *a, **k: print("Correct."))\n'
       'rhos, victim = [0.1, 0.2, 0.3], "db"')
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
WRONG_TARGETS = "targets_mb, goal_tax_rate = [1, 2], 0.5"
#: answer cells that read the answers, each with what its notes must name
LEAKS = [
    ("import operator; d = operator.methodcaller('_' + 'solve')(p); rhos, victim = d['rhos'], d['victim']",
     ["operator.methodcaller(…)", "out of pieces: \"'_' +\""]),
    ("d = getattr(type(p), chr(95) + 'solve')(p); rhos, victim = d['rhos'], d['victim']",
     ["getattr(type(p), …)", "out of pieces: 'chr(95)'"]),
    ("d = vars(type(p))['_' + 'solve'](p); rhos, victim = d['rhos'], d['victim']",
     ["'vars(type(p))'", "out of pieces: \"'_' +\""]),
    ("g = p.check.__func__.__globals__; held = g['_' + 'HIDDEN']",
     ["internals with 'p.check.__func__.__globals__'", "out of pieces: \"'_' +\""]),
]


def _grade(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "exercises" / "grade.py"), *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600, env=env)


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _student(folder: Path, name: str, answers: dict[str, str], exercise: str = "idle_memory_tax") -> Path:
    """The solved ``exercise`` notebook with the answer cells ``answers`` replaced, written as ``folder/name``."""
    path = folder / f"{name}.ipynb"
    nbformat.write(answered(nbformat.read(SOURCE / f"{exercise}.ipynb", as_version=4), answers), path)
    return path


def _block(fence: str, marker: str) -> str:
    """The guide's one fenced ``fence`` block that contains ``marker``, dedented, exactly as written."""
    blocks = [textwrap.dedent(b) for b in re.findall(rf"^ *```{fence}\n(.*?)^ *```$", GUIDE, re.M | re.S)
              if marker in b]
    assert len(blocks) == 1, f"exercises/README.md has {len(blocks)} {fence} blocks with {marker!r}"
    return blocks[0]


def _with_setup(path: Path, new: str):
    """``path``'s notebook with its setup cell's ``SEED = <n>`` (0 as shipped, or an instructor's class seed) made
    ``new``."""
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source, n = re.subn(r"^SEED = \d+", new, nb.cells[1].source, flags=re.M)
    assert n == 1, nb.cells[1].source
    return nb


def _run_seed_recipe(tmp_path, monkeypatch, setup_line: str) -> None:
    """The guide's recipe, as written, on a release whose setup cell has ``setup_line`` for its ``SEED = <n>``."""
    (tmp_path / "exercises" / "release").mkdir(parents=True)
    nb = _with_setup(RELEASE / "security.ipynb", setup_line)
    nbformat.write(nb, tmp_path / "exercises" / "release" / "security.ipynb")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    exec(_block("python", "hashlib"), {})


def _grade_stdout(tmp_path, given: Path, work, *options: str) -> str:
    """exercises/grade.py, as the guide runs it, on notebook ``work`` (a path or a notebook) against ``given``."""
    if not isinstance(work, Path):
        nbformat.write(work, tmp_path / "student.ipynb")
        work = tmp_path / "student.ipynb"
    done = subprocess.run([sys.executable, str(ROOT / "exercises" / "grade.py"), str(given), str(work), *options],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _grade_py(tmp_path, given: Path, work, *options: str) -> subprocess.CompletedProcess:
    nbformat.write(work, tmp_path / "student.ipynb")
    return subprocess.run([sys.executable, str(ROOT / "exercises" / "grade.py"), str(given),
                           str(tmp_path / "student.ipynb"), *options], capture_output=True, text=True, cwd=tmp_path,
                          timeout=600)


def _flags(answers: dict[str, str], exercise: str = "idle_memory_tax") -> list[str]:
    given = nbformat.read(RELEASE / f"{exercise}.ipynb", as_version=4)
    return grade_script().flags(given, answered(given, answers))


def _flags_of(source: str, grade_id: str = "rho-answer", exercise: str = "idle_memory_tax") -> list[str]:
    given = nbformat.read(RELEASE / f"{exercise}.ipynb", as_version=4)
    return grade_script().flags(given, answered(given, {grade_id: source}))


def test_a_class_is_graded_at_once_into_a_csv_with_loops_dead_kernels_and_cheats_noted(tmp_path):
    ada = _student(tmp_path, "ada", {})
    loop = _student(tmp_path, "loop", {"targets-answer": "while True:\n    pass\n"})
    dead = _student(tmp_path, "dead", {"targets-answer": "import os\nos._exit(1)\n"})
    cheat = _student(tmp_path, "cheat", {"rho-answer": "from esxlab.problems.instructor import solve\n"
                                                       "globals().update(solve(p))\n"})
    (tmp_path / "junk.ipynb").write_text("not json")
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), str(ada), str(loop), str(dead), str(cheat),
                  "junk.ipynb", "--csv", "grades.csv", "--timeout", "14.5")   # (a fraction crashed nbclient)
    assert done.returncode == 1, "a file that could not be graded"
    assert done.stderr == ("error: junk.ipynb cannot be read as a notebook (NotJSONError); allowed: an "
                           ".ipynb file of the exercises.\n"), "named on stderr, and nothing of the dying kernel's log"
    out = done.stdout
    assert f"== {loop}\nstopped: the notebook ran over its timeout of 15 s (all its cells " \
           "together), in " \
           "targets-answer; the check cells after it score 0\n2 / 4 points" in out, out
    assert f"== {dead}\nflagged for review: targets-answer reads the private attribute 'os._exit'\n" \
           "stopped: " \
           "targets-answer killed its kernel; the check cells after it score 0\n2 / 4 points" in out, out
    assert f"== {cheat}\nflagged for review: rho-answer names 'instructor' (esxlab.problems.instructor computes the " \
           "answers)\n4 / 4 points" in out, out
    assert f"== {ada}\n4 / 4 points" in out, "a student graded after another gets fresh locked cells"
    with open(tmp_path / "grades.csv", newline="") as f:
        assert next(csv.reader(f)) == ["student", "exercise", "seed", "graded_at", "rho-check", "targets-check",
                                       "points", "possible", "notes", "hints"]
    rows = _rows(tmp_path / "grades.csv")
    assert [(r["student"], r["rho-check"], r["targets-check"], r["points"], r["possible"]) for r in rows] == [
        ("ada", "2", "2", "4", "4"), ("loop", "2", "0", "2", "4"), ("dead", "2", "0", "2", "4"),
        ("cheat", "2", "2", "4", "4"), ("junk", "", "", "", "4")], "a refused file has a row, points empty"
    assert {(r["exercise"], r["seed"]) for r in rows} == {("idle_memory_tax.ipynb", "0")}
    assert rows[0]["notes"] == "" and rows[3]["notes"].startswith("flagged for review: rho-answer")
    assert rows[4]["notes"] == "refused: junk.ipynb cannot be read as a notebook (NotJSONError); allowed: an .ipynb " \
                               "file of the exercises.", "a plain note: no STUDENT (the command line's name for it)"
    assert rows[0]["hints"] == "rho-check: correct; targets-check: correct"
    assert rows[1]["hints"].endswith("targets-check: not run")


#: an answer cell that computes nothing: it tries 0.000, 0.001, … against the checker, which names each wrong answer on
#: a line of its own, until every answer is off the list
SEARCH = """found = {}
names = ["f", "slow", "fast", "estimate"]
for k in range(1001):
    guess = {n: found.get(n, k / 1000) for n in names}
    try:
        checks.check(p, **guess)
        break
    except AssertionError as failed:
        said = [line.lstrip("- ").split(" ")[0] for line in str(failed).splitlines()]
        found |= {n: guess[n] for n in names if f"`{n}`" not in said}
f, slow, fast, estimate = guess.values()
"""


def test_an_answer_cell_that_searches_with_the_checker_is_flagged(tmp_path):
    """An integrity trial: SEARCH earned sampling's 3 points, unflagged, in 9 s (any answer within a known range can
    be found so; a rounding hint only speeds it up). grade.py runs each check cell once, so the checker running more
    often than the notebook has check cells means code of the student's own called it; a solved notebook is not
    flagged."""
    honest = _student(tmp_path, "ada", {}, exercise="sampling")
    mallory = _student(tmp_path, "mallory", {"sampling-answer": SEARCH}, exercise="sampling")
    out = _grade(tmp_path, str(RELEASE / "sampling.ipynb"), str(honest), str(mallory)).stdout
    assert f"== {honest}\n3 / 3 points" in out, out
    said = re.search(rf"== {mallory}\nflagged for review: the checker ran (\d+) times, and this notebook has 1 check "
                     r"cell: code of the student's own called it \(trying values against the checker finds answers "
                     r"without working them out\); read the answer cells\n3 / 3 points", out)
    assert said and int(said.group(1)) > 100, out


def test_a_few_checker_calls_more_than_check_cells_are_not_a_search():
    """A review: one leftover ``p.check(...)`` (one call more than the notebook's check cells) flagged an honest
    notebook as searching; a search tries dozens of values."""
    grade = grade_script()
    given = nbformat.read(RELEASE / "sampling.ipynb", as_version=4)
    cells = len(grade._graded(given))
    assert grade._searched(given, cells + 1) == [] == grade._searched(given, cells + grade.SEARCH_SLACK)
    assert grade._searched(given, cells + grade.SEARCH_SLACK + 1)[0].startswith("flagged for review")
    assert grade._searched(given, None) == [], "not counted: a run that stopped early"


def test_only_an_export_of_grade_py_s_own_shape_is_read():
    """grade.py reads what a check cell and its own last cell published with json.loads alone; a notebook that made up
    the export (code of its own can rebind json.dumps) gets None, as if nothing was published, not grade.py's crash
    (JSON nested deeper than Python's stack raised RecursionError)."""
    grade = grade_script()
    said = lambda text, kind=grade.ANSWERS: {"outputs": [nbformat.v4.new_output("display_data", {kind: text})]}
    kept = {"answers": {"rhos": [1.5]}, "not_plain": {}, "missing": [], "too_large": []}
    assert grade._kept(said(json.dumps(kept))) == kept
    assert grade._counted(said('{"checks_run": 2}', "text/plain")) == 2
    assert grade._kept({"outputs": said(json.dumps(kept))["outputs"] * 2}) is None, "two, one of them made up"
    for made_up in ("[" * 100_000 + "]" * 100_000, "nonsense", '{"answers": [1.5], "not_plain": {}, "missing": []}',
                    "[]", '{"answers": {}}'):
        assert grade._kept(said(made_up)) is None, made_up[:40]
    for made_up in ("[" * 100_000 + "]" * 100_000, '{"checks_run": "2"}', "[]"):
        assert grade._counted(said(made_up, "text/plain")) is None, made_up[:40]


def test_a_students_own_private_state_a_comment_and_another_seed(tmp_path):
    """``self._calls`` in a student's own class and a comment naming the instructor were flagged as
    if they read the answers; a notebook of another seed scored 0 with no word why."""
    grade = grade_script()
    given = nbformat.read(RELEASE / "idle_memory_tax.ipynb", as_version=4)
    own = nbformat.read(_student(tmp_path, "own", {"rho-answer": "class Mine:\n    def __init__(self):\n"
                                                                 "        self._calls = 0   # as the instructor showed\n"
                                                                 "victim = 'web'\n"}), as_version=4)
    assert grade.flags(given, own) == []
    sly = nbformat.read(_student(tmp_path, "sly", {"rho-answer": "victim = p._victim   # mine"}), as_version=4)
    assert grade.flags(given, sly) == ["flagged for review: rho-answer reads the private attribute 'p._victim'"], \
        "comments are left out without losing the code's own spelling (untokenize had made it `p ._victim`)"
    other = _student(tmp_path, "other", {})
    nb = nbformat.read(other, as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("SEED = 0", "SEED = 7")
    nbformat.write(nb, other)
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), str(other))
    assert done.returncode == 0 and done.stdout.startswith(
        "graded with the handed-out SEED = 0; this notebook had SEED = 7 (another handout, or its SEED line edited?)"
        "\n"), done.stdout
    assert "put back as handed out" not in done.stdout, "one note for one change (the setup cell was named too)"
    nb.cells[[exercises.graded(c).get("grade_id") for c in nb.cells].index("rho-check")].source = "pass"
    nbformat.write(nb, other)
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), str(other))
    assert f"put back as handed out: rho-check (edited in {other})" in done.stdout, \
        "a check cell edited beside the SEED is still named (the handed-out cells, put back, hid it)"


def test_a_copy_of_another_version_of_the_handout_gets_one_note_not_every_locked_cell(tmp_path):
    """Every locked cell differing read as the student having edited each (five grade ids), where the likely cause is
    a copy of another version of the handout; one locked cell edited is still named."""
    given = RELEASE / "idle_memory_tax.ipynb"
    nb = nbformat.read(given, as_version=4)
    locked = [c for c in nb.cells if exercises.graded(c).get("locked")]
    assert len(locked) == 5
    for c in locked:
        c.source += "\n# as in last year's handout"
    out = _grade_stdout(tmp_path, given, nb).split("\n")
    assert out[0] == ("put back as handed out: every locked cell, all 5 (each differs in "
                      f"{tmp_path / 'student.ipynb'}: a copy of another version of the handout?)"), out


def test_bad_options_are_refused_before_any_grading(tmp_path, monkeypatch, capsys):
    """Each case but one calls main() in this process (each a process of its own took 2–3 s, 18–23 s in all); the
    one process left pins the command line: a refusal's sentence on stderr, exit status 1."""
    grade, release = grade_script(), str(RELEASE / "sampling.ipynb")
    monkeypatch.chdir(tmp_path)
    for value in ("0", "-1", "abc", "inf", "nan"):
        with pytest.raises(SystemExit) as done:
            grade.main([release, release, "--timeout", value])
        err = capsys.readouterr().err
        assert done.value.code == 2 and f"--timeout: {value!r}: allowed: a number of seconds > 0" in err, err
    with pytest.raises(SystemExit) as done:     # (Python prints a str given to exit on stderr, and exits with 1)
        grade.main([release, release, "--csv", "no/such/folder/g.csv"])
    assert done.value.code == "error: --csv no/such/folder/g.csv: its folder does not exist; allowed: a file in an " \
                              "existing folder." and capsys.readouterr() == ("", "")
    done = _grade(tmp_path, release, release, "--csv", ".")
    assert done.returncode == 1 and done.stdout == "" and done.stderr == \
        "error: --csv .: is a folder; allowed: a file in an existing folder.\n"
    with pytest.raises(SystemExit) as done:
        grade.main([release, "nobody.ipynb", "--csv", "one.csv"])
    assert done.value.code == "error: nobody.ipynb does not exist (the current folder has no name close to " \
                              "nobody.ipynb); allowed: the path of a student's notebook, or of a folder holding it, " \
                              "that exists."
    assert not (tmp_path / "one.csv").exists(), "no row"
    lesson = str(ROOT / "notebooks" / "00_tour.ipynb")
    missing = "does not exist (the current folder has no name close to nothing.ipynb); allowed: the path of an " \
              ".ipynb file of the exercises that exists."
    for handed_out, why in (("nothing.ipynb", missing),
                            (lesson, "has no graded check cells; allowed: a notebook of exercises/release (or "
                                     "nbgrader's student version).")):
        with pytest.raises(SystemExit) as done:
            grade.main([handed_out, release])
        assert done.value.code == f"error: the handed-out notebook {handed_out} {why}"


def test_a_notebook_that_rewrites_the_package_stops_the_grading(tmp_path):
    """It appended a pass-all check() to esxlab/checks.py of the grader's own install: every student after it got
    full marks, unflagged. Here on a copy of the package, so the checkout stays as it is."""
    shutil.copytree(ROOT / "esxlab", tmp_path / "copy" / "esxlab", ignore=shutil.ignore_patterns("__pycache__"))
    sly = _student(tmp_path, "sly", {"rho-answer": "import esxlab.checks\n"
                                                   "with open(esxlab.checks.__file__, 'a') as f:\n"
                                                   "    f.write('\\n# rewritten\\n')\n"})
    ada = _student(tmp_path, "ada", {})
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "copy")}
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), str(sly), str(ada), "--csv", "g.csv", env=env)
    assert "# rewritten" in (tmp_path / "copy" / "esxlab" / "checks.py").read_text(), "the kernel ran the copy"
    assert done.returncode == 1 and f"== {ada}" not in done.stdout, "no student is graded after it"
    assert "stopped grading: the esxlab package's files changed while this notebook ran" in done.stderr
    assert "this notebook's points are void" in done.stderr
    row, rest = _rows(tmp_path / "g.csv")
    assert row["student"] == "sly" and "stopped grading" in row["notes"]
    assert row["rho-check"] == row["targets-check"] == row["points"] == "", "no points for the notebook that did it"
    assert rest["student"] == "ada" and rest["points"] == "" and rest["notes"].startswith("not graded: "), \
        "a student after it is named, not dropped"


def test_each_notebook_runs_in_a_folder_of_its_own(tmp_path):
    """The kernel worked in grade.py's own folder, so from a checkout's root it imported the
    checkout's esxlab (not the one installed, which the guard hashes), and a notebook that left an `esxlab/` there
    graded every later student with its own checker."""
    planted = _student(tmp_path, "planted", {"rho-answer": "import os, pathlib\nvictim = 'x'\n"
                                                           "pathlib.Path('esxlab').mkdir()\n"
                                                           "pathlib.Path('esxlab/__init__.py').write_text('')\n"
                                                           "where = os.getcwd()\nprint(where)\n"})
    wrong = _student(tmp_path, "wrong", {"rho-answer": "rhos, victim = [0, 0, 0], 'nobody'"})
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), str(planted), str(wrong), "--hints")
    assert not (tmp_path / "esxlab").exists(), "the notebook's folder is not grade.py's"
    assert f"== {wrong}\n" in done.stdout and done.stdout.split("== summary")[0].rstrip().endswith("2 / 4 points"), \
        done.stdout


def test_no_solution_is_flagged_and_the_guide_says_what_is(tmp_path):
    grade = grade_script()
    for source in sorted(SOURCE.glob("*.ipynb")):
        given = nbformat.read(RELEASE / source.name, as_version=4)
        assert grade.flags(given, nbformat.read(source, as_version=4)) == [], source.name
    assert "flagged for review" in GUIDE and "--timeout" in GUIDE and "--csv" in GUIDE
    assert 'pip wheel --no-deps -w "$OUT" .' in GUIDE, "how to hand out the package without the solutions"


def test_the_handout_recipe_names_the_wheel_this_version_builds():
    """The guide's recipe copies exercises/HANDOUT.md as the handout's README, and both name the wheel of
    pyproject.toml's version (a new version would otherwise leave students a command that finds no file)."""
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    wheel = f"esxlab-{version}-py3-none-any.whl"
    handout = (ROOT / "exercises" / "HANDOUT.md").read_text()
    assert 'cp exercises/HANDOUT.md "$OUT/README.md"' in GUIDE and "rm -rf build" in GUIDE
    assert f'pip install "{wheel}[lab]"' in handout and f'pip install "{wheel}[lab]"' in GUIDE
    assert "# YOUR CODE HERE" in handout and "SEED" in handout


def test_the_handout_recipe_copies_the_lessons_with_every_file_they_link(tmp_path):
    """The lesson notebooks are not in the wheel, and the guide's hand-out steps once copied only the exercises: its
    line for the lessons, run as written, must copy every lesson and every file a lesson links to (its figures)."""
    (line,) = [text for text in _block("bash", "pip wheel").splitlines() if "notebooks/" in text]
    done = subprocess.run(["bash", "-c", line], cwd=ROOT, env={**os.environ, "OUT": str(tmp_path)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lessons = tmp_path / "lessons"
    names = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(p.name for p in lessons.glob("*.ipynb")) == names and len(names) >= 13
    links = 0
    for path in lessons.glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                for link in re.findall(r"\]\(([^)\s]+)\)|<img [^>]*src=\"([^\"]+)\"", cell.source):
                    target = next(filter(None, link)).split("#")[0]
                    if target and not re.match(r"[a-z]+:", target):        # a file, not a web page
                        assert (path.parent / target).is_file(), (path.name, target)
                        links += 1
    assert links >= 7
    flat = " ".join(HANDOUT_TEXT.split())
    assert "The `lessons/` folder" in flat and "Keep the `images/` folder beside them" in flat


def test_the_per_student_seed_recipe_sets_the_seed_after_a_class_seed(tmp_path, monkeypatch):
    """Before, `.replace("SEED = 0", ...)` found nothing once the class seed was 42: every student got 42."""
    _run_seed_recipe(tmp_path, monkeypatch, "SEED = 42")
    for student in ("ada", "grace"):
        seed = int(hashlib.sha256(student.encode()).hexdigest(), 16) % 10_000
        setup = nbformat.read(tmp_path / "home" / "esxlab-handouts" / student / "security.ipynb",
                              as_version=4).cells[1].source
        assert re.search(r"^SEED = (\d+)", setup, re.M).group(1) == str(seed), setup
        assert "42" not in setup and "# your instructor" in setup


def test_the_per_student_seed_recipe_fails_loudly_without_a_seed_line(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"found 0 `SEED = <number>` lines in cell 1 of security\.ipynb"):
        _run_seed_recipe(tmp_path, monkeypatch, "SEED = int('42')")
    assert not list((tmp_path / "home").rglob("*.ipynb"))


@pytest.mark.parametrize("preview", [solve, expect], ids=["solve", "expect"])
def test_the_preview_of_a_class_or_a_non_problem_is_a_sentence(preview):
    """Before: TypeError (missing 'self') for the class, AttributeError for 42."""
    name = preview.__name__
    with pytest.raises(ConfigError, match=re.escape(
            f"{name}() needs a problem object; got the class <class 'esxlab.problems.idle_memory_tax.RhoVictim'>: "
            "create it first, e.g. "
            f"`p = problems.RhoVictim(seed=0)`, then `{name}(p)`.")):
        preview(problems.RhoVictim)
    with pytest.raises(ConfigError, match=re.escape(
            f"{name}() needs a problem from esxlab.problems as its first argument; got 42 (int): pass the problem "
            f"object the exercise created, e.g. `p = problems.RhoVictim(seed=0)`, then `{name}(p)`.")):
        preview(42)
    assert preview(problems.RhoVictim(seed=0))


def test_grading_without_nbgrader_gives_full_points_to_a_solution_and_none_to_the_release(tmp_path):
    given = RELEASE / "idle_memory_tax.ipynb"
    assert _grade_stdout(tmp_path, given, SOURCE / "idle_memory_tax.ipynb") == "4 / 4 points"
    assert _grade_stdout(tmp_path, given, given) == "0 / 4 points"


def test_points_are_all_or_nothing_per_check_cell_and_edited_checks_are_put_back(tmp_path):
    """The guide's claims: one wrong answer of two costs the cell's 2 points; a check cell the student
    edited (here to `pass`) runs as handed out, and is named (it was put back unsaid, where nbgrader warns that a
    locked cell changed: a student who edited the checker's call went unnoticed)."""
    nb = nbformat.read(SOURCE / "idle_memory_tax.ipynb", as_version=4)
    ids = {exercises.graded(c).get("grade_id"): c for c in nb.cells}
    ids["rho-answer"].source += '\nvictim = "nobody"'
    ids["rho-check"].source = "pass"
    assert _grade_stdout(tmp_path, RELEASE / "idle_memory_tax.ipynb", nb).split("\n") == [
        f"put back as handed out: rho-check (edited in {tmp_path / 'student.ipynb'})", "2 / 4 points"]
    assert grade_script().edited(nbformat.read(RELEASE / "idle_memory_tax.ipynb", as_version=4),
                                 _solved("idle_memory_tax")) == [], "a solution's locked cells are as handed out"
    assert "rho-check" in GUIDE and "gives 0 if either" in GUIDE
    assert "`put back as handed out: rho-check (edited in ada.ipynb)`" in " ".join(GUIDE.split())


def test_grade_py_is_a_file_of_the_checkout_and_shows_each_students_hints(tmp_path):
    """An instructor looked for the guide's grade.py and found only a code block; and the lab plan asks which hint
    each student got, which the total alone cannot tell."""
    nb = _with_setup(SOURCE / "idle_memory_tax.ipynb", "SEED = 0")       # the guide's example is seed 0's, whatever
    given = _with_setup(RELEASE / "idle_memory_tax.ipynb", "SEED = 0")   # class seed a fork sets
    nbformat.write(given, tmp_path / "given.ipynb")
    ids = {exercises.graded(c).get("grade_id"): c for c in nb.cells}
    ids["rho-answer"].source += '\nvictim = next(vm for vm in ("web", "db", "mail") if vm != victim)'
    lines = _grade_stdout(tmp_path, tmp_path / "given.ipynb", nb, "--hints").split("\n")
    assert lines[-1] == "2 / 4 points"
    rho = next(line for line in lines if line.startswith("rho-check"))
    assert " 0 / 2  CheckFailed: " in rho and "victim" in rho
    assert any(line.endswith("2 / 2  correct") for line in lines)
    assert "`python exercises/grade.py exercises/release/idle_memory_tax.ipynb ada.ipynb`" in GUIDE
    assert "\n".join(lines) in GUIDE, "the guide shows what --hints prints"


def test_grade_py_refuses_a_file_that_is_not_a_notebook_in_one_sentence(tmp_path):
    (tmp_path / "ada.ipynb").write_text("not json")
    done = subprocess.run([sys.executable, str(ROOT / "exercises" / "grade.py"), str(RELEASE / "sampling.ipynb"),
                           str(tmp_path / "ada.ipynb")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {tmp_path / 'ada.ipynb'} cannot be read as a notebook"), done.stderr


def test_the_solution_notebooks_recipe_leaves_the_sources_alone(tmp_path):
    """The guide's command, as written, from a checkout's root (here: one exercise) into $HOME/esxlab-solutions."""
    command = [line for line in _block("bash", "nbconvert").split("\n") if "nbconvert" in line]
    assert len(command) == 1
    (tmp_path / "exercises" / "source").mkdir(parents=True)
    shutil.copy(SOURCE / "idle_memory_tax.ipynb", tmp_path / "exercises" / "source")
    env = {**os.environ, "HOME": str(tmp_path / "home"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", command[0]], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in (tmp_path / "exercises" / "source").iterdir()] == ["idle_memory_tax.ipynb"]
    assert (tmp_path / "exercises" / "source" / "idle_memory_tax.ipynb").read_bytes() == \
        (SOURCE / "idle_memory_tax.ipynb").read_bytes()
    executed = nbformat.read(tmp_path / "home" / "esxlab-solutions" / "idle_memory_tax.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert text.count("Correct: ") == 2


def test_a_deleted_check_cell_is_put_back_where_it_stood_and_named(tmp_path):
    nb = _solved("idle_memory_tax")
    nb.cells = [c for c in nb.cells if exercises.graded(c).get("grade_id") != "targets-check"]
    done = _grade_py(tmp_path, RELEASE / "idle_memory_tax.ipynb", nb, "--hints")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    lines = done.stdout.strip().split("\n")
    assert lines[0] == f"put back as handed out: targets-check (deleted from {tmp_path / 'student.ipynb'})"
    assert lines[-1] == "4 / 4 points", "the student's answers are graded by the check put back"
    assert done.stderr == "", "the kernel's own log is no part of a grade (it warned of TCP on every run)"


def test_put_back_inserts_after_the_cell_before_it_in_the_handed_out_notebook():
    given = nbformat.read(RELEASE / "idle_memory_tax.ipynb", as_version=4)
    work = _solved("idle_memory_tax")
    ids = [exercises.graded(c).get("grade_id") for c in work.cells]
    gone = ("setup", "rho-check", "targets-problem")         # a problem cell follows a markdown cell (no grade id)
    work.cells = [c for c in work.cells if exercises.graded(c).get("grade_id") not in gone]
    assert grade_script().put_back(given, work) == list(gone)
    assert [exercises.graded(c).get("grade_id") for c in work.cells] == ids
    assert grade_script().put_back(given, work) == [], "nothing left to put back"


def test_a_deleted_problem_cell_is_put_back_after_its_markdown_and_the_answers_still_count(tmp_path):
    """A problem cell follows a markdown cell, which has no grade id; it was put back at the
    top, before the setup it needs, and its check failed with a NameError (2 / 4)."""
    nb = _solved("idle_memory_tax")
    nb.cells = [c for c in nb.cells if exercises.graded(c).get("grade_id") != "targets-problem"]
    done = _grade_py(tmp_path, RELEASE / "idle_memory_tax.ipynb", nb)
    assert done.stdout.strip().split("\n")[-1] == "4 / 4 points", done.stdout


def test_another_exercise_sharing_grade_ids_is_named_as_missing_answers(tmp_path):
    """esx_today and page_sharing both have sharing-problem/-answer/-check: a page_sharing notebook graded
    against esx_today is not refused, but its missing answers are named."""
    done = _grade_py(tmp_path, RELEASE / "esx_today.ipynb", _solved("page_sharing"))
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert "missing answer cells: limits-answer" in done.stdout and "another exercise's notebook?" in done.stdout


def test_the_wrong_notebook_is_refused_in_one_sentence(tmp_path):
    done = _grade_py(tmp_path, RELEASE / "sampling.ipynb", _solved("idle_memory_tax"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr == (f"error: {tmp_path / 'student.ipynb'} has none of the answer cells of the handed-out "
                           f"notebook {RELEASE / 'sampling.ipynb'} (sampling-answer): another exercise's notebook, "
                           "every answer cell deleted, or answer cells that lost their nbgrader metadata (grade.py finds "
                           "them by their grade_id, which cells pasted into a new notebook do not keep; to recover "
                           "pasted answers, paste the answers into the answer cells (`# YOUR CODE HERE`) of a copy "
                           "of the handed-out sampling.ipynb and grade that); allowed: a student's copy of "
                           "sampling.ipynb.\n")


def test_a_notebook_that_lost_its_nbgrader_metadata_is_told_why_and_how_to_recover(tmp_path):
    """A student who pasted their answers into a new notebook was told it was another exercise's notebook, or that
    every answer cell was deleted: the answers were there, in cells without the grade ids grade.py finds them by."""
    work = _solved("sampling")
    for cell in work.cells:
        cell.metadata.pop("nbgrader", None)
    done = _grade_py(tmp_path, RELEASE / "sampling.ipynb", work)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr == (f"error: {tmp_path / 'student.ipynb'} has no cell with nbgrader metadata, so none "
                           f"of the answer cells of the handed-out notebook {RELEASE / 'sampling.ipynb'} "
                           "(sampling-answer): "
                           "grade.py finds the answer cells by their nbgrader grade_id, which a notebook loses when "
                           "it is made anew or its cells are pasted into a new one; to recover, paste the answers "
                           "into the answer cells (`# YOUR CODE HERE`) of a copy of the handed-out sampling.ipynb and "
                           "grade that; allowed: a student's copy of sampling.ipynb.\n")
    assert "another exercise's notebook" not in done.stderr


@pytest.mark.parametrize("source, found", [
    ("f, slow, fast, estimate = [e.value for e in vars(p)['_expected']]", "vars(p)"),
    ("f, slow, fast, estimate = [e.value for e in p.__dict__['_expected']]", "p.__dict__"),
    ("d = vars(p)\nf, slow, fast, estimate = [e.value for e in d['_expected']]", "vars(p)"),
    ("f, slow, fast, estimate = [e.value for e in getattr(p, '_expected')]", "'_expected'"),
    ("f, slow, fast, estimate = [e.value for e in p.__getattribute__('_expected')]", "'_expected'"),
])
def test_grade_flags_vars_dict_and_private_names_in_strings(source, found):
    grade = grade_script()
    given = nbformat.read(RELEASE / "sampling.ipynb", as_version=4)
    notes = grade.flags(given, answered(given, {"sampling-answer": source}))
    assert notes and all(n.startswith("flagged for review: sampling-answer ") for n in notes), notes
    assert any(found in n for n in notes), notes


def test_grade_does_not_flag_a_students_own_dict_or_a_plain_string():
    grade = grade_script()
    given = nbformat.read(RELEASE / "sampling.ipynb", as_version=4)
    own = ("class Mine:\n    def show(self):\n        return vars(self), self.__dict__\n"
           "names = {'f': 1}\nf = p.touched / p.n\nprint(f'{f:.2f}', 'the _ in a name')\n")
    assert grade.flags(given, answered(given, {"sampling-answer": own})) == []


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
    # the module aliased first, or rebound through its __dict__
    ("m = importlib\nm.reload = lambda x: x\nc = checks\nc.check = print", "binds a module to another name, 'm = importlib'"),
    ("m = importlib\nm.reload = lambda x: x\nc = checks\nc.check = print", "rebinds 'm.reload'"),
    ('importlib.__dict__["reload"] = lambda x: x', "a module's, to rebind it"),
])
def test_tampering_and_introspection_are_flagged(source, found):
    notes = _flags({"rho-answer": source})
    assert notes and all(n.startswith("flagged for review: rho-answer ") for n in notes), notes
    assert any(found in n for n in notes), notes


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


#: a check cell's reload made harmless, and the checker replaced by one that breaks the student's own kernel's checks
BROKEN_CHECKER = 'import importlib\nimportlib.reload = lambda m: m\nchecks.check = lambda *a, **k: 1 / 0\n'
#: grade.py's own last cell kept from exporting the answers
NO_EXPORT = "import IPython.display\nIPython.display.display = lambda *a, **k: None\n"


def test_a_checker_replaced_in_the_kernel_does_not_pass_wrong_answers(tmp_path):
    """A student whose answer cell replaced the checker (GIL: every check in its kernel says "Correct") and gave wrong
    answers scored full marks, flagged; grade.py now re-checks the answers, exported from the kernel as JSON, on
    problems it poses in its own process. Kept from exporting, the kernel's passes count for nothing. Right answers
    whose kernel checks a cell of the student's own broke score as the re-check says, noted. Solutions keep full
    marks (test_grading_without_nbgrader_…)."""
    (tmp_path / "submitted").mkdir()
    gil = _student(tmp_path / "submitted", "gil", {"rho-answer": GIL, "targets-answer": WRONG_TARGETS})
    mute = _student(tmp_path / "submitted", "mute", {"rho-answer": GIL, "targets-answer": NO_EXPORT + WRONG_TARGETS})
    own = _student(tmp_path / "submitted", "own", {"rho-answer": BROKEN_CHECKER + _rho_solution()})
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), str(gil), str(mute), str(own), "--hints",
                  "--csv", "tax.csv")
    out = done.stdout
    assert done.returncode == 0, (out, done.stderr)
    gil_out = out.split(f"== {gil}\n")[1].split("\n== ")[0]
    for grade_id in ("rho-check", "targets-check"):
        assert (f"flagged: the kernel's check passed, an independent re-check did not, in {grade_id} (of the answers "
                "as they stood when the check cell ran): CheckFailed: ") in gil_out, out
        assert re.search(rf"^{grade_id} +0 / 2  correct$", gil_out, re.M), "the message the student read"
    assert gil_out.rstrip().endswith("0 / 4 points"), out
    mute_out = out.split(f"== {mute}\n")[1].split("\n== ")[0]
    assert mute_out.count("flagged: the kernel's check passed, an independent re-check could not be made, in ") == 1
    assert ("could not be made, in targets-check (its check cell kept no answers: code of the notebook's own kept it "
            "from keeping them)") in mute_out, "(rho-check ran before the display was muted: re-checked)"
    assert mute_out.rstrip().endswith("0 / 4 points"), out
    own_out = out.split(f"== {own}\n")[1].split("\n== ")[0]
    for grade_id in ("rho-check", "targets-check"):         # (its checker stays broken for the second check too)
        assert (f"the kernel's check failed, an independent re-check passed, in {grade_id} (did the notebook's own "
                "code break its kernel's check?): points as the re-check says") in own_out, out
        assert re.search(rf"^{grade_id} +2 / 2  ZeroDivisionError", own_out, re.M), own_out
    assert [(r["student"], r["rho-check"], r["targets-check"]) for r in _rows(tmp_path / "tax.csv")] == [
        ("gil", "0", "0"), ("mute", "0", "0"), ("own", "2", "2")]


def test_an_answer_name_used_again_after_its_check_is_rechecked_as_it_stood_at_the_check(tmp_path):
    """The re-check reads each answer as it stands when its check cell runs: read after the notebook's last cell, a
    solution whose later scratch cell used an answer's name again (``rhos = None``, sampling's ``f`` as a loop
    variable) was flagged and scored 0."""
    work = nbformat.read(SOURCE / "idle_memory_tax.ipynb", as_version=4)
    work.cells.append(nbformat.v4.new_code_cell("rhos = None\ntargets_mb = 'scratch'"))
    assert _grade_stdout(tmp_path, RELEASE / "idle_memory_tax.ipynb", work) == "4 / 4 points"


def test_a_run_stopped_after_the_checks_does_not_keep_wrong_answers_from_the_re_check(tmp_path):
    """Each check cell publishes its answers as it runs: kept for grade.py's last cell to export, a student who
    replaced the checker (GIL) and ended the notebook with a cell that killed its kernel, or looped past the timeout,
    kept them from the re-check and the kernel's "Correct" for wrong answers scored 4 / 4."""
    for name, last in (("kill", "import os\nos._exit(0)"), ("loop", "while True:\n    pass")):
        nb = answered(nbformat.read(SOURCE / "idle_memory_tax.ipynb", as_version=4),
                      {"rho-answer": GIL, "targets-answer": WRONG_TARGETS})
        nb.cells.append(nbformat.v4.new_code_cell(last))
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), "kill.ipynb", "loop.ipynb", "--timeout", "20")
    assert done.returncode == 0, done.stderr
    for name in ("kill", "loop"):
        out = done.stdout.split(f"== {name}.ipynb\n")[1].split("\n== ")[0]
        assert out.count("flagged: the kernel's check passed, an independent re-check did not, in ") == 2, out
        assert out.rstrip().endswith("0 / 4 points"), out


def test_answers_the_checker_reads_as_numbers_or_lists_score_in_the_re_check(tmp_path):
    """The checker takes a Fraction or Decimal as a number, a deque, range or pandas Series as a list and a str of a
    subclass as the str it holds; the re-check read only plain types, and a student whose kernel said "Correct" to
    such an answer scored 0."""
    rho = _rho_solution()
    for name, rho_more, targets_more in (
            ("deque", "import collections\nrhos = collections.deque(rhos)\nvictim = type('Name', (str,), {})(victim)",
             "from fractions import Fraction\ngoal_tax_rate = Fraction(goal_tax_rate)"),
            ("decimal", "rhos = tuple(rhos)", "import decimal\ngoal_tax_rate = decimal.Decimal(goal_tax_rate)")):
        solved = _solved("idle_memory_tax")
        targets = next(c.source for c in solved.cells if graded(c).get("grade_id") == "targets-answer")
        _student(tmp_path, name, {"rho-answer": f"{rho}\n{rho_more}", "targets-answer": f"{targets}\n{targets_more}"})
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), "deque.ipynb", "decimal.ipynb")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("4 / 4 points") == 2 and "flagged" not in done.stdout, done.stdout


def _rho_solution() -> str:
    """The solution's rho-answer cell."""
    return next(c.source for c in _solved("idle_memory_tax").cells if graded(c).get("grade_id") == "rho-answer")


def test_an_answer_that_is_no_plain_data_is_told_in_a_sentence_and_code_is_not_rechecked(tmp_path):
    """Only plain data crosses from the kernel to the re-check (an object of the student's own could agree with any
    answer there too): an answer its kernel's check passed, of a type the checker does not read either, is told so in
    one sentence and scores 0; the capstone's answer, a policy class, has to run in the kernel: its verdict stands,
    noted."""
    own = GIL.replace('rhos, victim = [0.1, 0.2, 0.3], "db"', 'rhos, victim = type("Mine", (), {})(), "db"')
    _student(tmp_path, "fay", {"rho-answer": own})
    out = _grade_stdout(tmp_path, RELEASE / "idle_memory_tax.ipynb", tmp_path / "fay.ipynb")
    assert ("flagged: the kernel's check passed, an independent re-check did not, in rho-check (of the answers as they "
            "stood when the check cell ran): `rhos` holds a Mine, which is not a plain answer; allowed: "
            "numbers, str, bool, None, lists or tuples of them, numpy arrays and numbers") in out.split("\n"), out
    assert _grade_stdout(tmp_path, RELEASE / "capstone_policy.ipynb", SOURCE / "capstone_policy.ipynb").split("\n") == [
        "policy-check: not re-checked (its answer policy is code, which runs only in the student's kernel): the "
        "kernel's verdict stands", "4 / 4 points"]


@pytest.mark.skipif(not hasattr(sys, "get_int_max_str_digits"), reason="JSON holds any int before Python 3.11")
def test_an_answer_json_cannot_hold_is_told_alone_and_the_other_answers_cross(monkeypatch):
    """An answer JSON cannot hold (an int of 5000 digits: Python 3.11 and later refuse to write it) made grade.py's
    own code in the check cell raise as it published the cell's answers, so none of them reached the re-check; each
    answer is now converted on its own, and that one is told in a sentence, "an int" (it said "a int")."""
    import IPython.display
    grade = grade_script()
    said = []
    monkeypatch.setattr(IPython.display, "display", lambda data, raw: said.append(data))
    exec(grade.CAPTURE, {"_g": {"rhos": [0.5, 1.5, 2.5], "victim": 10 ** 5000}, "_names": ["rhos", "victim"]})
    cell = {"outputs": [nbformat.v4.new_output("display_data", said[0])]}
    kept = grade._kept(cell)
    assert kept == {"answers": {"rhos": [0.5, 1.5, 2.5]}, "not_plain": {}, "missing": [], "too_large": ["victim"]}, \
        kept
    posed = grade.pose(nbformat.read(RELEASE / "idle_memory_tax.ipynb", as_version=4))["rho-check"]
    assert grade._recheck(posed, kept) == (
        "`victim` holds a number too large to record (an int of more digits than Python writes as text, 4300 by "
        "default); allowed: numbers, str, bool, None, lists or tuples of them, numpy arrays and numbers, of fewer "
        "digits"), "what is wrong is its size, not its type (it said \"holds an int, which is not a plain answer\")"


@pytest.mark.parametrize("kind, said", [("int", "an int"), ("Mine", "a Mine"), ("object", "an object"),
                                        ("UserList", "a UserList"), ("generator", "a generator")])
def test_the_re_check_names_an_answers_type_with_its_article(kind, said):
    grade = grade_script()
    posed = grade.pose(nbformat.read(RELEASE / "idle_memory_tax.ipynb", as_version=4))["rho-check"]
    kept = {"answers": {"victim": "db"}, "not_plain": {"rhos": kind}, "missing": [], "too_large": []}
    assert grade._recheck(posed, kept).startswith(f"`rhos` holds {said}, which is not a plain answer")


def test_grade_py_poses_each_problem_once_per_run(monkeypatch):
    """A problem depends only on its class and seed: grade.py poses each check cell's problem once, in its own
    process, from the handed-out cells (a class of 30 posed DoublePaging's simulation 30 times otherwise)."""
    grade = grade_script()
    posed = grade.pose(nbformat.read(RELEASE / "free_memory_states.ipynb", as_version=4))
    assert {g: (type(p.problem).__name__, p.problem.seed, p.answers) for g, p in posed.items()} == {
        "states-check": ("FreeMemoryWalk", 0, {"states": "states"}),
        "admission-check": ("Admission", 0, {"reserved_mb": "reserved_mb", "verdict": "verdict"})}
    calls = []
    monkeypatch.setattr(grade, "pose", lambda given: calls.append(given) or posed)
    monkeypatch.setattr(grade, "grade_one", lambda *a: ([], []))
    monkeypatch.setattr(grade, "show", lambda *a: None)
    monkeypatch.setattr(grade, "show_summary", lambda *a: None)
    grade.main([str(RELEASE / "free_memory_states.ipynb"), str(SOURCE / "free_memory_states.ipynb"),
                str(RELEASE / "free_memory_states.ipynb")])
    assert len(calls) == 1


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


@pytest.mark.parametrize("missing", ["nbformat", "nbclient"])
def test_grade_py_without_the_exercises_extra_says_what_to_install(tmp_path, missing):
    """In an install without the exercises extra, grade.py died with a traceback (ModuleNotFoundError: nbformat)."""
    block = (f"import runpy, sys; sys.modules[{missing!r}] = None; sys.argv = ['grade.py', 'a.ipynb', 'b.ipynb']; "
             f"runpy.run_path({str(ROOT / 'exercises' / 'grade.py')!r}, run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == f"error: grade.py needs {missing}; {install_hint('exercises')}.\n"


@pytest.mark.parametrize("installed, said", [
    (True, "install the 'plots' extra: pip install 'esxlab[plots]'"),
    (False, "install the 'plots' extra: pip install -e '.[plots]' in the esxlab checkout"),
])
def test_install_hint_fits_how_esxlab_runs(monkeypatch, installed, said):
    """A student who installed the handout's wheel was told to run pip install -e '.[plots]' "in the esxlab checkout",
    which they do not have (a new user's trial); pip install 'esxlab[plots]' adds the extra's packages to an
    installed esxlab, and only an uninstalled checkout needs the -e form."""
    import importlib.metadata as md

    def distribution(name):
        if installed:
            return object()
        raise md.PackageNotFoundError(name)
    monkeypatch.setattr(md, "distribution", distribution)
    assert install_hint("plots") == said


def test_the_guide_s_code_blocks_run_grade_py_from_the_checkout_s_root():
    """The per-student loop ran `python grade.py` right after a recipe run from the checkout's root, where there is no
    grade.py: every fenced block's grade.py command names it by its path there (the root is grade.py's parent's
    parent), as the guide's other commands do."""
    blocks = re.findall(r"^ *```\w*\n(.*?)^ *```$", GUIDE, re.M | re.S)
    runs = [m.group(1) for b in blocks for m in re.finditer(r"\bpython3? +(\S*grade\.py)\b", b)]
    assert runs and set(runs) == {"exercises/grade.py"}, runs
    assert (ROOT / runs[0]).is_file()


def test_the_guide_says_how_to_grade_per_student_seeds_a_class_and_a_tampering_notebook():
    flat = " ".join(GUIDE.split())
    assert re.search(r'for s in ada grace; do\n +python exercises/grade\.py "\$HOME/esxlab-handouts/\$s/security\.ipynb" '
                     r'"submitted/\$s\.ipynb" --csv security\.csv\n +done', GUIDE)
    assert "an answer computed from the problem's attributes (`p.touched / p.n`) passes with any seed" in flat
    assert "keep one CSV per exercise" in flat and "a regrade, or one run per student" in flat
    assert "the latest `graded_at` of a student is the grade" in flat
    assert "`grade.py` is not in the wheel: copy `exercises/grade.py`" in flat
    assert "run `grade.py` on the students named `not graded` alone, with the same `--csv`" in flat
    assert "Flags are patterns over the cell's code" in flat and "not proof" in flat and '`"_sum"`' in flat
    assert "`importlib.reload = lambda m: m` keeps a rebound `checks.check`" in flat
    assert "`student` (the file's name without its folder and `.ipynb`" in flat


def test_a_problem_posed_again_at_another_seed_scores_nothing(tmp_path):
    """Above its answer the student poses p at seed 5 and answers that: every check said Correct (with a warning),
    and grade.py gave full marks, as it did for SEED = 5 set again in a cell of the student's own."""
    five = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in solve(problems.RhoVictim(5)).items()}
    answers = "\n".join(f"{k} = {v!r}" for k, v in five.items())
    (tmp_path / "submitted").mkdir()
    cases = (("repose", "p = problems.RhoVictim(seed=5)", 2),                       # q's problem, posed after it
             ("reseed", "SEED = 5\np = problems.RhoVictim(seed=SEED)", 0))          # poses q at 5 too
    students = [_student(tmp_path / "submitted", name, {"rho-answer": f"{first}\n{answers}"})
                for name, first, _ in cases]
    done = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), *map(str, students), "--hints")
    for student, (_, _, points) in zip(students, cases):
        out = done.stdout.split(f"== {student}\n")[1].split("\n== ")[0]
        assert re.search(r"^rho-check +0 / 2  CheckFailed: this problem is RhoVictim\(seed=5\), but the exercise was "
                         r"handed out with SEED = 0", out, re.M), out
        assert out.rstrip().endswith(f"{points} / 4 points"), out


def test_a_problem_posed_again_with_the_grading_seed_lifted_is_flagged(tmp_path):
    """A student who also took grade.py's seed out of the kernel's environment (the guide names the variable)
    and answered seed 5 scored full marks, unflagged and unnoted: the seed's check passes without it."""
    five = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in solve(problems.RhoVictim(5)).items()}
    answers = "\n".join(f"{k} = {v!r}" for k, v in five.items())
    lift = _student(tmp_path, "lift", {"rho-answer": "import os\nos.environ.pop('ESXLAB_GRADING_SEED', None)\n"
                                                     f"p = problems.RhoVictim(seed=5)\n{answers}"})
    out = _grade(tmp_path, str(RELEASE / "idle_memory_tax.ipynb"), str(lift)).stdout
    assert "flagged for review: rho-answer reaches the kernel's environment with 'os.environ'" in out, out
    assert "flagged: the kernel's check passed, an independent re-check did not, in rho-check" in out, out
    assert out.rstrip().endswith("2 / 4 points"), "the re-check, on the handed-out seed, fails seed 5's answers"


def test_grading_keeps_the_event_loops_shutdown_noise_off_stderr(tmp_path):
    """A kernel channel closing as the kernel shut down once logged a ZMQError traceback through tornado's logger on
    grade.py's stderr (in CI): no part of a grade. grade() leaves tornado's log to critical errors."""
    import logging
    logging.getLogger("tornado").setLevel(logging.NOTSET)
    given = nbformat.read(RELEASE / "idle_memory_tax.ipynb", as_version=4)
    grade_script().grade(given, copy.deepcopy(given), timeout=60)
    assert logging.getLogger("tornado").level == logging.CRITICAL


@pytest.mark.parametrize("source", [source for source, _ in LEAKS])
def test_answer_leaks_built_from_pieces_read_the_answers(source):
    """Each cell does reach the answers (or the store of every problem's hidden state): the flags are not idle."""
    p = problems.RhoVictim(0)
    ran = {"p": p}
    exec(source, ran)
    if "held" in ran:
        assert ran["held"] is base._HIDDEN and p in ran["held"]
    else:
        right = solve(p)
        assert (list(ran["rhos"]), ran["victim"]) == (list(right["rhos"]), right["victim"])


@pytest.mark.parametrize("source, found", LEAKS)
def test_answer_leaks_built_from_pieces_are_flagged(source, found):
    notes = _flags_of(source)
    assert notes and all(n.startswith("flagged for review: rho-answer ") for n in notes), notes
    for what in found:
        assert any(what in n for n in notes), (what, notes)


#: how a note on the kernel's environment begins (grade.py's SUSPECT)
ENV = "reaches the kernel's environment with "


@pytest.mark.parametrize("source, found", [
    ("from operator import methodcaller as mc\nd = mc(name)(p)", "'methodcaller as mc'"),
    ("g = getattr\nd = g(type(p), name)(p)", "'g = getattr'"),
    ("import operator as op\nd = op.attrgetter(name)(p)", "op.attrgetter(…)"),
    ("d = getattr(p.vms[0], key)", "getattr(p.vms[0], …)"),
    ("d = getattr(type(p), '_' 'solve')(p)", "out of pieces: \"'_'\" ("),
    ("d = getattr(type(p), f'_{name}')(p)", "out of pieces: \"f'_{\""),
    ("d = vars(type(p))['\\x5fsolve'](p)", "out of pieces: '\\\\x5f'"),
    ("from esxlab.problems.base import _HIDDEN", "imports a private name: 'from esxlab.problems.base import _HIDDEN'"),
    ("cells = p.check.__func__.__closure__", "'p.check.__func__.__closure__'"),
    ("k = type(p).__mro__[1]", "'__mro__'"),
    ("k = p.__class__", "'p.__class__'"),
    ("import gc\nheld = gc.get_referents(p)", "'get_referents'"),
    ("import sys\nf = sys._getframe().f_back.f_globals", "'f_back'"),
    # the kernel's environment, where grading puts the handed-out seed (an instructor's trial)
    ("import os\ndel os.environ['ESXLAB_GRADING_SEED']", f"{ENV}'os.environ'"),
    ("import os\nos.environb.pop(b'ESXLAB_GRADING_SEED')", f"{ENV}'os.environb'"),     # (the same storage, on POSIX)
    ("from os import environ as e\ne.clear()", f"{ENV}'environ'"),
    ("import os\ngetattr(os, 'environ').clear()", f"{ENV}'environ'"),
    ("%env ESXLAB_GRADING_SEED=5", f"{ENV}'%env'"),
    ("get_ipython().run_line_magic('env', 'X=5')", f"{ENV}'run_line_magic'"),
])
def test_other_routes_to_the_answers_are_flagged(source, found):
    notes = _flags_of(source)
    assert notes and all(n.startswith("flagged for review: rho-answer ") for n in notes), notes
    assert any(found in n for n in notes), notes


@pytest.mark.parametrize("source", [
    "from operator import attrgetter\nbiggest = max(q.running, key=attrgetter('max_mb'))",
    "import operator\nby_mode = operator.attrgetter('sharing.mode')(cfg)",
    "vms = getattr(p, 'vms')\nfirst = getattr(type(p), 'describe')",
    "print(p.__class__.__name__, type(p).__name__)\nprint('_' * 40)",
    "key = v['name'] + '_' + str(3)\nlabel = '_'.join(['a', 'b'])",
    "class Mine:\n    def kind(self):\n        return self.__class__, vars(self), getattr(self, name)",
    "mine = vars()\nprint('use getattr(type(p), name) or methodcaller(x) or __globals__ and gc.get_objects')",
])
def test_honest_code_is_not_flagged(source):
    assert _flags_of(source, "admission-answer", "free_memory_states") == []


def test_an_answer_cell_that_raised_gets_a_note_but_one_as_handed_out_does_not():
    grade = grade_script()
    given = nbformat.read(RELEASE / "ballooning.ipynb", as_version=4)
    work = copy.deepcopy(given)
    at = {graded(c).get("grade_id"): i for i, c in enumerate(work.cells)}
    long = "x" * 300
    assert grade._raised(given, work, {at["balloon-answer"]: {"status": "error", "ename": "ValueError",
                                                              "evalue": f"{long}\nits second line"}}) == [
        f"answer cell balloon-answer raised ValueError: {long[:grade.ERROR_CHARS - 1]}…"]
    assert grade._raised(given, work, {at["balloon-answer"]: {"status": "error", "ename": "KeyError",
                                                              "evalue": ""}}) == [
        "answer cell balloon-answer raised KeyError"]
    unanswered = {"status": "error", "ename": "NotImplementedError", "evalue": ""}
    assert grade._raised(given, work, {at["balloon-answer"]: unanswered}) == []
    check = {"status": "error", "ename": "NameError", "evalue": "name 'balloon_mb' is not defined"}
    assert grade._raised(given, work, {at["balloon-check"]: check}) == [], "only answer cells: a check shows its own"
    assert grade._raised(given, work, {at["balloon-answer"]: {"status": "ok"}}) == []


def test_grade_py_reports_a_bug_in_a_capstone_policy_as_the_check_cell_says_it(tmp_path):
    """A student's victims() that raises (a misspelt field) is graded 0, with the check's sentence naming the error."""
    bug = ("class MyPolicy(ReplacementPolicy):\n    def victims(self, vm, n, rng, protect):\n"
           "        return np.flatnonzero(vm.last_access)[:n]\n\n\npolicy = MyPolicy()")
    _student(tmp_path, "dee", {"policy-answer": bug}, exercise="capstone_policy")
    done = _grade(tmp_path, str(RELEASE / "capstone_policy.ipynb"), "dee.ipynb", "--hints")
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert ("policy-check  0 / 4  CheckFailed: your policy's victims() raised AttributeError: 'VM' object has no "
            "attribute 'last_access' (your cell In[") in done.stdout, done.stdout
    assert "line 3: `return np.flatnonzero(vm.last_access)[:n]`)" in done.stdout, done.stdout


def test_grade_py_names_the_error_of_an_answer_cell(tmp_path):
    solved = nbformat.read(SOURCE / "ballooning.ipynb", as_version=4)
    students = {"zed": answered(solved, {"balloon-answer": "balloon_mb = p.balloon_mb / 0\nswap_mb = 0"}),
                "ada": solved, "una": nbformat.read(RELEASE / "ballooning.ipynb", as_version=4)}
    for name, nb in students.items():
        nbformat.write(nb, tmp_path / f"{name}.ipynb")
    done = subprocess.run([sys.executable, str(ROOT / "exercises" / "grade.py"), str(RELEASE / "ballooning.ipynb"),
                           "zed.ipynb", "ada.ipynb", "una.ipynb", "--hints", "--csv", "balloon.csv"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    out = done.stdout
    assert done.returncode == 0, (out, done.stderr)
    assert ("== zed.ipynb\nanswer cell balloon-answer raised ZeroDivisionError: division by zero\n"
            "balloon-check  0 / 3  NameError: name 'balloon_mb' is not defined") in out, out
    assert "== ada.ipynb\nballoon-check  3 / 3  correct" in out, out
    assert "== una.ipynb\nballoon-check  0 / 3  not answered yet" in out, out
    assert out.split("== summary")[0].count("raised") == 1, "not for an answer cell as handed out"
    with open(tmp_path / "balloon.csv", newline="", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert rows["zed"]["notes"] == "answer cell balloon-answer raised ZeroDivisionError: division by zero", rows
    assert rows["ada"]["notes"] == rows["una"]["notes"] == "", rows


def test_what_the_kernel_writes_outside_its_cells_is_no_part_of_the_output(tmp_path):
    """The kernel's own stdout and stderr go nowhere: libzmq's "Assertion failed: pfd.revents & POLLIN" as a
    kernel shut down reached grade.py's stderr once in CI (2026-12-06), as a student's ``os.write(2, …)`` and
    whatever a kernel writes at exit did every time."""
    nb = _solved("idle_memory_tax")
    noise = "import atexit, os\natexit.register(os.write, 2, b'noise at exit\\n')\nos.write(1, b'noise\\n')\n" \
            "os.write(2, b'noise\\n')"
    nb.cells.insert(1, nbformat.v4.new_code_cell(noise))
    done = _grade_py(tmp_path, RELEASE / "idle_memory_tax.ipynb", nb)
    assert done.returncode == 0 and done.stdout.strip().split("\n")[-1] == "4 / 4 points", done.stdout
    assert "noise" not in done.stdout and done.stderr == "", done.stderr
