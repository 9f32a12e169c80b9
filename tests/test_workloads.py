"""Workloads stepped on their own, without a VM, against hand counts: ``Delayed`` (Figure 2's late
start), ``Deployed`` (Figure 5's server contents) and ``Server`` (Figure 8's footprint and working
set), with their bad inputs; ``Toucher``'s sweep windows; ``Dbench``'s blocks whatever integer type
holds them, and ``arrays.distinct`` beneath them. Elsewhere: every package workload's ticks against
the ``Access`` contract on a VM (``test_workload_contract.py``), the other workloads' bad inputs
(``test_bad_inputs.py``), a workload written outside esxlab (``test_workload_api.py``), ``Grow`` and
``Probe`` (``test_problems_checks.py``)."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import esxlab as esx
from esxlab.arrays import SMALL_INT_SORTS
from esxlab.content import TokenMint, image_tokens

MB = esx.PAGES_PER_MB
W = esx.workloads


def attached(workload, seed=0):
    workload.attach(64 * MB, 1, np.random.default_rng(seed))
    return workload


def test_delayed_idles_until_its_start_then_runs_the_inner_workload_from_its_first_tick():
    """Delayed(toucher, 10): nothing at t < 10 s, then at t the toucher's own tick t − 9 (ticks count from 1;
    it was tick t − 10, so the inner workload's first tick was 0)."""
    late = attached(W.Delayed(W.Toucher([(0, 1), (3, 2)], sweep_s=1, cpu_us_per_access=7), 10))
    alone = attached(W.Toucher([(0, 1), (3, 2)], sweep_s=1))
    assert (late.name, late.cpu_us_per_access, late.file_backed) == ("toucher", 7, False)
    for t in range(1, 10):
        assert len(late.step(t).lps) == 0
    sizes = []
    for t in range(10, 20):
        lps = late.step(t).lps
        assert lps.tolist() == alone.step(t - 9).lps.tolist()
        sizes.append(len(lps))
    assert sizes.index(2 * MB) == 12 - 10, "the toucher's 2 MB step (its tick 3) is not at VM tick 12"


@pytest.mark.parametrize("start_s", [0, 1])
def test_a_workload_delayed_by_0_or_1_s_is_the_workload_itself(start_s):
    """Both start the inner workload at the VM's first tick, as its tick 1 (Delayed(hot-cold, 1) passed it
    tick 0, where its warm-up touches pages −512 … −1)."""
    late = attached(W.Delayed(W.HotCold(hot_mb=1, cold_mb=3, warm_s=2), start_s))
    alone = attached(W.HotCold(hot_mb=1, cold_mb=3, warm_s=2))
    for t in range(1, 6):
        assert late.step(t).lps.tolist() == alone.step(t).lps.tolist(), f"t = {t}"


def test_deployed_lays_out_images_then_private_data_then_zero_pages():
    """Deployed's pages are its images' contents, then data of its own, then zero pages."""
    # images os (1 MB) and app (0.5 MB), 0.25 MB private, 0.5 MB zero: 576 pages, the images' own
    # tokens, 64 tokens of this VM only, 128 zeros; a negative private size is none at all
    d = attached(W.Deployed((("os", 1), ("app", 0.5)), private_mb=0.25, zero_mb=0.5, warm_s=10))
    assert d.pages == 576
    tokens = d.disk_tokens(TokenMint(1), d.pages)
    assert (tokens[:256] == image_tokens("os", np.arange(256))).all()
    assert (tokens[256:384] == image_tokens("app", np.arange(128))).all()
    private = tokens[384:448]
    assert len(np.unique(private)) == 64 and not np.isin(private, TokenMint(2).take(1000)).any()
    assert (tokens[448:] == 0).all()
    none = attached(W.Deployed((("os", 1),), private_mb=-3, zero_mb=0, warm_s=10))
    assert none.pages == 256


def test_deployed_reads_its_pages_in_over_warm_s_and_never_writes():
    """576 pages over 10 s: ⌈576 / 10⌉ = 58 a second, in order; afterwards random reads; no write ever."""
    d = attached(W.Deployed((("os", 1), ("app", 0.5)), private_mb=0.25, zero_mb=0.5, warm_s=10))
    first = d.step(1)
    assert first.lps.tolist() == list(range(58)) and not first.writes.any()
    for t in range(2, 40):
        assert not d.step(t).writes.any()


def test_server_writes_its_footprint_at_the_fill_rate_up_to_the_size_asked():
    """4 MB at 1 MB/s: 256 new pages a second for four seconds, then none; a later step grows it again."""
    s = attached(W.Server(footprint=[(0, 4), (1, 6)], active=[], fill_mb_s=1))
    assert s.pages == 6 * MB
    news = [len(s.step(t).lps) for t in range(1, 9)]
    assert news == [256, 256, 256, 256, 0, 0, 0, 0]
    grown = [len(s.step(t).lps) for t in range(60, 64)]
    assert grown == [256, 256, 0, 0] and s.filled == 6 * MB


def test_server_sweeps_its_working_set_writing_about_a_third():
    """Server sweeps its working set round robin, about a third of the touches writing."""
    # a 2 MB working set swept in 4 s: 128 of its pages a second; writes ≈ 1/3 of 100 s of touches
    # (within 4 binomial standard deviations)
    s = attached(W.Server(footprint=[(0, 2)], active=[(0, 2, 4)], fill_mb_s=8))
    s.step(1)                                     # writes the 2 MB at once
    seen, writes = [], 0
    for t in range(2, 102):
        acc = s.step(t)
        assert len(acc.lps) == 128
        seen.append(acc.lps)
        writes += int(acc.writes.sum())
    assert sorted(np.concatenate(seen[:4]).tolist()) == list(range(2 * MB)), "one sweep covers the working set once"
    n = 100 * 128
    assert abs(writes - n / 3) < 4 * np.sqrt(n * (1 / 3) * (2 / 3))


@pytest.mark.parametrize("make,fragments", [
    (lambda: W.Delayed(5, 10), ["Delayed.inner", "Workload"]),
    (lambda: W.Delayed(W.Idle(), -1), ["Delayed.start_s", "-1"]),
    (lambda: W.Deployed((("", 1),), 1, 0, 10), ["Deployed.images name", "''"]),
    (lambda: W.Deployed((("a", -1),), 1, 0, 10), ["Deployed.images mb", "-1"]),
    (lambda: W.Deployed("abc", 1, 0, 10), ["Deployed.images", "(name, mb) pairs"]),
    (lambda: W.Deployed((("a", 1),), float("nan"), 0, 10), ["Deployed.private_mb", "nan"]),
    (lambda: W.Server(5, [], 1), ["Server.footprint", "(minute, mb) pairs"]),
    (lambda: W.Server([(0, 1)], [(0, 1)], 1), ["Server.active", "(minute, mb, sweep_s) tuples"]),
    (lambda: W.Server([(0, 1)], [(0, 1, 0)], 1), ["Server.active sweep_s", "0"]),
    (lambda: W.Server([(-1, 1)], [], 1), ["Server.footprint minute", "-1"]),
    (lambda: W.Server([(0, 1)], [], 0), ["Server.fill_mb_s", "0"]),
    # a required parameter left out was Python's "__init__() missing 1 required positional argument"
    (lambda: W.Delayed(W.Dbench()), ["Delayed needs its parameter 'start_s'; call it as Delayed(inner, start_s)."]),
    (lambda: W.Deployed(), ["Deployed needs its parameters 'images', 'private_mb', 'zero_mb', 'warm_s'; call it as "
                            "Deployed(images, private_mb, zero_mb, warm_s)."]),
    (lambda: W.Server([(0, 1)], fill_mb_s=1), ["Server needs its parameter 'active'; call it as "
                                               "Server(footprint, active, fill_mb_s)."]),
])
def test_bad_inputs_are_refused_with_a_sentence(make, fragments):
    """Each names the parameter and the value."""
    with pytest.raises(esx.ConfigError) as e:
        make()
    assert all(f in str(e.value) for f in fragments), str(e.value)


@pytest.mark.parametrize("make", [lambda: W.Delayed(W.Dbench(), 30), lambda: W.Deployed((("a", 1),), 1, 0, 10),
                                  lambda: W.Server([(0, 1)], [], 1)])
def test_workloads_with_required_parameters_copy_and_pickle(make):
    """The check of a call's arguments runs only where the class is called: a copy or an unpickled instance is made
    without its arguments (dashboards copy workloads, and workers unpickle them); checked in __new__, it refused both."""
    w = make()
    for twin in (copy.deepcopy(w), pickle.loads(pickle.dumps(w))):
        assert type(twin) is type(w) and vars(twin).keys() == vars(w).keys()


def test_workload_subclasses_may_be_abstract_or_pass_arguments_to_new():
    """Workload's metaclass checks calls; a subclass that also subclasses abc.ABC, or whose __new__ passes its
    arguments on, still works (the first was a metaclass conflict, the second object.__new__'s TypeError)."""
    import abc

    class Abstract(W.Idle, abc.ABC):
        pass

    class Forwards(W.Idle):
        def __new__(cls, *args, **kwargs):
            return super().__new__(cls, *args, **kwargs)

    assert isinstance(Abstract(), W.Idle) and isinstance(Forwards(), W.Idle)


def test_a_required_parameter_left_out_is_shown_as_a_call():
    """The hint is a call one can type: keyword-only parameters as name=…, the optional ones as … (it was the
    signature, B(*, rate, name='x'), not valid in a call)."""
    class B(W.Workload):
        def __init__(self, *, rate, name="x"):
            super().__init__()

    class A(W.Workload):
        def __init__(self, a, /, b, *rest, c, d=1, **kw):
            super().__init__()

    for make, said in ((B, "B needs its parameter 'rate'; call it as B(rate=…, …)."),
                       (A, "A needs its parameters 'a', 'b', 'c'; call it as A(a, b, c=…, …).")):
        with pytest.raises(esx.ConfigError) as e:
            make()
        assert str(e.value) == said


def test_a_toucher_sweeps_its_working_set_window_by_window_in_increasing_order():
    """Each tick the toucher writes the next window of its working set (its own pages, then the OS's
    pages above its peak), wrapping at the end: distinct pages in increasing order, and ``sweep_s``
    ticks cover the whole set, whatever the size steps do to the window (7 s does not divide the set,
    so windows wrap)."""
    tw = attached(W.Toucher([(0, 3), (7, 2), (15, 4)], sweep_s=7, os_overhead=0.5))
    wrapped = 0
    for t in range(1, 30):
        lps = tw.step(t).lps
        assert (np.diff(lps) > 0).all(), f"t={t}: not increasing"
        span = tw._span(tw.size)                                      # its pages, then the OS's above peak
        assert np.isin(lps, span).all(), f"t={t}: a page outside the working set"
        wrapped += lps[0] == 0 and lps[-1] == span[-1]               # a window across the end and the start
    assert wrapped, "no window wrapped: the test would not see the order of a wrapped window"
    seen = np.concatenate([tw.step(t).lps for t in range(30, 37)])
    assert np.array_equal(np.unique(seen), span), "one sweep does not cover the working set"


@pytest.mark.parametrize("pages, draws, alpha", [(65533, 50000, 0.78), (65534, 50000, 0.78), (65535, 50000, 0.78),
                                                 (70000, 50000, 0.78), (1070, 50000, 0.78), (1070, 3, 0.78),
                                                 (61440, 8000, sum([0.1] * 10)), (65534, 8000, 0.9999999999999994)])
def test_dbench_blocks_are_the_same_whatever_integer_type_holds_them(pages, draws, alpha):
    """Dbench sorts its draws in the smallest integer type that holds pages + 1 (16 bits up to
    65,534 blocks): the blocks are those of the formula in 64-bit integers, distinct and in range,
    the top one included (a draw just below 1; with 1,070 blocks it rounds to x = pages + 1, with the
    top block also drawn or not). An α within 1e-15 of 1 sends draws far beyond pages + 1: they are
    clamped before the cast to 16 bits, which would wrap them to small blocks. The formula is computed in the
    draws' float type (float32 for these file sets, float64 where α is within 1e-15 of 1: ``draw_type``)."""
    class Draws:                                 # the generator's uniform draws, the largest float < 1 first
        def __init__(self):
            self.rng = np.random.default_rng(7)

        def random(self, n, dtype=np.float64):
            u = self.rng.random(n, dtype=dtype)
            u[0] = np.nextafter(dtype(1), dtype(0))
            return u

    w = esx.workloads.Dbench(clients=1, mb_per_client=pages / esx.PAGES_PER_MB, accesses_per_s=draws,
                             zipf_alpha=alpha)
    w.attach(1, 0, Draws())
    assert w.pages == pages
    u = Draws().random(draws, w._draws)
    a, n = w.zipf_alpha, pages + 1
    x = ((n ** (1 - a) - 1) * u + 1) ** (1 / (1 - a))
    want = np.unique(np.minimum(x.astype(np.int64) - 1, pages - 1))
    got = w.step(1).lps
    assert got.dtype == np.intp and np.array_equal(got, want)
    assert got[-1] == pages - 1


@pytest.mark.parametrize("sort", [None, *SMALL_INT_SORTS])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int16, np.int32, np.int64, np.float64])
def test_distinct_is_the_sorted_distinct_values_whatever_the_sort_kind(dtype, sort, monkeypatch):
    """``arrays.distinct`` sorts small integers the way measured fastest on this machine (radix,
    widened to 32 bits and quicksorted, or quicksorted; None: measure it now): with each, the same
    sorted distinct values as ``np.unique`` for every dtype, ties and empty arrays included, in a dtype
    that holds them."""
    from esxlab import arrays
    monkeypatch.setattr(arrays, "_small_int_sort", sort)
    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 50, 8000):
        x = rng.integers(0, 120, n).astype(dtype)
        got = arrays.distinct(x)
        assert np.can_cast(x.dtype, got.dtype, "safe") and np.array_equal(got, np.unique(x))


def test_a_toucher_larger_than_its_vm_makes_the_guest_page_as_its_docstring_says():
    """A student took a 40 MB toucher in a 16 MB VM for a bad value accepted silently; it is a thrashing guest."""
    import esxlab as esx
    host = esx.Host(esx.HostConfig(memory_mb=256), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=16), workload=esx.workloads.Toucher([(0, 40)]))
    host.run(minutes=1)
    assert host.vm("a").totals.guest_disk_reads > 0 and host.vm("a").stats().alloc <= 16
    assert "the guest then pages the working set to its own" in esx.workloads.Toucher.__doc__
