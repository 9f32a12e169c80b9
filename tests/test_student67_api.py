"""Stop 40's student testers (lessons 02–12) and a fidelity audit, on the package: every public function a
lesson shows refuses bad input with a sentence (``Sampler``, ``GuestProfile.kernel_pages``,
``FreeMemoryStates.update``, lesson 11's ``lesson_sharing``/``lesson_vms``), a percentage typed where a
fraction is asked is named as such (configuration fields and a lesson's Question), ``power_on_all`` takes one
VMConfig, and Figure 7's note on the sum after the tax change says what the model does."""
from __future__ import annotations

import numpy as np
import pytest

import esxlab as esx
from esxlab.experiments import fig7
from esxlab.guest import PROFILES
from esxlab.problems.esx_vs_ksm import LESSON_MAX_VMS, lesson_host, lesson_sharing, lesson_vms
from esxlab.problems.free_memory_states import power_on_all
from esxlab.reclaim import FreeMemoryStates
from esxlab.sampling import Sampler
from esxlab.views import Question


@pytest.mark.parametrize("args, said", [
    ((100, 0, 30, 0.25, 0.7), "Sampler.n = 0 is out of range"),
    ((1000, 100, 0, 0.25, 0.7), "Sampler.period_s = 0 is out of range; allowed: 1 ≤ period_s ≤ 3600"),
    ((1000, 100, 30, 25, 0.7), "Sampler.slow_gain = 25 is out of range"),
    (("1000", 100, 30, 0.25, 0.7), "Sampler.pages must be a number, got '1000' (str)"),
    ((1000, -5, 30, 0.25, 0.7), "Sampler.n = -5 is out of range"),
])
def test_a_sampler_refuses_values_a_lesson_would_not_take(args, said):
    with pytest.raises(esx.ConfigError, match=said.replace("(", r"\(").replace(")", r"\)")):
        Sampler(*args, np.random.default_rng(0))


def test_a_sampler_refuses_a_last_touch_shorter_than_its_pages():
    s = Sampler(1000, 100, 30, 0.25, 0.7, np.random.default_rng(0))
    with pytest.raises(esx.ConfigError, match="needs last_touch for all 1000 pages"):
        s.tick(0, np.zeros(10, dtype=np.int64))
    s.tick(0, np.zeros(1000, dtype=np.int64))         # the right length still works


def test_kernel_pages_refuses_a_negative_or_text_size():
    with pytest.raises(esx.ConfigError, match="max_mb = -1 is out of range"):
        PROFILES["linux"].kernel_pages(-1)
    with pytest.raises(esx.ConfigError, match="must be a number"):
        PROFILES["linux"].kernel_pages("128")


@pytest.mark.parametrize("free", [-5, 10 ** 9, "20", None, float("nan")])
def test_free_memory_states_refuse_what_is_not_a_count_of_free_pages(free):
    cfg = esx.HostConfig(memory_mb=240, swap_mb=512)
    states = FreeMemoryStates(cfg, cfg.total_pages)
    with pytest.raises(esx.ConfigError, match=r"free counts machine pages, not MB \(256 a MB\)"):
        states.update(free)
    assert states.name == "high"                       # the refused value changed nothing
    states.update(np.int64(2 * 256))                   # 2 MB of 240: below 1 %
    assert states.name == "low"


def test_lesson_sharing_names_its_own_parameters():
    with pytest.raises(esx.ConfigError, match=r"lesson_sharing.vms must be a number, got '3' \(str\)"):
        lesson_sharing("ksm", "3")
    with pytest.raises(esx.ConfigError, match="lesson_sharing.vms = 0 is out of range"):
        lesson_sharing("ksm", 0)
    with pytest.raises(esx.ConfigError, match="lesson_sharing.minutes = 0 is out of range"):
        lesson_sharing("ksm", 3, minutes=0)
    with pytest.raises(esx.ConfigError, match="lesson_vms.n = -1 is out of range"):
        lesson_vms(-1)
    assert len(lesson_vms(3.0)) == 3                   # a whole float is a whole number


def test_the_lessons_vm_bound_is_what_its_host_admits():
    host = esx.Host(lesson_host("esx"), seed=0)
    for config, workload in lesson_vms(LESSON_MAX_VMS):
        host.power_on(config, workload=workload)
    with pytest.raises(esx.AdmissionError):
        host.power_on(esx.VMConfig(name="one more", max_mb=40, overhead_mb=4))


def test_power_on_all_takes_one_config():
    one = esx.VMConfig(name="vm0", max_mb=96, min_mb=32)
    assert power_on_all(one, memory_mb=256, swap_mb=512) is None
    assert "cannot power on 'vm0'" in power_on_all(one, memory_mb=48, swap_mb=512)


def test_a_percentage_for_a_fraction_is_named():
    with pytest.raises(esx.ConfigError, match=r"tax_rate = 75 is out of range: a fraction of 1 \(0.75 for 75 %\)"):
        esx.HostConfig(tax_rate=75)
    for value in (1.5, 100):                           # not read as percentages: 1.5 %, or 1 (not allowed)
        with pytest.raises(esx.ConfigError) as err:
            esx.HostConfig(tax_rate=value)
        assert "fraction" not in str(err.value)
    with pytest.raises(esx.ConfigError, match=r"\(percentages of machine memory: 4 for 4 %\)"):
        esx.HostConfig(memory_mb=240, soft_pct=0.04)


def test_a_question_tells_a_percentage_from_a_wrong_fraction():
    q = Question("New slow average?", answer=0.65, tol=0.005, hint="An EWMA moves a fraction α of the way.")
    assert q.check("65").message == ("Not yet: that is not within ±0.005 of the answer. This box takes a fraction "
                                     "of 1, not a percentage: 0.65 for 65 %.")
    assert q.check("0.5").message.endswith("An EWMA moves a fraction α of the way.")
    assert q.check("50").message.endswith("An EWMA moves a fraction α of the way.")   # not 0.65 either way


def test_figure_7s_note_on_the_sum_says_what_the_model_does():
    """The note: the targets still add up to the same memory, the allocations settle a few MB below them."""
    res = fig7.run(seed=0)
    row = res.row("sum of allocations after the change")
    assert "its allocations settle a few MB below them" in row.note and "not 14" in row.note, row.note
    tr = res.traces["run"]
    late = (50, 60)
    targets = sum(tr.mean(vm, "target", *late) for vm in ("idle", "dbench"))
    allocs = sum(tr.mean(vm, "alloc", *late) for vm in ("idle", "dbench"))
    before = sum(tr.mean(vm, "target", 20, 31) for vm in ("idle", "dbench"))
    assert abs(targets - before) < 1, (targets, before)             # the same available memory
    assert 0 < targets - allocs < 8, (targets, allocs)               # a few MB below the targets
    assert abs(allocs - row.esxlab) < 2 and row.esxlab < before      # the row's sum falls by a few MB


def test_a_balloon_inflated_in_high_says_it_is_esxlabs_reading():
    """The fidelity audit: under ``high_state="converge"`` (the default) a balloon inflates in the high state,
    where §6.3 reclaims nothing; the decision log says so, not only "high state"."""
    tr = fig7.run(seed=0).traces["run"]
    high = [d for d in tr.decisions if d.action == "inflate balloon" and d.why.startswith("high state")]
    assert high, "Figure 7's tax change inflates the idle VM's balloon in high"
    assert all("esxlab's reading; §6.3 reclaims nothing in high" in d.why for d in high), high[0].why
    assert not [d for d in tr.decisions if "esxlab's reading" in d.why and not d.why.startswith("high state")]


def test_a_question_tells_a_fraction_typed_in_a_percent_box():
    """A fresh student (stop 40): 0.048 in a box that asks for 4.8 % got only the generic hint."""
    q = Question("Standard deviation of f?", answer=4.8, tol=0.1, unit="%", hint="√(f(1 − f)/n).")
    assert q.check("0.048").message.endswith("This box takes a percentage, not a fraction of 1: 4.8 for 0.048.")
    assert q.check("0.5").message.endswith("√(f(1 − f)/n).")


def test_feedback_shows_markdown_emphasis_as_italics_not_asterisks():
    q = Question("Who sees the swap?", choices=("guest", "ESX"), answer="ESX",
                 feedback={"guest": "The guest's tables map virtual to *physical* pages.", "ESX": "Right: ESX does."})
    q.widget  # built
    q.check("guest")
    html = q.result.value
    assert "<i>physical</i>" in html and "*physical*" not in html


def test_figure_8_says_why_its_memory_cannot_go_below_896_mb():
    """Stop 40's reader: "896 ≤ memory_mb" did not say what 896 is. It is the five VMs' min + overhead
    (128 + 128 + 160 + 160 + 160 + 5 × 32 MB), which admission control must reserve (§6.2)."""
    from esxlab.experiments import fig8
    from esxlab.errors import ConfigError
    assert fig8.MIN_MEMORY_MB == 896 == sum(mn + 32 for _, mn, _ in fig8.VMS.values())
    with pytest.raises(ConfigError) as err:
        fig8.run(memory_mb=512)
    assert str(err.value) == ("fig8.memory_mb = 512 is out of range; allowed: 896 ≤ memory_mb ≤ 65536 (896 MB: the "
                              "five VMs' min + 32 MB of overhead each, which admission control reserves before it "
                              "powers them on, §6.2).")
    assert fig8.PARAMS["tax_rate"].why_range == ""          # other ranges say only what they allow


def test_sweep_list_says_where_a_bound_comes_from():
    """`sweep fig8 --list` showed "896 ≤ memory_mb ≤ 65536" without the why that its error gives."""
    from esxlab.experiments import sweeps
    text = sweeps.describe_params("fig8")
    assert "Where a bound comes from:\n  - memory_mb's 896 MB: the five VMs' min + 32 MB of overhead each" in text
    assert "tax_rate's" not in text
    assert "Where a bound comes from" not in sweeps.describe_params("fig7")


def test_an_absolute_margin_on_a_percentage_reads_in_percentage_points():
    """Stop 40's student in lesson 06: "not within ±0.1 % of the answer" for a question in percentage points
    reads as a relative margin; and "4.8 points" was 'not a unit I know' where "4.8 pp" was read."""
    q = Question("Standard deviation of f, in percentage points?", answer=4.8, tol=0.1, unit="%", hint="√(f(1 − f)/n).")
    assert q.check("5.2").message.startswith("Not yet: that is not within ±0.1 percentage points of the answer.")
    assert q.check("4.8 points").correct and q.check("4.85 point").correct
    from esxlab.checks import Expect
    assert Expect("rhos", "numbers", [1.0], "h", tol=0.01, rel=True).tolerance == " (each within ±1 %)"
