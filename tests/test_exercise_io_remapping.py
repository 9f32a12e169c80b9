"""Exercise: hot I/O page remapping (paper §7; exercises/source/io_remapping.ipynb, esxlab/problems/io_remapping.py):
its checks' feedback on right and wrong answers, its text and its solution."""
from __future__ import annotations

import pytest

from esxlab import checks, problems
from esxlab.problems.instructor import expect, solve

from answers import fails, feedback as _feedback, line, line as _line


RESTART_KEEPS_COPIES = "copies paid before the count restarted were still paid"
GE = "more than window_s"
WHOLE_BURST = "the rest of that burst reaches the device without a copy"


def test_io_remapping_names_a_non_whole_count_and_a_burst_s_position():
    from esxlab.problems.io_remapping import HotPageRemap
    p = HotPageRemap(seed=0)
    r = p._solve()
    with pytest.raises(checks.CheckFailed, match=r"the answer is a whole number, and 10\.4 is not one"):
        checks.check(p, remap_s=r["remap_s"], bounce_copies=r["bounce_copies"] + 0.4)
    place = [t for t, _ in p.bursts].index(r["remap_s"])
    for slip in (place, place + 1):
        with pytest.raises(checks.CheckFailed, match="the burst's position in p.bursts"):
            checks.check(p, remap_s=slip, bounce_copies=r["bounce_copies"])
    checks.check(p, remap_s=r["remap_s"], bounce_copies=float(r["bounce_copies"]))      # 10.0 is 10


def test_a_remap_second_that_is_no_bursts_second_is_told_it_must_be_one():
    """An instructor's trial: `remap_s = 83`, no burst's second, got the general hint; the problem knows its bursts. A
    typical mistake's value keeps its own hint, and a wrong burst's second the general one."""
    for seed in range(6):
        p = problems.HotPageRemap(seed)
        right, seconds = solve(p), [t for t, _ in p.bursts]
        named = {m.value for e in p._expectations() if e.name == "remap_s" for m in e.mistakes}
        slips = [t for t in (seconds[-1] + 1, seconds[0] + 1, -1) if t not in seconds and t not in named]
        assert slips, seed
        for slip in slips:
            msg = _feedback(p, remap_s=slip, bounce_copies=right["bounce_copies"])
            assert msg == (f"`remap_s` must be one of the bursts' seconds in p.bursts (the first number of a (second, "
                           f"transfers) pair): the page is remapped during a burst; got {slip} (int)."), (seed, msg)
        wrong = next(t for t in seconds if t != right["remap_s"] and t not in named)
        msg = _feedback(p, remap_s=wrong, bounce_copies=right["bounce_copies"])
        assert "must be one of" not in msg and "`remap_s` is not right (exact): add up" in msg, (seed, msg)


def test_io_remapping_names_remapping_at_the_first_copy():
    """"Remapping happens on the first copy", a misconception exercises/README.md says lab 5 targets, had no hint."""
    from esxlab.problems.io_remapping import HotPageRemap
    for seed in range(4):
        p = HotPageRemap(seed=seed)
        with pytest.raises(checks.CheckFailed) as told:
            checks.check(p, remap_s=p.bursts[0][0], bounce_copies=1)
        assert str(told.value).count("does not remap a page at its first copy") == 2, str(told.value)


def test_a_restart_that_drops_the_earlier_copies_is_diagnosed_first():
    """Restarting right but counting only the copies since the restart gives the threshold at the right second:
    the message opens with that diagnosis ((82, 8) at seed 0), the window rule only after it."""
    assert problems.HotPageRemap(0).threshold == 8 and solve(problems.HotPageRemap(0))["remap_s"] == 82
    for seed in range(8):
        p = problems.HotPageRemap(seed)
        msg = _feedback(p, remap_s=solve(p)["remap_s"], bounce_copies=p.threshold)
        assert msg.split("(exact): ", 1)[1].startswith(RESTART_KEEPS_COPIES), (seed, msg)
        assert "window_s" not in msg, (seed, msg)                # remap_s is right: the window was applied


def test_swapped_remap_answers_get_the_swapped_hint():
    for seed in range(8):
        p = problems.HotPageRemap(seed)
        right = solve(p)
        msg = _feedback(p, remap_s=right["bounce_copies"], bounce_copies=right["remap_s"])
        assert "the two answers look swapped" in line(msg, "remap_s"), (seed, msg)
        assert "`remap_s` and `bounce_copies` look swapped (why: see `remap_s` above)." \
            in line(msg, "bounce_copies"), (seed, msg)


def test_the_window_slip_and_the_whole_last_burst_are_both_told_on_seed_13():
    p = problems.HotPageRemap(13)
    assert solve(p) == {"remap_s": 139, "bounce_copies": 30}
    line = _line(fails(p, {"remap_s": 139, "bounce_copies": 34}), "bounce_copies")
    assert WHOLE_BURST in line and checks.ALSO in line and GE in line, line


@pytest.mark.parametrize("seed, remap_s, copies", [(9, 121, 21), (19, 82, 10)])
def test_the_window_slip_is_named(seed, remap_s, copies):
    p = problems.HotPageRemap(seed)
    msg = fails(p, {"remap_s": remap_s, "bounce_copies": copies})
    assert GE in _line(msg, "remap_s") and GE in _line(msg, "bounce_copies"), msg


def test_a_loop_that_finds_no_remap_is_told_the_page_is_always_remapped():
    p = problems.HotPageRemap(4)
    msg = fails(p, {"remap_s": None, "bounce_copies": 23})
    todo = next(text for text in msg.splitlines() if "`remap_s` is not answered yet" in text)
    assert "If your code computed None" in todo and "within p.bursts" in todo, todo
    e = expect(p)[1]
    with pytest.raises(NotImplementedError) as err:
        checks.verify(e, None)
    assert "If your code computed None" in str(err.value) and "return" in str(err.value)      # the general sentence
