"""Facts the docs copy from the code stay true: the count of exercises, the experiments' names, the
problems' table, and the registries docs/architecture.md's checklists name (four of them went
stale, and nothing had failed). A new exercise, workload or experiment that is not registered
fails here, not silently. (invented: the kit's own upkeep)"""
import ast
import importlib
import importlib.util
import pkgutil
import re
from pathlib import Path

from esxlab import experiments, problems
from esxlab.experiments import paper
from esxlab.problems import Problem

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
NUMBER_WORDS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                "sixteen seventeen eighteen nineteen twenty").split()
NOT_EXERCISES = {"base", "instructor"}          # problems' framework modules


def _listed(text: str, start: str, end: str) -> list[str]:
    """The comma-separated names in ``text`` between ``start`` and the next ``end`` (comment marks and
    line breaks of a code block dropped)."""
    at = text.index(start) + len(start)
    return [n.strip(" #\n") for n in text[at:text.index(end, at)].split(",")]


def test_the_readme_counts_the_exercise_notebooks_there_are():
    word = re.search(r"holds (\w+) nbgrader-style exercise notebooks", README).group(1)
    assert word in NUMBER_WORDS, f"README.md's Graded exercises counts the exercises as {word!r}: use a number word"
    notebooks = sorted(p.stem for p in (ROOT / "exercises" / "source").glob("*.ipynb"))
    assert NUMBER_WORDS.index(word) == len(notebooks), \
        f"README.md's Graded exercises says {word} notebooks; exercises/source has {len(notebooks)}: {notebooks}"


def test_the_readme_names_the_experiments_reproduce_runs_in_its_order():
    listed = _listed(README, "(or a name: ", ")")
    assert listed == experiments.EXPERIMENTS, f"README.md's Reproducing the paper lists {listed}; EXPERIMENTS is " \
                                              f"{experiments.EXPERIMENTS}"


def test_the_readme_names_the_figures_with_digitized_curves():
    assert _listed(README, "curves are digitized for: ", " (") == list(paper.FIGURES)
    assert [f"fig{n}" for n in _listed(README, "digitized curves (Figures ", ")")] == list(paper.FIGURES)


def _problem_modules() -> dict[str, set[str]]:
    """Each exercise module of esxlab.problems → the names of the Problem subclasses it defines."""
    found = {}
    for info in pkgutil.iter_modules(problems.__path__):
        if info.name not in NOT_EXERCISES:
            module = importlib.import_module(f"{problems.__name__}.{info.name}")
            found[info.name] = {c.__name__ for c in vars(module).values() if isinstance(c, type)
                                and issubclass(c, Problem) and c.__module__ == module.__name__}
    return found


def test_the_problems_docstring_table_is_the_package():
    """esxlab/problems/__init__.py's table: one row per module, named after its exercise notebook, with
    every problem the module defines, each exported."""
    rows = re.findall(r"^\| :mod:`\.(\w+)` \| (\w+) \| (.+) \|$", problems.__doc__, re.M)
    table = {module: (notebook, set(re.findall(r":class:`(\w+)`", classes))) for module, notebook, classes in rows}
    package = {m: (m, classes) for m, classes in _problem_modules().items()}
    wrong = {m: (table.get(m), package.get(m)) for m in table.keys() | package.keys() if table.get(m) != package.get(m)}
    assert not wrong, f"esxlab/problems/__init__.py's table (row, package): {wrong}"
    for module, (notebook, classes) in table.items():
        assert (ROOT / "exercises" / "source" / f"{notebook}.ipynb").exists(), notebook
        assert classes <= set(problems.__all__), (module, classes - set(problems.__all__))


def test_every_experiment_module_is_registered():
    """A module of esxlab/experiments with PARAMS and run is in EXPERIMENTS (else reproduce, the README's
    table and the tests that loop over EXPERIMENTS skip it, silently)."""
    modules = []
    for path in sorted((ROOT / "esxlab" / "experiments").glob("*.py")):
        tree = ast.parse(path.read_text())
        names = {t.id for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
                 for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
        names |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        if {"PARAMS", "run"} <= names:
            modules.append(path.stem)
    assert set(modules) == set(experiments.EXPERIMENTS), \
        f"experiment modules not in EXPERIMENTS: {set(modules) - set(experiments.EXPERIMENTS)}"


def test_the_registries_the_architecture_page_names_exist():
    """Every registry (an UPPER_CASE name in backticks) docs/architecture.md tells a contributor to add to
    is defined at the top level of a module of esxlab/ or tests/, or in a class there (``CounterTable.ALARMS``)."""
    named = set(re.findall(r"`(?:[\w.]+\.)?([A-Z][A-Z0-9_]{2,})`", (ROOT / "docs" / "architecture.md").read_text()))
    defined = set()
    for path in [*(ROOT / "esxlab").rglob("*.py"), *(ROOT / "tests").glob("*.py")]:
        defined |= set(re.findall(r"^ *([A-Z][A-Z0-9_]+)\s*(?::[^=\n]*)?=", path.read_text(), re.M))
    assert named and not named - defined, f"docs/architecture.md names registries that do not exist: {named - defined}"


def test_test_files_are_named_by_what_they_check():
    """docs/architecture.md, "Where the tests live": no test file named after the session, trial or review that
    wrote it, and every file the section names exists."""
    history = re.compile(r"(trial|student|instructor|engineer|research|session|verify)\d|findings|_debts|_nits|_friction"
                         r"|_slips|review|audit|tester")
    tests = ROOT / "tests"
    assert [p.name for p in tests.glob("test_*.py") if history.search(p.stem)] == []
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = page[page.index("## Where the tests live"):page.index("## Speed")]
    named = set(re.findall(r"`((?:test_\w+|notebook_cells|answers|reveals|policies|invariants|screenshot_source|conftest)\.py)`", section))
    assert len(named) > 40 and not [n for n in named if not (tests / n).exists()]
    # test files do not import each other: shared helpers live in the modules the section names
    imports = {p.name: [n.module for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
                        if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("test_")]
               for p in tests.glob("test_*.py")}
    assert {k: v for k, v in imports.items() if v} == {}
