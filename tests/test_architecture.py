"""docs/architecture.md stays true: imports flow one way, and the files it (and docs/performance.md) names exist."""
import ast
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "esxlab"


def module_imports() -> dict[str, set[str]]:
    """esxlab module (dotted, relative to the package) → the esxlab modules it imports at top level
    or in functions (a lazy import is still an edge of the graph)."""
    graph = {}
    for path in PKG.rglob("*.py"):
        parts = path.relative_to(PKG).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = parts[:-1]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package[:len(package) - node.level + 1] if node.level > 1 else package
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
                names = [target] if node.module else [".".join([*base, a.name]) for a in node.names]
                deps.update(n.strip(".") for n in names)
        graph[name] = deps
    return {m: {d for d in deps if d in graph or any(g.startswith(d + ".") for g in graph)} - {m}
            for m, deps in graph.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of ``graph`` (module → modules it imports) as a path, or [] if none."""
    state: dict[str, int] = {}             # 1: on the current path, 2: done

    def visit(m: str, path: list[str]) -> list[str]:
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                return path[path.index(d):] + [d]
            if d not in state:
                found = visit(d, path + [d])
                if found:
                    return found
        state[m] = 2
        return []

    for m in sorted(graph):
        if m not in state:
            found = visit(m, [m])
            if found:
                return found
    return []


def test_the_package_has_no_import_cycle():
    """No esxlab module imports, directly or through others, one that imports it (package __init__s,
    which only re-export their modules, aside)."""
    graph = module_imports()
    inits = {m for m in graph if (PKG / Path(*m.split(".")) / "__init__.py").exists()}
    cycle = find_cycle({m: deps - inits for m, deps in graph.items() if m not in inits})
    assert not cycle, f"import cycle: {' → '.join(cycle)}"


def test_the_cycle_check_can_fail():
    """The check finds a circle, and sees a lazy import inside a function (the kind that once made one)."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []
    assert "reclaim" in module_imports()["trace"]


def layer_rows(page: str) -> list[str]:
    """The lines of the architecture page's drawing of the layers, top row first (rules left out)."""
    block = page.split("```", 2)[1]
    return [line for line in block.splitlines() if line.strip() and not line.strip().startswith("─")]


def layer_of(module: str, rows: list[str]) -> int | None:
    """The row that places ``module``: the lowest row naming it (``name.py`` for a top-level module, ``package/``
    for a module of a subpackage; a higher row may name it too, as what it uses)."""
    name = module.split(".")[0]
    pattern = rf"(?<![\w/]){name}/" if "." in module or (PKG / name).is_dir() else rf"(?<![\w/]){name}\.py"
    hits = [i for i, line in enumerate(rows) if re.search(pattern, line)]
    return hits[-1] if hits else None


def upward_imports(graph: dict[str, set[str]], rows: list[str]) -> list[str]:
    """Every import of a module placed in a higher row than the importer's (package __init__s, which re-export,
    and the package's own __init__ aside)."""
    inits = {m for m in graph if (PKG / Path(*m.split(".")) / "__init__.py").exists()}
    return [f"{m} (row {layer_of(m, rows)}) imports {d} (row {layer_of(d, rows)})"
            for m, deps in sorted(graph.items()) if m not in inits and m
            for d in sorted(deps - inits) if layer_of(d, rows) < layer_of(m, rows)]


def test_imports_follow_the_layers_drawn_on_the_architecture_page():
    """Every esxlab module is placed in the drawing, and imports only from its own row or rows below it (vm.py
    importing policy.py, drawn above it, went unseen by the cycle check)."""
    rows = layer_rows((ROOT / "docs" / "architecture.md").read_text())
    graph = module_imports()
    assert not [m for m in graph if m and layer_of(m, rows) is None], "modules missing from the drawing"
    assert upward_imports(graph, rows) == []


def test_the_layer_check_can_fail():
    rows = [" host.py", " policy.py  vm.py", " sharing/ base", " machine.py"]
    assert upward_imports({"machine": {"host"}, "sharing.base": {"machine"}, "vm": {"policy"}}, rows) == \
        ["machine (row 3) imports host (row 0)"]


@pytest.mark.parametrize("page", ["architecture.md", "performance.md"])
def test_files_named_in_the_architecture_page_exist(page):
    """Every ``something.py`` the page (or its speed log) names is in the repository (but "a new `x.py`", a
    proposal)."""
    text = re.sub(r"a new `[^`]+`", "", (ROOT / "docs" / page).read_text())
    names = set(re.findall(r"[\w/]+\.py\b", text))
    missing = [n for n in sorted(names)
               if not any((base / n).exists() for base in (ROOT, PKG, PKG / "sharing", PKG / "views",
                                                          PKG / "experiments", ROOT / "tests"))
               and "<" not in n]
    assert not missing, f"docs/{page} names files that do not exist: {missing}"


# The model: everything under esxlab/ but the layers above it (views, exercises, experiments) and the
# grading helpers. A mechanism the size of memory compression (a reclaim stage and a backing store,
# later ESX) must live in its own module plus the four places meant for plugging one in.
NOT_MODEL = {"views", "problems", "experiments", "checks.py", "feedback.py", "exercises.py"}
PLUG_IN_FILES = {"compression.py", "metrics.py", "config.py", "host.py", "workloads/"}
PACKAGES_AS_ONE = {"workloads"}      # each workload's own `compressible` is one place: the workloads'


def _place(path: Path) -> str:
    """``path`` relative to ``esxlab/``; a file of :data:`PACKAGES_AS_ONE` as its package (``workloads/``)."""
    rel = path.relative_to(PKG)
    return f"{rel.parts[0]}/" if rel.parts[0] in PACKAGES_AS_ONE else rel.as_posix()


def code_text(path: Path) -> str:
    """``path``'s source without its comments (a comment naming a mechanism is not code serving it)."""
    with path.open() as f:
        return " ".join(t.string for t in tokenize.generate_tokens(f.readline) if t.type != tokenize.COMMENT)


def model_files_mentioning(word: str) -> set[str]:
    """The model files (paths relative to ``esxlab/``, :func:`_place`) whose code (names, strings, docstrings; not
    comments) contains ``word``, any case."""
    return {_place(p) for p in PKG.rglob("*.py")
            if p.relative_to(PKG).parts[0] not in NOT_MODEL and word in code_text(p).lower()}


def test_compression_touches_five_model_files():
    """Memory compression lives in compression.py, its rows (metrics.py), its parameters (config.py),
    its one wiring place (host.py) and how well each workload compresses (workloads/): the VM,
    the pmap, the machine, the swapper and reclamation serve it through generic stages and stores."""
    found = model_files_mentioning("compress")
    assert found == PLUG_IN_FILES, (
        f"model files naming 'compress' in code, strings or docstrings: {sorted(found)}; memory compression must "
        f"stay in {sorted(PLUG_IN_FILES)} (docs/architecture.md, 'A new reclaim stage or backing store'): "
        f"{sorted(found - PLUG_IN_FILES)} should reach it through generic stages and stores")
    assert len(PLUG_IN_FILES) <= 5


def test_the_mention_check_can_fail():
    """The check sees a mention anywhere in a model file (a docstring too) and skips the layers above."""
    assert "pmap.py" in model_files_mentioning("per-state counts")
    assert "reclaim.py" in model_files_mentioning("share before swap")
    assert not any(f.startswith(("views/", "experiments/")) for f in model_files_mentioning("compress"))


def test_the_compression_check_reads_code_not_comments(tmp_path):
    """The check that compression stays in five files failed on a comment naming it."""
    src = tmp_path / "m.py"
    src.write_text("x = 1  # swapped, balloon, compressed\ny = 'compress me'\n")
    text = code_text(src)
    assert "compressed" not in text and "compress me" in text
