"""``python -m esxlab reproduce [--figure N|name] [--seed S | --seeds 0-3] [--jobs N | --scheduler ADDRESS]
[--csv DIR] [--readme README.md] [--plots DIR]``.

Runs the experiments (all of them, or the ones named with ``--figure``, repeatable) on one
seed or several (``--seeds``: a range "0-3" or a list "0,2,5"), ``--jobs`` runs at a time
(joblib; the results do not depend on it; above this computer's cores or the tasks to run, as
many as there are, with a note; the last line names the workers used), prints a progress bar and
a line per finished task to stderr (with one worker, also the running task's simulated minutes), then the
table to stdout: experiment, quantity, the paper's value, esxlab's (over several seeds: mean ±
standard deviation), the tolerance, whether an invented value was fitted to the row ("fitted") and
whether esxlab (the mean) is within it; set-up checks are listed apart from predictions. ``--csv DIR``
also writes the tables (``all_table.csv``: one row per quantity, its value in column ``esxlab`` as the
printed table names it, over several seeds the mean, with ``sd``, ``spread`` and one column per seed:
:func:`.result.write_table_csv`), and each run's traces and decision logs (:meth:`.result.Result.to_csv`); ``--readme FILE`` rewrites
the generated table in FILE (all experiments only); ``--plots DIR`` writes one PNG and one SVG per
digitized figure, paper vs esxlab (Figures 2, 6, 7 and 8: :data:`.paper.FIGURES`; needs
matplotlib, the "plots" extra).
Output directories and files are checked before anything runs. Exit code 0 when it ran (rows
outside their tolerance are reported, not errors), 2 on bad arguments, 1 when a sweep's run raised or the
Dask cluster was lost (one line; a sweep's seeds whose runs all finished are printed and written first), 130 when
interrupted (Ctrl-C: one line, "interrupted", on stderr; see :mod:`esxlab.__main__`; a sweep first prints, and
writes to ``--csv``, the seeds whose runs all finished).

``python -m esxlab sweep EXPERIMENT --param NAME=V1,V2,… [--param …] [--seeds 0-19] [--jobs N]
[--csv FILE] [--scheduler ADDRESS]`` runs one experiment over the grid of the given parameter
values (the others at their defaults) and seeds (:func:`.sweeps.sweep`), prints mean ± sd per
grid point and quantity (one seed: the value alone), and with ``--csv`` writes the tidy table (one
row per run and quantity, its value in column ``value``; the columns: :class:`.sweeps.SweepTable`).
``--scheduler`` sends the runs to a Dask cluster (the "cluster" extra) instead of ``--jobs`` local
processes; the numbers are the same either way. ``sweep EXPERIMENT --list``
prints the experiment's parameters (default, allowed values, unit, how to write two values with
``--param``, meaning), the rules between them (its ``RULES``) and how to write several values and
tuples (alone: it runs nothing, so an option of a run, ``--param`` or ``--seeds``, is refused with it, not
ignored); ``sweep EXPERIMENT --quantities`` runs it once at its defaults (seed 0) and lists its quantities by the
names the tidy table's ``quantity`` column gives them (:func:`.sweeps.describe_quantities`; alone too, as it runs no
sweep); ``sweep --list`` lists the experiments. A space before or after a comma or "=" of ``--param`` or ``--seeds``
(``--param tax_rate = 0.5``), or a range's "-" of ``--seeds`` (``--seeds 0 - 3``), is an error that shows the value
written without it; a range of ``--seeds`` joined otherwise (``0..3``, ``0–3`` with an en dash) is told its joint and
the form with "-" (:func:`.runner.parse_seeds`); an option of one value (``--seeds``, ``--jobs``) given twice is
refused, as a parameter in two ``--param`` is. A grid point that breaks a rule is refused before anything runs.
EXPERIMENT may also be the import name of an experiment module of your own (``sweep mypkg.myexp``: ``PARAMS`` and
``run`` like ``esxlab/experiments/fig7.py``), imported from the current directory or ``sys.path``, as the workers
import it; ``reproduce`` runs only the package's experiments, as it compares them with the paper.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NoReturn, Sequence

from ..errors import ConfigError, Error, ascii_digits, did_you_mean
from ..rng import check_seed
from . import EXPERIMENTS, cluster, get, lookup, runner
from .paper import FIGURES
from .plots import DPI, DPI_RANGE
from .result import Result, Row, check_dir, render_table, write_csv, write_table_csv

if TYPE_CHECKING:
    from .sweeps import SweepTable


#: the options whose value is a list written with commas (their ``dest``): a space in it splits it into words
LISTS = {"param", "seeds", "figure"}
#: those of :data:`LISTS` that also take a range written with a dash ("0-3"), which a space can split too
RANGES = {"seeds"}
#: where a space can split a value of :data:`LISTS` into words (:func:`_joint`), and one of :data:`RANGES` (the
#: joints --seeds takes; :data:`.runner.RANGE_JOINTS` are every joint a range may be written with)
LIST_JOINTS, SEEDS_JOINTS = (",", "="), (",", "=", "-")
#: where a space can split a --param value that writes a range, which --param refuses with its values written out
#: (``tax_rate=0 - 0.5``, ``0 .. 0.5``, ``0 : 0.5``, ``0 to 0.5``: :func:`.sweeps.parse_param` reads each, unsplit, as
#: a range, at the joints of :data:`.runner.RANGE_JOINTS`); a joint made of letters ("to") only as a word of its own
PARAM_JOINTS = (*LIST_JOINTS, *runner.RANGE_JOINTS)


def _negative(word: str) -> bool:
    """Whether a command-line ``word`` that starts with "-" is a negative number (a value, perhaps a list's with its
    comma: "-0.5,"), not an option."""
    try:
        float(word.removesuffix(","))
    except ValueError:
        return False
    return True


def _joint(before: str, word: str, joints: tuple[str, ...] = LIST_JOINTS) -> str | None:
    """The one of ``joints`` at which a space split command-line ``word`` from the word ``before`` it (``0,`` ``1``;
    ``0`` ``,1``; ``tax_rate`` ``=`` ``0.5``: ","; with "-", a range's ``0`` ``-`` ``3``), a joint of letters ("to")
    only as a word of its own; None if ``word`` continues nothing, as an option (``--jobs``) never does."""
    if word.startswith("-") and word != "-" and not _negative(word):
        return None
    return next((j for j in joints if (j in (before, word) if j.isalpha() else
                                       before.endswith(j) or word.startswith(j))), None)


def _joined(before: str, word: str, joints: tuple[str, ...] = LIST_JOINTS) -> bool:
    """Whether command-line ``word`` continues the word ``before`` it, a space having split them at one of ``joints``
    (:func:`_joint`)."""
    return _joint(before, word, joints) is not None


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors are ConfigError sentences ("sweep: …."), printed as
    ``error: …`` without the usage block, as every ``python -m esxlab`` command does."""

    def __init__(self, *args: Any, words: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._after: dict[str, Any] = {}        # dest → the default set after parsing (:meth:`exclusive`)
        self._words = words                     # what to say to a word given without an option, if anything
        self._given: list[str] = []             # the words parsed (:meth:`parse_args`)

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{self.prog.split()[-1]}: {message}.")

    def _hint(self, word: str, parsed: argparse.Namespace) -> str:
        """What to say of the first word argparse did not recognize, ``word`` ("" if nothing), the other words
        ``parsed``."""
        if split := self._split_list(word, getattr(parsed, "experiment", None)):
            return split
        if word.startswith("-"):
            return did_you_mean(word.split("=")[0], [o for o in self._option_string_actions if o[:2] == "--"])
        if word.partition("=")[0] and "=" in word and "--param" in self._option_string_actions:
            return self._one_param(word.partition("=")[0])
        return f"; {self._words}" if self._words else ""

    def _split_list(self, word: str, experiment: str | None) -> str:
        """The hint for a stray ``word`` that a space split from the word before, given to an option of
        :data:`LISTS`: a space before or after a comma or "=" (``--param tax_rate=0, 0.5``, ``--param tax_rate = 0.5``,
        ``--seeds 0 , 1``), or a range's "-" (``--seeds 0 - 3``: :data:`RANGES`; ``--seeds 0 to 3`` and ``0 .. 3`` are
        told to write 0-3), split one list into words; "" for any other word (one that follows the experiment's name,
        a file name that ends in ",", a range's joint with no end after it). A range so split in
        ``--param`` (``tax_rate=0 - 0.5``, ``0 .. 0.5``, ``0 to 0.5``: :data:`PARAM_JOINTS`) is told that --param takes
        no range, with the values written out as :func:`.sweeps.parse_param` writes them for ``experiment`` (as
        given, if it was)."""
        given = self._given
        start = next((i - 1 for i, w in enumerate(given) if w == word and i and _joined(given[i - 1], w, PARAM_JOINTS)),
                     None)
        if start is None:
            return ""
        attached = given[start].startswith("-")               # --param=tax_rate=0,
        option = given[start].partition("=")[0] if attached else given[start - 1] if start else ""
        dest = self._dest(option)
        joints = PARAM_JOINTS if dest == "param" or dest in RANGES else LIST_JOINTS
        if dest not in LISTS or not _joined(given[start], word, joints):
            return ""
        words = given[start:start + 2]                        # the word before and the stray word: one list
        for w in given[start + 2:]:
            if not _joined(words[-1], w, joints):
                break
            words.append(w)
        if words[-1] in PARAM_JOINTS:                         # a range without its end (tax_rate=0.5 to)
            return ""
        split_at = [_joint(a, b, joints) for a, b in zip(words, words[1:])]
        listed = [j in LIST_JOINTS for j in split_at]                       # at a comma or "=", not a range's joint
        other = next((j for j in split_at if j not in SEEDS_JOINTS), None)     # a range's "..", ":" or "to"
        if dest in RANGES and other:
            return f"; {option} takes a range written with '-' and no spaces, not {runner.joint_named(other)}: " \
                   f"{option} {runner.dashed(' '.join(words))}"
        if dest == "param" and not all(listed):
            joint = next(j for j, ok in zip(split_at, listed) if not ok)
            return self._no_range(option, attached, "".join(words), joint, experiment)
        at = "a comma or '='" if all(listed) else "a range's '-' or a comma" if any(listed) else "a range's '-'"
        return (f"; a space before or after {at} splits the value into words: write it without spaces, "
                f"{' '.join(filter(None, ('' if attached else option, ''.join(words))))} (or in quotes)")

    def _no_range(self, option: str, attached: bool, text: str, joint: str, experiment: str | None) -> str:
        """The hint for --param ``text`` (``tax_rate=0-0.5``) that a space around a range's ``joint`` ("-", "..", ":",
        "to") split into words: the values written out, as :func:`.sweeps.parse_param` writes them for ``experiment``
        (as given), if any."""
        from .sweeps import written_out
        try:
            specs = get(experiment).PARAMS if experiment is not None else None
        except Error:                         # (an unknown experiment: its own error comes once this is fixed)
            specs = None
        return (f"; {option} takes a list of values, not a range (a space around its {runner.joint_named(joint)} split "
                f"it into words): write every value, commas between them and no spaces, e.g. "
                f"{written_out(text.partition('=')[2] if attached else text, specs)}")

    def _dest(self, option: str) -> str | None:
        """The ``dest`` of ``option`` as given (perhaps abbreviated, as argparse allows: --par), None if it names no
        option or several; an option named in full is itself (reproduce's --seed, not also --seeds)."""
        if option in self._option_string_actions:
            return self._option_string_actions[option].dest
        dests = {a.dest for o, a in self._option_string_actions.items() if option.startswith("--") and
                 o.startswith(option)}
        return dests.pop() if len(dests) == 1 else None

    def _one_param(self, name: str) -> str:
        """The hint for a word ``name=…`` given after a --param's: a --param of its own; or, if ``name`` has a
        --param too, all its values in that one (a shell writes ``minutes={1,2}`` unquoted as minutes=1 minutes=2)."""
        words = [w.removeprefix("--param=") for w in self._given]
        values = [w.partition("=")[2] for w in words if w.partition("=")[0] == name]
        if len(values) > 1:
            return (f"; several values of {name} go in one --param, commas between them: "
                    f"--param {name}={','.join(values)} (a shell splits {name}={{…}} unquoted into words)")
        return f"; give each parameter its own --param, e.g. --param {name}={values[0] if values else ''}"

    def _once(self) -> None:
        """Refuse an option of one value given more than once (``--seeds 0-3 --seeds 0`` ran seed 0 alone, as
        argparse keeps the last), as a parameter given in two --param is refused (:func:`sweep_main`)."""
        one_value = {a.dest for a in self._actions if isinstance(a, argparse._StoreAction) and a.option_strings}
        given: dict[str, list[str]] = {}
        for i, word in enumerate(self._given):
            option, attached, _ = word.partition("=")
            dest = self._dest(option) if option.startswith("-") else None
            if dest in one_value:
                given.setdefault(dest, []).append(word if attached else " ".join(self._given[i:i + 2]))
        for dest, words in given.items():
            if len(words) > 1:
                option = next(o for o, a in self._option_string_actions.items() if a.dest == dest and o[:2] == "--")
                times = "twice" if len(words) == 2 else f"{len(words)} times"
                self.error(f"{option} is given {times}, in {' '.join(words)}; give it once"
                           f"{' with all its values' if dest in LISTS else ''}")

    def exclusive(self, group: Any, *flags: str, default: Any, **kwargs: Any) -> argparse.Action:
        """``group.add_argument(*flags, **kwargs)`` for a mutually exclusive ``group`` of this parser, with
        ``default`` set after parsing when the option is not given: argparse's groups take a value equal to the
        default (``--seed 0``) for no value, so ``--seed 0 --seeds 0-2`` would pass."""
        action = group.add_argument(*flags, default=None, **kwargs)
        self._after[action.dest] = default
        return action

    def parse_args(self, args: Sequence[str] | None = None,
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        """As argparse's, then the defaults of :meth:`exclusive` options not given; words it does not recognize are a
        ConfigError with a hint (:meth:`_hint`), which reads the words parsed."""
        self._given = list(sys.argv[1:] if args is None else args)       # (for the hints)
        ns, extra = self.parse_known_args(args, namespace)
        if extra:
            self.error(f"unrecognized arguments: {' '.join(extra)}{self._hint(extra[0], ns)}")
        self._once()
        for dest, default in self._after.items():
            if getattr(ns, dest) is None:
                setattr(ns, dest, default)
        return ns


def _whole(lo: int, example: str) -> Callable[[str], int]:
    """An argparse ``type``: the whole number a command-line word writes in ASCII digits, without Python's
    underscores (int() also reads ٣ or ３, :func:`~esxlab.errors.ascii_digits`, and 3_0), or a sentence saying what is
    allowed."""
    def whole(text: str) -> int:
        written = ascii_digits(text)
        if written is not None:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}; allowed: a whole number ≥ {lo} in ASCII "
                                             f"digits (0-9), e.g. {example.split()[0]} {written.strip()}")
        try:
            if "_" in text:                     # int() reads 3_0 as 30; --seeds refuses it
                raise ValueError(text)
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}; allowed: a whole number ≥ {lo}, "
                                             f"e.g. {example}") from None
    return whole


def _parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m esxlab reproduce", description="Reproduce the paper's experiments.",
               words="experiments are chosen with --figure, e.g. reproduce --figure 7 --figure tax_sweep")
    p.add_argument("--figure", "-f", action="append", metavar="N|NAME",
                   help=f"a figure number or experiment name (repeatable, or a list: 7,8); all: "
                        f"{', '.join(EXPERIMENTS)}")
    seeds = p.add_mutually_exclusive_group()
    p.exclusive(seeds, "--seed", type=_whole(0, "--seed 7"), default=0, help="random seed (default 0)")
    seeds.add_argument("--seeds", metavar="0-3", help="several seeds: a range (0-3) or a list (0,2,5); "
                                                      "the table shows mean ± sd")
    _add_runner_options(p)
    p.add_argument("--csv", metavar="DIR", help="also write tables and traces as CSV files into DIR")
    p.add_argument("--readme", metavar="FILE", help="rewrite the generated table in FILE (e.g. README.md)")
    p.add_argument("--plots", metavar="DIR", help="write paper-vs-esxlab figures (PNG and SVG) into DIR, for the "
                                                  f"experiments with a digitized paper figure: {', '.join(FIGURES)}")
    p.add_argument("--dpi", type=_whole(DPI_RANGE[0], "--dpi 240"), default=DPI,
                   help=f"the PNGs' resolution for --plots, in dots per inch (default {DPI}: 900 pixels wide; "
                        f"{DPI_RANGE[0]}–{DPI_RANGE[1]})")
    return p


def _add_runner_options(p: Parser) -> None:
    where = p.add_mutually_exclusive_group()
    p.exclusive(where, "--jobs", "-j", type=_whole(1, "--jobs 2"), default=1,
                help="runs at a time (default 1; same results for any N; at most this computer's cores and the tasks "
                     "to run)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="run on the Dask cluster at ADDRESS (e.g. "
                                                              "tcp://10.0.0.5:8786; the 'cluster' extra) instead")


def _sweep_parser() -> argparse.ArgumentParser:
    p = Parser(prog="python -m esxlab sweep", description="Run one experiment over a grid of its parameters "
                                                           "and seeds.")
    p.add_argument("experiment", nargs="?", metavar="EXPERIMENT",     # optional here: sweep_main names them if missing
                   help=f"a figure number or name (required): {', '.join(EXPERIMENTS)}; or the import name "
                        "of an experiment module of your own (mypkg.myexp, importable from the current directory; "
                        "PARAMS and run like esxlab/experiments/fig7.py)")
    p.add_argument("--list", action="store_true", help="list EXPERIMENT's parameters (default, allowed values, "
                                                       "how to write them, meaning) and the rules between them, "
                                                       "and exit (it runs nothing, so it takes no --param, --seeds, "
                                                       "--jobs, --scheduler or --csv)")
    p.add_argument("--quantities", action="store_true", help="run EXPERIMENT once at its defaults (seed 0) and list "
                                                             "its quantities, by the names the sweep table's quantity "
                                                             "column gives them, and exit (it takes no --param, "
                                                             "--seeds, --jobs, --scheduler or --csv)")
    p.add_argument("--param", "-p", action="append", default=[], metavar="NAME=V1,V2",
                   help="values of one parameter (repeatable; the grid is every combination; a tuple is one value, "
                        "in quoted parentheses: 'sizes=(128,160),(192,224)'; --list names them)")
    p.add_argument("--seeds", default="0", metavar="0-19", help="a range (0-19) or a list (0,2,5); default 0")
    _add_runner_options(p)
    p.add_argument("--csv", metavar="FILE", help="write the tidy table (one row per run and quantity) to FILE")
    return p


def sweep_main(argv: list[str]) -> int:
    """``python -m esxlab sweep …``: exit code 0 when it ran, 2 on bad arguments, 1 when a run raised or the Dask
    cluster was lost, 130 when interrupted (for the last three, the table of the seeds that finished is printed and
    written first)."""
    from .sweeps import (Plan, SweepFailed, SweepInterrupted, check_decimal_comma, describe_params, describe_quantities,
                         parse_param)
    try:
        parser = _sweep_parser()
        args = parser.parse_args(argv)
        if args.list or args.quantities:
            _list_alone(args, vars(parser.parse_args([])))
        if args.experiment is None and args.list and not args.quantities:     # the experiments, each with its title
            print("experiments (sweep EXPERIMENT --list lists one's parameters, sweep EXPERIMENT --quantities its "
                  "quantities):")
            width = max(map(len, EXPERIMENTS))
            for name in EXPERIMENTS:
                print(f"  {name:<{width}}  {get(name).TITLE}")
            return 0
        if args.experiment is None:
            raise ConfigError(f"sweep: the following arguments are required: EXPERIMENT; give one of "
                              f"{', '.join(EXPERIMENTS)}, or a figure number.")
        args.experiment = _experiment(args.experiment, "sweep")
        _note_shadowed(args.experiment)
        if args.list or args.quantities:
            print("\n\n".join(describe(args.experiment) for describe, asked in
                               ((describe_params, args.list), (describe_quantities, args.quantities)) if asked))
            return 0
        grid = dict(parse_param(text, get(args.experiment).PARAMS) for text in args.param)
        if len(grid) != len(args.param):
            raise ConfigError(f"sweep: a parameter is given twice in --param {' --param '.join(args.param)}; "
                              "give each once with all its values.")
        runner.check_jobs(args.jobs, "sweep: --jobs")
        for text in args.param:
            check_decimal_comma(args.experiment, text)
        plan = Plan.of(args.experiment, grid, args.seeds, jobs=args.jobs, scheduler=args.scheduler, options=True)
        if args.csv is not None:
            _check_writable_file(args.csv)
        used = _jobs(args.jobs, "sweep: --jobs", len(plan.tasks)) if args.scheduler is None else None
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            table = plan.run(progress=True)
    except SweepFailed as failed:      # a run raised, or the cluster was lost: keep what finished, then say why
        if failed.table.seeds:
            _sweep_out(failed.table, args.csv, start, _where(args.scheduler, used), failed.total, failed.stopped)
        print(f"error: {failed}{_unwritten(args.csv, failed.table)}", file=sys.stderr)
        return 1
    except Error as e:                 # a bad argument, or a setting the experiment cannot run
        return _failed(e)
    except SystemExit as e:            # --help
        return int(e.code or 0)
    except SweepInterrupted as stop:   # Ctrl-C: keep what finished
        if stop.table.seeds:
            code = _sweep_out(stop.table, args.csv, start, _where(args.scheduler, used), stop.total)
            if code:
                return code
        print(f"interrupted: {stop}{_unwritten(args.csv, stop.table)}", file=sys.stderr)
        return 130
    return _sweep_out(table, args.csv, start, _where(args.scheduler, used))


def _show_warning(message: Warning | str, *args: Any, **kwargs: Any) -> None:
    """Show a warning given while a sweep runs (:func:`warnings.showwarning`'s other arguments left unused) as a line of
    its own above the progress bar, "warning: …", as the command's other lines read, not Python's
    "<frozen runpy>:88: UserWarning: …" written into the bar's line."""
    from tqdm import tqdm
    tqdm.write(f"warning: {message}", file=sys.stderr)


def _experiment(experiment: str, command: str = "reproduce") -> str:
    """The experiment ``command`` names (:func:`.lookup`): for ``reproduce --figure``, one of the package's; for
    ``sweep EXPERIMENT``, one of your own too. Its ConfigError begins with the command ("reproduce: unknown experiment
    '3' …", "sweep: unknown experiment 'nope' …"), as the command's other errors do."""
    try:
        return lookup(experiment, own=command == "sweep")
    except ConfigError as e:
        raise ConfigError(f"{command}: {e}") from e.__cause__


def _note_shadowed(experiment: str) -> None:
    """A note on stderr when a file of the current directory has the name of the package's experiment ``experiment``
    names (a helper's ``fig7.py``): the package's is the one swept, and its parameters were listed, with no word of
    the file."""
    if experiment in EXPERIMENTS and Path(f"{experiment}.py").is_file():
        print(f"note: {experiment} is the package's experiment (esxlab.experiments.{experiment}), not "
              f"./{experiment}.py; to sweep your file, give it a name of its own (e.g. my_{experiment}.py) and sweep "
              "that name.",
              file=sys.stderr)


def _list_alone(args: argparse.Namespace, defaults: dict[str, Any]) -> None:
    """Refuse ``sweep --list`` or ``--quantities`` with an option of a run given (``--param``, ``--seeds`` …:
    ``args`` that differ from the parser's ``defaults``): they run no sweep, so the option would be ignored, its value
    unchecked."""
    given = {dest: value for dest, value in vars(args).items()
             if dest not in ("experiment", "list", "quantities") and value != defaults[dest]}
    if given:
        typed = " ".join(f"--{dest} {v}" for dest, value in given.items()
                         for v in (value if isinstance(value, list) else [value]))
        flag = "--list" if args.list else "--quantities"
        listed = f"{args.experiment}'s parameters and runs nothing" if args.experiment and args.list else \
            "the experiments and runs nothing" if args.list else \
            f"the quantities of one run of {args.experiment or 'EXPERIMENT'} at its defaults and runs no sweep"
        raise ConfigError(f"sweep: {flag} lists {listed}, so {typed} would be ignored; allowed: {flag} alone, or "
                          f"{', '.join(f'--{dest}' for dest in given)} without {flag}, to run a sweep.")


def _unwritten(csv: str | None, table: SweepTable) -> str:
    """" (--csv FILE not written)" when a sweep stopped before any seed finished, else ""."""
    return f" (--csv {csv} not written)" if csv and not table.seeds else ""


def _sweep_out(table: SweepTable, csv: str | None, start: float, where: str, asked: int | None = None,
               stopped: str = "interrupted") -> int:
    """Write ``table`` to ``csv`` if given, then print its summary and a count line (``where`` the runs
    went; ``asked``: the runs asked for, when the sweep ``stopped`` early): 0, or 2 if the CSV cannot be
    written or the seeds' tables cannot be summarized (the CSV, one row per run, is written first; a CSV
    that fails leaves the summary printed, so a long sweep's results are not lost, and its error last)."""
    unwritten = None
    if csv:
        try:
            print(f"wrote {write_csv(csv, table.columns, table.rows, 'sweep: --csv')}", file=sys.stderr)
        except ConfigError as e:       # checked before running, but some (/proc/x.csv for root; a full disk) pass it
            unwritten = e
    try:
        print(render_table(table.summary()))
    except ConfigError as e:           # seeds that added different rows
        if unwritten is not None:
            print(f"error: {unwritten}", file=sys.stderr)
        return _failed(e)
    cut = f"; {stopped}: {asked} runs asked for" if asked is not None else ""
    print(f"\n{table.size(cut)}, {time.perf_counter() - start:.1f} s, {where}")
    return 0 if unwritten is None else _failed(unwritten)


def _check_writable_file(name: str) -> None:
    """Refuse ``--csv FILE`` before running unless FILE can be written (its directory exists), and a name that
    reads as a directory (``out/``: it wrote a file named ``out``; an existing one) or as standard output (``-``: a
    file named so)."""
    path = Path(name)
    if not name.strip():
        raise ConfigError(f"sweep: --csv {name!r} is an empty name; allowed: a file name in an existing, writable "
                          "directory, e.g. --csv out/sweep.csv.")
    if name == "-" or name.endswith(("/", os.sep)) or path.is_dir():
        raise ConfigError(f"sweep: --csv {name} names {'standard output' if name == '-' else 'a directory'}, and "
                          "sweep writes its tidy table to one file (the summary goes to standard output); allowed: a "
                          "file name in an existing, writable directory, e.g. --csv out/sweep.csv.")
    folder = path.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        why = "does not exist" if not folder.exists() else "is not a directory" if not folder.is_dir() else \
            "is not writable"
        raise ConfigError(f"sweep: --csv {name} cannot be written (its directory {str(folder)!r} {why}); allowed: a "
                          "file name in an existing, writable directory.")


def _jobs(jobs: int, label: str, n_tasks: int) -> int:
    """How many workers run ``n_tasks`` tasks for ``--jobs`` = ``jobs`` (:func:`.runner.workers`,
    the number :func:`.runner.execute` starts), with a note on stderr when it is fewer than asked,
    naming the limit: this computer's cores, the tasks to run, or both."""
    used = runner.workers(jobs, n_tasks, label)
    if used < jobs:
        cores = runner.cpu_count()
        why = ([f"this computer's {cores} cores"] if cores == used else []) + \
              ([f"the {n_tasks} task{'' if n_tasks == 1 else 's'} to run"] if n_tasks == used else [])
        print(f"note: {label} = {jobs} is more than {' and '.join(why)}; running {used} at a time.", file=sys.stderr)
    return used


def _failed(e: Error) -> int:
    """Print ``e`` as a command's usage error (``error: …`` on stderr); its exit code, 2."""
    print(f"error: {e}", file=sys.stderr)
    return 2


def _where(scheduler: str | None, used: int | None) -> str:
    """Where the runs went, for the last line: the Dask cluster, or the workers used here."""
    return f"Dask cluster {scheduler}" if scheduler else f"{used} worker{'' if used == 1 else 's'}"


def _check_outputs(args: argparse.Namespace, names: list[str]) -> None:
    """Refuse, before running, the outputs that could not be written; note the experiments
    among ``names`` that ``--plots`` has no figure for."""
    if args.csv is not None:
        if Path(args.csv).suffix.lower() == ".csv" and not Path(args.csv).is_dir():     # (a newcomer's out.csv/)
            raise ConfigError(f"reproduce: --csv {args.csv} names a file, and reproduce writes several CSV files (a "
                              "table, each run's traces) into a directory; allowed: a directory, e.g. --csv out/ "
                              "(sweep --csv takes one file).")
        check_dir("reproduce: --csv", args.csv)
    if args.readme is not None:
        if args.figure:
            raise ConfigError("reproduce: --readme needs every experiment; drop --figure.")
        runner.readme_span(args.readme)
    if args.dpi != DPI and args.plots is None:
        raise ConfigError(f"reproduce: --dpi {args.dpi} sets the resolution of --plots' PNGs; allowed: --dpi with "
                          "--plots DIR.")
    if args.plots is not None:
        if not DPI_RANGE[0] <= args.dpi <= DPI_RANGE[1]:
            raise ConfigError(f"reproduce: --dpi {args.dpi} is out of range; allowed: {DPI_RANGE[0]} ≤ --dpi ≤ "
                              f"{DPI_RANGE[1]}, e.g. --dpi 240 for a projector.")
        without = [n for n in names if n not in FIGURES]
        no_figure = f"reproduce: --plots: {', '.join(without)} {'has' if len(without) == 1 else 'have'} no " \
                    "digitized paper figure"
        if len(without) == len(names):
            raise ConfigError(f"{no_figure}, so there is nothing to plot; allowed: --plots with one of "
                              f"{', '.join(FIGURES)} among the experiments.")
        from .plots import require_matplotlib
        require_matplotlib()
        check_dir("reproduce: --plots", args.plots)
        if without:
            print(f"note: {no_figure}; plots exist for {', '.join(FIGURES)}.", file=sys.stderr)


def _write_csv(directory: Path, results: dict[tuple[str, int], Result], rows: list[Row], seeds: list[int]) -> None:
    """``reproduce --csv DIR``: each run's tables, traces and decision logs (:meth:`.result.Result.to_csv`;
    over several seeds in ``seed_<s>/``), and ``all_table.csv`` (:func:`.result.write_table_csv`)."""
    for (_, seed), res in results.items():
        res.to_csv(directory / f"seed_{seed}" if len(seeds) > 1 else directory)
    write_table_csv(rows, directory / "all_table.csv", seeds if len(seeds) > 1 else None)


def main(argv: list[str]) -> int:
    """``python -m esxlab reproduce`` with ``argv``: 0 when it ran (whatever the rows say), 2 on bad arguments or
    a run that failed with an esxlab error."""
    try:
        args = _parser().parse_args(argv)
        figures = [f for given in args.figure or () for f in given.split(",") if f.strip()]     # --figure 7,8 too
        if args.figure is not None and not figures:       # (--figure '' ran every experiment: a helper's trial)
            raise ConfigError(f"reproduce: --figure {' --figure '.join(map(repr, args.figure))} names no experiment; "
                              "allowed: a figure number or an experiment's name, e.g. --figure 7 (without --figure: "
                              "all of them).")
        names = list(dict.fromkeys(_experiment(f) for f in figures)) if figures else list(EXPERIMENTS)
        check_seed(args.seed, "reproduce: --seed")
        seeds = runner.parse_seeds(args.seeds) if args.seeds is not None else [args.seed]
        for seed in seeds:
            check_seed(seed, "reproduce: --seeds")
        runner.check_jobs(args.jobs, "reproduce: --jobs")
        _check_outputs(args, names)
        used = _jobs(args.jobs, "reproduce: --jobs", len(runner.plan(names, seeds))) if args.scheduler is None \
            else None
    except ConfigError as e:
        return _failed(e)
    except SystemExit as e:            # --help
        return int(e.code or 0)
    start = time.perf_counter()
    try:
        results = runner.run_many(names, seeds, jobs=args.jobs, progress=True, scheduler=args.scheduler, options=True)
    except ConfigError as e:           # e.g. an unreachable --scheduler
        return _failed(e)
    except cluster.ClusterLost as lost:     # the Dask cluster went away mid-run: one sentence, as a failed run
        print(f"error: {lost}", file=sys.stderr)
        return 1
    rows = runner.summary(results) if len(seeds) > 1 else [r for res in results.values() for r in res.table]
    references = {res.reference for res in results.values()}      # one experiment's own, e.g. "later ESX"
    print(render_table(rows, reference=references.pop() if len(references) == 1 else "paper"))
    print(f"\n{runner.count_line(rows, seeds)} ({time.perf_counter() - start:.1f} s, {_where(args.scheduler, used)})")
    if args.csv:
        try:
            _write_csv(Path(args.csv), results, rows, seeds)
        except ConfigError as e:       # checked before running, but a file in it may still be unwritable
            return _failed(e)
    if args.readme is not None:
        try:
            runner.write_readme(args.readme, runner.summary(results), seeds, args.jobs)
        except ConfigError as e:       # checked before running, but changed meanwhile (its marker edited away)
            return _failed(e)
    if args.plots:
        from .plots import write_plots
        for path in write_plots(results, args.plots, args.dpi):
            print(f"wrote {path}", file=sys.stderr)
    return 0
