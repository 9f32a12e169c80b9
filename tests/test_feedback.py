"""In a notebook a checker's sentence stands alone (esxlab.feedback), other errors keep
their traceback, and the cell still fails, so nbval and nbgrader's autograde count it."""
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from esxlab import feedback

CELLS = ["from esxlab import checks",
         "checks.verify(checks.Expect('rho', 'number', 1.0, 'think of the idle pages', tol=0.1), 5.0)",
         "checks.verify(checks.Expect('rho', 'number', 1.0, 'a hint'), None)",
         "def mine():\n    assert 1 == 2, 'my own assert'\nmine()",
         # the capstone judges victims deep inside a host's run (esxlab/problems/capstone_policy.py)
         "import numpy as np\nfrom esxlab import problems\nfrom esxlab.pmap import PRIVATE\n"
         "from esxlab.swap import ReplacementPolicy\np = problems.BeatRandom(seed=0)",
         "class Floats(ReplacementPolicy):\n    def victims(self, vm, n, rng, protect):\n"
         "        return np.flatnonzero(vm.pmap.state == PRIVATE)[:n].astype(float)\n"
         "checks.check(p, policy=Floats())",
         "checks.check(p, policy=ReplacementPolicy())",
         # an answer cell that stops on a SyntaxError never sets its answer: the check cell's NameError says why
         "policy = ReplacementPolicy()  )",
         "checks.check(p, policy=policy)",
         "print(not_a_check)",
         "checks.check(p, policy=mean([1, 2]))",
         "checks.check(q, slow=0.5)",       # the problem object itself never set
         # a bug in the student's own victims() (a misspelt field), met deep inside the host's run
         "class Misspelt(ReplacementPolicy):\n    def victims(self, vm, n, rng, protect):\n"
         "        private = np.flatnonzero(vm.pmap.state == PRIVATE)\n"
         "        return private[np.argsort(vm.last_access[private])[:n]]\n"
         "checks.check(p, policy=Misspelt())"]


@pytest.fixture(scope="module")
def errors():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute()
    return [next((o for o in c.outputs if o.output_type == "error"), None) for c in nb.cells]


def test_a_checker_sentence_stands_alone(errors):
    wrong, unanswered = errors[1], errors[2]
    assert wrong.ename == "CheckFailed" and len(wrong.traceback) == 1
    assert "think of the idle pages" in wrong.traceback[0] and "checks.py" not in wrong.traceback[0]
    assert unanswered.ename == "NotImplementedError" and len(unanswered.traceback) == 1
    assert "not answered yet" in unanswered.traceback[0]


def test_other_errors_keep_their_traceback(errors):
    assert errors[0] is None
    own = errors[3]
    assert own.ename == "AssertionError" and len(own.traceback) > 1
    assert any("mine()" in line for line in own.traceback)


def test_outside_ipython_nothing_is_installed():
    """In a fresh interpreter (in this one, a test that made an IPython shell would make it "inside")."""
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", "from esxlab import feedback; print(feedback.install())"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_check_cell_s_undefined_answer_says_why(errors):
    """An answer cell that stopped on a SyntaxError left its check cell with a bare NameError."""
    syntax, unset, elsewhere = errors[7], errors[8], errors[9]
    assert syntax.ename == "SyntaxError"
    assert unset.ename == "NameError" and len(unset.traceback) == 1
    assert unset.evalue.startswith("name 'policy' is not defined: this check needs `policy` from a cell above.")
    assert "did not: it stopped early" in unset.evalue and "gives the answer another name" in unset.evalue
    problem = errors[11]                # `q` is a problem object, not an answer
    assert problem.ename == "NameError" and "gives the problem object another name (keep `q`)" in problem.evalue
    assert "SyntaxError" in unset.evalue
    assert elsewhere.ename == "NameError" and elsewhere.evalue == "name 'not_a_check' is not defined"
    assert len(elsewhere.traceback) > 1
    typo = errors[10]              # a helper's name in a check statement is a typo, not an answer: its traceback
    assert typo.ename == "NameError" and typo.evalue == "name 'mean' is not defined" and len(typo.traceback) > 1


class _Shell:
    """What :func:`feedback.show` calls of IPython's shell, recorded."""

    def __init__(self):
        self.shown = []

    def _showtraceback(self, etype, value, stb):
        self.shown.append(("one line", etype, str(value)))

    def showtraceback(self, exc_tuple, tb_offset=None, running_compiled_code=False):
        self.shown.append(("traceback", exc_tuple[0], str(exc_tuple[1])))


def _raised(code: str, filename: str, scope: dict):
    try:
        exec(compile(code, filename, "exec"), scope)
    except NameError as err:
        return err
    raise AssertionError("no NameError")


def test_a_name_error_inside_esxlab_keeps_its_traceback_and_tb_sees_the_exception():
    """A NameError in a problem module (an author's typo) lost its file and line, and
    after a one-line error %tb and %debug showed the exception before it."""
    shell = _Shell()
    err = _raised("undefined_helper", str(feedback.PROBLEMS / "a_new_problem.py"), {})
    feedback.show(shell, NameError, err, err.__traceback__)
    assert shell.shown == [("traceback", NameError, "name 'undefined_helper' is not defined")]
    err = _raised("check(p, f=f)", "<cell>", {"check": print, "p": 1})
    feedback.show(shell, NameError, err, err.__traceback__)
    assert shell.shown[-1][0] == "one line" and "this check needs `f` from a cell above" in shell.shown[-1][2]
    import sys
    assert sys.last_value is err and sys.last_traceback is err.__traceback__
    no_check = _raised("x = f", "<cell>", {})                  # not a check statement
    assert feedback.unset_in_check_cell(no_check, no_check.__traceback__) is None


def test_capstone_sentences_stand_alone_too(errors):
    """The capstone's CheckFailed and NotImplementedError come from inside host.run: one line too."""
    floats, unwritten = errors[5], errors[6]
    assert errors[4] is None
    assert floats.ename == "CheckFailed" and len(floats.traceback) == 1
    assert "holds float64 values, not integers" in floats.traceback[0]
    assert unwritten.ename == "NotImplementedError" and len(unwritten.traceback) == 1
    assert "`victims` is not written yet" in unwritten.traceback[0]


def test_a_bug_in_the_students_own_victims_is_one_sentence_naming_their_line(errors):
    """An instructor's trial: `vm.last_access` showed a traceback of about 20 frames through checks.py, the problem,
    host.py, vm.py, guest.py, reclaim.py and swap.py, with the student's line last."""
    bug = errors[12]
    assert bug.ename == "CheckFailed" and len(bug.traceback) == 1, bug.traceback
    assert bug.evalue.startswith("your policy's victims() raised AttributeError: 'VM' object has no attribute "
                                 "'last_access' (your cell In["), bug.evalue
    assert bug.evalue.endswith("], line 4: `return private[np.argsort(vm.last_access[private])[:n]]`). Fix it, run "
                               "the cell that defines your policy again, then run this check again."), bug.evalue


NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _run_out_of_order(cells: list[str], session: dict[str, str]) -> list:
    """Run ``cells`` in a kernel started as Jupyter starts one for a notebook (``session``: its environment);
    each cell's error output or None."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True).execute(env={**os.environ, **session})
    return [next((o for o in c.outputs if o.output_type == "error"), None) for c in nb.cells]


def test_a_cell_run_before_the_cell_that_sets_its_name_says_which_cell(tmp_path):
    """A student who skipped a cell (or restarted the kernel and ran one in the middle) got a bare NameError."""
    saved = [nbformat.v4.new_code_cell(c) for c in
             ["from esxlab.views.lesson import Question", "%config InlineBackend.figure_format = 'svg'\n"
              "host_mb = 512\nfor vm in range(3):\n    pass", "print(host_mb * 2, [v for v in range(2)])",
              "print(hots_mb)", "def f():\n    return host_mb\nf()", "print(later)",
              "# a comment first: the sentence quotes the code\nlater = 1"]]
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=saved), path)
    ran = [saved[i].source for i in (0, 2, 3, 4, 5)]
    skipped, typo, inside, early = _run_out_of_order(ran, {"JPY_SESSION_NAME": str(path)})[1:]
    assert skipped.ename == "NameError" and len(skipped.traceback) == 1
    assert skipped.evalue == ("name 'host_mb' is not defined: a cell above this one sets `host_mb` (the code cell "
                              "that begins `%config InlineBackend.figure_format = 'svg'`), and it has not run in this "
                              "kernel, or stopped before it set `host_mb`. Run the cells above this one first (Run ▸ "
                              "Run All Above Selected Cell), or the whole notebook (Run ▸ Run All Cells).")
    assert typo.evalue == "name 'hots_mb' is not defined" and len(typo.traceback) > 1     # no cell sets it
    assert inside.evalue == "name 'host_mb' is not defined" and len(inside.traceback) > 1  # raised inside f
    assert early.evalue == ("name 'later' is not defined: a cell below this one sets `later` (the code cell that "
                            "begins `later = 1`), and it has not run in this kernel, or stopped before it set `later`. "
                            "This cell is meant to run after it: run that cell first, or move this code below it.")
    no_file = _run_out_of_order(ran[:2], {"JPY_SESSION_NAME": ""})[1]
    assert no_file.evalue == "name 'host_mb' is not defined" and len(no_file.traceback) > 1  # (nbval): as before
    vs_code = _run_out_of_order([f"__vsc_ipynb_file__ = {str(path)!r}", *ran[:2]], {"JPY_SESSION_NAME": ""})[2]
    assert vs_code.evalue == skipped.evalue, "VS Code names the notebook in the kernel's namespace"


def test_a_name_error_elsewhere_or_of_an_unknown_cell_keeps_python_s_own(tmp_path):
    """A review: a NameError at the top level of a module the cell imported (or of an exec) was blamed on a cell of
    the notebook that had run, its traceback hidden; a cell whose text two cells have was placed above or below by
    the first; a cell whose source is not text broke the handler itself."""
    (tmp_path / "mymodule.py").write_text("TABLE = np.arange(4)\n")
    saved = [nbformat.v4.new_code_cell(c) for c in
             [f"from esxlab import checks\nimport sys\nsys.path.insert(0, {str(tmp_path)!r})", "import numpy as np",
              "import mymodule", "z = 2", "exec('print(z)', {})", "print(twice)", "twice = 1", "print(twice)"]]
    path = tmp_path / "own.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=saved), path)
    ran = [saved[i].source for i in (0, 1, 2, 3, 4, 7)]
    module, _, run_by_exec, twice = _run_out_of_order(ran, {"JPY_SESSION_NAME": str(path)})[2:]
    assert module.evalue == "name 'np' is not defined" and any("mymodule.py" in line for line in module.traceback)
    assert run_by_exec.evalue == "name 'z' is not defined" and len(run_by_exec.traceback) > 1
    assert twice.evalue.startswith("name 'twice' is not defined: another cell of this notebook sets `twice`"), \
        twice.evalue
    bad = nbformat.v4.new_notebook(cells=[*saved[:6], nbformat.v4.new_code_cell("twice = 1")])
    bad.cells[-1].source = [1, 2]                       # (a source that is no text: the file is not a notebook)
    (tmp_path / "bad.ipynb").write_text(nbformat.writes(bad, version=4, capture_validation_error={}))
    broken = _run_out_of_order([ran[0], "print(twice)"], {"JPY_SESSION_NAME": str(tmp_path / "bad.ipynb")})[1]
    assert broken.evalue == "name 'twice' is not defined" and broken.ename == "NameError"


def test_a_lesson_cell_run_before_its_dashboard_names_the_dashboard_cell():
    """Notebook 02 as a student opens it: the import cell, then the cell that reads the dashboard."""
    nb = nbformat.read(NOTEBOOKS / "02_ballooning.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    reads = next(s for s in code if s.startswith("res = dash.run.result"))
    error = _run_out_of_order([code[0], reads], {"JPY_SESSION_NAME": str(NOTEBOOKS / "02_ballooning.ipynb")})[1]
    assert error.ename == "NameError" and len(error.traceback) == 1
    assert error.evalue.startswith("name 'dash' is not defined: a cell above this one sets `dash` (the code cell that "
                                   "begins `dash = views.ExperimentDashboard(`)"), error.evalue
