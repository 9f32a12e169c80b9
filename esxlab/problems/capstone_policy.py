"""Exercise ``capstone_policy``: a hypervisor replacement policy that beats random (§3.3)."""
from __future__ import annotations

import copy
import difflib
import random
import sys
import sysconfig
import traceback
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..checks import CheckFailed, Expect
from ..config import HostConfig, SharingConfig, VMConfig
from ..errors import ConfigError, PolicyError, check_choice, first_line, shorten
from ..host import Host
from ..rng import Streams
from ..swap import (POLICIES, READ_ONLY, SELF_CHECKED, ReplacementPolicy, check_victims_signature, legal_victims,
                    short_answer, short_sentence)
from ..workloads import HotCold
from ..workloads.base import Access
from .base import Problem, pick


class _Validated(ReplacementPolicy):
    """Wraps a student's policy and fails with a sentence (:class:`CheckFailed`) when its victims are not legal: the
    engine's rules (:func:`esxlab.swap.legal_victims`, which a Host checks a policy of one's own by, §3.3), for the
    check and :meth:`BeatRandom.measure` alike (a student who tunes with measure meets the check's sentences).
    It also fails, when built, a victims() misspelled or of the wrong signature (the engine's sentence), and, when
    called, one that writes into what the hypervisor sees (read-only in any victims() of one's own:
    :func:`esxlab.swap.read_only`) or draws from a global generator in most of its calls (:data:`GLOBAL_DRAWS`).
    ``own``: also refuse a policy whose victims() is or calls esxlab's own (the check; measure may run them, to
    compare).
    ``short``: (n, returned, qualifying) the first time victims() returned fewer than n pages while more private
    pages outside ``protect`` qualified (the interface allows fewer only when none do), else None: the check reports
    it at the end (a Host would refuse it at once), so the swapper does not check these answers again
    (:data:`esxlab.swap.SELF_CHECKED`)."""

    def __init__(self, policy: ReplacementPolicy, own: bool = True) -> None:
        self.policy = policy
        self.own = own
        self.short: tuple[int, int, int] | None = None
        self.calls = self.global_calls = 0     # victims() calls, and those during which a global generator drew
        # its class's victims, checked once (a bare ReplacementPolicy() is the starter: "not written yet" when called)
        if type(policy).victims is ReplacementPolicy.victims:
            if _methods(policy):                     # misspelled (`victim`)
                raise CheckFailed(_no_victims(policy))
        elif own and not isinstance(policy, tuple(POLICIES.values())) and \
                (built_in := _built_in_victims(type(policy).victims)):   # (a built-in's subclass: the spy tells it)
            raise CheckFailed(OWN.format("is", f"{built_in}'s"))
        else:
            try:                                     # victims(self, vm, n): the engine's sentence, not Python's
                check_victims_signature(policy)
            except PolicyError as wrong:             # (the student gave it as policy=, not replacement=)
                name = type(policy).__name__
                raise CheckFailed(str(wrong).replace(f"replacement = {name}()", f"your policy {name}()", 1)) from None

    def victims(self, vm, n, rng, protect):
        drawn = _global_draws()
        try:
            with _builtin_calls() as used, _global_seeds() as seeded:
                out = self.policy.victims(vm, n, rng, protect)
        except NotImplementedError:                  # the starter's body: unanswered, as checks.check says it
            raise NotImplementedError("`victims` is not written yet: replace `raise NotImplementedError()` with "
                                      "your policy's choice of n private pages.") from None
        except CheckFailed:
            raise
        # a bug in the student's code, sys.exit() too: told in a sentence, not 20 frames or a silent stop
        except (Exception, SystemExit) as err:  # noqa: BLE001
            raise CheckFailed(raised_by_policy(err)) from err
        if seeded:                           # (seeded the same way each call, it draws the same: no change to see)
            raise CheckFailed(GLOBAL_SEEDS.format(seeded[0]))
        self.calls += 1
        self.global_calls += drawn()
        if self.global_calls >= GLOBAL_CALLS and 2 * self.global_calls > self.calls:
            raise CheckFailed(GLOBAL_DRAWS)
        if used and self.own:                # (the model's own policies are there to compare with, not to hand in)
            raise CheckFailed(OWN.format("calls", used[0]))
        try:
            arr = legal_victims(out, vm, n, protect)
        except PolicyError as illegal:       # the engine's rules, as the check's sentence
            raise CheckFailed(str(illegal)) from None
        self.short = self.short or short_answer(arr, vm, n, protect)
        return arr


SELF_CHECKED.add(_Validated)

#: what a policy whose victims() is or calls one of esxlab's own is told ({} "is" or "calls", {} the policy's name)
OWN = ("your policy's victims() {} esxlab's own {}; the capstone asks for a policy of your own: a ReplacementPolicy "
       "subclass whose victims() chooses the pages itself.")


def _built_in_victims(victims: Callable) -> str:
    """The name of the esxlab policy (:data:`esxlab.swap.POLICIES`) whose ``victims`` function ``victims`` is (or is
    made from its code), else "": a class of one's own that sets ``victims = ClockReplacement.victims`` never calls
    the attribute :func:`_builtin_calls` spies on (an integrity trial: it passed the capstone's check)."""
    code = getattr(victims, "__code__", None)
    return next((cls.__name__ for cls in POLICIES.values() if victims is cls.victims or code is cls.victims.__code__),
                "")


#: what a policy drawing from a global random generator is told (a student's trial: an LRU variant drawing from
#: np.random passed, its swap-ins 1249 / 1278 / 1269 with three global seeds, so its check and its grade could differ)
GLOBAL_DRAWS = ("your policy's victims() draws from a global random generator (np.random.… or Python's random), "
                "which other code shares, so the pages it chooses, and the check's verdict, can change from run to "
                "run; draw from the rng victims() is given (e.g. rng.choice(candidates, n, replace=False)), which the "
                "host seeds.")
#: what a policy seeding a global generator is told ({} its call): reproducible, but the host's seed no longer
#: chooses its pages, and the generator other code shares starts over in every call (a helper's trial)
GLOBAL_SEEDS = ("your policy's victims() calls {}, which seeds a global random generator that other code shares: "
                "it starts over for that code in every call, and the host's seed no longer chooses your pages; draw "
                "from the rng victims() is given (e.g. rng.choice(candidates, n, replace=False)), which the host "
                "seeds.")
#: victims() calls with global draws before the check says so, if they are most calls: another thread's draw
#: (a Dask client's jitter) during one call must not fail a policy that never draws
GLOBAL_CALLS = 3


def _global_seeds() -> AbstractContextManager[list[str]]:
    """While open, the calls of ``np.random.seed`` and ``random.seed`` made (as "np.random.seed(7)"), in order: a
    policy that seeds a global generator the same way in every call draws the same in every call, so
    :func:`_global_draws` sees no change after its first."""
    return _calls([(module, "seed", lambda *args, m=name: f"{m}.seed({', '.join(shorten(a) for a in args)})")
                   for module, name in ((np.random, "np.random"), (random, "random"))])


def _global_draws() -> Callable[[], bool]:
    """A function telling whether numpy's global (legacy) generator or Python's ``random`` drew since this call."""
    before = _global_state()
    return lambda: _global_state() != before


def _global_state() -> tuple:
    """numpy's global (legacy) generator's state (key as bytes, position, its cached Gaussian) and Python's."""
    _, key, *rest = np.random.get_state()
    return key.tobytes(), *rest, random.getstate()


def _methods(policy: ReplacementPolicy) -> list[str]:
    """The public methods ``policy``'s class has beyond those of ReplacementPolicy (``victim``, a misspelled
    ``victims``)."""
    cls = type(policy)
    return [name for name in dir(cls) if not name.startswith("_") and callable(getattr(cls, name))
            and not hasattr(ReplacementPolicy, name)]


def _no_victims(policy: ReplacementPolicy) -> str:
    """The sentence for a policy whose class defines methods but no ``victims`` of its own (a misspelled one,
    ``victim``): the check calls ``victims``, and the base class's says only "not written yet" (a student's trial: a
    policy whose method was named ``victim`` was told to replace `raise NotImplementedError()`, which it did not
    have). A class with no method of its own (ReplacementPolicy itself) is still "not written yet"."""
    close = difflib.get_close_matches("victims", _methods(policy), 1)
    yours = f"; rename your {close[0]}() to victims" if close else ""
    return (f"your policy {type(policy).__name__}() defines no victims(self, vm, n, rng, protect), the method the host "
            f"calls for the pages to page out{yours}.")


#: characters of an error's message that :func:`raised_by_policy` keeps (its first line)
MESSAGE_CHARS = 200


def _libraries() -> tuple[Path, ...]:
    """Where code that is not a student's lives: the esxlab package, Python's standard library and the installed
    packages (numpy's frames below a student's line say less than that line)."""
    paths = sysconfig.get_paths()
    found = [Path(__file__).resolve().parents[1]]
    found += [Path(paths[k]).resolve() for k in ("stdlib", "platstdlib", "purelib", "platlib") if paths.get(k)]
    return tuple(dict.fromkeys(found))


def _own_frame(err: BaseException) -> traceback.FrameSummary | None:
    """The innermost frame of ``err``'s traceback in the student's code: not in the esxlab package, Python's library or
    an installed package (None if there is none)."""
    libraries = _libraries()
    own = None
    for frame in traceback.extract_tb(err.__traceback__):
        if frame.filename.startswith("<frozen"):
            continue
        where = Path(frame.filename).resolve()
        if not any(where.is_relative_to(lib) for lib in libraries):
            own = frame
    return own


def _place(filename: str) -> str:
    """Where a student's code is, as a notebook names it: "your cell In[7]" for a notebook cell (IPython's name for
    it), else "your file <name>"."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)()
    named = getattr(getattr(shell, "compile", None), "format_code_name", lambda name: None)(filename)
    if named:
        return f"your cell {named[1]}"
    return "your cell" if filename.startswith("<") else f"your file {Path(filename).name}"


def raised_by_policy(err: BaseException) -> str:
    """The sentence for an error a student's ``victims()`` raised (an AttributeError for a misspelled field, say),
    instead of a traceback of 20 frames through the host's run: which error, the first line of its message, and
    the student's own line where it was raised (:func:`_own_frame`), with its file or notebook cell and line number
    (an instructor's trial). :class:`_Validated` raises it from the error, which ``%tb`` and ``%debug`` then show
    after :meth:`BeatRandom.measure`."""
    said = first_line(str(err), MESSAGE_CHARS)
    frame = _own_frame(err)
    place = _place(frame.filename) if frame else ""
    code = (frame.line or "").strip() if frame else ""
    where = (f" ({place}, line {frame.lineno}" + (f": `{code}`" if code else "") + ")") if frame else ""
    again = ("reload your module (or restart the kernel)" if place.startswith("your file")
             else "run the cell that defines your policy again")
    copy_it = f" {READ_ONLY}." if isinstance(err, ValueError) and "read-only" in str(err) else ""
    did = "called sys.exit() (or exit()), which would stop the check" if isinstance(err, SystemExit) else \
        f"raised {type(err).__name__}" + (f": {said}" if said else "")
    return f"your policy's victims() {did}{where}.{copy_it} Fix it, {again}, then run this check again."


def _fresh(policy: ReplacementPolicy) -> ReplacementPolicy:
    """A copy of ``policy`` (``copy.deepcopy``) for one run, so that every run starts from the policy as the student
    built it, not from the state (a clock hand) an earlier run left (the trial of session 49: a policy's bug showed
    or not depending on what ran before); the policy itself if it cannot be copied (it holds a module or a lock)."""
    try:
        return copy.deepcopy(policy)
    except Exception:                                           # noqa: BLE001 (any object a student stores)
        return policy


def _builtin_calls() -> AbstractContextManager[list[str]]:
    """While open, the names of esxlab's own policies (:data:`esxlab.swap.POLICIES`) whose ``victims`` were called,
    in order (a student's policy that is one of them, inherits its ``victims`` or calls it)."""
    return _calls([(cls, "victims", lambda *args, name=cls.__name__: name) for cls in POLICIES.values()])


@contextmanager
def _calls(spied: list[tuple[object, str, Callable[..., str]]]) -> Iterator[list[str]]:
    """While open, each ``(owner, attribute, says)`` of ``spied`` is called through a spy that first records
    ``says(*args)``; the records, in order, are yielded; the attributes are as they were after, also after an error."""
    calls: list[str] = []
    originals = [(owner, attribute, getattr(owner, attribute)) for owner, attribute, _ in spied]

    def spy(original: Callable[..., object], says: Callable[..., str]) -> Callable[..., object]:
        def called(*args, **kwargs):
            calls.append(says(*args))
            return original(*args, **kwargs)
        return called
    try:
        for (owner, attribute, original), (*_, says) in zip(originals, spied):
            setattr(owner, attribute, spy(original, says))
        yield calls
    finally:
        for owner, attribute, original in originals:
            setattr(owner, attribute, original)


class _Relabeled(HotCold):
    """:class:`HotCold` with its pages at other PPNs: the same accesses, second by second (the same warm-up, the same
    cold draws), but after the warm-up its logical page ``i`` is ``perm[i]``, a permutation drawn from ``rng``, so that
    the hot set is ``perm[:hot]``, pages the warm-up wrote all over the VM, not its first ones. A policy that tells hot
    from cold by what the hypervisor sees does as well here as on the drawn layout; one that always prefers the same
    PPNs does not (the trial of session 49: `cands[-n:]` beat random on seed 0 only because the guest put the hot pages
    at the lowest PPNs). A hand sweeping the PPNs (FIFO) does as well on both: where the pages sit does not matter to
    it, as it keeps every page resident for a whole sweep."""

    def __init__(self, rng: np.random.Generator, *args) -> None:
        super().__init__(*args)
        self.perm = rng.permutation(self.hot + self.cold)

    def step(self, t: int) -> Access:
        acc = super().step(t)
        return acc if t <= self.warm_s else Access(self.perm[acc.lps], acc.writes)


class BeatRandom(Problem):
    """Capstone (§3.3 future work): write a hypervisor replacement policy that causes fewer
    swap-ins than the paper's random replacement on a workload with locality.

    The check measures only that goal: at most :data:`GOAL` of random's swap-ins in the measured minute, while the VM
    does at least :data:`PROGRESS` of the work it does under random, on the drawn layout and on the same accesses
    with the pages at other PPNs (:meth:`measure`'s ``shuffled``). Beyond refusing illegal victims and a ``victims()``
    that is esxlab's own or calls it through its class (one called through a name bound to it beforehand is not seen:
    exercises/README.md), it does not look at how a policy chooses: one that
    always prefers the same PPNs fails on the other layout, but any policy that meets the goal on both passes, a hand
    sweeping the PPNs (FIFO, no per-page signal) too, as it keeps each page resident for a whole sweep. Which signal
    a policy uses, and why it works, is the student's write-up (the notebook asks for it in the policy's docstring),
    graded by hand (an instructor's trial: the exercise's text claimed the check judged it)."""

    ANSWER_NAMES = ("policy",)

    WARM_S, MEASURE_S = 40, 60
    GOAL = 0.75          # at most this fraction of random's swap-ins
    PROGRESS = 0.5       # while the VM does at least this fraction of the work it does under random

    #: the question a policy that does not beat random is asked: it points to what the hypervisor sees (the notebook's
    #: section of that name lists it) and names no field of it, for that choice is the exercise's design question
    #: (an instructor's trial: the hint named the field to sort by, and an argsort of it passes)
    INTERFACE = "The interface"
    SIGNAL = (f"Which of the things the hypervisor can see (the exercise's section '{INTERFACE}' lists them) tells the "
              "pages the VM will touch again soon from the others?")

    def _draw(self, rng):
        self.hot_mb = pick(rng, (8, 12, 16))
        self.cold_mb = pick(rng, (32, 40, 48))
        self.cold_per_s = pick(rng, (10, 20, 40))
        self.memory_mb = pick(rng, (40, 44, 48))

    def measure(self, policy: ReplacementPolicy | str, shuffled: bool = False) -> tuple[int, int]:
        """(swap-ins, page accesses) of the VM in the measured minute after warm-up, under ``policy``
        (page sharing off, so that only the replacement policy decides). ``shuffled``: on the same workload with its
        pages at other PPNs (the same accesses; its hot pages spread over the VM by a permutation drawn from the
        problem's seed), which the check measures too: a policy passes when it beats random on both.
        The accesses (``totals.accesses``: the guest's page touches, its workload's nearly all, the OS's own about
        50 a second) are the work the VM got done: a policy that frees nothing stalls it, and then nothing is swapped in.

        A policy instance runs as the check runs it: its victims must be legal (else :class:`CheckFailed`, with
        the check's sentence), and it runs as a fresh copy (``copy.deepcopy``), so each measure and the check start
        from the policy as you built it; the state it keeps (a hand) is not carried from one run to the next, and
        ``policy`` itself is left as it was. ConfigError for a ``policy`` that is neither a ReplacementPolicy instance
        nor a built-in's name, or a ``shuffled`` that is not True or False."""
        owner = f"{type(self).__name__}.measure"
        shuffled = check_choice(owner, "shuffled", shuffled, (False, True))
        if isinstance(policy, type) and issubclass(policy, ReplacementPolicy):
            raise ConfigError(f"{owner}: `policy` must be an instance of ReplacementPolicy: call your class, e.g. "
                              f"`{policy.__name__}()`.")
        if not isinstance(policy, (ReplacementPolicy, str)):
            raise ConfigError(f"{owner}: `policy` must be an instance of ReplacementPolicy or the name of one of "
                              f"esxlab's ({', '.join(map(repr, POLICIES))}); got {shorten(policy)} "
                              f"({type(policy).__name__}).")
        config = HostConfig(memory_mb=self.memory_mb, swap_mb=256, sharing=SharingConfig(mode="off"))
        if isinstance(policy, str):                 # a built-in policy, by name: configuration
            config, policy = config.replace(replacement=policy), None
        elif not isinstance(policy, _Validated):    # (the check's own, already validated)
            policy = _Validated(_fresh(policy), own=False)
        host = Host(config, seed=self.seed, replacement=policy)
        args = (self.hot_mb, self.cold_mb, self.cold_per_s)
        # (the layout's permutation from a stream of its own: the drawn problem and the drawn layout's runs are unchanged)
        workload = _Relabeled(Streams(self.seed).child(f"layout:{type(self).__name__}"), *args) if shuffled else \
            HotCold(*args)
        vm = host.power_on(VMConfig(name="app", max_mb=80, overhead_mb=4, balloon="absent"), workload=workload)
        host.run(seconds=self.WARM_S)
        before, done = vm.totals.swap_ins, vm.totals.accesses
        host.run(seconds=self.MEASURE_S)
        return vm.totals.swap_ins - before, vm.totals.accesses - done

    def _interesting(self):
        return self._solve()["random"] >= 200                 # enough paging for the goal to mean something

    def describe(self) -> str:
        return (f"VM 'app' (max 80 MB, no balloon driver) runs on a host with {self.memory_mb} MB; its workload "
                f"writes\n{self.hot_mb + self.cold_mb} MB once, then every second touches all {self.hot_mb} MB of "
                f"hot pages and {self.cold_per_s} random cold pages.\nThe hypervisor must page. Write a "
                "ReplacementPolicy whose victims cause at most "
                f"{100 * self.GOAL:.0f} % of the swap-ins random\nreplacement causes in the measured minute, "
                "on this workload and on the same accesses with its pages at\nother PPNs (`policy`, an instance).")

    def _solve(self):
        """Swap-ins and accesses under random replacement, and the most swap-ins a passing policy may cause."""
        base, accesses = self.measure("random")
        return dict(random=base, goal=int(self.GOAL * base), accesses=accesses)

    def _judge(self, policy: ReplacementPolicy) -> str | None:
        """The check runs a fresh copy of ``policy`` (``copy.deepcopy``, as :meth:`measure` does): the state an
        earlier measure or check left in it decides nothing, and ``policy`` is left as it was. It runs it on the
        drawn workload and on the same accesses with the pages at other PPNs (``measure(..., shuffled=True)``), and
        asks for the goal on both: a policy that always prefers the same PPNs can beat random only where the hot pages
        sit at particular PPNs (the trial of session 49). The goal is all it judges (see the class's docstring)."""
        runs = []
        short = None
        for shuffled in (False, True):
            base, base_accesses = self.measure("random", shuffled)
            validated = _Validated(_fresh(policy))
            mine, accesses = self.measure(validated, shuffled)
            short = short or validated.short
            runs.append(dict(random=base, goal=int(self.GOAL * base), mine=mine, base_accesses=base_accesses,
                             accesses=accesses, stalled=accesses < self.PROGRESS * base_accesses))
        drawn, other = runs
        passed = [not r["stalled"] and r["mine"] <= r["goal"] for r in runs]
        if short:
            short = short_sentence(short)
        if all(passed) and short:       # fewer victims than asked frees less, and so pages less: no pass (session 49)
            return (f"{short} Fewer victims than asked free less memory than the host needs, so their fewer swap-ins "
                    f"({drawn['mine']}, random {drawn['random']}) do not count.")
        if all(passed):
            print(f"Your policy caused {drawn['mine']} swap-ins in the measured minute; random replacement "
                  f"{drawn['random']}. With the same accesses at other PPNs: yours {other['mine']}, random "
                  f"{other['random']}.")
            return None
        layout = ("The check runs your policy on the workload as drawn and on the same accesses with its pages at "
                  "other PPNs (`p.measure(policy, shuffled=True)`): a choice that always prefers the same PPNs can "
                  "beat random only where the hot pages sit at particular PPNs.")
        if passed[0] and not short:
            how = (f"under your policy the VM touched {other['accesses']} pages, under random {other['base_accesses']}"
                   if other["stalled"] else f"yours caused {other['mine']} swap-ins, random {other['random']}")
            return (f"on the drawn workload your policy beat random ({drawn['mine']} swap-ins, random "
                    f"{drawn['random']}), but with the same accesses at other PPNs {how}: it beat random only where "
                    f"the hot pages sit at particular PPNs. {self.SIGNAL}")
        failed = drawn if not passed[0] else other
        where = "" if failed is drawn else "with the same accesses at other PPNs, "
        if failed["stalled"] and failed["mine"] <= failed["goal"]:
            return (f"{where}under your policy the VM touched {failed['accesses']} pages in the measured minute, under "
                    f"random replacement {failed['base_accesses']}: it spent the minute stalled, waiting for memory. "
                    "Few swap-ins do not count when the VM barely runs" +
                    (f": {short}" if short else f"; victims() must free the n pages it is asked for. {layout}"))
        return (f"{where}random replacement caused {failed['random']} swap-ins and yours {failed['mine']}; to pass, "
                f"at most {failed['goal']}. " + (short or f"Reconsider how your policy picks its victims. "
                                                          f"{self.SIGNAL} {layout}"))

    def _expect(self):
        return [Expect("policy", "object", None, cls=ReplacementPolicy, judge=self._judge,
                       hint="page out what the VM will not need soon.")]
