"""Two debts of a review (stop 36): a slip into another unit printed cut or rounded is named by the checker for
every exercise (KSM's counts listed their rounded MB copies by hand, and an exact page count in MB read as a
slip only when given to every digit), and swapped answers are built by one helper, ``problems.base.swapped``."""
import pytest

from esxlab import checks, problems
from esxlab.checks import CheckFailed, Expect, Mistake
from esxlab.problems.base import UNIT_SLIPS, swapped, unit_mistakes
from esxlab.problems.instructor import solve

IN_MB = UNIT_SLIPS["pages", "MB"][1]


def _message(e: Expect, value) -> str:
    with pytest.raises(CheckFailed) as err:
        checks.verify(e, value)
    return str(err.value)


@pytest.mark.parametrize("printed", [12.3984375, 12.4, 12.39, 12.398, 12.0, 12])
def test_a_page_count_in_mb_reads_as_mb_however_it_is_printed(printed):
    """3,174 pages are 12.3984375 MB: exact, cut or rounded to 0–3 places, the MB hint (the count is exact)."""
    e = Expect("n", "number", 3174, hint="H", tol=0, unit="pages", mistakes=unit_mistakes(3174, "pages", "MB"))
    assert _message(e, printed).endswith(IN_MB)


@pytest.mark.parametrize("other", [12.5, 12.2, 13, 11])
def test_a_number_near_the_mb_value_that_no_printing_gives_is_not_called_mb(other):
    e = Expect("n", "number", 3174, hint="H", tol=0, unit="pages", mistakes=unit_mistakes(3174, "pages", "MB"))
    assert not _message(e, other).endswith(IN_MB)


def test_a_list_slip_printed_rounded_item_by_item():
    e = Expect("l", "numbers", [3174, 512], hint="H", tol=0, unit="pages",
               mistakes=unit_mistakes([3174, 512], "pages", "MB"))
    assert _message(e, [12.4, 2]).endswith(IN_MB)
    assert not _message(e, [12.4, 3]).endswith(IN_MB)


def test_double_paging_swap_ins_in_mb_rounded_get_the_mb_hint():
    """Not only KSM: DoublePaging's swap-ins (pages, ±tolerance) in MB to one decimal place."""
    for seed in range(5):
        q = problems.DoublePaging(seed)
        right = solve(q)
        mb = round(right["swap_ins"] / 256, 1)
        if abs(mb * 256 - right["swap_ins"]) <= 1 or mb == 0:
            continue
        with pytest.raises(CheckFailed) as err:
            checks.check(q, **{**right, "swap_ins": mb})
        assert IN_MB in str(err.value), (seed, mb, str(err.value))
        return
    pytest.fail("no seed of 0-4 has a swap-in count whose MB value needs rounding")


def test_swapped_names_each_answer_with_the_other_and_skips_equal_values():
    a, b = swapped("x", 3, "y", 5, "swapped")       # the second line points to the first (stop 40)
    assert a == (Mistake(5, "swapped", given={"y": 3}),)
    assert b == (Mistake(3, "`x` and `y` look swapped (why: see `x` above).", given={"x": 5}),)
    assert swapped("x", 3, "y", 5, "swapped", "on y")[1] == (Mistake(3, "on y", given={"x": 5}),)
    assert swapped("x", 4, "y", 4, "swapped") == ((), ())



def test_a_pop_of_an_empty_balloon_is_a_decision_too():
    """Review debt (stop 37): the reclaimer found pops by mirroring the balloon's total of pages popped, so a pop
    that released no pages (an empty balloon) was counted in ``pops`` but never logged. (The log folds the same
    decision within two seconds into one line, its pages summed: the lying driver's pops sum to its total.)"""
    import esxlab as esx
    host = esx.Host(esx.HostConfig(memory_mb=512, swap_mb=512), seed=0)
    host.power_on(esx.VMConfig(name="guest", max_mb=96), workload=esx.workloads.Idle())
    host.run(seconds=10)
    vm = host.vm("guest")
    assert vm.balloon.size == 0 and vm.balloon.pops == 0
    vm.balloon.pop(vm)
    host.step()
    pops = [d.pages for d in host.recorder.decisions if d.vm == "guest" and d.action == "balloon popped"]
    assert pops == [0] and vm.balloon.pops == 1
