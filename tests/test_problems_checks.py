"""Seeded problems are answered by the model; checkers pass right answers and teach on wrong ones."""
import inspect
import re

import numpy as np
import pytest

import esxlab as esx
from esxlab import checks, problems
from esxlab.checks import Expect, _close, _is_real, _item
from esxlab.problems.instructor import expect, solve
from esxlab.pmap import PRIVATE
from esxlab.swap import ReplacementPolicy
from answers import fails as _fails

QUIZZES = [problems.RhoVictim, problems.TaxTargets, problems.BalloonSplit, problems.FreeMemoryWalk,
           problems.Admission, problems.SamplingEstimate, problems.HotPageRemap, problems.SharingPrediction,
           problems.DoublePaging, problems.SideChannel, problems.KsmCounters, problems.LimitTargets,
           problems.SharingStopped]
WRONG_TYPE = {"number": ("3.5", "is text, '3.5', where a number is expected"), "numbers": ("1, 2", "must be a list"),
              "choice": (1, "must be a str"), "choices": ("high", "must be a list")}


class OldestFirst(ReplacementPolicy):
    """LRU from the hypervisor's view: evict the private pages touched longest ago."""

    def victims(self, vm, n, rng, protect):
        private = np.flatnonzero(vm.pmap.state == PRIVATE)
        if protect is not None and len(protect):
            private = private[~np.isin(private, protect)]
        return private[np.argsort(vm.last_touch[private], kind="stable")[:n]]


def _right_value_texts(value) -> list[str]:
    """Ways a message could leak a numeric answer."""
    values = value if isinstance(value, list) else [value]
    return [f"{v:.{d}f}" for v in values if isinstance(v, float) and abs(v) > 0.05 for d in (1, 2, 3)]


@pytest.mark.parametrize("cls", QUIZZES + [problems.BeatRandom], ids=lambda c: c.__name__)
def test_seed_poses_the_problem_and_other_seeds_pose_others(cls):
    a, b = cls(0), cls(0)
    assert solve(a) == solve(b) and a.describe() == b.describe()
    others = [cls(s) for s in range(1, 4)]
    assert all(solve(o) != solve(a) and o.describe() != a.describe() for o in others)
    assert isinstance(a.describe(), str) and len(a.describe().splitlines()) >= 3
    assert repr(a) == f"{cls.__name__}(seed=0)"


@pytest.mark.parametrize("cls", QUIZZES + [problems.BeatRandom], ids=lambda c: c.__name__)
def test_expect_prints_one_paragraph_an_answer(cls):
    """expect(p), which the instructor guide suggests for tolerances and mistakes, printed the dataclasses' repr: one
    line of thousands of characters, a bound method's among them (an instructor's trial)."""
    e = expect(cls(0))
    assert isinstance(e, list) and all(isinstance(x, Expect) for x in e)
    paragraphs = repr(e).split("\n\n")
    assert [p.split(" (", 1)[0] for p in paragraphs] == [x.name for x in e]
    for x, p in zip(e, paragraphs):
        assert p.splitlines()[1] == f"  hint: {x.hint}" and len(p.splitlines()) == 2 + len(x.mistakes)
        assert "<bound method" not in p and "Mistake(" not in p


@pytest.mark.parametrize("cls", QUIZZES, ids=lambda c: c.__name__)
def test_checker_passes_the_right_answer(cls, capsys):
    for seed in range(4):
        p = cls(seed)
        checks.check(p, **solve(p))
        assert capsys.readouterr().out.startswith("Correct: ")


@pytest.mark.parametrize("cls", QUIZZES, ids=lambda c: c.__name__)
def test_checker_names_each_typical_mistake_without_the_answer(cls):
    seen = 0
    for seed in range(6):
        p = cls(seed)
        right = solve(p)
        for e in expect(p):
            for m in e.mistakes:
                if not m.given and any(o.given and o.value == m.value for o in e.mistakes):
                    continue    # a fallback, told when the other answers match none of those: the test below
                msg = _fails(p, {**right, **m.given, e.name: m.value})       # with the other answers it names
                assert m.hint in msg and f"`{e.name}`" in msg and e.tolerance.rstrip(")") in msg    # two may coincide: both
                # (the rounding hint's example echoes the answer as given, "(as 0.xx, not 0.1)": the student's own)
                shown = re.sub(r"\(as -?[0.]*x[x.]*, not [^)]+\)", "", msg)
                assert not any(t in shown for t in _right_value_texts(e.value)), msg
                seen += 1
    assert seen >= 6


@pytest.mark.parametrize("cls", QUIZZES, ids=lambda c: c.__name__)
def test_checker_rejects_wrong_types_and_unanswered(cls):
    p = cls(0)
    right = solve(p)
    for e in expect(p):
        value, message = WRONG_TYPE[e.kind]
        assert message in _fails(p, {**right, e.name: value})
        msg = _fails(p, {**right, e.name: None}, NotImplementedError)
        assert "not answered yet" in msg
        assert not isinstance(NotImplementedError(), AssertionError)   # unanswered ≠ wrong
    with pytest.raises(esx.ConfigError, match="needs exactly the answers"):
        checks.check(p, wrong_name=1)


def test_tolerances_are_as_stated():
    p = problems.RhoVictim(0)
    right = solve(p)
    checks.check(p, rhos=[r * 1.009 for r in right["rhos"]], victim=right["victim"])
    assert "within ±1 %" in _fails(p, {**right, "rhos": [r * 1.02 for r in right["rhos"]]})
    q = problems.TaxTargets(0)
    qr = solve(q)
    t = qr["targets_mb"]
    checks.check(q, targets_mb=[t[0] + 0.9, t[1] - 0.9], goal_tax_rate=qr["goal_tax_rate"] + 0.009)
    assert "within ±1 MB" in _fails(q, {**qr, "targets_mb": [t[0] + 1.5, t[1]]})
    short = _fails(q, {**qr, "targets_mb": [t[0]]})
    assert "you gave 1 value; this problem has 2 VMs, and one value is wanted per VM" in short
    assert "`targets_mb[1]` must be a number" in _fails(q, {**qr, "targets_mb": [t[0], "x"]})


def test_specific_teaching_messages():
    p = problems.RhoVictim(0)
    right = solve(p)
    rhos_mb = [r * esx.PAGES_PER_MB for r in right["rhos"]]
    assert "counted in MB" in _fails(p, {**right, "rhos": rhos_mb})
    highest = p.vms[int(np.argmax(right["rhos"]))]["name"]
    assert "pays the most" in _fails(p, {**right, "victim": highest})
    no_tax = p.vms[int(np.argmin(expect(p)[0].mistakes[0].value))]["name"]
    untaxed = expect(p)[0].mistakes[0].value      # named beside the untaxed rhos only (tests/test_exercise_idle_memory_tax.py)
    assert "victim without the idle memory tax" in _fails(p, {**right, "rhos": untaxed, "victim": no_tax})
    assert "one of 'web', 'db', 'mail'" in _fails(p, {**right, "victim": "nobody"})
    s = problems.SamplingEstimate(1)
    sr = solve(s)
    assert "largest" in _fails(s, {**sr, "estimate": min(sr["slow"], sr["fast"])})
    assert "first wrong item: `states[" in _fails(problems.FreeMemoryWalk(0),
                                                 {"states": ["high"] * problems.FreeMemoryWalk.STEPS})


def test_problems_answer_with_the_model():
    p = problems.RhoVictim(3)
    rhos = solve(p)["rhos"]
    v = p.vms[1]
    assert rhos[1] == esx.policy.shares_per_page(v["shares"], v["alloc_mb"] * esx.PAGES_PER_MB,
                                                 v["active_fraction"], p.tax_rate)
    b = problems.BalloonSplit(2)
    # the swap daemon never pages more than the excess; the balloon never holds more than the
    # reclaimed share max − target, nor more than its cap
    sol = solve(b)
    assert sol["swap_mb"] <= max(0, b.alloc_mb - b.target_mb) + 1e-9
    assert sol["balloon_mb"] <= min(b.max_mb - b.target_mb, b.max_mb * b.cap_pct / 100) + 1 / esx.PAGES_PER_MB
    s = problems.SamplingEstimate(2)
    assert solve(s)["f"] == s.touched / s.n
    a = problems.Admission(1)
    assert solve(a)["reserved_mb"][0] == sum(c.min_mb + c.overhead_mb for c in a.running)


def test_sharing_finds_every_content_held_twice_in_a_salt_group():
    """The scanner's result equals counting identical contents (§4.2) per salt group."""
    for seed in range(4):
        p = problems.SharingPrediction(seed)
        pages = {}                                  # (salt, content) → pages holding it
        for v in p.vms:
            for content, mb in [("zero", v["zero_mb"]), ("os " + v["os_version"], p.os_image_mb),
                                ("app " + v["app"], p.app_mb[v["app"]])]:
                n = int(mb * esx.PAGES_PER_MB) if content != "zero" else 1
                key = (v["salt"], content)
                pages[key] = (pages.get(key, (0, 0))[0] + int(mb * esx.PAGES_PER_MB), n)
        shared = sum(held for held, distinct in pages.values() if held > distinct)
        frames = sum(distinct for held, distinct in pages.values() if held > distinct)
        got = solve(p)
        assert got["shared_mb"] * esx.PAGES_PER_MB == shared
        assert got["reclaimed_mb"] * esx.PAGES_PER_MB == shared - frames


def test_bad_seed_is_a_config_error():
    with pytest.raises(esx.ConfigError, match="seed"):
        problems.RhoVictim(-1)


def test_expect_rejects_unknown_kinds():
    with pytest.raises(esx.ConfigError, match="kind"):
        Expect("x", "integer", 1, "hint")


# -- the capstone ----------------------------------------------------------------------------------
def test_an_lru_policy_beats_random_and_random_does_not(capsys):
    for seed in range(2):
        p = problems.BeatRandom(seed)
        checks.check(p, policy=OldestFirst())
        assert "Correct" in capsys.readouterr().out
    msg = _fails(p, {"policy": OwnRandom()})
    assert "random replacement caused" in msg and problems.BeatRandom.SIGNAL in msg and "last_touch" not in msg


class OwnRandom(ReplacementPolicy):
    """A student's policy that picks at random, as the model's does (handing in, or calling, the model's own is told
    that)."""

    def victims(self, vm, n, rng, protect):
        private = np.flatnonzero(vm.pmap.state == PRIVATE)
        if protect is not None and len(protect):
            private = private[~np.isin(private, protect)]
        return rng.permutation(private)[:n]


class _Broken(ReplacementPolicy):
    def __init__(self, how):
        self.how = how

    def victims(self, vm, n, rng, protect):
        good = OldestFirst().victims(vm, n, rng, protect)
        if self.how == "twice" and len(good) > 1:
            return np.r_[good[:1], good[:1]]
        if self.how == "too many":
            return np.flatnonzero(vm.pmap.state == PRIVATE)[:n + 1]
        if self.how == "not private":
            return np.flatnonzero(vm.pmap.state != PRIVATE)[:n]
        if self.how == "protected" and protect is not None and len(protect):
            mapped = protect[vm.pmap.state[protect] == PRIVATE]
            if len(mapped):
                return mapped[:1]
        if self.how == "floats":
            return good.astype(float)
        return good


@pytest.mark.parametrize("how, message", [
    ("twice", "twice (np.unique keeps each once)"), ("too many", "return at most n"), ("not private", "only private pages"),
    ("protected", "in `protect`"), ("floats", "which holds float64 values, not integers (.astype(int) makes them PPNs)")])
def test_illegal_victims_fail_with_the_rule_they_break(how, message):
    assert message in _fails(problems.BeatRandom(0), {"policy": _Broken(how)})


class _FreesNothing(ReplacementPolicy):
    def victims(self, vm, n, rng, protect):
        return np.empty(0, dtype=np.intp)


def test_a_policy_that_stalls_the_vm_does_not_pass():
    """Evicting nothing causes no swap-ins only because the VM stops running: it must fail."""
    msg = _fails(problems.BeatRandom(0), {"policy": _FreesNothing()})
    assert "stalled" in msg and "was asked for" in msg and "returned 0" in msg
    assert msg.count("must ") == 1, msg          # told once what it must do


def test_capstone_wants_a_policy_instance():
    p = problems.BeatRandom(0)
    assert "call your class, e.g. `OldestFirst()`" in _fails(p, {"policy": OldestFirst})
    assert "must be an instance of ReplacementPolicy" in _fails(p, {"policy": lambda vm, n: []})
    with pytest.raises(NotImplementedError, match="`victims` is not written yet"):     # a sentence, as for None
        checks.check(p, policy=ReplacementPolicy())


# -- what the problems build on: public workloads and a held balloon -------------------------------
def test_grow_makes_the_guest_page_and_probe_writes_one_page_a_second():
    """Grow writes base then grow pages; Probe writes its candidates one per second from probe_at_s."""
    g = esx.workloads.Grow(base_mb=1, grow_mb=2, grow_at_s=5)
    assert g.attach(1024, 1, np.random.default_rng(0)) == 3 * esx.PAGES_PER_MB
    assert len(g.step(1).lps) == esx.PAGES_PER_MB and len(g.step(2).lps) == 0
    assert g.step(5).lps[0] == esx.PAGES_PER_MB and g.step(5).writes.all()
    pr = esx.workloads.Probe(["x", "y"], probe_at_s=10)
    assert pr.attach(1024, 1, np.random.default_rng(0)) == 2
    assert [list(pr.step(t).lps) for t in (9, 10, 11, 12)] == [[], [0], [1], []]


def test_a_held_balloon_follows_the_experimenter_and_records_the_hosts_target():
    """hold() steers the balloon on an idle host; the host's target is still recorded; None hands back."""
    host = esx.Host(esx.HostConfig(memory_mb=256 + 64), seed=0)
    vm = host.power_on(esx.VMConfig(name="vm", max_mb=256, guest_os="linux"))
    vm.balloon.hold(32 * esx.PAGES_PER_MB)
    host.run(seconds=120)
    assert vm.stats().balloon == 32 and vm.balloon.target == 0      # the idle host itself asks for nothing
    vm.balloon.hold(None)
    host.run(seconds=60)
    assert vm.stats().balloon == 0
    for bad in (-1, 2.5, "32"):
        with pytest.raises(esx.ConfigError, match="BalloonDriver.hold.pages"):
            vm.balloon.hold(bad)


@pytest.mark.parametrize("make, message", [
    (lambda: esx.workloads.Contents(app=""), "Contents.app"),
    (lambda: esx.workloads.Contents(zero_mb=-1), "Contents.zero_mb"),
    (lambda: esx.workloads.HotCold(cold_mb=0), "HotCold.cold_mb"),
    (lambda: esx.workloads.HotCold(cold_per_s=1.5), "HotCold.cold_per_s"),
    (lambda: esx.workloads.Grow(grow_at_s=1), "Grow.grow_at_s"),
    (lambda: esx.workloads.Grow(base_mb=float("nan")), "Grow.base_mb"),
    (lambda: esx.workloads.Probe(candidates="abc"), "Probe.candidates"),
    (lambda: esx.workloads.Probe(candidates=[]), "Probe.candidates"),
    (lambda: esx.workloads.Probe(candidates=42), "Probe.candidates"),
    # a repeated name made two pages of one content, which shared with each other: a false positive
    (lambda: esx.workloads.Probe(candidates=["a", "b", "a"]), r"Probe.candidates = \['a', 'b', 'a'\] names 'a' twice; "
                                                              r"allowed: distinct names"),
    (lambda: esx.workloads.Probe(probe_at_s=2.5), "Probe.probe_at_s")])
def test_exercise_workloads_refuse_bad_parameters(make, message):
    with pytest.raises(esx.ConfigError, match=message):
        make()


# -- the three later exercises: their typical wrong answers, and the model against hand counts -----
def test_double_paging_teaches_its_typical_mistakes():
    p = problems.DoublePaging(0)
    right = solve(p)
    s = p.swap_mb * esx.PAGES_PER_MB / p.private_pages
    assert "double paging counts as swap-ins" in _fails(p, {**right, "swap_ins": round(p.background_pages_s * s)})
    grown = p.grow_mb * esx.PAGES_PER_MB
    assert "uses its free pages" in _fails(p, {**right, "double_paged": round(grown * s)})
    assert "reason for random" in _fails(p, {**right, "lru_double_paging": "less"})


def test_double_paging_counts_are_near_the_hand_expectation():
    """Random victims: each page the guest reads is in host swap with probability swap / private."""
    for seed in range(4):
        p = problems.DoublePaging(seed)
        s = p.swap_mb * esx.PAGES_PER_MB / p.private_pages
        got = p._counts()                  # the model's own counts: one random draw around the expectation
        assert abs(got["double_paged"] - p._evicted * s) <= p.SPREAD * p._sigma(p._evicted)
        assert got["double_paged"] <= got["swap_ins"]
        assert solve(p)["double_paged"] == pytest.approx(p._evicted * s)


def test_side_channel_teaches_its_typical_mistakes():
    p = problems.SideChannel(0)
    right = solve(p)
    fastest = p.candidates[int(np.argmin(p.timings_us))]
    assert "copy-on-write must copy" in _fails(p, {**right, "secret": fastest})
    wrong = "revealed" if right["salted"] == "hidden" else "hidden"
    assert "sharing group" in _fails(p, {**right, "salted": wrong})


def test_salting_hides_the_secret_exactly_when_the_groups_differ():
    for seed in range(6):
        p = problems.SideChannel(seed)
        v, a = p.salts["victim"], p.salts["attacker"]
        same = v == a and not (p.force_salting == 2 and v is None)
        assert solve(p)["salted"] == ("revealed" if same else "hidden")


def test_ksm_counters_teach_their_typical_mistakes():
    p = problems.KsmCounters(0)
    right = solve(p)
    both = right["pages_shared"] + right["pages_sharing"]
    assert "*beyond* the first" in _fails(p, {**right, "pages_sharing": both})
    per_second = len(p.vms) * p.MAX_MB * esx.PAGES_PER_MB / p.pages_to_scan     # pages_to_scan taken as per second
    assert "per sleep_millisecs" in _fails(p, {**right, "full_scan_s": per_second})


def test_ksm_counters_equal_a_hand_count():
    """Per content held by n ≥ 2 pages: n // m full copies, one more for a remainder ≥ 2; the
    scan walks every VM's pages at pages_to_scan per sleep_millisecs."""
    for seed in range(4):
        p = problems.KsmCounters(seed)
        m, mb = p.max_page_sharing, esx.PAGES_PER_MB
        held = {"zero": sum(int(v["zero_mb"] * mb) for v in p.vms)}            # pages per content
        for v in p.vms:
            for key, pages in [("os", int(p.os_image_mb * mb)), (v["app"], p.app_mb[v["app"]] * mb)]:
                for i in range(pages):
                    held[(key, i)] = held.get((key, i), 0) + 1
        copies = {k: n // m + (n % m >= 2) for k, n in held.items() if n >= 2}
        merged = {k: n - (n % m if n % m < 2 else 0) for k, n in held.items() if n >= 2}
        got = solve(p)
        assert got["pages_shared"] == sum(copies.values())
        assert got["pages_sharing"] == sum(merged.values()) - sum(copies.values())
        rate = p.pages_to_scan * 1000 / p.sleep_ms
        assert abs(got["full_scan_s"] - len(p.vms) * p.MAX_MB * mb / rate) <= 1


# -- esx_today (later ESX): limits vs reservations --------------------------------------------------
def test_limit_targets_teach_their_typical_mistakes():
    p = problems.LimitTargets(0)
    right = solve(p)
    no_limits = p._targets(p.available_mb, limits=False)
    assert "limits were ignored" in _fails(p, {**right, "busy_mb": no_limits})
    assert "reservations were ignored" in _fails(p, {**right, "busy_mb": p._targets(p.available_mb, reservations=False)})
    assert "in proportion to shares" in _fails(p, {**right, "busy_mb": p._targets(p.available_mb, shares=False)})
    assert "idle host" in _fails(p, {**right, "idle_mb": [float(v["max_mb"]) for v in p.vms]})
    assert "floor, not a size" in _fails(p, {**right, "idle_mb": [float(v["min_mb"]) for v in p.vms]})


def test_limit_targets_equal_a_hand_water_fill():
    """Busy host: hand out memory in proportion to shares; pin a VM at its reservation or ceiling
    (max or limit) and redivide the rest, until nobody moves. Idle host: every VM at its ceiling."""
    for seed in range(6):
        p = problems.LimitTargets(seed)
        lo = {v["name"]: v["min_mb"] for v in p.vms}
        hi = {v["name"]: min(v["max_mb"], v["limit_mb"] or v["max_mb"]) for v in p.vms}
        pinned: dict[str, float] = {}
        while True:
            free = [v for v in p.vms if v["name"] not in pinned]
            left = p.available_mb - sum(pinned.values())
            share = {v["name"]: left * v["shares"] / sum(f["shares"] for f in free) for v in free}
            out = {n: min(max(x, lo[n]), hi[n]) for n, x in share.items() if not lo[n] <= x <= hi[n]}
            if not out:
                break
            pinned.update(out)
        hand = [pinned.get(v["name"], share.get(v["name"])) for v in p.vms]
        got = solve(p)
        assert np.allclose(got["busy_mb"], hand, atol=1), (seed, got["busy_mb"], hand)
        assert got["idle_mb"] == [float(hi[v["name"]]) for v in p.vms]
        assert any(v["limit_mb"] is not None and t == v["limit_mb"] < v["max_mb"]
                   for v, t in zip(p.vms, got["idle_mb"])), "a limit below max binds on the idle host"


# -- what the problems pose, and the units slips every problem names -------------------------------
def test_admission_poses_hosts_admission_control_could_have_built_with_every_verdict():
    """The running VMs were admitted one by one (they never over-reserve the host), and 'admit' is
    sometimes the answer, so a student who always refuses is caught."""
    verdicts = set()
    for seed in range(40):
        q = problems.Admission(seed)
        memory, swap = solve(q)["reserved_mb"]
        assert memory <= q.memory_mb and swap <= q.swap_mb, seed
        verdicts.add(solve(q)["verdict"])
    assert verdicts == {"admit", "memory", "swap"}


def test_a_balloon_needs_a_driver_that_has_loaded():
    for seed in range(40):
        q = problems.BalloonSplit(seed)
        assert q.driver not in ("absent", "booting") or q.balloon_mb == 0, seed


def test_the_salting_hint_names_the_problems_own_setting():
    for seed in range(12):
        q = problems.SideChannel(seed)
        why = next(e for e in q._expect() if e.name == "salted").mistakes[0].hint
        assert f"force_salting = {q.force_salting}" in why and f"force_salting = {3 - q.force_salting}" not in why


def test_a_balloon_split_in_pages_gets_a_units_hint():
    for seed in range(20):
        q = problems.BalloonSplit(seed)
        right = solve(q)
        if right["swap_mb"]:
            msg = _fails(q, {**right, "swap_mb": right["swap_mb"] * esx.PAGES_PER_MB})
            assert "those look like pages; give MB (256 pages of 4 KB make one MB)." in msg
            return
    raise AssertionError("no seed pages anything")


UNIT_ANSWERS = {problems.BalloonSplit: ("MB", ("GB", "pages", "KB")), problems.SharingPrediction: ("MB", ("pages", "KB")),
                problems.TaxTargets: ("MB", ("pages", "GB", "KB")), problems.DoublePaging: ("pages", ("MB",)),
                problems.LimitTargets: ("MB", ("pages", "GB", "KB")), problems.Admission: ("MB", ("GB", "pages", "KB"))}
UNIT_HINTS = {"pages": "those look like pages; give MB (256 pages of 4 KB make one MB).",
              "MB": "those look like MB; give pages (256 pages of 4 KB make one MB).",
              "GB": "that looks like the answer in GB; give it in MB.",
              "KB": "that looks like the answer in KB; give it in MB (1024 KB make one MB)."}


@pytest.mark.parametrize("cls", UNIT_ANSWERS, ids=lambda c: c.__name__)
def test_units_slips_come_from_one_helper_with_one_wording(cls):
    """An answer in the wrong unit (pages for MB, MB for pages, GB for MB) is a mistake listed by
    problems.base.unit_mistakes, worded alike in every exercise (ballooning said "that is the answer
    in pages; give it in MB", idle_memory_tax "those are the targets in pages; give them in MB")."""
    from esxlab.problems.base import unit_mistakes
    unit, given = UNIT_ANSWERS[cls]
    for seed in range(3):
        p = cls(seed)
        right = solve(p)
        for e in expect(p):
            if e.unit != unit or not any(e.value if isinstance(e.value, list) else [e.value]):
                continue
            for other, m in zip(given, unit_mistakes(e.value, unit, *given)):
                assert m.hint == UNIT_HINTS[other] and m in e.mistakes, (seed, e.name, m)
                assert UNIT_HINTS[other] in _fails(p, {**right, e.name: m.value}), (seed, e.name)


def test_unit_mistakes_scale_numbers_and_lists_and_skip_zero():
    from esxlab.problems.base import unit_mistakes
    assert unit_mistakes(0.0, "MB", "pages", "GB") == () and unit_mistakes([0, 0], "MB", "pages") == ()
    assert [m.value for m in unit_mistakes([1.0, 2.0], "MB", "pages")] == [[256.0, 512.0]]
    assert [m.value for m in unit_mistakes(512.0, "pages", "MB")] == [2.0]
    with pytest.raises(esx.ConfigError, match="no slip from 'MB' to 'kB'"):
        unit_mistakes(1.0, "MB", "kB")


# -- the graded exercises: no answer given away, every typical mistake named ------------------------
@pytest.mark.parametrize("cls", QUIZZES + [problems.BeatRandom], ids=lambda c: c.__name__)
def test_the_students_problem_object_does_not_give_its_answers_away(cls):
    """No public solve()/expect() on the object a student holds: not an attribute, not in tab
    completion (public names of dir()), not in help(); the instructor module has them."""
    import pydoc
    p = cls(0)
    assert not hasattr(p, "solve") and not hasattr(p, "expect")
    public = {n for n in dir(p) if not n.startswith("_")}
    assert not public & {"solve", "expect", "answers", "expectations"}, public
    text = pydoc.render_doc(p, renderer=pydoc.plaintext)
    assert not any(f"{n}(self" in text for n in ("solve", "expect", "_solve", "_expect", "_expectations")), text
    assert solve(p) == p._solve()
    if cls is not problems.BeatRandom:               # the capstone's answer is a policy, judged by running it
        assert [e.name for e in expect(p)] == list(solve(p))


def test_every_problem_is_checked_here():
    """A problem exported by esxlab.problems is in QUIZZES (or is the capstone, whose answer is an object):
    else none of this file's checks run on it."""
    exported = {getattr(problems, n) for n in problems.__all__} - {problems.Problem}
    assert exported == set(QUIZZES) | {problems.BeatRandom}, "add the problem to QUIZZES"


#: public attributes that hold a right answer for some of seeds 0–9, with why that gives nothing away
MAY_HOLD_AN_ANSWER = {
    (problems.TaxTargets, "GOAL_TAX"): "the same for every seed: the grid of rates a goal is drawn from (each "
                                       "seed's answer lies within 0.01 of one of its 17)",
    (problems.RhoVictim, "RHO_TOL"): "the ±1 % tolerance, 0.01, near which a ρ of about 0.010 lies (seed 4)",
    (problems.SharingPrediction, "MAX_MB"): "every VM's size, the same for every seed; 24 MB are shared once (seed 6)",
    (problems.BalloonSplit, "tax_rate"): "a rate from 0 to 1: 0.5 is within the 0.5 MB tolerance of a 0 MB balloon",
    (problems.SamplingEstimate, "true_fraction"): "the notebook's follow-up shows it beside f; f is t / n, both "
                                                  "stated",
}
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")


def _items(value, depth: int = 2):
    """``value`` and, in containers (dicts' keys and values, sequences, sets, arrays), their items to ``depth``
    levels (a list of dicts, a dict of dicts), never an object's attributes."""
    yield value
    if depth and isinstance(value, dict):
        items = [*value, *value.values()]
    elif depth and (isinstance(value, (list, tuple, set, frozenset)) or getattr(value, "ndim", 0) >= 1):
        items = value
    else:
        return
    for item in items:
        yield from _items(item, depth - 1)


def _given(name: str, numbers: list, text: str) -> bool:
    """Whether the statement ``text`` gives an attribute: it points to it (``p.name``) or writes each of its
    ``numbers`` (thousands separators allowed)."""
    written = [float(n.replace(",", "")) for n in _NUMBER.findall(text)]
    return bool(re.search(rf"\b\w\.{name}\b", text)) or all(
        any(abs(w - float(x)) <= 1e-9 * max(1.0, abs(float(x))) for w in written) for x in numbers)


def _answer_holders(p) -> set[str]:
    """The public attributes and properties of ``p`` (methods aside) holding a right answer: a number within
    its tolerance (or a container holding one) where the statement does not give the attribute, or a
    choice answer itself."""
    text, found = p.describe(), set()
    for name in (n for n in dir(p) if not n.startswith("_")):
        value = getattr(p, name)
        if inspect.isroutine(value):
            continue
        numbers = [x for x in _items(value) if _is_real(x)]
        for e in expect(p):
            if e.kind in ("choice", "choices"):           # containers of choices are the choices offered
                found |= {name} if isinstance(value, (str, list)) and value == e.value else set()
                # a table keyed by the choices (esx_today's scenarios by cause matched q's settings)
                found |= {name} if isinstance(value, dict) and e.kind == "choice" and e.value in value \
                    and set(value) <= set(e.choices) else set()
            elif e.kind in ("number", "numbers") and not _given(name, numbers, text):
                one = e if e.kind == "number" else _item(e)
                right = e.value if e.kind == "numbers" else [e.value]
                found |= {name} if any(_close(one, x, r) for x in numbers for r in right) else set()
    return found


@pytest.mark.parametrize("cls", QUIZZES, ids=lambda c: c.__name__)
def test_no_public_attribute_holds_a_right_answer(cls):
    """A problem kept the simulated seconds public (``p.seconds[245]["throughput"]`` was the answer)
    and the name check above passed. For seeds 0–9, no public attribute or property holds a right answer
    that the statement does not give, except those listed with their reason."""
    for seed in range(10):
        p = cls(seed)
        leaks = {n for n in _answer_holders(p) if (cls, n) not in MAY_HOLD_AN_ANSWER}
        assert not leaks, f"{cls.__name__}(seed={seed}).{', '.join(sorted(leaks))} holds an answer: make it private"


def test_the_answer_check_finds_an_answer_a_problem_exposes(monkeypatch):
    """The test above fails on a problem that keeps its answer public: as a property, nested in the simulated
    seconds (as ``p.seconds`` once did), or a choice as it is."""
    monkeypatch.setattr(problems.SamplingEstimate, "answer", property(lambda self: round(solve(self)["slow"], 3)),
                        raising=False)
    with pytest.raises(AssertionError, match=r"SamplingEstimate\(seed=0\)\.answer holds an answer: make it private"):
        test_no_public_attribute_holds_a_right_answer(problems.SamplingEstimate)
    p, q = problems.HotPageRemap(0), problems.RhoVictim(0)
    p.seconds = {245: {"copies": solve(p)["bounce_copies"]}}          # second 245: not in the statement
    q.verdict = solve(q)["victim"]
    assert _answer_holders(p) == {"seconds"} and _answer_holders(q) == {"verdict"}
    s = problems.SharingStopped(0)
    s.SCENARIOS = {cause: [] for cause in s.CAUSES}       # a table keyed by the answer's choices
    assert _answer_holders(s) == {"SCENARIOS"}


def test_the_checker_poses_the_problem_afresh_from_its_seed(capsys):
    """What the student's object holds does not count, only its class and seed."""
    p = problems.RhoVictim(0)
    right = solve(p)
    p._expected = [Expect("rhos", "numbers", [1.0, 1.0, 1.0], "", tol=0.01, rel=True),
                   Expect("victim", "choice", "web", "", choices=("web", "db", "mail"))]
    p.vms = []
    assert "not right" in _fails(p, {"rhos": [1.0, 1.0, 1.0], "victim": "web"})
    checks.check(p, **right)
    assert capsys.readouterr().out.startswith("Correct")

    class Mine(problems.RhoVictim):
        def _expect(self):
            return [Expect("rhos", "numbers", [1.0, 1.0, 1.0], "", tol=0.01, rel=True),
                    Expect("victim", "choice", "web", "", choices=self.NAMES)]
    with pytest.raises(esx.ConfigError, match="needs a problem from esxlab.problems"):
        checks.check(Mine(0), rhos=[1.0, 1.0, 1.0], victim="web")


def _double_paging_formula(p):
    """The source notebook's solution: expected values from the problem's parameters."""
    s = p.swap_mb * esx.PAGES_PER_MB / p.private_pages
    out = p.grow_mb * esx.PAGES_PER_MB - p.guest_free_pages
    return dict(swap_ins=(out + p.background_pages_s) * s, double_paged=out * s, lru_double_paging="more")


@pytest.mark.parametrize("seeds", [list(range(30)) + [466]], ids=["0-29,466"])
def test_double_paging_passes_the_formula_and_fails_every_listed_mistake(seeds, capsys):
    """The notebook's own expected-value answer passes for every seed (seed 466 drew a 3.7-σ
    count), and every listed typical mistake lies outside the three-σ tolerance, so it gets its hint."""
    for seed in seeds:
        p = problems.DoublePaging(seed)
        formula = _double_paging_formula(p)
        checks.check(p, **formula)
        assert capsys.readouterr().out.startswith("Correct"), seed
        answers = {e.name: (e, e.value) for e in expect(p)}
        for e in expect(p):
            for m in e.mistakes:
                assert not _close(e, m.value, e.value), (seed, e.name, m.hint)
                given = {**answers, **{name: (answers[name][0], v) for name, v in m.given.items()}}
                assert m.hint in checks._value_error(e, m.value, given), (seed, e.name)      # its hint, not another's


#: the seeds checked: all of 0–599 where a problem is quick to pose, every n-th where it runs simulations
MISTAKE_SEEDS = {problems.HotPageRemap: range(0, 600, 6), problems.DoublePaging: range(0, 600, 10),
                 problems.SideChannel: range(0, 600, 15), problems.KsmCounters: range(0, 600, 10),
                 problems.SharingStopped: range(0, 600, 15), problems.SharingPrediction: range(0, 600, 15)}


@pytest.mark.parametrize("cls", QUIZZES, ids=lambda c: c.__name__)
def test_typical_mistakes_always_change_the_answer(cls):
    """No listed typical mistake gives the right answer (within its tolerance; a choice: the same
    choice), or the student who makes it is told "correct". It did: forgetting the overhead named the
    right verdict for 474 of seeds 0–599, a count that overshoots the threshold remapped at the same
    second as threshold + 1 would, a state's balloon/swap rule misremembered left one of its two answers
    unchanged, and forgetting the idle memory tax named the right victim."""
    for seed in MISTAKE_SEEDS.get(cls, range(600)):
        for e in expect(cls(seed)):
            assert not any(_close(e, m.value, e.value) for m in e.mistakes), (seed, e.name)


def test_two_mistakes_with_one_value_get_both_hints():
    """Gains that add up to 1 make "swapped gains" and "gain on the old value" give one
    number; "no window" and "a restart forgets the copies" always do for HotPageRemap (both are the
    threshold: every copy since the count last started). The hint names both."""
    p = problems.SamplingEstimate(4)
    assert p.slow_gain + p.fast_gain == 1
    right, f = solve(p), p.touched / p.n
    slow = p.slow_gain * p.slow + (1 - p.slow_gain) * f          # the small gain, but on the old value
    msg = _fails(p, {**right, "slow": slow})
    assert "uses the smaller gain" in msg and "weighs the new sample" in msg
    q = problems.HotPageRemap(1)
    e = {x.name: x for x in expect(q)}["bounce_copies"]
    restart_forgets_copies, no_window = [m for m in e.mistakes if not m.given and m.value == q.threshold]
    assert no_window.hint != restart_forgets_copies.hint
    msg = _fails(q, {**solve(q), "bounce_copies": q.threshold, "remap_s": -5})
    assert no_window.hint in msg and restart_forgets_copies.hint in msg
    # with remap_s given, it tells them apart: right, the window was applied; remapped later, it was not
    msg = _fails(q, {**solve(q), "bounce_copies": q.threshold})
    assert restart_forgets_copies.hint in msg and no_window.hint not in msg


def test_ksm_per_second_mistake_is_the_students_formula():
    """pages_to_scan taken as per second, computed as a student would, gets its hint."""
    for seed in range(10):
        p = problems.KsmCounters(seed)
        per_second = len(p.vms) * p.MAX_MB * esx.PAGES_PER_MB / p.pages_to_scan
        assert "per sleep_millisecs, not per second" in _fails(p, {**solve(p), "full_scan_s": per_second}), seed


def _remap_by_hand(p, idle_seconds=False):
    """HotPageRemap answered as the source notebook's solution does (§7: the page moves at the transfer
    that brings its count to the threshold, the rest of that burst uncopied); ``idle_seconds``: the
    misreading that counts the idle seconds between bursts (second − previous − 1) against window_s."""
    count, last, copies = 0, None, 0
    for second, n in p.bursts:
        if last is not None and second - last - idle_seconds > p.window_s:
            count = 0
        last = second
        if count + n >= p.threshold:
            return dict(remap_s=second, bounce_copies=copies + p.threshold - count)
        count += n
        copies += n
    return dict(remap_s=-1, bounce_copies=copies)


def test_the_remap_window_rule_is_stated_as_the_model_applies_it():
    """The rule is "second − previous second > window_s", with a worked example, in the problem
    and in the hint; a student who counts idle seconds gets that rule back."""
    p = problems.HotPageRemap(21)
    assert p.window_s == 5 and (9, 7) in p.bursts and (15, 5) in p.bursts      # 15 − 9 = 6 > 5: a restart
    rule = "(second − previous second > 5): bursts at seconds 10 and 15 keep counting; at 10 and 16 the count restarts"
    assert rule in p.describe().replace("\n", " ")
    idle = _remap_by_hand(p, idle_seconds=True)        # idle seconds 10..14 are 5, not > 5: no restart at 15
    assert idle["remap_s"] != solve(p)["remap_s"]
    msg = _fails(p, idle)
    assert rule in msg and "second minus the previous burst's second exceeds window_s" not in msg
    # (a wrong burst's second: one that is none, 20, is told it must be one)
    assert "second minus the previous burst's second exceeds window_s" in _fails(p, {**solve(p), "remap_s": 29})


def test_the_remap_exercise_is_answered_at_the_copy_that_reaches_the_threshold():
    """§7 (a page is remapped when its count exceeds the threshold, at that I/O): the exercise's rule
    by hand — the transfer that brings the count to the threshold is the last one copied — is the
    simulator's answer, and every problem's remap burst carries transfers beyond it, so copying the
    whole burst (the per-second rule the remapper used to follow) is a listed mistake, never the
    answer. The source notebook's solution cell computes the same thing."""
    import nbformat
    from pathlib import Path
    cells = nbformat.read(Path(__file__).resolve().parents[1] / "exercises/source/io_remapping.ipynb", as_version=4)
    solution = next(c.source for c in cells.cells if "### BEGIN SOLUTION" in c.source)
    for seed in range(40):
        p = problems.HotPageRemap(seed)
        right = solve(p)
        assert _remap_by_hand(p) == right, seed
        namespace = {"p": p}
        exec(solution, namespace)
        assert (namespace["remap_s"], namespace["bounce_copies"]) == (right["remap_s"], right["bounce_copies"]), seed
        whole_burst = sum(n for t, n in p.bursts if t <= right["remap_s"])
        assert whole_burst >= right["bounce_copies"] + 2, seed
        e = {x.name: x for x in expect(p)}["bounce_copies"]
        assert whole_burst in [m.value for m in e.mistakes] and right["bounce_copies"] + 1 in [m.value for m in e.mistakes]


def test_a_balloon_split_in_gb_or_as_a_fraction_is_a_units_mistake():
    """Seed 0 (soft, driver absent): 197 MB given in GB or as a fraction of max is a units
    mistake, not "the driver cannot take pages" (whose value, 0, is within the tolerance)."""
    p = problems.BalloonSplit(0)
    right = solve(p)
    assert p.driver == "absent" and right["swap_mb"] > 100
    for value, unit in [(right["swap_mb"] / 1024, "in GB"), (round(right["swap_mb"] / 1024, 2), "in GB"),
                        (right["swap_mb"] / p.max_mb, "a fraction of max")]:
        msg = _fails(p, {**right, "swap_mb": value})
        assert unit in msg and "absent" not in msg, msg
    assert "absent" in _fails(p, {**right, "swap_mb": 0.0})


def test_hard_state_keeps_asking_the_balloon():
    """In hard, keeping the balloon as it is and paging the excess gets a hint about the balloon."""
    p = problems.BalloonSplit(1)
    right = solve(p)
    assert p.state == "hard" and right["balloon_mb"] > p.balloon_mb
    msg = _fails(p, {"balloon_mb": float(p.balloon_mb), "swap_mb": right["swap_mb"]})
    assert "keeps the balloon growing and pages the excess too" in msg


def test_type_messages_say_what_is_wrong(capsys):
    """A huge int is "too large", not "not a number"; Decimal and 0-d arrays are numbers."""
    from decimal import Decimal
    p = problems.RhoVictim(0)
    right = solve(p)
    msg = _fails(p, {**right, "rhos": [10 ** 400] * 3})
    assert "`rhos[0]` is too large" in msg and "must be a number" not in msg
    checks.check(p, rhos=[Decimal(repr(r)) for r in right["rhos"]], victim=right["victim"])
    checks.check(p, rhos=[np.array(r) for r in right["rhos"]], victim=right["victim"])
    q = problems.TaxTargets(0)
    checks.check(q, **{**solve(q), "targets_mb": [np.array(t) for t in solve(q)["targets_mb"]]})
    assert capsys.readouterr().out.count("Correct") == 3
    assert "must be a number" in _fails(p, {**right, "rhos": [np.array("x")] * 3})


def test_a_time_span_is_no_number():
    """A student's trial: full_scan_s or remap_s given as a numpy time span (np.timedelta64(33, 's'), which numpy makes
    an integer type) raised Python's TypeError from inside the checker; it is told, as a datetime.timedelta is, that
    the answer must be a number."""
    p = problems.HotPageRemap(0)
    right = solve(p)
    for span in (np.timedelta64(right["remap_s"], "s"), np.array(np.timedelta64(right["remap_s"], "s"))):
        assert "`remap_s` must be a number (int or float); got" in _fails(p, {**right, "remap_s": span})
    msg = _fails(p, {**right, "bounce_copies": [np.timedelta64(1, "s")]})
    assert "`bounce_copies` must be a number (int or float); got" in msg
    q = problems.LimitTargets(0)
    qr = solve(q)
    msg = _fails(q, {**qr, "busy_mb": [np.timedelta64(int(t), "s") for t in qr["busy_mb"]]})
    assert "`busy_mb[0]` must be a number (int or float); got" in msg


def test_an_answer_given_by_position_is_told_to_give_it_by_name():
    """An audit: checks.check(p, 0.5) was Python's bare "takes 1 positional argument but 2 were given"."""
    with pytest.raises(esx.ConfigError) as err:
        checks.check(problems.RhoVictim(seed=0), 0.5)
    assert str(err.value) == ("check() takes each answer by its name, e.g. checks.check(p, rhos=rhos, victim=victim); "
                              "got 1 without a name (0.5).")
