"""Every public function, method and class of esxlab has a docstring, and every public function and method
type hints on its parameters and return."""
import importlib
import inspect
import pkgutil
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import esxlab
import esxlab as esx
from esxlab.experiments import fig7, fig8

# Below vm.py a `vm` parameter is duck-typed: importing VM there would break the layers (test_architecture).
DUCK_TYPED = {"vm"}


def modules(package: types.ModuleType = esxlab) -> Iterator[types.ModuleType]:
    """``package`` and its public modules, recursively."""
    yield package
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if not info.name.rsplit(".", 1)[1].startswith("_"):
            module = importlib.import_module(info.name)
            yield from modules(module) if info.ispkg else [module]


def public(module: types.ModuleType) -> Iterator[tuple[str, object, bool]]:
    """(qualified name, object, whether it is a method) of the module's public functions and classes
    (``__all__`` if it has one, else the names without a leading underscore) defined in it, and of those
    classes' public methods and properties."""
    names = getattr(module, "__all__", [n for n in vars(module) if not n.startswith("_")])
    for name in names:
        obj = getattr(module, name)
        if (inspect.isfunction(obj) and obj.__name__ != "<lambda>" or inspect.isclass(obj)) \
                and obj.__module__ == module.__name__:             # (a lambda is a constant's value: a rule)
            yield f"{module.__name__}.{name}", obj, False
            if inspect.isclass(obj):
                yield from ((f"{module.__name__}.{name}.{n}", v, True) for n, v in vars(obj).items()
                            if not n.startswith("_") and isinstance(v, (types.FunctionType, staticmethod,
                                                                       classmethod, property)))


def has_doc(obj: object) -> bool:
    """A class has a docstring of its own or from a base of its own package (not a dataclass's generated
    ``Name(...)``); a function, method or property its own or the one it overrides (inspect.getdoc)."""
    if not inspect.isclass(obj):
        return bool(inspect.getdoc(getattr(obj, "__func__", obj)))
    package = obj.__module__.split(".")[0]
    return any(doc and not re.fullmatch(rf"{c.__name__}\(.*\)", doc.strip(), re.S)
               for c in obj.__mro__ if c.__module__.split(".")[0] == package
               for doc in [c.__dict__.get("__doc__")])


def unhinted(obj: object, method: bool) -> list[str]:
    """The parameters of a function, method or property getter without a type hint (a method's ``self`` or
    ``cls`` and :data:`DUCK_TYPED` names aside), and "return" if it has no return hint; [] for a class."""
    if inspect.isclass(obj):
        return []
    func = obj.fget if isinstance(obj, property) else getattr(obj, "__func__", obj)
    signature = inspect.signature(func)
    params = list(signature.parameters.values())[method and not isinstance(obj, staticmethod):]
    missing = [p.name for p in params if p.annotation is p.empty and p.name not in DUCK_TYPED]
    return missing + ["return"] * (signature.return_annotation is signature.empty)


def checked() -> Iterator[tuple[str, object, bool]]:
    """Every public name this file checks."""
    return ((name, obj, method) for module in modules() for name, obj, method in public(module))


def test_every_public_name_has_a_docstring():
    missing = [name for name, obj, _ in checked() if not has_doc(obj)]
    assert not missing, f"public names without a docstring: {missing}; add one (one to three lines, the paper's §)."


def test_every_public_function_has_type_hints():
    missing = {name: bad for name, obj, method in checked() if (bad := unhinted(obj, method))}
    assert not missing, f"public functions with a parameter or return without a type hint: {missing}."


@dataclass
class _Base:
    x: int

    def victims(self, vm, n: int) -> list[int]:
        """The base's contract."""
        return []


class _Sub(_Base):
    def victims(self, vm, n):
        return []

    @staticmethod
    def size(pages: int) -> int:
        return pages


def _bare(a, b: int):
    pass


def test_the_checks_can_fail():
    """A bare function, a dataclass's generated docstring, a static method are caught; an override's inherited
    docstring and a duck-typed ``vm`` pass; the walk sees ``__all__`` and a class's own public methods."""
    assert [has_doc(o) for o in (_Base, _Sub, _bare, _Sub.victims, vars(_Sub)["size"])] == [False] * 3 + [True, False]
    assert unhinted(_bare, False) == ["a", "return"] and unhinted(_Base.victims, True) == []
    assert unhinted(_Sub.victims, True) == ["n", "return"] and unhinted(vars(_Sub)["size"], True) == []
    module = types.ModuleType(__name__)
    module.__all__, module._Sub, module._bare = ["_Sub"], _Sub, _bare
    assert [name for name, _, _ in public(module)] == [f"{__name__}._Sub", f"{__name__}._Sub.victims",
                                                       f"{__name__}._Sub.size"]


ROOT = Path(__file__).resolve().parents[1]


def flat(text):
    return " ".join(text.split())


def test_d5_no_later_esx_default_is_called_the_papers():
    assert "test_at_the_papers_rates" not in (ROOT / "tests" / "test_sharing.py").read_text(encoding="utf-8")
    assert "def test_defaults_are_the_papers" not in (ROOT / "tests" / "test_config.py").read_text(encoding="utf-8")
    perf = flat((ROOT / "docs" / "performance.md").read_text(encoding="utf-8"))
    assert "paper's rates" not in perf
    assert "later ESX 2.x's 50 pages/s per VM and 200 in all; the paper gives none, §4.3" in perf
    sharing = esx.SharingConfig()
    assert (sharing.scan_vm_pages_s, sharing.scan_total_pages_s) == (50, 200)


def test_the_era_table_says_both_presets_sample_every_30_s_and_neither_tax_is_progressive():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    era = readme[readme.index("The two eras side by side"):readme.index("<!-- reproduce:begin")]
    row = next(line for line in era.splitlines() if line.startswith("| sampling period"))
    assert "vSphere 6.7 and 7.0 default to 60 s" in row and "sample_period_s=60" in row
    assert esx.HostConfig.esx2002().sample_period_s == esx.HostConfig.esxi6().sample_period_s == 30
    assert esx.HostConfig.esxi6(sample_period_s=60).sample_period_s == 60
    row = next(line for line in era.splitlines() if line.startswith("| idle memory tax"))
    assert "progressive, which esxlab does not model" in row


def test_the_readmes_list_of_the_papers_own_misfits_points_at_what_holds_each():
    from esxlab.experiments import fig2, fig6
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "Where the paper's own numbers do not fit together" in readme
    assert "1024 − 160 − (1105 − 254) = 13 MB" in readme and fig8.paper_free_bound()[5.0] == 13
    assert "`help(fig6)`" in readme and "The averages themselves" in fig6.__doc__
    assert "*sum of allocations after the change*" in readme
    assert fig7.run(0).row("sum of allocations after the change").note.startswith("fig7: the paper's allocations drop by 14")
    assert "1.7 % at 160 MB but 2.2 % at 192 MB" in readme and "1.7 % at 160 MB" in fig2.NOT_MONOTONIC


def test_the_readme_says_how_to_test_one_notebook():
    readme = (ROOT / "README.md").read_text()
    assert "pytest notebooks/05_idle_memory_tax.ipynb" in readme


def test_the_package_cites_only_what_the_repository_holds():
    """Docstrings said "(design §2)" (VMStats, HostStats) and "see paper-notes.md" (config), documents not in the
    repository: the paper's sections, the README and docs/ are what a reader can open."""
    cited = {f"{path.relative_to(ROOT)}:{n}": line.strip()
             for path in sorted((ROOT / "esxlab").rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if re.search(r"design §|design\.md|paper-notes", line)}
    assert not cited, f"citations of documents not in the repository: {cited}"
    assert "design" not in esx.VMStats.__doc__ and "(§6.3)" in esx.HostStats.__doc__


def test_the_sweeps_columns_say_every_unit_the_tables_use_and_how_to_show_the_bar_from_python():
    """A student met "acc/s" in a sweep's `unit` column with nothing in the README to say what it counts, and
    `sweep()` in Python showed no bar, the README's example not saying `progress=True` turns it on."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    generated = readme.split("<!-- reproduce:begin")[1].split("```")[1].splitlines()
    header = next(line for line in generated if "esxlab mean ± sd" in line)
    start, end = header.index("esxlab mean ± sd"), header.index("tolerance")
    units = {m.group(1) for line in generated if (m := re.fullmatch(r"\S+ ± \S+ (\S+)", line[start:end].strip()))}
    assert {"MB", "%", "acc/s"} <= units
    sweeps = " ".join(readme.split("\n## Sweeps")[1].split("\n## ")[0].split())
    said = re.search(r"`unit` \(([^)]*)\)", sweeps).group(1)
    assert all(re.search(rf"(^|[ ;,]){re.escape(unit)}[,;) ]", said + ")") for unit in units), (units, said)
    assert "acc/s is the invented cost model's throughput" in said and "blank for a ratio" in said
    assert "progress=True" in sweeps and "progress" in inspect.signature(esx.experiments.sweep).parameters
