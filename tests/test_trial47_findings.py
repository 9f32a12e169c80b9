"""Findings of session 47's student trial of the later lessons (08, 11, 12) and their exercises, each a test that
fails on the code before."""
from __future__ import annotations

import subprocess
import sys

import pytest

from esxlab import PAGES_PER_MB
from esxlab.errors import ConfigError
from esxlab.experiments import esx_today
from esxlab.problems.esx_today import SharingStopped
from esxlab.views.lesson import Question

from test_student4_notebooks import _question, _text


def test_a_question_names_its_typical_mistakes():
    """A numeric Question gave its one hint to every wrong number; ``mistakes`` names a typical slip's own."""
    q = Question("How long is one pass?", answer=419.4, tol=2, unit="s", hint="Count the pages.",
                 mistakes={419430.4: "That is milliseconds."})
    assert q.check("419430").message.endswith("That is milliseconds.")
    assert q.check("100").message.endswith("Count the pages.")
    assert q.check("419").correct
    with pytest.raises(ConfigError, match="a dict"):
        Question("?", answer=1, hint="h", mistakes=[1])
    with pytest.raises(ConfigError, match="numeric questions"):
        Question("?", answer="a", choices=["a", "b"], feedback={"a": "yes", "b": "no"}, mistakes={1: "x"})


def test_lessons_08_and_11_name_the_slips_the_trial_made():
    """08's factor after an hour, answered with the worked example's 2-minute factor (234), and 11's KSM pass in
    milliseconds got the general hint."""
    hour = _question("08_io_remapping", "after one hour")
    assert "2 minutes" in hour.check("234").message and hour.check("7031").correct
    ksm = _question("11_esx_vs_ksm", "KSM scans 100 pages every 20 ms")
    assert "milliseconds" in ksm.check("419430.4").message


def test_lesson_11_says_when_nothing_merges_in_the_first_pass_and_what_volatile_counts():
    """11 said nothing can merge before a page's second scan, though a stable-tree match merges at once; and it
    defined pages_volatile as KSM's skipped pages, which ESX's stats count too. Its third Try it named no call."""
    how = _text("11_esx_vs_ksm", "### KSM (Linux `mm/ksm.c`)")
    assert "While the stable tree is still empty" in how
    assert "ESX counts them too" in how
    try_it = _text("11_esx_vs_ksm", "## Try it")
    assert "print(ksm_vs_esx.run().render())" in try_it and "4.82 minutes" in try_it


def test_lesson_12_hint_does_not_give_the_bands_away():
    """12's minFree question hinted "6 % of the first 4 GB, then 4 % of the next 8 GB": the whole recipe for 12 GB."""
    q = _question("12_esx_today", "12 GB of memory")
    said = q.check("100").message
    assert "6 %" not in said and "4 %" not in said and q.check("573.44").correct


def test_esx_today_heads_its_column_later_esx_in_print_and_on_the_command_line():
    """``res.render()`` and ``reproduce --figure esx_today`` headed esx_today's VMware values "paper"."""
    assert esx_today.run().render().split()[2:4] == ["later", "ESX"]
    out = subprocess.run([sys.executable, "-m", "esxlab", "reproduce", "--figure", "esx_today"], capture_output=True,
                         text=True, check=True).stdout
    assert out.split("\n")[0].split()[2:4] == ["later", "ESX"]


@pytest.mark.parametrize("seed", range(12))
def test_sharing_stopped_shows_all_three_settings_in_effect(seed):
    """SharingStopped printed only the overrides, so mode='off' alone on the line named the cause; it shows the
    three settings that can stop sharing, as the host has them, in every variant."""
    q = SharingStopped(seed)
    cfg = q.config()
    line = next(x for x in q.describe().split("\n") if x.startswith("In effect"))
    assert f"mode={cfg.sharing.mode!r}, force_salting={cfg.sharing.force_salting}, " \
           f"large_pages={cfg.large_pages}" in line


def test_the_decision_log_names_share_before_swap():
    """A page-out whose victims share instead (§4.3) was logged as "page out": Figure 8's boot read 533 MB paged
    where 80 MB reached the swap area. It reads "share / page out" now, as compression's stage names itself."""
    from esxlab.experiments import fig8
    run = fig8.run(seed=0, bench_start_min=8, minutes=18).traces["run"]
    shared = sum(d.pages for d in run.decisions if d.action.startswith("share / page out"))
    assert shared > 400 * PAGES_PER_MB
    off = fig8.run(seed=0, bench_start_min=8, minutes=18, sharing="off").traces["run"]
    assert [d for d in off.decisions if "page out" in d.action] and not [d for d in off.decisions if "share" in d.action]


def test_limit_targets_names_one_forgotten_limit():
    """An idle host's targets with one of two limits forgotten got the general hint; it names that VM's limit."""
    from esxlab.checks import CheckFailed, verify
    from esxlab.problems.esx_today import LimitTargets
    seen = 0
    for seed in range(60):
        q = LimitTargets(seed)
        limited = [v["name"] for v in q.vms if v["limit_mb"] is not None]
        idle = next(e for e in q._expect() if e.name == "idle_mb")
        for name in limited:
            with pytest.raises(CheckFailed) as told:
                verify(idle, q._targets(q.IDLE_MB, unlimited=name))
            assert (f"{name}'s limit holds" in str(told.value)) == (len(limited) > 1), (seed, str(told.value))
            seen += len(limited) > 1
    assert seen > 10


def test_side_channel_says_no_salt_is_a_group_of_its_own():
    """With force_salting 1, a victim without a salt and an attacker with one were told only "different salts never
    share"; the hint says that no salt is a common group of its own."""
    from esxlab.checks import CheckFailed, verify
    from esxlab.problems.security import SideChannel
    q = SideChannel(1)
    assert q.force_salting == 1 and q.salts == {"victim": None, "attacker": 1}
    with pytest.raises(CheckFailed, match=r"no salt \(None\) is one common group of its own"):
        verify(next(e for e in q._expect() if e.name == "salted"), "revealed")


def test_an_unanswered_check_asks_for_the_answer_name_spelled_right():
    """An answer set under a misspelled name (``secrte = ...``) left ``secret`` None, and the check said only that
    the answer cell stopped; it names the spelling too."""
    from esxlab.checks import Expect, verify
    with pytest.raises(NotImplementedError, match="check that you spelled `secret` so"):
        verify(Expect("secret", "choice", "a", "h", choices=("a", "b")), None)


@pytest.mark.parametrize("min_mb, told", [(224, True), (190, False)])
def test_a_low_state_with_nothing_to_reclaim_says_so_once(min_mb, told):
    """Two VMs whose mins and overhead reserve all 512 MB (admission control, §6.2, admits them) left the host in
    low for good, 0 MB free, with nothing in the log after its first page-outs. The log says, once, that low has
    nothing to reclaim and why; with smaller mins the host returns to high and nothing is said."""
    import esxlab as esx
    host = esx.Host(esx.HostConfig(memory_mb=512, sharing=esx.SharingConfig(mode="off")), seed=0)
    for name in "ab":
        host.power_on(esx.VMConfig(name=name, max_mb=256, min_mb=min_mb), workload=esx.workloads.Toucher(((0, 240),)))
    run = host.run(minutes=10)
    said = [d for d in run.decisions if d.action == "nothing to reclaim"]
    assert len(said) == told and (not told or "every VM is at or below its target" in said[0].why)
    assert (run.state_names()[-1] == "low") == told


def test_run_many_names_its_keyword_arguments_and_reproduce_its_options(capsys):
    """``runner.run_many``, a Python API, worded its errors as ``reproduce``'s options (``--jobs``)."""
    from esxlab.__main__ import main
    from esxlab.experiments import runner
    with pytest.raises(ConfigError, match=r"^reproduce: jobs = 0 is not allowed"):
        runner.run_many(["remap_io"], [0], jobs=0)
    assert main(["reproduce", "--figure", "remap_io", "--jobs", "0"]) == 2
    assert "reproduce: --jobs = 0 is not allowed" in capsys.readouterr().err
