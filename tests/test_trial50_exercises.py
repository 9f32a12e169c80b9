"""An instructor adapting the graded exercises (session 50): an untagged code cell was released answer and all, a
class constant changed to values a problem cannot pose crashed it with numpy's bare error, and the guide's points
column could go stale unnoticed."""
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from esxlab import exercises, problems
from esxlab.errors import ConfigError, Error
from esxlab.problems import Problem

ROOT = Path(__file__).resolve().parents[1] / "exercises"
SOURCES = sorted((ROOT / "source").glob("*.ipynb"))
GUIDE = (ROOT / "README.md").read_text()
UNTAGGED = "a code cell without nbgrader metadata is handed out as it is"


# -- finding 1: a code cell without nbgrader metadata ------------------------------------------------------------------
def _with_untagged_answer(path: Path) -> int:
    """Add, after the solution cell of the notebook at ``path``, a code cell as plain JupyterLab makes it (no
    nbgrader metadata, no markers) holding the solution; its number, counted from 1 as the refusal counts."""
    nb = nbformat.read(path, as_version=4)
    i, solution = next((i, c) for i, c in enumerate(nb.cells) if exercises.graded(c).get("solution"))
    answer = "\n".join(line for line in solution.source.split("\n") if "SOLUTION" not in line)
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(answer))
    nbformat.write(nb, path)
    return i + 2


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
    shutil.copy(ROOT / "source" / "ballooning.ipynb", src)
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


# -- finding 3: a class constant a problem cannot pose -----------------------------------------------------------------
def test_a_problem_that_cannot_be_posed_says_which_and_why(monkeypatch):
    """With 0.0 among RhoVictim's tax rates some seeds raised numpy's `ValueError: high <= 0`, naming neither."""
    monkeypatch.setattr(problems.RhoVictim, "TAX_RATES", (0.0, *problems.RhoVictim.TAX_RATES))
    failed = []
    for seed in range(40):
        try:
            problems.RhoVictim(seed)
        except ConfigError as err:
            failed.append(seed)
            assert re.fullmatch(
                rf"RhoVictim\(seed={seed}\) could not be posed: ValueError: high <= 0 \(raised in _one, "
                r"esxlab/problems/idle_memory_tax\.py line \d+\)\. A class constant of the problem \(its drawn "
                r"ranges\) may have been changed to values it cannot pose; run tests/test_problems_checks\.py after "
                r"changing one\.", str(err)), str(err)
            assert type(err.__cause__) is ValueError and str(err.__cause__) == "high <= 0"
    assert failed, "no seed of 0–39 failed: find another constant that makes one fail"


class _Unwritten(Problem):
    """A problem whose _draw is not written."""


class _Dull(Problem):
    """A problem that rejects every draw."""

    def _draw(self, rng):
        self.x = int(rng.integers(10))

    def _interesting(self):
        return False


def test_deliberate_errors_pass_through_unchanged(monkeypatch):
    with pytest.raises(NotImplementedError) as unwritten:
        _Unwritten(0)
    assert type(unwritten.value) is NotImplementedError and unwritten.value.__cause__ is None
    with pytest.raises(Error, match=r"^_Dull\(seed=1\) drew no usable problem in 200 tries\.$") as dull:
        _Dull(1)
    assert type(dull.value) is Error
    for raised in (Error("the page-sharing scanner did not complete two passes in 60 s"), ConfigError("a fix")):
        def draw(self, rng, raised=raised):
            raise raised

        monkeypatch.setattr(problems.RhoVictim, "_draw", draw)
        with pytest.raises(Error) as err:
            problems.RhoVictim(0)
        assert err.value is raised
    with pytest.raises(ConfigError, match=r"^seed = -1 is not allowed"):
        problems.RhoVictim(-1)


# -- finding 4: the exercises table's points ---------------------------------------------------------------------------
def table_points(guide: str) -> dict[str, int]:
    """The exercises table's points column of the instructor guide ``guide``, by exercise."""
    rows = re.findall(r"^\| `(\w+)` \|.*\| (\d+) \|$", guide[:guide.index("## A six-lab course")], re.M)
    return {name: int(points) for name, points in rows}


def notebook_points(path: Path) -> int:
    """The points of the source notebook at ``path``: those of its check cells' nbgrader metadata."""
    nb = nbformat.read(path, as_version=4)
    return sum(exercises.graded(c)["points"] for c in nb.cells if exercises.graded(c).get("grade"))


def stale_points(guide: str) -> list[str]:
    """A sentence for each exercise whose points in ``guide``'s table are not its source's."""
    table = table_points(guide)
    return [f"{p.stem}: the table says {table.get(p.stem)}, its check cells give {notebook_points(p)}"
            for p in SOURCES if table.get(p.stem) != notebook_points(p)]


def test_the_exercises_table_gives_each_exercise_its_points():
    assert sorted(table_points(GUIDE)) == sorted(p.stem for p in SOURCES)
    assert stale_points(GUIDE) == []


def test_a_stale_points_value_is_found():
    stale = GUIDE.replace("above its target | 3 |", "above its target | 4 |")
    assert stale != GUIDE and stale_points(stale) == ["ballooning: the table says 4, its check cells give 3"]
