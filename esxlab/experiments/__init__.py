"""The paper's experiments, and a few beyond it, as functions of their parameters.

Each module here has ``run(seed=0, **params) -> Result`` (see :mod:`.result`), a ``PARAMS``
dict of knobs (see :mod:`.params`) whose defaults reproduce the paper's set-up, a one-line
``TITLE``, and a docstring stating and defending its tolerances.

    import esxlab as esx
    res = esx.experiments.fig7.run(seed=0, tax_rate=0.5)
    print(res.render())

Any experiment runs over a grid of its ``PARAMS`` and seeds with :func:`sweep` (see
:mod:`.sweeps`), locally with joblib or on a Dask cluster:

    table = esx.experiments.sweep("fig7", params={"tax_rate": [0, 0.75]}, seeds=range(4))

The paper's digitized curves (Figures 2, 6, 7, 8) come from :func:`paper_series`.

Runs that share a prefix are kept in this process and reused (:mod:`.common`), keyed on the seed and
the parameters, not on the model's code: after changing the model or a workload in a running session,
call :func:`clear_cache` (else the same run returns its result from before the change).

To sweep an experiment of your own, write a module with the same contract anywhere Python imports it
from (e.g. ``myexp.py`` in the current directory): ``PARAMS`` (name → :class:`.params.Param`), ``run(seed=0,
**params) -> Result``, optionally ``RULES`` and ``TITLE`` (a Result made with ``fitted=`` marks the predictions an
invented value was fitted to: :attr:`.result.Row.fitted`; :mod:`.fig7` is the example), and give it, or
its import name, to :func:`sweep` or ``python -m esxlab sweep mypkg.myexp``: it is checked as
:func:`check_module` says, and worker processes import it by that name (a module they cannot import,
defined in ``__main__`` or a notebook, runs only with ``jobs=1``, in this process). :func:`sweep`
imports your module again unless this process imported its file as it is now, so that every run,
here or in a worker, runs that file. To add one to the package, and so to ``reproduce``, which
compares it with the paper, write ``esxlab/experiments/<name>.py`` and add ``<name>`` to
:data:`EXPERIMENTS` (in the order ``python -m esxlab reproduce`` should run it).
"""
from __future__ import annotations

import importlib
import re
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import ConfigError, did_you_mean, first_line, shorten
from .common import clear_cache
from .paper import paper_series
from .params import Param, Rule
from .result import Result, Row, render_table

#: module names, in the order the paper presents them, then beyond-the-paper studies
EXPERIMENTS: list[str] = [
    "fig2",          # §3.2  balloon overhead
    "fig4",          # §4.3  page sharing, homogeneous VMs
    "fig5",          # §4.3  page sharing, production deployments
    "fig6",          # §5.3  active-memory sampling
    "fig7",          # §5.4  idle memory tax
    "tax_sweep",     # beyond: τ from 0 to 0.95
    "fig8",          # §6.3  dynamic reallocation
    "remap_io",      # §7    hot I/O page remapping
    "ksm_vs_esx",    # beyond: ESX sharing vs Linux KSM
    "replacement",   # beyond: random vs clock hypervisor replacement, double paging
    "balloon_vs_paging",  # beyond: ballooning vs host paging, tight and mild squeezes
    "esx_today",     # later ESX: ESXi 6 states, limits, compression, large pages beside 2002
]

#: experiments that run the same simulations (Figure 7's run is the tax sweep's τ = 0.75 copy,
#: :func:`.fig7.after_change`): ``reproduce`` runs a group's members on one seed in one task,
#: so the shared part runs once
SHARED_RUNS: tuple[tuple[str, ...], ...] = (("fig7", "tax_sweep"),)

#: seconds one seed of each takes with its defaults, alone in one process (2-core reference
#: machine, 2026-12-01): ``reproduce`` starts the longest tasks first, so that its workers finish
#: together (longest-processing-time-first scheduling). A figure that is off only costs time; an
#: experiment not listed counts as 0 s.
RUN_S: dict[str, float] = {"fig2": 4.8, "fig4": 7.3, "fig5": 5.8, "fig6": 0.8, "fig7": 4.0, "tax_sweep": 7.9,
                           "fig8": 9.5, "remap_io": 0.7, "ksm_vs_esx": 4.2, "replacement": 1.3,
                           "balloon_vs_paging": 1.1, "esx_today": 1.4}

__all__ = ["EXPERIMENTS", "RUN_S", "SHARED_RUNS", "Result", "Row", "SweepFailed", "SweepInterrupted", "SweepTable", "check_module",
           "clear_cache", "get", "lookup", "paper_series", "render_table", "sweep", *EXPERIMENTS]
_SWEEPS = ("sweep", "SweepFailed", "SweepInterrupted", "SweepTable")        # from .sweeps on first use (it loads joblib and tqdm)


#: what an experiment module of your own must have (:func:`check_module`)
CONTRACT = ("PARAMS, a dict of parameter name → esxlab.experiments.params.Param, and run(seed=0, **params) "
            "returning a Result, optionally RULES (a tuple of esxlab.experiments.params.Rule) and TITLE, as "
            "esxlab/experiments/fig7.py has")
_IMPORT_NAME = re.compile(r"[^\W\d]\w*(\.[^\W\d]\w*)*")


def lookup(experiment: str | float | ModuleType, *, own: bool = True) -> str:
    """The name ``experiment`` goes by: a package experiment's module name ("fig7") for that name, its
    figure number (7, "7" or a whole float, 7.0) or its module; with ``own``, also an experiment module of your
    own, given by its import name ("mypkg.myexp", imported here) or as the module, whose name is its ``__name__``
    (a script's run as ``__main__``: its file's name, "myexp" for myexp.py; checked: :func:`check_module`).
    ConfigError for anything else (``own=False``: anything but the package's experiments, as
    ``reproduce``, which compares with the paper, allows)."""
    return _find(experiment, own)[0]


def get(experiment: str | float | ModuleType) -> ModuleType:
    """The experiment module for ``experiment``: the package's, or one of your own (see :func:`lookup`)."""
    return _find(experiment, True)[1]


def check_module(module: ModuleType) -> ModuleType:
    """``module`` if it can be swept: it has :data:`CONTRACT`'s ``PARAMS`` (keys: names of ``run``'s
    keyword arguments other than ``seed``) and ``run``, and its ``RULES``, if any, are Rules; else
    ConfigError naming what is missing or wrong. Source: invented."""
    wrong = _wrong(module)
    if wrong:
        raise ConfigError(f"experiment module {module.__name__!r} {wrong}; an experiment module has {CONTRACT}.")
    return module


def _wrong(module: ModuleType) -> str | None:
    """What keeps ``module`` from being an experiment module, as a predicate ("has no PARAMS"); None if nothing."""
    params, rules = getattr(module, "PARAMS", None), getattr(module, "RULES", ())
    if params is None:
        return "has no PARAMS"
    if not isinstance(params, dict):
        return f"has PARAMS = {shorten(params)}, not a dict"
    for key, spec in params.items():
        if not isinstance(spec, Param):
            return f"has PARAMS[{key!r}] = {shorten(spec)}, not a Param"
        if not isinstance(key, str) or not key.isidentifier() or key == "seed":
            return f"has the parameter name {key!r}, not a keyword argument of run other than seed"
        try:
            spec.validate(module.__name__, key, spec.default)
        except ConfigError as err:              # (sweep --list showed such a default, and offered it as an example)
            return f"has PARAMS[{key!r}] whose default its own range refuses ({str(err).removesuffix('.')})"
    if not callable(getattr(module, "run", None)):
        return "has no run function"
    if not isinstance(rules, (tuple, list)) or not all(isinstance(r, Rule) for r in rules):
        return f"has RULES = {shorten(rules)}, not a tuple of Rule"
    return None


def _find(experiment: str | float | ModuleType, own: bool) -> tuple[str, ModuleType]:
    """(:func:`lookup`'s name, :func:`get`'s module) of ``experiment``."""
    if isinstance(experiment, ModuleType):
        name = experiment.__name__.removeprefix(f"{__name__}.")
        if name in EXPERIMENTS and experiment.__name__ == f"{__name__}.{name}":    # (not a fig7.py of your own)
            return name, experiment
        if own:
            return _own_name(experiment), check_module(experiment)
    else:
        key = str(experiment).strip()
        # a figure number as a whole float (7.0, np.float64(7.0), "7.0" typed) is that figure, as resolve() reads
        # 10.0 as 10
        key = key.split(".")[0] if re.fullmatch(r"\d+\.0+", key) else key
        for candidate in (key.lower(), f"fig{key.lower()}", key.removeprefix(f"{__name__}.")):
            if candidate in EXPERIMENTS:
                return candidate, importlib.import_module(f"{__name__}.{candidate}")
        module = _import(key) if own and isinstance(experiment, str) else None
        if module is not None:
            return key, check_module(module)
    figures = ", ".join(e[3:] for e in EXPERIMENTS if e[:3] == "fig" and e[3:].isdigit())
    number, name = f"a figure number ({figures})", f"a name ({', '.join(EXPERIMENTS)})"
    allowed = (f"{number}, {name} or the import name of a module of your own, e.g. mypkg.myexp, with PARAMS and "
               "run like esxlab/experiments/fig7.py" if own else f"{number} or {name}: reproduce compares with the "
               "paper, so it runs only the package's experiments (sweep also runs your own)")
    why = _why_unknown(experiment) if own else did_you_mean(experiment, EXPERIMENTS)
    raise ConfigError(f"unknown experiment {experiment!r}{why}; choose {allowed}.")


def _why_unknown(experiment: object) -> str:
    """Why an import name found no module of your own: a file name given (myexp.py), a package experiment's
    name misspelled (did you mean …?), or no module by that name that Python can import from here."""
    key = experiment.strip() if isinstance(experiment, str) else ""
    if key.endswith(".py"):
        path = Path(key)
        top = path.parent                          # pkg/exp.py with pkg/__init__.py: pkg.exp, from pkg's directory
        while top.name and (top / "__init__.py").is_file():
            top = top.parent
        name = ".".join([*path.parent.relative_to(top).parts, path.stem])
        where = "" if top.resolve() == Path.cwd().resolve() else f", from {top}/"
        return f" (a file name: give its import name, {name!r}{where})"
    if _unlisted_experiment(key):
        return f" ({_unlisted(key)})"
    package = key.startswith(f"{__name__}.")                     # esxlab.experiments.fig77: the package's own
    close = did_you_mean(key.removeprefix(f"{__name__}."), EXPERIMENTS).removeprefix(" (").removesuffix(")") \
        if key else ""
    if package or not _IMPORT_NAME.fullmatch(key):
        return f" ({close})" if close else ""
    own = (f"no module {key!r} can be imported from here: work in the directory that holds "
           f"{key.replace('.', '/')}.py, or install it")
    return f" ({close} If it is a module of your own, {own})" if close else f" ({own})"


def _unlisted_experiment(name: str) -> bool:
    """Whether ``esxlab/experiments/<name>.py`` is an experiment (it defines PARAMS and run) not in EXPERIMENTS."""
    path = Path(__file__).parent / f"{name}.py"
    if not name or name in EXPERIMENTS or not _IMPORT_NAME.fullmatch(name) or not path.is_file():
        return False
    text = path.read_text()
    return "PARAMS" in text and "def run(" in text


def _unlisted(name: str) -> str:
    """What to do with ``esxlab/experiments/<name>.py``, a module not in :data:`EXPERIMENTS`."""
    return (f"esxlab/experiments/{name}.py exists but is not in esxlab.experiments.EXPERIMENTS: add it there "
            f"(docs/architecture.md, 'A new experiment'), or give its import name, {__name__}.{name}")


def _own_name(module: ModuleType) -> str:
    """A module of your own's name in tables: its ``__name__``, or, for a script run as ``__main__``, its
    file's name without ``.py``."""
    file = getattr(module, "__file__", None)
    return Path(file).stem if module.__name__ == "__main__" and file else module.__name__


def _import(name: str) -> ModuleType | None:
    """The module imported by ``name``, None if there is none by that name. An error raised while importing it
    (a SyntaxError, or one raised by its code, e.g. a package it imports that is missing) is the module's to
    fix: ConfigError in one sentence naming the error and the line (the error, with its traceback, is its
    ``__cause__``)."""
    if not _IMPORT_NAME.fullmatch(name):
        return None
    try:
        return importlib.import_module(name)
    except SyntaxError as e:                     # its file and line tell the whole story: one sentence
        raise ConfigError(f"experiment module {name!r} does not compile: {Path(e.filename or name).name} line "
                          f"{e.lineno}: SyntaxError: {e.msg}; fix it and run again.") from e
    except Exception as e:
        missing = isinstance(e, ModuleNotFoundError)
        if missing and e.name is not None and f"{name}.".startswith(f"{e.name}."):
            return None                          # no module of that name (or no package holding it)
        todo = "install the missing module, or fix the import," if missing else "fix it"
        raise ConfigError(f"experiment module {name!r} raised on import: {_import_line(e)}{type(e).__name__}: "
                          f"{first_line(str(e), 200)}; {todo} and run again.") from e


def _import_line(err: Exception) -> str:
    """"<file> line <n>: " of the first frame of ``err``'s traceback, caught in :func:`_import`, below the import
    machinery's: the line of the module's own file (or its package's ``__init__.py``) that raised or started
    what raised; "" if none."""
    mine = [f for f in traceback.extract_tb(err.__traceback__)[1:]
            if not f.filename.startswith("<") and Path(f.filename).parent != Path(importlib.__file__).parent]
    if not mine:
        return ""
    path = Path(mine[0].filename)
    return f"{path.parent.name + '/' if path.name == '__init__.py' else ''}{path.name} line {mine[0].lineno}: "


def __getattr__(name: str) -> Any:
    """``esx.experiments.fig7`` (and :func:`sweep`) imports the module on first use."""
    if name in EXPERIMENTS:
        return get(name)
    if name in _SWEEPS:
        return getattr(importlib.import_module(f"{__name__}.sweeps"), name)
    unlisted = f" ({_unlisted(name)})" if _unlisted_experiment(name) else ""
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}{unlisted}")


def __dir__() -> list[str]:
    """The module's names and those :func:`__getattr__` imports on first use (:func:`sweep`, the experiments)."""
    return sorted({*globals(), *__all__})
