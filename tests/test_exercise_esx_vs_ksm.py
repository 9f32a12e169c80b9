"""Exercise: ESX page sharing vs Linux KSM (beyond the paper; exercises/source/esx_vs_ksm.ipynb,
esxlab/problems/esx_vs_ksm.py): its checks' feedback on right and wrong answers, its text and its solution."""

import pytest

import esxlab as esx
from esxlab import problems
from esxlab.problems.instructor import solve

from answers import fails, feedback as _feedback, line, line as _line


IN_MB = "those look like MB; give pages (256 pages of 4 KB make one MB)."


@pytest.mark.parametrize("seed", range(0, 60, 10))
def test_ksm_problem_says_what_the_rest_of_each_vm_holds(seed):
    p = problems.KsmCounters(seed)
    text = p.describe()
    assert f"kernel takes {p.kernel_mb:.1f} MB" in text and "never touches" in text
    assert "neither zero pages nor anything else KSM could merge" in text and "the rest of it" not in text
    for v in p.vms:
        assert p._untouched_mb(v) > 0


def test_counting_untouched_memory_as_zero_pages_is_named():
    p = problems.KsmCounters(0)
    right, zeroed = solve(p), p._run(untouched_zero=True)
    said = fails(p, dict(right, pages_shared=zeroed["pages_shared"], pages_sharing=zeroed["pages_sharing"]))
    for name in ("pages_shared", "pages_sharing"):
        assert "never touched is not zero pages" in _line(said, name), said


def test_ksm_scan_time_in_milliseconds_is_named():
    """32768 for 32.768 s and the simulated seconds × 1000 get the unit hint."""
    for seed in range(10):
        p = problems.KsmCounters(seed)
        right = solve(p)
        formula = len(p.vms) * p.MAX_MB * esx.PAGES_PER_MB * p.sleep_ms / p.pages_to_scan     # in ms
        for ms in (formula, right["full_scan_s"] * 1000):
            msg = _feedback(p, **{**right, "full_scan_s": ms})
            assert "looks like the scan time in milliseconds" in msg and "give seconds" in msg, (seed, ms)


def test_ksm_scan_time_in_minutes_is_named():
    """A student's trial: 0.55 for a full scan of 33 s got only the general hint; the scan time in minutes (exactly,
    or printed to 2 decimals) gets the unit hint, as milliseconds do."""
    for seed in range(10):
        p = problems.KsmCounters(seed)
        right = solve(p)
        for minutes in (right["full_scan_s"] / 60, round(right["full_scan_s"] / 60, 2)):
            msg = _feedback(p, **{**right, "full_scan_s": minutes})
            assert "looks like the scan time in minutes; give seconds" in msg, (seed, minutes, msg)


def test_ksm_counts_in_mb_are_named():
    """Both counts ÷ 256, exactly or printed to 2 or 3 decimals, get the MB hint on each line."""
    for seed in range(10):
        p = problems.KsmCounters(seed)
        right = solve(p)
        for printed in (lambda x: x, lambda x: round(x, 2), lambda x: round(x, 3)):
            mb = {k: printed(right[k] / esx.PAGES_PER_MB) for k in ("pages_shared", "pages_sharing")}
            msg = _feedback(p, **{**right, **mb})
            assert IN_MB in line(msg, "pages_shared") and IN_MB in line(msg, "pages_sharing"), (seed, mb)


def test_ksm_swapped_counts_are_named_on_both_lines():
    for seed in range(10):
        p = problems.KsmCounters(seed)
        right = solve(p)
        msg = _feedback(p, **{**right, "pages_shared": right["pages_sharing"], "pages_sharing": right["pages_shared"]})
        assert "the two answers look swapped" in line(msg, "pages_shared"), seed
        assert "`pages_shared` and `pages_sharing` look swapped (why: see `pages_shared` above)." \
            in line(msg, "pages_sharing"), seed
        assert str(right["pages_shared"]) not in msg and str(right["pages_sharing"]) not in msg


@pytest.mark.parametrize("seed", range(6))
def test_a_scan_time_of_zero_or_below_is_told_it_is_a_time(seed):
    """A student's trial: the scan time with the wrong sign (-33 for 33 s) got only the general hint."""
    p = problems.KsmCounters(seed)
    right = solve(p)
    for wrong in (-right["full_scan_s"], 0):
        assert _feedback(p, **{**right, "full_scan_s": wrong}).startswith(
            "`full_scan_s` must be more than 0: it is a time in seconds; got "), wrong
