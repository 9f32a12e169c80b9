"""Every notebook is a lesson (issue 17), checked without a kernel:

* at least 900 words of explanation in its markdown cells;
* the parts of a lesson, as headings: the crux, how it works, a worked example, common misconceptions;
  and a diagram in the markdown (a fenced text figure, an image or an SVG);
* a recorded prediction (``Prediction``) made before the first dashboard runs, and revealed later;
  at least two check-your-understanding ``Question``s;
* no test plumbing in what a student reads: a code cell that asserts or reaches into widget internals
  (``dash.series.lines.y``, ``.xy``, ``.bar``, marks' ``x``/``y``/``color``…) must be a *guard cell*:
  tagged ``guard``, its source hidden (``metadata.jupyter.source_hidden``: JupyterLab shows it collapsed,
  Voilà never shows code) and silent (no output: Voilà would show it). nbval still runs guard cells, so
  they keep guarding the notebook (README, "Notebooks").
* no answer in sight before its time: a cell that asks a ``Question`` (its answer is an argument) or
  reveals a prediction (its explanation is) has its source hidden too, as a guard cell's (a student in
  JupyterLab read them before predicting);
* no quiz to game: across all notebooks, the right answer of a multiple-choice ``Question`` is the strictly
  longest choice in at most a third of them, and never more than 1.15 times as long as its longest distractor
  (a student-in-browser review found "pick the longest" right in 18 of 28).
"""
import ast
import re
from pathlib import Path

import nbformat
import pytest
from notebook_cells import calls

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MIN_WORDS = 900
HEADINGS = ("crux", "how it works", "worked example", "misconception")
GUARD = "guard"
DIAGRAMS = ("```", "![", "<svg", "<img")
#: dashboard parts and bqplot mark traits a lesson never shows a student reaching into
INTERNALS = re.compile(r"\.(series|host_series|xy|bar|grid|strip|counters|reclaimed|lines|marks|children|"
                       r"x|y|color|labels|hold_sync)\b")
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
SILENT = ("print", "display")
#: notebooks still to become lessons (issue 17: helper lessa 00–05, lessb 06–11); the xfail is strict:
#: remove a name when its lesson lands
NOT_YET: set[str] = set()
#: "pick the longest choice" may be right in at most this fraction of the multiple-choice questions...
LONGEST_SHARE = 1 / 3
#: ...and a right answer is never more than this many times as long as the longest wrong one
LONGEST_RATIO = 1.15


def load(path: Path):
    return nbformat.read(path, as_version=4)


def words(nb) -> int:
    """Words of explanation: letters-only tokens of the markdown cells (numbers and math symbols do not count)."""
    return sum(len(WORD.findall(c.source)) for c in nb.cells if c.cell_type == "markdown")


def is_guard(cell) -> bool:
    return GUARD in cell.metadata.get("tags", [])


def plumbing(source: str) -> list[str]:
    """What makes ``source`` test plumbing: assert statements and widget internals it touches."""
    found = [f"assert on line {n.lineno}" for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Assert)]
    return found + [f"widget internals `{m.group(0)}`" for m in INTERNALS.finditer(source)]


def noisy(source: str) -> list[str]:
    """Why a guard cell would show something: its last statement is an expression (the cell's result),
    or it prints or displays."""
    tree = ast.parse(source)
    found = ["its last line is an expression"] if tree.body and isinstance(tree.body[-1], ast.Expr) else []
    return found + [f"it calls {n.func.id}()" for n in ast.walk(tree)
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in SILENT]


def choice_questions(source: str) -> list[tuple[str, tuple[str, ...]]]:
    """The multiple-choice ``Question(...)`` calls of ``source``, each as (answer, choices); numeric ones
    (no ``choices=``) are left out. Choices and answer are literals in every notebook."""
    found = []
    for n in ast.walk(ast.parse(source)):
        if isinstance(n, ast.Call) and "Question" in (getattr(n.func, "id", None), getattr(n.func, "attr", None)):
            kw = {k.arg: k.value for k in n.keywords}
            if "choices" in kw:
                found.append((ast.literal_eval(kw["answer"]), tuple(ast.literal_eval(kw["choices"]))))
    return found


def length_ratio(answer: str, choices: tuple[str, ...]) -> float:
    """How many times as long as the longest wrong choice the right answer is (> 1: it is the longest)."""
    return len(answer) / max(len(c) for c in choices if c != answer)


def lesson_marks(path: Path):
    """``path`` as a test parameter: strict xfail while its lesson is still to be written (NOT_YET)."""
    marks = [pytest.mark.xfail(strict=True, reason="issue 17: still to become a lesson")] if path.stem in NOT_YET else []
    return pytest.param(path, marks=marks, id=path.stem)


@pytest.mark.parametrize("path", [lesson_marks(p) for p in NOTEBOOKS])
def test_student_visible_cells_hold_only_the_lesson(path):
    nb = load(path)
    visible = {i: plumbing(c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code" and not is_guard(c)}
    assert {i: p for i, p in visible.items() if p} == {}, f"{path.name}: move these into guard cells (tag {GUARD!r})"
    guards = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and is_guard(c)]
    assert guards, f"{path.name}: guard cells keep the notebook honest under nbval; it has none"
    for i, c in guards:
        assert c.metadata.get("jupyter", {}).get("source_hidden") is True, f"{path.name} cell {i}: hide its source"
        assert noisy(c.source) == [], f"{path.name} cell {i}: a guard cell must show nothing"
        assert any(isinstance(n, ast.Assert) for n in ast.walk(ast.parse(c.source))), \
            f"{path.name} cell {i}: a guard cell guards (asserts) or belongs to the lesson"


@pytest.mark.parametrize("path", [lesson_marks(p) for p in NOTEBOOKS])
def test_each_notebook_is_a_lesson(path):
    nb = load(path)
    n = words(nb)
    assert n >= MIN_WORDS, f"{path.name}: {n} words of explanation, fewer than {MIN_WORDS}"
    headings = " ".join(line.lower() for c in nb.cells if c.cell_type == "markdown"
                        for line in c.source.splitlines() if line.startswith("#"))
    assert [h for h in HEADINGS if h not in headings] == [], f"{path.name}: a lesson's parts are its headings"
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert any(mark in prose for mark in DIAGRAMS), f"{path.name}: a small diagram explains faster"
    code = [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code" and not is_guard(c)]
    predict = [i for i, s in code if calls(s, "Prediction")]
    dashboards = [i for i, s in code if re.search(r"\b\w*Dashboard\(", s)]
    reveals = [i for i, s in code if calls(s, "reveal")]
    assert predict and reveals and predict[0] < min(reveals), f"{path.name}: record a prediction, reveal it later"
    assert not dashboards or predict[0] < dashboards[0], f"{path.name}: the prediction comes before the dashboard runs"
    assert sum(calls(s, "Question") for _, s in code) >= 2, f"{path.name}: at least two check questions"
    shown = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (calls(c.source, "Question")
             or calls(c.source, "reveal")) and c.metadata.get("jupyter", {}).get("source_hidden") is not True]
    assert shown == [], f"{path.name}: cells {shown} show an answer in their source: hide it (source_hidden)"


def test_the_longest_choice_is_not_a_way_to_guess_the_answer():
    questions = {f"{p.stem} cell {i}: {answer[:40]!r}": length_ratio(answer, choices)
                 for p in NOTEBOOKS for i, c in enumerate(load(p).cells) if c.cell_type == "code"
                 for answer, choices in choice_questions(c.source)}
    assert len(questions) >= len(NOTEBOOKS), f"only {len(questions)} multiple-choice questions found"
    longest = sorted(q for q, r in questions.items() if r > 1)
    assert len(longest) <= LONGEST_SHARE * len(questions), \
        f"the right answer is the longest choice in {len(longest)} of {len(questions)} questions: {longest}"
    too_long = {q: round(r, 2) for q, r in questions.items() if r > LONGEST_RATIO}
    assert too_long == {}, f"right answers more than {LONGEST_RATIO}× as long as their longest distractor"


def test_the_checks_can_fail():
    thin = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title\nSome words, 12 MB."),
                                           nbformat.v4.new_code_cell("assert dash.series.lines.y[0] > 0\nx = 1")])
    assert words(thin) == 4
    assert plumbing(thin.cells[1].source) == ["assert on line 1", "widget internals `.series`",
                                              "widget internals `.lines`", "widget internals `.y`"]
    assert plumbing("vm.pmap.state\nres.value('split')\nres.table") == []
    assert noisy("print(x)\nx = 1") == ["it calls print()"] and noisy("assert x\nx") == ["its last line is an expression"]
    assert calls("p = Prediction('?')\nlesson.Question('?', answer=1, hint='h')\np.reveal(1, 'x')", "Question") == 1
    quiz = "Question('?', answer=2, hint='h')\nlesson.Question('?', choices=['a b', 'a' 'bcd'], answer='abcd', feedback={})"
    assert choice_questions(quiz) == [("abcd", ("a b", "abcd"))]
    assert length_ratio("abcd", ("a b", "abcd")) == 4 / 3 and length_ratio("ab", ("ab", "abcd", "x")) == 0.5


#: what only JupyterLab has (Voilà runs the cells itself and shows no code)
LAB_ONLY = ("Run All Cells", "row of dots")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_jupyterlab_only_steps_say_so(path):
    first = nbformat.read(path, as_version=4).cells[0].source
    sentences = re.split(r"(?<=[.;])\s", " ".join(first.split()))
    lab_only = [s for s in sentences if any(step in s for step in LAB_ONLY)]
    assert lab_only and all("In JupyterLab" in s or "in JupyterLab" in s for s in lab_only), lab_only
    assert "Voilà" in first, "say what Voilà does instead"
