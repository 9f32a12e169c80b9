"""The graded exercises: sources follow nbgrader's conventions, the student release is in sync,
student notebooks fail only where the student must answer, and nbgrader itself grades them.

(The solution notebooks run under nbval: exercises/source is in pytest's testpaths.)
"""
from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from esxlab import exercises, problems
from esxlab.errors import install_hint
from answers import guide_section as _section, solved as _solved

EXERCISES = Path(__file__).resolve().parents[1] / "exercises"
SOURCES = sorted((EXERCISES / "source").glob("*.ipynb"))
RELEASES = sorted((EXERCISES / "release").glob("*.ipynb"))
RELOAD = "import importlib; from esxlab import checks; importlib.reload(checks)"


def exercise_cells(nb) -> set[int]:
    return {i for i, c in enumerate(nb.cells)
            if exercises.graded(c).get("solution") or exercises.graded(c).get("grade")}


def test_release_is_in_sync():
    assert SOURCES, "no exercise notebooks"
    assert exercises.stale() == [], "run `python -m esxlab exercises build`"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_source_follows_the_conventions(path):
    nb = nbformat.read(path, as_version=4)
    exercises.validate(nb, path.name)
    first = nb.cells[0].source
    assert first.startswith("# ") and "Learning goals" in first and "Run All Cells" in first
    solutions = [c for c in nb.cells if exercises.graded(c).get("solution")]
    grades = [c for c in nb.cells if exercises.graded(c).get("grade")]
    assert solutions and len(grades) == len(solutions)
    for c in solutions:     # answers start as None, so an unanswered check says "not answered yet"
        starter = c.source.split("### BEGIN SOLUTION")[0]
        assert exercises.has_markers(c.source) and ("= None" in starter or "class " in starter)
    for c in grades:     # the checker is reloaded first: an answer cell that rebinds checks.check changes nothing
        first, last = c.source.split("\n")
        assert first.startswith(RELOAD) and last.startswith("checks.check(") and exercises.graded(c)["locked"]
    for c in nb.cells:       # no def/class except where the student writes one
        if c.cell_type == "code" and not exercises.graded(c).get("solution"):
            assert not re.search(r"^\s*(def|class) ", c.source, re.M), c.source


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_solutions_hold_for_other_seeds(path, capsys):
    """Solutions compute from the problem's parameters: run the code cells in-process with other seeds."""
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    # SEED = 0 as shipped; any whole number once an instructor sets a class seed (the guide's "Vary the seeds")
    assert re.search(r"^SEED = \d+\b", cells[0], re.M), cells[0]
    for seed in (1, 2, 3):
        namespace = {}
        exec(cells[0], namespace)
        namespace["SEED"] = seed
        for source in cells[1:]:
            exec(source, namespace)
        assert capsys.readouterr().out.count("Correct: ") == sum("\nchecks.check(" in s for s in cells)


@pytest.mark.parametrize("path", RELEASES, ids=lambda p: p.stem)
def test_student_notebook_fails_only_in_its_exercise_cells(path):
    nb = nbformat.read(path, as_version=4)
    assert "BEGIN SOLUTION" not in path.read_text()
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    errors = {i: o for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"}
    assert {o.ename for o in errors.values()} == {"NotImplementedError"}, \
        {i: (o.ename, o.evalue) for i, o in errors.items()}
    assert set(errors) <= exercise_cells(nb)
    grades = {i for i, c in enumerate(nb.cells) if exercises.graded(c).get("grade")}
    assert grades <= set(errors), "every check must fail before the student answers"


def _nb(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def _cell(source, **nbgrader):
    meta = dict(grade=False, grade_id="a", locked=False, schema_version=3, solution=False, task=False)
    meta.update(nbgrader)
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def test_validate_names_the_broken_convention():
    cases = [
        (_nb(_cell("x", grade_id="a"), _cell("y", grade_id="a")), "used twice"),
        (_nb(_cell("checks.check(p)", grade=True)), "needs points"),
        (_nb(_cell("x", schema_version=2)), "schema_version 3"),
        (_nb(nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx\n### END SOLUTION")), "no nbgrader metadata"),
    ]
    for nb, message in cases:
        with pytest.raises(exercises.ExerciseError, match=message):
            exercises.validate(nb, "t.ipynb")


def test_instructor_guide_names_every_exercise_and_places_it_in_a_lab():
    guide = (EXERCISES / "README.md").read_text()
    plan = guide[guide.index("## A six-lab course"):guide.index("### Learning outcomes")]
    for path in SOURCES:
        assert f"| `{path.stem}` |" in guide and f"`{path.stem}`" in plan, path.stem


def test_release_is_built_by_nbgraders_preprocessors():
    """Solutions become nbgrader's stub, its checksums are in the metadata, locked cells are read-only."""
    nb = nbformat.reads(exercises.release_text(SOURCES[0]), as_version=4)
    solutions = [c for c in nb.cells if exercises.graded(c).get("solution")]
    assert solutions and all("# YOUR CODE HERE\nraise NotImplementedError()" in c.source for c in solutions)
    assert all(exercises.graded(c)["checksum"] for c in nb.cells if exercises.graded(c).get("locked"))
    assert all(c.metadata.get("editable") is False for c in nb.cells if exercises.graded(c).get("locked"))


def test_missing_nbgrader_is_a_sentence(monkeypatch):
    monkeypatch.setitem(sys.modules, "nbgrader", None)
    with pytest.raises(exercises.ExerciseError, match=re.escape(install_hint("exercises"))):
        exercises.release_text(SOURCES[0])


def test_build_and_check_detect_stale_missing_and_orphaned(tmp_path, capsys):
    src, rel = tmp_path / "source", tmp_path / "release"
    src.mkdir()
    shutil.copy(SOURCES[0], src)
    assert exercises.main(["check", "--source", str(src), "--release", str(rel)]) == 1
    assert "is missing" in capsys.readouterr().out
    rel.mkdir()
    (rel / "old.ipynb").write_text("{}")
    assert exercises.main(["build", "--source", str(src), "--release", str(rel)]) == 0
    assert sorted(p.name for p in rel.iterdir()) == [SOURCES[0].name]
    assert exercises.main(["check", "--source", str(src), "--release", str(rel)]) == 0
    nb = nbformat.read(src / SOURCES[0].name, as_version=4)
    nb.cells[0].source += "\n\nedited"
    nbformat.write(nb, src / SOURCES[0].name)
    capsys.readouterr()
    assert exercises.main(["check", "--source", str(src), "--release", str(rel)]) == 1
    assert "is stale" in capsys.readouterr().out


def test_cli_dispatches_to_the_build_tool(capsys):
    from esxlab.__main__ import main
    assert main(["exercises", "check"]) == 0


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")     # nbgrader's own session warnings
def test_nbgrader_generates_the_same_release_and_grades_it(tmp_path, monkeypatch):
    """nbgrader's own generate_assignment on every exercise (the same release, cell for cell) and
    autograde on every exercise (solution 100 %, untouched release 0 %), in a throwaway course."""
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])  # its alembic
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    (tmp_path / "source" / "all").mkdir(parents=True)
    for path in SOURCES:
        shutil.copy(path, tmp_path / "source" / "all")
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    config.CourseDirectory.course_id = "esxlab"
    api = NbGraderAPI(config=config)
    assert api.generate_assignment("all", force=True)["success"]
    points = {}
    for path in SOURCES:
        theirs = nbformat.read(tmp_path / "release" / "all" / path.name, as_version=4)
        ours = nbformat.read(EXERCISES / "release" / path.name, as_version=4)
        assert [(c.cell_type, c.source, c.metadata) for c in theirs.cells] == \
            [(c.cell_type, c.source, c.metadata) for c in ours.cells], path.name   # cleared, locked, checksummed alike
        points[path.stem] = sum(exercises.graded(c).get("points", 0) for c in ours.cells)

    for student, folder in [("solved", EXERCISES / "source"), ("untouched", EXERCISES / "release")]:
        (tmp_path / "submitted" / student / "all").mkdir(parents=True)
        for path in SOURCES:
            shutil.copy(folder / path.name, tmp_path / "submitted" / student / "all")
        assert api.autograde("all", student, force=True)["success"]
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        solved, untouched = gb.find_submission("all", "solved"), gb.find_submission("all", "untouched")
        for name, total in points.items():
            got = {nb.name: (nb.score, nb.max_score) for nb in solved.notebooks}[name]
            assert got == (total, total) and total > 0, (name, got, total)
            assert {nb.name: nb.score for nb in untouched.notebooks}[name] == 0, name


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_the_guides_nbgrader_recipe_puts_back_a_deleted_check_and_grades_the_handed_out_seed(tmp_path):
    """The guide's nbgrader commands, as written, from the checkout's root. As they were, nbgrader 0.9.6 put back no
    deleted check cell (its add_missing_cells is off unless set), so a student who deleted one lost its points where
    grade.py, said to do as nbgrader, gave them; and a student who posed ``p`` again at seed 5 in an answer cell of
    their own scored full marks on it (grade.py tells the kernel the handed-out seed; nbgrader had not been told)."""
    from esxlab.problems.instructor import solve
    (block,) = [b for b in re.findall(r"^```bash\n(.*?)^```$", GUIDE, re.M | re.S) if "nbgrader autograde" in b]
    five = {k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in solve(problems.RhoVictim(5)).items()}
    deleted, reposed = _solved("idle_memory_tax"), _solved("idle_memory_tax")
    deleted.cells = [c for c in deleted.cells if exercises.graded(c).get("grade_id") != "rho-check"]
    for cell in reposed.cells:
        if exercises.graded(cell).get("grade_id") == "rho-answer":
            cell.source = "p = problems.RhoVictim(seed=5)\n" + "\n".join(f"{k} = {v!r}" for k, v in five.items())
    course = tmp_path / "esxlab-course"
    for student, nb in (("ada", _solved("idle_memory_tax")), ("dee", deleted), ("rex", reposed)):
        (course / "submitted" / student / "tax").mkdir(parents=True)
        nbformat.write(nb, course / "submitted" / student / "tax" / "idle_memory_tax.ipynb")
    env = {**os.environ, "HOME": str(tmp_path),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}     # nbgrader's alembic
    done = subprocess.run(["bash", "-ec", block], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(course / "grades.csv", newline="", encoding="utf-8") as f:
        scores = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)}
    assert scores == {"ada": 4.0, "dee": 4.0, "rex": 2.0}, scores

def test_exercises_without_nbformat_says_which_extra(monkeypatch, capsys):
    """The base install (pip install -e .) has no nbformat: one sentence naming the extra, exit 2."""
    from esxlab.__main__ import main
    monkeypatch.setitem(sys.modules, "nbformat", None)          # import nbformat now fails
    monkeypatch.delitem(sys.modules, "esxlab.exercises", raising=False)
    assert main(["exercises", "check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: exercises needs nbformat; install the 'exercises' extra") and err.rstrip().endswith(".")


def test_no_command_is_a_usage_error(capsys):
    from esxlab.__main__ import main
    assert main([]) == 2
    assert "error: no command given" in capsys.readouterr().err


def test_a_check_cell_grades_even_after_an_answer_cell_rebinds_the_checker():
    """The locked check cell reloads esxlab.checks, so `checks.check = lambda ...: print("Correct")`
    (or a variable named `checks`) in an answer cell changes nothing. Run in a kernel, as a notebook. The cheat also
    rebound Problem.check, so its kernel gets no verdict until it is restarted, even for the right answers (an
    integrity trial: a problem class changed in the kernel, `type(p).RHO_TOL = 1.0`, poses another problem)."""
    src = nbformat.read(EXERCISES / "source" / "idle_memory_tax.ipynb", as_version=4)
    by_id = {exercises.graded(c).get("grade_id"): c.source for c in src.cells}
    cheat = ("checks.check = lambda *a, **k: print('Correct: cheated')\n"
             "problems.Problem.check = checks.check\n"
             "rhos, victim = [1.0, 1.0, 1.0], p.vms[0]['name']")
    cells = [by_id["setup"], by_id["rho-problem"], cheat, by_id["rho-check"],
             "checks = 'my own variable'", by_id["rho-answer"], by_id["rho-check"]]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    errors = [next((o for o in c.outputs if o.output_type == "error"), None) for c in nb.cells]
    printed = ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells]
    assert errors[3] is not None and errors[3].ename == "CheckFailed" and "cheated" not in printed[3], printed[3]
    assert errors[6].evalue.startswith("Problem.check is not as esxlab defines it (a cell of yours changed it)"), \
        errors[6]
    cells[2] = cells[2].replace("problems.Problem.check = checks.check\n", "")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    printed = ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells]
    assert "cheated" not in printed[3] and printed[6].startswith("Correct: rhos"), printed


@pytest.mark.parametrize("argv, sentence", [
    ([], "error: exercises: no command given; allowed: build, check."),
    (["foo"], "error: exercises: unknown command 'foo'; allowed: build, check."),
    (["build", "--release", "/proc/x"], "error: exercises: --release /proc/x cannot be created (No such file or "
                                        "directory); allowed: a directory you can write to.")])
def test_usage_errors_are_one_sentence_and_exit_2(argv, sentence, capsys):
    """As reproduce and sweep: no usage block, no "argument command", exit code 2."""
    from esxlab.__main__ import main
    assert main(["exercises", *argv]) == 2
    assert capsys.readouterr().err == sentence + "\n"


def test_help_says_what_build_and_check_do(capsys):
    assert exercises.main(["build", "--help"]) == 0
    out = capsys.readouterr().out
    assert "build  write the student release" in out and "check  exit 1 if the student release is out of date" in out


def test_a_missing_default_source_says_to_run_from_a_checkout(tmp_path, monkeypatch, capsys):
    """After `pip install .` (Binder's postBuild) the default lies in site-packages, where there are no notebooks."""
    monkeypatch.setattr(exercises, "ROOT", tmp_path / "site-packages" / "exercises")
    assert exercises.main(["check"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: exercises: there are no instructor notebooks at {tmp_path}/site-packages/")
    assert err.rstrip().endswith("allowed: run this from an esxlab checkout, or pass --source "
                                 "path/to/exercises/source.")


def test_build_says_what_it_does_first_and_writes_beside_the_source(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(exercises, "ROOT", tmp_path / "installed")        # not where the release goes
    src = tmp_path / "course" / "source"
    src.mkdir(parents=True)
    shutil.copy(SOURCES[0], src)
    assert exercises.main(["build", "--source", str(src)]) == 0
    out, err = capsys.readouterr()
    assert err == f"building 1 student notebook in {tmp_path / 'course' / 'release'} from {src} …\n"
    assert out == f"wrote {tmp_path / 'course' / 'release' / SOURCES[0].name}\n"
    assert exercises.main(["check", "--source", str(src)]) == 0
    assert capsys.readouterr().err.startswith("checking 1 student notebook in ")


def test_a_release_in_the_source_folder_is_refused_before_it_overwrites_the_solutions(tmp_path, capsys):
    """--release equal to --source replaced the instructor notebooks by the student versions
    (solutions lost, exit 0). Refused now, with the source untouched."""
    src = tmp_path / "source"
    src.mkdir()
    shutil.copy(SOURCES[0], src)
    before = (src / SOURCES[0].name).read_bytes()
    for release in (str(src), str(tmp_path / "source" / ".." / "source")):
        assert exercises.main(["build", "--source", str(src), "--release", release]) == 2
        assert "is the --source folder" in capsys.readouterr().err
    assert (src / SOURCES[0].name).read_bytes() == before


def test_a_stale_custom_release_is_told_the_build_that_fixes_it(tmp_path, capsys):
    """The hint repeats the --source and --release given (the plain command writes elsewhere)."""
    src, rel = tmp_path / "source", tmp_path / "rel"
    src.mkdir()
    shutil.copy(SOURCES[0], src)
    assert exercises.main(["check", "--source", str(src), "--release", str(rel)]) == 1
    assert f"run `python -m esxlab exercises build --source {src} --release {rel}`" in capsys.readouterr().out


BREAKS = {"no END": ("### END SOLUTION", "", "no end solution statement found"),
          "nested": ("### BEGIN SOLUTION", "### BEGIN SOLUTION\n### BEGIN SOLUTION",
                     "encountered nested begin solution statements")}
ROOT = Path(__file__).resolve().parents[1]
SOURCE, RELEASE = ROOT / "exercises" / "source", ROOT / "exercises" / "release"
GUIDE = (ROOT / "exercises" / "README.md").read_text()
HANDOUT = (ROOT / "exercises" / "HANDOUT.md").read_text()
UNTAGGED = "a code cell without nbgrader metadata is handed out as it is"


def _break(path: Path, cell: int, old: str, new: str) -> None:
    nb = nbformat.read(path, as_version=4)
    assert old in nb.cells[cell].source
    nb.cells[cell].source = nb.cells[cell].source.replace(old, new)
    nbformat.write(nb, path)


def _names(text: str) -> set[str]:
    return set(re.findall(r"`(\d\d_\w+|[a-z_]+)`", text))


def _with_untagged_answer(path: Path) -> int:
    """Add, after the solution cell of the notebook at ``path``, a code cell as plain JupyterLab makes it (no
    nbgrader metadata, no markers) holding the solution; its number, counted from 1 as the refusal counts."""
    nb = nbformat.read(path, as_version=4)
    i, solution = next((i, c) for i, c in enumerate(nb.cells) if exercises.graded(c).get("solution"))
    answer = "\n".join(line for line in solution.source.split("\n") if "SOLUTION" not in line)
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(answer))
    nbformat.write(nb, path)
    return i + 2


def notebook_points(path: Path) -> int:
    """The points of the source notebook at ``path``: those of its check cells' nbgrader metadata."""
    nb = nbformat.read(path, as_version=4)
    return sum(exercises.graded(c)["points"] for c in nb.cells if exercises.graded(c).get("grade"))


def table_points(guide: str) -> dict[str, int]:
    """The exercises table's points column of the instructor guide ``guide``, by exercise."""
    rows = re.findall(r"^\| `(\w+)` \|.*\| (\d+) \|$", guide[:guide.index("## A six-lab course")], re.M)
    return {name: int(points) for name, points in rows}


def stale_points(guide: str) -> list[str]:
    """A sentence for each exercise whose points in ``guide``'s table are not its source's."""
    table = table_points(guide)
    return [f"{p.stem}: the table says {table.get(p.stem)}, its check cells give {notebook_points(p)}"
            for p in SOURCES if table.get(p.stem) != notebook_points(p)]


@pytest.mark.parametrize("broken", BREAKS, ids=list(BREAKS))
def test_a_malformed_source_is_one_sentence_naming_the_cell_and_leaves_the_release_as_it_was(
        broken, tmp_path, capsys):
    """Before: a 31-line nbgrader traceback, exit 1, and 9 of 11 release notebooks written."""
    old, new, why = BREAKS[broken]
    src, rel = tmp_path / "source", tmp_path / "release"
    src.mkdir()
    for name in ("ballooning", "sampling", "security"):     # the broken one between two good ones
        shutil.copy(SOURCE / f"{name}.ipynb", src)
    assert exercises.main(["build", "--source", str(src), "--release", str(rel)]) == 0
    before = {p.name: p.read_text() for p in rel.iterdir()}
    (rel / "ballooning.ipynb").unlink()                    # a notebook the build would add
    cell = 5
    _break(src / "sampling.ipynb", cell, old, new)
    capsys.readouterr()
    assert exercises.main(["build", "--source", str(src), "--release", str(rel)]) == 2
    err = capsys.readouterr().err.split("\n", 1)[1]        # after "building 3 student notebooks …"
    first = nbformat.read(src / "sampling.ipynb", as_version=4).cells[cell].source.split("\n")[0]
    assert err == (f"error: sampling.ipynb cell {cell} (first line {first!r}): nbgrader cannot make its student "
                   f"version ({why}); allowed: nbgrader's markers in pairs within one cell (`### BEGIN SOLUTION` "
                   "then `### END SOLUTION`), never nested, and only in solution cells.\n")
    del before["ballooning.ipynb"]
    assert {p.name: p.read_text() for p in rel.iterdir()} == before


def test_a_source_that_is_not_a_notebook_is_one_sentence(tmp_path, capsys):
    src = tmp_path / "source"
    src.mkdir()
    (src / "draft.ipynb").write_text("not json")
    assert exercises.main(["build", "--source", str(src), "--release", str(tmp_path / "release")]) == 2
    assert capsys.readouterr().err.split("\n")[1].startswith("error: draft.ipynb: is not a Jupyter notebook (")
    assert not list((tmp_path / "release").glob("*.ipynb"))


def test_the_four_week_module_places_every_notebook_and_exercise_of_the_six_labs():
    plan = _section("## A six-lab course", "### Learning outcomes")
    rows = {int(m.group(1)): _names(m.group(2)) for m in re.finditer(r"^\| (\d)\. [^|]*\|(.*)\|[^|]*\|$", plan, re.M)}
    assert sorted(rows) == [1, 2, 3, 4, 5, 6]
    four = plan[plan.index("**A four-week module**"):]
    labs = re.search(r"weeks 1–4 are labs (\d), (\d), (\d) and (\d)\.", four).groups()
    named = _names(four)
    assert named <= set().union(*rows.values()), named - set().union(*rows.values())
    assert set().union(*(rows[int(n)] for n in labs)) | named == set().union(*rows.values())


def test_a_source_notebook_run_and_saved_builds_the_same_release(tmp_path):
    pytest.importorskip("nbgrader")
    from nbclient import NotebookClient

    nb = _solved("sampling")
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}},
                   record_timing=True).execute()
    assert any(c.get("outputs") for c in nb.cells) and "version" in nb.metadata.language_info
    nbformat.write(nb, tmp_path / "sampling.ipynb")
    assert exercises.release_text(tmp_path / "sampling.ipynb") == (RELEASE / "sampling.ipynb").read_text()


def test_a_source_notebook_is_left_as_it_is_by_a_build(tmp_path):
    pytest.importorskip("nbgrader")
    (tmp_path / "source").mkdir()
    nb = _solved("sampling")
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="previewed\n")]
    nb.cells[1].execution_count = 1
    nbformat.write(nb, tmp_path / "source" / "sampling.ipynb")
    before = (tmp_path / "source" / "sampling.ipynb").read_text()
    assert exercises.main(["build", "--source", str(tmp_path / "source")]) == 0
    assert (tmp_path / "source" / "sampling.ipynb").read_text() == before
    assert (tmp_path / "release" / "sampling.ipynb").read_text() == (RELEASE / "sampling.ipynb").read_text()


def test_every_exercise_notebook_sets_seed_and_names_its_problems_as_the_suggestion_does():
    for path in sorted((ROOT / "exercises" / "source").glob("*.ipynb")):
        code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        setup = next(c for c in code if "SEED =" in c)
        assert re.search(r"^SEED = \d+", setup, re.M) and "import" in setup, path.name
        # the handed-out seed recorded right after it, so that a check warns after a cell of one's own sets SEED again
        assert re.search(r"^SEED = \d+ .*\nchecks\.handed_out\(SEED\) ", setup, re.M), path.name
        for name in problems.__all__:
            cls = getattr(problems, name)
            made = [c for c in code if f"problems.{name}(seed=SEED)" in c]
            for c in made:
                assert f"{cls.VARIABLE} = problems.{name}(seed=SEED)" in c, (path.name, name)


def test_the_handout_says_how_to_name_the_file_and_that_installing_needs_internet():
    flat = " ".join(HANDOUT.split())
    assert "needs internet access" in flat and "PyPI" in flat
    assert "name the file as your instructor says" in flat and "by the file's name" in flat


def test_the_handout_says_to_keep_the_answer_cells_none_lines_which_every_answer_cell_starts_with():
    """A student's trial (session 68): an answer cell replaced whole, with a typo in a name and the template's
    `fast = None` line deleted, still printed "Correct" from the old `fast`. The template's `name = None` lines
    clear such a stale answer; step 3 of the handout tells students to keep them, and every answer a check cell
    checks by name (`checks.check(p, fast=fast)`) has such a line above the solution of an answer cell (but the
    capstone's policy, a class the answer cell defines whole)."""
    flat = " ".join(HANDOUT.split())
    assert "Keep the cell's `name = None` lines" in flat and "under a misspelt name" in flat
    checked = 0
    for path in sorted(set(SOURCE.glob("*.ipynb")) - {SOURCE / "capstone_policy.ipynb"}):
        code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        tops = "\n".join(c.split("### BEGIN SOLUTION")[0] for c in code if "### BEGIN SOLUTION" in c)
        for call in (line for c in code for line in c.splitlines() if line.startswith("checks.check(")):
            for name in re.findall(r"(\w+)=\1\b", call):
                assert re.search(rf"^{name} = None\b", tops, re.M), (path.name, name)
                checked += 1
    assert checked >= 20


def test_validate_refuses_a_code_cell_without_nbgrader_metadata():
    tagged = nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": dict(
        grade=False, grade_id="setup", locked=True, schema_version=3, solution=False, task=False)})
    ok = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), tagged])
    exercises.validate(ok, "t.ipynb")                       # an untagged markdown cell is allowed
    ok.cells.append(nbformat.v4.new_code_cell("balloon_mb = 48.0\nswap_mb = 0.0"))
    with pytest.raises(exercises.ExerciseError) as err:
        exercises.validate(ok, "t.ipynb")
    assert str(err.value) == (
        "t.ipynb cell 3 (first line 'balloon_mb = 48.0'): a code cell without nbgrader metadata is handed out as "
        "it is, with any answer in it; allowed: tag it (nbgrader's Create Assignment toolbar) as a solution cell "
        "('Autograded answer': students do not get its solution) or as a locked cell students run ('Read-only').")
    ok.cells[-1].source = "  \n"                            # a stray empty cell hands out nothing: allowed
    exercises.validate(ok, "t.ipynb")


def test_build_and_check_refuse_an_untagged_answer_and_leave_the_release(tmp_path, capsys):
    """It was released as it was: build exited 0 and check said the release was up to date."""
    src, rel = tmp_path / "source", tmp_path / "release"
    src.mkdir()
    shutil.copy(ROOT / "exercises" / "source" / "ballooning.ipynb", src)
    argv = ["--source", str(src), "--release", str(rel)]
    assert exercises.main(["build", *argv]) == 0
    before = (rel / "ballooning.ipynb").read_text()
    cell = _with_untagged_answer(src / "ballooning.ipynb")
    for command in ("build", "check"):
        capsys.readouterr()
        assert exercises.main([command, *argv]) == 2
        err = capsys.readouterr().err
        assert f"error: ballooning.ipynb cell {cell} (first line 'balloon_mb = None" in err and UNTAGGED in err, err
        assert "Traceback" not in err
    assert (rel / "ballooning.ipynb").read_text() == before


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_every_code_cell_of_the_sources_is_tagged(path):
    nb = nbformat.read(path, as_version=4)
    assert all(exercises.graded(c) for c in nb.cells if c.cell_type == "code")


def test_the_exercises_table_gives_each_exercise_its_points():
    assert sorted(table_points(GUIDE)) == sorted(p.stem for p in SOURCES)
    assert stale_points(GUIDE) == []


def unheaded_checks(nb) -> list[str]:
    """A sentence for each check cell of notebook ``nb`` that has no heading of its own stating its points: exactly one
    ``### Exercise <n> (<p> points)`` in the markdown cells after the check cell before it, ``p`` its points."""
    out, headings = [], []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            headings += re.findall(r"^#+ Exercise \d+ \((\d+) points?\)$", cell.source, re.M)
        elif exercises.graded(cell).get("grade"):
            grade_id, points = exercises.graded(cell)["grade_id"], exercises.graded(cell)["points"]
            if headings != [str(points)]:
                out.append(f"{grade_id} ({points} points) is under the points headings {headings}")
            headings = []
    return out


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_every_check_cell_is_under_a_heading_that_states_its_points(path):
    """idle_memory_tax's second check (2 points) had no "### Exercise 2 (2 points)": students could not see its worth.
    Source and release alike."""
    for folder in ("source", "release"):
        assert unheaded_checks(nbformat.read(EXERCISES / folder / path.name, as_version=4)) == [], folder


def test_a_check_cell_without_its_points_heading_is_found():
    nb = nbformat.read(SOURCES[0], as_version=4)
    check = next(c for c in nb.cells if exercises.graded(c).get("grade"))
    for cell in nb.cells:
        cell.source = re.sub(r"^#+ Exercise \d+ \(\d+ points?\)$", "### Exercise", cell.source, flags=re.M)
    assert unheaded_checks(nb) == [f"{exercises.graded(check)['grade_id']} ({exercises.graded(check)['points']} "
                                   "points) is under the points headings []"]


def check_cell_counts(guide: str) -> dict[str, int]:
    """The guide's paragraph on exercises with one check cell (pass or fail), as exercise → its check cells."""
    flat = " ".join(guide.split())
    said = re.search(r"\*\*Exercises with one check cell are pass or fail\.\*\* .*? They are (.*?); the others "
                     r"\((.*?)\) have two check cells each\.", flat)
    assert said, "exercises/README.md's Grade section no longer lists the exercises with one check cell"
    return {**dict.fromkeys(re.findall(r"`(\w+)`", said.group(1)), 1),
            **dict.fromkeys(re.findall(r"`(\w+)`", said.group(2)), 2)}


def test_the_guide_names_the_exercises_whose_one_check_cell_makes_them_pass_or_fail():
    """Points are all or nothing per check cell, so one slip in an exercise with a single check cell scores 0, as a
    blank notebook does: the guide lists those exercises, and its list is the sources' check cells."""
    cells = {p.stem: sum(1 for c in nbformat.read(p, as_version=4).cells if exercises.graded(c).get("grade"))
             for p in SOURCES}
    assert check_cell_counts(GUIDE) == cells
    assert 1 in cells.values()
    stale = GUIDE.replace("`io_remapping`, `page_sharing`", "`page_sharing`")
    assert stale != GUIDE and check_cell_counts(stale) != cells


def test_a_stale_points_value_is_found():
    stale = GUIDE.replace("holds pages) | 3 |", "holds pages) | 4 |")
    assert stale != GUIDE and stale_points(stale) == ["ballooning: the table says 4, its check cells give 3"]
