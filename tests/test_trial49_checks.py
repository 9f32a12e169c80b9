"""Findings of session 49's student trial (sampling, io_remapping, security, free_memory_states): hints that named
another mistake than the student's, a suggestion that named the wrong seed, and answers readable with ``vars(p)``.
Each test fails on the code before.

* sampling: ``f = p.true_fraction`` got the rounding hint (82 of seeds 0–199: the true fraction is a rounded t/n);
  ``f = 1 − t/n`` (the idle fraction) got the general hint.
* every exercise: a ``p`` that is no problem object was told ``p = problems.X(seed=0)`` whatever the class SEED.
* io_remapping: the slip ``gap >= window_s`` got the hint of copying the whole last burst (seed 13, one number for
  both), and a loop that found no remap (seed 4) was told to "replace None with your answer".
* free_memory_states: a list of the wrong length was "one per entry of the problem".
* security: force_salting = 2 with no salts was told "different salts never share".
* every exercise: ``vars(p)['_expected']`` held every answer, and grade.py did not flag the cell that read it.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from esxlab import checks, problems
from esxlab.problems.instructor import expect, solve
from answers import answered, fails as _fails, grade_script, line as _line

ROOT = Path(__file__).resolve().parents[1]
RELEASE = ROOT / "exercises" / "release"
ROUNDING = "cut or rounded"
TRUE = "ESX cannot see the VM's true active fraction"
IDLE = "idle fraction"


# -- 1 and 2: sampling's f from the true fraction, and the idle fraction ---------------------------------------------
def test_the_true_fraction_for_f_is_told_first_beside_the_rounding_hint_on_seed_0():
    """0.1 on seed 0 is both p.true_fraction and t/n = 0.13 rounded: a student may have done either, so both are
    said, the true fraction first (it said only the rounding; then, for a day, only the true fraction, which told
    a student who had rounded that they had copied p.true_fraction)."""
    p = problems.SamplingEstimate(0)
    right = solve(p)
    assert (p.true_fraction, round(right["f"], 2)) == (0.1, 0.13)
    line = _line(_fails(p, {**right, "f": p.true_fraction}), "f")
    assert TRUE in line and "what the sample shows" in line, line
    assert ROUNDING in line and line.index(TRUE) < line.index(ROUNDING), line


def test_the_true_fraction_is_named_on_every_seed_and_rounding_only_where_it_is_one():
    """Seeds 0–199: wherever the true fraction is outside f's tolerance it is named; the rounding hint beside it
    exactly where it is also the right answer cut or rounded."""
    told = 0
    for seed in range(200):
        p = problems.SamplingEstimate(seed)
        right = solve(p)
        if p._near(p.true_fraction, right["f"]):
            continue
        line = _line(_fails(p, {**right, "f": p.true_fraction}), "f")
        e = next(x for x in expect(p) if x.name == "f")
        assert TRUE in line, (seed, line)
        assert (ROUNDING in line) == bool(checks._rounded_hint(e, p.true_fraction)), (seed, line)
        told += 1
    assert told >= 100


def test_the_idle_fraction_for_f_is_named():
    told = 0
    for seed in range(60):
        p = problems.SamplingEstimate(seed)
        right = solve(p)
        idle = 1 - p.touched / p.n
        if p._near(idle, right["f"]):
            continue
        line = _line(_fails(p, {**right, "f": idle}), "f")
        assert IDLE in line and "active" in line, (seed, line)
        assert f"{right['f']:g}" not in line, (seed, line)            # the right f is not given away
        told += 1
    assert told >= 40


def test_the_new_f_mistakes_keep_the_draws():
    """Listed only outside f's tolerance, so no draw that was kept is turned down (tests/test_problem_draws.py)."""
    for seed in range(200):
        f = expect(problems.SamplingEstimate(seed))[0]
        assert not any(checks._close(f, m.value, f.value) for m in f.mistakes), seed


# -- 3: the problem object suggested with the class's SEED ------------------------------------------------------------
def test_a_shadowed_problem_is_told_to_use_seed_equals_seed():
    with pytest.raises(checks.ConfigError) as err:
        checks.check(0.565, f=0.1, slow=0.1, fast=0.1, estimate=0.1)
    assert "e.g. `p = problems.SamplingEstimate(seed=SEED)`, then `check(p, ...)`" in str(err.value)
    assert "seed=0" not in str(err.value)
    with pytest.raises(checks.ConfigError) as err:
        checks.check(problems.SamplingEstimate, f=0.1, slow=0.1, fast=0.1, estimate=0.1)
    assert "e.g. `p = problems.SamplingEstimate(seed=SEED)`" in str(err.value)


@pytest.mark.parametrize("cls", [problems.Admission, problems.TaxTargets, problems.SharingStopped])
def test_a_second_problem_is_suggested_under_its_own_name(cls):
    """The notebooks hold these in `q` (beside a `p`): `p = problems.Admission(...)` would overwrite the other."""
    with pytest.raises(checks.ConfigError) as err:
        checks.check(None, **dict.fromkeys(cls.ANSWER_NAMES, 1))
    assert f"e.g. `q = problems.{cls.__name__}(seed=SEED)`, then `check(q, ...)`" in str(err.value)


def test_every_exercise_notebook_sets_seed_and_names_its_problems_as_the_suggestion_does():
    for path in sorted((ROOT / "exercises" / "source").glob("*.ipynb")):
        code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        setup = next(c for c in code if "SEED =" in c)
        assert re.search(r"^SEED = \d+", setup, re.M) and "import" in setup, path.name
        for name in problems.__all__:
            cls = getattr(problems, name)
            made = [c for c in code if f"problems.{name}(seed=SEED)" in c]
            for c in made:
                assert f"{cls.VARIABLE} = problems.{name}(seed=SEED)" in c, (path.name, name)


# -- 4 and 5: io_remapping's `>=` window slip ------------------------------------------------------------------------
GE = "more than window_s"
WHOLE_BURST = "the rest of that burst reaches the device without a copy"


def test_the_window_slip_and_the_whole_last_burst_are_both_told_on_seed_13():
    p = problems.HotPageRemap(13)
    assert solve(p) == {"remap_s": 139, "bounce_copies": 30}
    line = _line(_fails(p, {"remap_s": 139, "bounce_copies": 34}), "bounce_copies")
    assert WHOLE_BURST in line and checks.ALSO in line and GE in line, line


@pytest.mark.parametrize("seed, remap_s, copies", [(9, 121, 21), (19, 82, 10)])
def test_the_window_slip_is_named(seed, remap_s, copies):
    p = problems.HotPageRemap(seed)
    msg = _fails(p, {"remap_s": remap_s, "bounce_copies": copies})
    assert GE in _line(msg, "remap_s") and GE in _line(msg, "bounce_copies"), msg


def test_any_two_mistakes_of_one_value_are_both_told():
    """Generally: two typical mistakes of one answer with one value are both told, joined by checks.ALSO, whatever
    the problem (unless one of that value names the other answers: then it alone, as Mistake.given says)."""
    both = 0
    for name in (n for n in problems.__all__ if n not in ("Problem", "BeatRandom")):
        for seed in range(6):
            p = getattr(problems, name)(seed)
            answers = {e.name: (e, e.value) for e in expect(p)}
            for e in expect(p):
                if e.kind == "object":
                    continue
                for i, m in enumerate(e.mistakes):
                    same = [o for o in e.mistakes if checks._distance(e, m.value, o.value) == 0]
                    tied = [o for o in e.mistakes[i + 1:] if o in same and o.hint != m.hint]
                    if not tied or any(o.given for o in same):         # (one that names the other answers wins)
                        continue
                    msg = checks._value_error(e, m.value, {**answers, e.name: (e, m.value)})
                    assert all(o.hint in msg for o in [m, *tied]), (name, seed, e.name, msg)
                    both += 1
    assert both


def test_a_loop_that_finds_no_remap_is_told_the_page_is_always_remapped():
    p = problems.HotPageRemap(4)
    msg = _fails(p, {"remap_s": None, "bounce_copies": 23})
    todo = next(text for text in msg.splitlines() if "`remap_s` is not answered yet" in text)
    assert "If your code computed None" in todo and "within p.bursts" in todo, todo
    e = expect(p)[1]
    with pytest.raises(NotImplementedError) as err:
        checks.verify(e, None)
    assert "If your code computed None" in str(err.value) and "return" in str(err.value)      # the general sentence


# -- 6: a list of the wrong length names its items -------------------------------------------------------------------
def test_a_states_list_of_the_wrong_length_names_the_readings():
    p = problems.FreeMemoryWalk(0)
    right = solve(p)["states"]
    for wrong in ([], ["high", *right]):
        msg = _fails(p, {"states": wrong})
        assert "one per reading in p.free_mb" in msg and "entry of the problem" not in msg, msg
    assert "did your answer cell stop" in _fails(p, {"states": []})
    assert "did your answer cell stop part-way" in _fails(p, {"states": right[:3]})     # a fresh user's check
    assert "stop" not in _fails(p, {"states": ["high", *right]})                      # too many: no crash to ask about
    q = problems.Admission(0)
    assert "in the order [memory, swap]" in _fails(q, {**solve(q), "reserved_mb": [1.0]})


# -- 8: security's force_salting = 2 with no salts -------------------------------------------------------------------
def _salting(force: int, victim, attacker) -> problems.SideChannel:
    return next(p for p in map(problems.SideChannel, range(400))
                if p.force_salting == force and (p.salts["victim"], p.salts["attacker"]) == (victim, attacker))


def test_no_salt_under_force_salting_2_is_not_told_different_salts():
    p = problems.SideChannel(37)
    assert p.force_salting == 2 and set(p.salts.values()) == {None} and solve(p)["salted"] == "hidden"
    line = _line(_fails(p, {**solve(p), "salted": "revealed"}), "salted")
    assert "different salts" not in line and "without a salt shares only with itself" in line, line
    numbered = _salting(2, 1, 2)
    line = _line(_fails(numbered, {**solve(numbered), "salted": "revealed"}), "salted")
    assert "different salts never share" in line and "without a salt" not in line, line


# -- 9: the answers off vars(p), and grade.py flags reading them ------------------------------------------------------
@pytest.mark.parametrize("name", [n for n in problems.__all__ if n != "Problem"])
def test_vars_of_a_problem_holds_no_answer(name):
    p = getattr(problems, name)(0)
    expected = expect(p)                                    # the instructor's preview still works
    solve(p)
    private = {k for k in vars(p) if k.startswith("_")}
    assert not private & {"_expected", "_secret", "_planted", "_solution", "_runs", "_jitter"}, private
    assert not any(isinstance(v, list) and v and all(hasattr(x, "mistakes") for x in v) for v in vars(p).values())
    assert not any(e.kind in ("choice", "choices") and e.value in vars(p).values()
                   for e in expected if isinstance(e.value, str)), vars(p)


def test_the_cached_expectations_still_reset():
    """The tests that patch a problem's _solve reset its cache with ``p._expected = None``."""
    p = problems.SamplingEstimate(0)
    first = p._expectations()
    assert p._expectations() is first
    p._expected = None
    assert p._expectations() is not first and "_expected" not in vars(p)


@pytest.mark.parametrize("source, found", [
    ("f, slow, fast, estimate = [e.value for e in vars(p)['_expected']]", "vars(p)"),
    ("f, slow, fast, estimate = [e.value for e in p.__dict__['_expected']]", "p.__dict__"),
    ("d = vars(p)\nf, slow, fast, estimate = [e.value for e in d['_expected']]", "vars(p)"),
    ("f, slow, fast, estimate = [e.value for e in getattr(p, '_expected')]", "'_expected'"),
    ("f, slow, fast, estimate = [e.value for e in p.__getattribute__('_expected')]", "'_expected'"),
])
def test_grade_flags_vars_dict_and_private_names_in_strings(source, found):
    grade = grade_script()
    given = nbformat.read(RELEASE / "sampling.ipynb", as_version=4)
    notes = grade.flags(given, answered(given, {"sampling-answer": source}))
    assert notes and all(n.startswith("flagged for review: sampling-answer ") for n in notes), notes
    assert any(found in n for n in notes), notes


def test_grade_does_not_flag_a_students_own_dict_or_a_plain_string():
    grade = grade_script()
    given = nbformat.read(RELEASE / "sampling.ipynb", as_version=4)
    own = ("class Mine:\n    def show(self):\n        return vars(self), self.__dict__\n"
           "names = {'f': 1}\nf = p.touched / p.n\nprint(f'{f:.2f}', 'the _ in a name')\n")
    assert grade.flags(given, answered(given, {"sampling-answer": own})) == []
