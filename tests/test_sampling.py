"""Active-memory estimation by statistical sampling (paper §5.3): n = 100 random pages per period,
the touched fraction f = t / n, three EWMAs (slow, fast, fast with the current period) and the
estimate, their maximum. Gains 0.25 (slow) and 0.7 (fast) are the defaults."""
from __future__ import annotations

import numpy as np
import pytest

import esxlab as esx
from conftest import small_host
from esxlab.sampling import Sampler

SLOW, FAST = 0.25, 0.7


def sampler(pages=100, n=100, period_s=1, averages=(1.0, 1.0), seed=0):
    return Sampler(pages, n, period_s, SLOW, FAST, np.random.default_rng(seed), averages)


def touched(pages, which, at):
    """A ``last_touch`` array: the PPNs ``which`` touched at VM time ``at``, the others never."""
    last = np.full(pages, -1)
    last[which] = at
    return last


def test_a_period_samples_n_distinct_pages_and_draws_anew_the_next():
    """100 distinct PPNs of 10,000 per 30 s period; after 30 ticks another 100."""
    s = sampler(pages=10_000, period_s=30)
    first = s.sample.copy()
    assert len(first) == 100 == len(np.unique(first)) and ((0 <= first) & (first < 10_000)).all()
    idle = np.full(10_000, -1)
    for t in range(1, 30):
        s.tick(t, idle)
        assert (s.sample == first).all(), "the sample holds for the whole period"
    s.tick(30, idle)
    assert len(s.sample) == 100 and not (s.sample == first).all()


def test_a_vm_smaller_than_n_pages_samples_all_of_them():
    """n is capped by the VM's pages: 50 pages, n = 100, every page sampled once."""
    s = sampler(pages=50)
    assert s.n == 50 and sorted(s.sample.tolist()) == list(range(50))


def test_the_sampled_fraction_estimates_a_known_active_fraction_within_binomial_error():
    """A period's f estimates the true active fraction with the binomial error of n = 100 samples."""
    # 30 % of 10,000 pages touched every tick: over 400 seeds f has mean 0.3 (± 4 standard errors)
    # and the standard deviation √(0.3 · 0.7 / 100) = 0.046 (± 20 %)
    active = np.zeros(10_000, dtype=bool)
    active[np.random.default_rng(99).choice(10_000, 3000, replace=False)] = True
    f = []
    for seed in range(400):
        s = sampler(pages=10_000, period_s=30, seed=seed)
        for t in range(1, 31):
            s.tick(t, np.where(active, t, -1))
        f.append(s.last_f)
    sd = np.sqrt(0.3 * 0.7 / 100)
    assert abs(np.mean(f) - 0.3) < 4 * sd / np.sqrt(400)
    assert 0.8 * sd < np.std(f) < 1.2 * sd


def test_the_slow_and_fast_averages_follow_their_gains():
    """At a period's end the slow and fast averages move toward f by their gains; the estimate is the larger."""
    # every page sampled (f exact), starting at 1, f = 0.5: slow 1 − 0.25 · 0.5 = 0.875, fast 1 − 0.7 · 0.5 = 0.65
    s = sampler()
    s.tick(1, touched(100, np.arange(50), 1))
    assert s.last_f == 0.5
    assert s.slow == pytest.approx(0.875) and s.fast == pytest.approx(0.65)
    assert s.estimate == pytest.approx(0.875)


def test_a_drop_is_followed_slowly_by_the_slow_average():
    """f = 0 for four periods from 1: the estimate is the slow average, 0.75⁴ = 0.316 (fast: 0.3⁴ = 0.008)."""
    s = sampler()
    idle = np.full(100, -1)
    for t in range(1, 5):
        s.tick(t, idle)
    assert s.fast == pytest.approx(0.3 ** 4) and s.estimate == s.slow == pytest.approx(0.75 ** 4)


def test_a_rise_is_seen_within_the_current_period():
    """A rise shows at once in the fast average fed with the unfinished period; slow and fast wait."""
    # from 0, 40 of 100 pages touched in the first second of a 30 s period: 0.7 · 0.4 = 0.28
    s = sampler(period_s=30, averages=(0.0, 0.0))
    s.tick(1, touched(100, np.arange(40), 1))
    assert s.fast_current == pytest.approx(0.28) and s.estimate == pytest.approx(0.28)
    assert s.slow == 0 and s.fast == 0


def test_the_estimate_is_the_largest_of_the_three_averages():
    """Over a run of rising and falling activity, estimate == max(slow, fast, fast with the current period)."""
    s = sampler(pages=1000, period_s=5, seed=3)
    rng = np.random.default_rng(4)
    for t in range(1, 200):
        frac = 0.5 + 0.45 * np.sin(t / 15)
        s.tick(t, touched(1000, rng.random(1000) < frac, t))
        assert s.estimate == max(s.slow, s.fast, s.fast_current)


def test_sampling_tracks_a_toucher():
    """A VM idle for 5 min, then touching 80 MB every 5 s: the estimate decays, then follows the toucher."""
    host = small_host(memory_mb=200)
    host.power_on(esx.VMConfig(name="t", max_mb=128, overhead_mb=2),
                  workload=esx.workloads.Toucher([(0, 0), (300, 80)], sweep_s=5))
    tr = host.run(minutes=12)
    est = tr.vm("t").active
    assert est[280] < 30, "idle: the estimate decays"
    assert est[-1] == pytest.approx(80 + 7, abs=20), "active: the estimate follows the toucher"


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
