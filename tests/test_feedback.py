"""In a notebook a checker's sentence stands alone (esxlab.feedback), other errors keep
their traceback, and the cell still fails, so nbval and nbgrader's autograde count it."""
import json
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
    """An answer cell that stopped on a SyntaxError left its check cell with a bare NameError. The sentence reads as
    a lesson cell's run out of order does (which cell, why it did not set the name, what to run), as one course."""
    syntax, unset, elsewhere = errors[7], errors[8], errors[9]
    assert syntax.ename == "SyntaxError"
    assert unset.ename == "NameError" and len(unset.traceback) == 1
    assert unset.evalue == ("name 'policy' is not defined: this check needs `policy` from the cell above it that "
                            "sets `policy`, and it has not run in this kernel, or stopped before it set `policy` (read "
                            "its error, a SyntaxError say, and fix it), or gives the answer another name (keep "
                            "`policy`). Run that cell, then this check again (Run ▸ Run All Above Selected Cell runs "
                            "every cell above it)."), unset.evalue
    problem = errors[11]                # `q` is a problem object, not an answer
    assert problem.ename == "NameError" and "gives the problem object another name (keep `q`)" in problem.evalue
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
    assert shell.shown[-1][0] == "one line" and "this check needs `f` from the cell above it" in shell.shown[-1][2]
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


def _run_as_jupyterlab(cells: list[tuple[str | None, str]], session: dict[str, str]) -> list:
    """Run each (cell id, code) in a kernel started as Jupyter starts one for a notebook (``session``: its
    environment), sending the id as JupyterLab and Notebook 7 do (``cellId`` in the execute request's metadata,
    beside the notebook's ``deletedCells`` and ``recordTiming``); an id of None sends none, as nbval, nbclient and
    older front ends. Each cell's ``error`` message (its content) or None."""
    from jupyter_client.manager import start_new_kernel
    km, kc = start_new_kernel(kernel_name="python3", env={**os.environ, **session})
    try:
        errors = []
        for cell_id, code in cells:
            metadata = {"deletedCells": [], "recordTiming": False, **({} if cell_id is None else {"cellId": cell_id})}
            msg = kc.session.msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                                     "user_expressions": {}, "allow_stdin": False,
                                                     "stop_on_error": False}, metadata=metadata)
            kc.shell_channel.send(msg)
            error = None
            while True:
                out = kc.get_iopub_msg(timeout=60)
                if out["parent_header"].get("msg_id") != msg["header"]["msg_id"]:
                    continue
                if out["msg_type"] == "error":
                    error = out["content"]
                elif out["msg_type"] == "status" and out["content"]["execution_state"] == "idle":
                    break
            errors.append(error)
        return errors
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_the_running_cell_is_found_by_the_id_jupyterlab_sends(tmp_path):
    """A review: the running cell was found by its text in the saved file, so the second of two cells of one text
    after a restart read "a cell below this one sets `x`" (the first one's place), and a cell edited since the last
    save was "another cell", its own saved lines quoted as the setter. A cell that begins with a magic was not found
    by its text either (the kernel holds it as Python)."""
    saved = [nbformat.v4.new_code_cell(c) for c in
             ["from esxlab import checks", "z = 2", "y = 1\nprint(y)", "print(x)", "x = 1", "print(x)",
              "%config InlineBackend.figure_format = 'svg'\nprint(z)"]]
    path = tmp_path / "ids.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=saved), path)
    ids = [c.id for c in saved]
    second, edited, edited_alone, unsaved, magic = _run_as_jupyterlab(
        [(ids[0], saved[0].source), (ids[5], "print(x)"), (ids[2], "print(z, y)"), (ids[2], "print(y)"),
         ("not-saved-yet", "print(x)"), (None, saved[6].source)], {"JPY_SESSION_NAME": str(path)})[1:]
    assert second["evalue"] == ("name 'x' is not defined: a cell above this one sets `x` (the code cell that begins "
                                "`x = 1`), and it has not run in this kernel, or stopped before it set `x`. Run the "
                                "cells above this one first (Run ▸ Run All Above Selected Cell), or the whole "
                                "notebook (Run ▸ Run All Cells)."), second["evalue"]
    assert edited["evalue"].startswith("name 'z' is not defined: a cell above this one sets `z` (the code cell that "
                                       "begins `z = 2`)"), edited["evalue"]
    assert edited_alone["evalue"] == "name 'y' is not defined", "its saved version is this cell: no other sets `y`"
    assert len(edited_alone["traceback"]) > 1
    assert unsaved["evalue"].startswith("name 'x' is not defined: another cell of this notebook sets `x`"), \
        "an id the saved file lacks: found by its text, which two cells share"
    assert magic["evalue"].startswith("name 'z' is not defined: a cell above this one sets `z`"), magic["evalue"]


def test_a_cell_pasted_since_the_last_save_is_not_placed_where_its_original_is(tmp_path):
    """A fresh user pasted a copy of a cell above the cell that sets its name; until the next save the kernel found
    the copy by its text, at its original's place below the setter, and advised Run All Above, which did not help. An
    id the saved file lacks is a cell whose place is not known: it says "another cell" and to run that cell first. A
    long first line is quoted cut."""
    long = "dash = make_a_dashboard(with_a_name_long_enough, to_be_cut_in_the_sentence, at=60)"
    saved = [nbformat.v4.new_code_cell(c) for c in ["from esxlab import checks", long, "print(dash)"]]
    path = tmp_path / "pasted.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=saved), path)
    pasted = _run_as_jupyterlab([(saved[0].id, saved[0].source), ("pasted-copy", "print(dash)")],
                                {"JPY_SESSION_NAME": str(path)})[1]
    assert pasted["evalue"] == ("name 'dash' is not defined: another cell of this notebook sets `dash` (the code cell "
                                "that begins `dash = make_a_dashboard(with_a_name_long_enough, to_be_cut_…`), and it "
                                "has not run in this kernel, or stopped before it set `dash`. Run that cell first, "
                                "then this one."), pasted["evalue"]


@pytest.mark.parametrize("source, names", [
    ("x += 1", set()),                                   # it needs `x` already
    ("x: int", set()),                                   # an annotation alone binds nothing
    ("x: int = 1\ny = z = 2\na, *b = c", {"x", "y", "z", "a", "b"}),
    ("try:\n    pass\nexcept E as x:\n    y = 1", {"y"}),     # Python deletes `x` after its block
    ("match v:\n    case [x, *y]:\n        pass\n    case {'k': z, **w}:\n        pass\n"
     "    case P(a=q) as r:\n        pass\n    case _:\n        pass", {"x", "y", "z", "w", "q", "r"}),
    ("for x in y:\n    pass\nwith f() as (w, v):\n    pass", {"x", "w", "v"}),
    ("(x := 1)\n[y := v for v in w]\ns = {k for k in w}", {"x", "y", "s"}),     # a comprehension's := is the cell's
    ("import a.b as x\nimport c.d\nfrom e import f as g, h", {"x", "c", "g", "h"}),
    ("def f():\n    x = 1\nclass C:\n    y = 1\ng = lambda z: z", {"f", "C", "g"}),
    ("%time x = 5\n%timeit y = 5", {"x"}),               # %timeit runs its code in a namespace of its own
    ("%%time\nx = 5", {"x"}),
    ("%%capture --no-stderr out\nx = 5", {"x", "out"}),
    ("x = !ls\n%config A.b = 1", {"x"}),
    ("x = (", set()),                                    # a SyntaxError: none
])
def test_the_names_a_cell_sets(source, names):
    """A review: `x += 1` counted as setting `x`, `match` captures, a comprehension's := and the code of %time were
    missed."""
    assert feedback._sets(source) == names


class _Kernel(_Shell):
    """:class:`_Shell` in a kernel whose notebook is ``path`` and whose cell files are ``cells``."""

    def __init__(self, path: Path, cells: set[str]):
        super().__init__()
        self.user_ns = {"__session__": str(path)}
        self.compile = type("Compiler", (), {"format_code_name": lambda _, name: "Cell" if name in cells else None})()


def test_the_notebook_file_is_read_again_only_once_it_changes(tmp_path, monkeypatch):
    """It was read and parsed (every cell through IPython's transformer) on each such NameError."""
    import linecache
    path = tmp_path / "cached.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in ["a = 1", "print(a)"]]),
                   path)
    monkeypatch.setitem(linecache.cache, "<cell cached>", (9, None, ["print(a)\n"], "<cell cached>"))
    shell, reads, loads = _Kernel(path, {"<cell cached>"}), [], json.loads
    monkeypatch.setattr(json, "loads", lambda text: reads.append(path) or loads(text))
    err = _raised("print(a)", "<cell cached>", {})
    said = [feedback.set_by_another_cell(err, err.__traceback__, shell) for _ in range(3)]
    assert said[0].startswith("name 'a' is not defined: a cell above this one sets `a` (the code cell that begins "
                              "`a = 1`)") and said == said[:1] * 3 and len(reads) == 1
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in ["a = 22", "print(a)"]]),
                   path)                                # (a save: a new size and time)
    assert "begins `a = 22`" in feedback.set_by_another_cell(err, err.__traceback__, shell) and len(reads) == 2


def test_an_id_is_trusted_only_for_the_cell_that_raised(monkeypatch):
    """A review: nothing failed without the check that the id remembered is the raising cell's. A silent execution
    fires no ``pre_run_cell``, so the id then remembered is the last cell's: the raising code is found by its text."""
    import types
    cells = (feedback._Cell("a", "x = 1", "x = 1", frozenset({"x"})),
             feedback._Cell("b", "print(x)", "print(x)", frozenset()))
    monkeypatch.setattr(feedback, "_running", types.SimpleNamespace(cell_id="a", transformed_cell="x = 1"))
    assert feedback._here(cells, "print(x)") == 1, "the last cell's id, not this code's: found by its text"
    assert feedback._here(cells, "x = 1") == 0
