"""Every workload in esxlab keeps the contract a workload written outside it is held to. The VM checks
each tick of an outside workload (``workloads.checked``) but, for speed, not those of esxlab's own: so
each of these, found by introspection (every entry of ``WORKLOADS`` and every public Workload subclass
in ``esxlab/workloads/``), runs on a VM here past its warm-up and phases with every tick through that
check. And ``Delayed`` has its inner workload's name, contents, compressibility and CPU cost."""

import pytest

import esxlab as esx

W = esx.workloads

#: simulated seconds each workload runs: past every warm-up and phase of the defaults and EXAMPLES
#: (Spec95's 300 s warm-up, Probe's probe at 60 s, Grow's growth at 30 s, Server's steps at 2 and 3 minutes)
SECONDS = 330

#: an instance of each class whose parameters do not all have defaults (a new such class needs one here)
EXAMPLES = {
    W.Delayed: lambda: W.Delayed(W.HotCold(hot_mb=1, cold_mb=4, warm_s=5), start_s=10),
    W.Deployed: lambda: W.Deployed((("os", 2), ("app", 1)), private_mb=1, zero_mb=1, warm_s=20),
    W.Server: lambda: W.Server(footprint=[(0, 4), (2, 8)], active=[(0, 2, 5), (3, 6, 10)], fill_mb_s=1),
}


def package_classes() -> list[type]:
    """The public Workload subclasses defined in esxlab/workloads/ (exported or not: see the test below)."""
    found, todo = [], [W.Workload]
    while todo:
        for cls in todo.pop().__subclasses__():
            todo.append(cls)
            if W.packaged(cls) and not cls.__name__.startswith("_") and cls not in found:
                found.append(cls)
    return sorted(found, key=lambda c: c.__name__)


def test_every_package_workload_is_exported_as_esx_workloads_name():
    """A public subclass in a module of esxlab/workloads/ but not in its __init__ is not esx.workloads.<name>."""
    missing = [c.__name__ for c in package_classes() if getattr(W, c.__name__, None) is not c]
    assert missing == [], f"import {missing} in esxlab/workloads/__init__.py and add them to its __all__"
    assert {c.__name__ for c in package_classes()} <= set(W.__all__)
    assert len(package_classes()) >= 12, "the search finds at least the twelve there were when this was written"


def instance(cls: type) -> W.Workload:
    """``cls``'s example, or ``cls()`` when its parameters all have defaults."""
    if cls in EXAMPLES:
        return EXAMPLES[cls]()
    try:
        return W.make(cls)
    except esx.ConfigError as e:
        pytest.fail(f"{e} Add an instance of {cls.__name__} to EXAMPLES in {__file__}.")


CASES = ([pytest.param(lambda name=name: W.make(name), id=f"WORKLOADS[{name!r}]") for name in W.WORKLOADS]
         + [pytest.param(lambda cls=cls: instance(cls), id=cls.__name__) for cls in package_classes()])


def times(workload: W.Workload) -> dict[str, float]:
    """Its attributes named ``…_s`` but not ``…_per_s`` (a warm-up, a phase's start, a sweep: a time in
    seconds), its inner workload's too."""
    mine = {k: v for k, v in vars(workload).items()
            if k.endswith("_s") and not k.endswith("_per_s") and isinstance(v, (int, float))}
    return mine | (times(workload.inner) if isinstance(workload, W.Delayed) else {})


def run_checked(workload: W.Workload) -> int:
    """Run ``workload`` on a 64 MB VM for SECONDS with each tick's Access through ``workloads.checked``
    (which raises ConfigError naming the tick); return how many pages its ticks touched in all."""
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    vm = host.power_on(esx.VMConfig(name="w", max_mb=64), workload=workload)
    pages, step, touched = len(vm.guest.lp_ppn), workload.step, []

    def checked_step(t: int) -> W.Access:
        acc = step(t)
        touched.append(len(W.checked(acc, pages, type(workload).__name__, t).lps))
        return acc                              # (the run itself unchanged)

    workload.step = checked_step
    host.run(seconds=SECONDS)
    assert len(touched) == SECONDS, "the VM was blocked: its workload did not run every second"
    return sum(touched)


@pytest.mark.parametrize("make", CASES)
def test_every_tick_of_every_package_workload_passes_the_check_outside_workloads_get(make):
    """Distinct pages in range, one bool per page, device pages among those touched: a repeated page or
    page −1 from a package workload would corrupt the guest's page tables silently, unchecked at run time."""
    workload = make()
    late = {k: v for k, v in times(workload).items() if v > SECONDS - 30}
    assert not late, f"{type(workload).__name__} has phases late in the run ({late}): raise SECONDS or shorten them"
    touched = run_checked(workload)
    assert touched or isinstance(workload, W.Idle), "the workload touched nothing: the check saw no page"


def test_per_workload_names_every_attribute_a_workload_class_declares():
    """PER_WORKLOAD (what Delayed copies from its inner workload) is every per-class value of Workload
    but the two an instance gets when it is attached or wrapped (rng, wrapper)."""
    declared = {k for k, v in vars(W.Workload).items() if not k.startswith("_") and not callable(v)}
    assert declared - {"rng", "wrapper"} == set(W.PER_WORKLOAD)


@pytest.mark.parametrize("cls", [c for c in package_classes() if c is not W.Delayed], ids=lambda c: c.__name__)
def test_a_delayed_workload_has_its_inner_workloads_name_contents_and_costs(cls):
    """Delayed copied name, file_backed and cpu_us_per_access but not compressible: half of Delayed(Dbench())'s
    pages compressed, not Dbench's 0.6 (with compression on, the esxi6 preset)."""
    inner = instance(cls)
    late = W.Delayed(inner, 5)
    assert {a: getattr(late, a) for a in W.PER_WORKLOAD} == {a: getattr(inner, a) for a in W.PER_WORKLOAD}
