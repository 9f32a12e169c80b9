import pytest

import esxlab as esx
from esxlab.experiments import runner


def small_host(memory_mb=96, seed=0, **kw):
    """A small host for fast tests: two 48 MB VMs overcommit it."""
    kw.setdefault("swap_mb", 4 * memory_mb)
    return esx.Host(esx.HostConfig(memory_mb=memory_mb, **kw), seed=seed)


def short_guest(seconds: int):
    """A 16 MB guest asked to touch ≈ 11,700 distinct pages a tick (it holds 4,096); its guest_oom each tick."""
    host = esx.Host(esx.HostConfig(memory_mb=512, sharing=esx.SharingConfig(mode="off")), seed=0)
    vm = host.power_on(esx.VMConfig(name="d", max_mb=16),
                       workload=esx.workloads.Dbench(clients=40, accesses_per_s=20000))
    per_tick = []
    for _ in range(seconds):
        host.step()
        per_tick.append(vm.counters.guest_oom)
    return vm, per_tick


@pytest.fixture
def host():
    return small_host()


@pytest.fixture
def two_cores(monkeypatch):
    """A 2-core computer, and the ``n_jobs`` each run asked joblib for."""
    monkeypatch.setattr(runner, "cpu_count", lambda: 2, raising=False)
    asked = []
    real = runner.parallel_config

    def spy(**kw):
        asked.append(kw.get("n_jobs"))
        return real(**kw)

    monkeypatch.setattr(runner, "parallel_config", spy)
    return asked


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """Experiment runs go to disk (``XDG_CACHE_HOME``): for a test that asks, to a throw-away folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def fig8_runs():
    """Figure 8 on seed 0 under each reading of its high state: "converge" (the default) and "idle"."""
    from esxlab.experiments import fig8
    return {hs: fig8.run(0, high_state=hs) for hs in ("converge", "idle")}


def assert_within(res, quantities) -> None:
    """Each of ``quantities`` in Result ``res`` is within its tolerance of the paper (the message names the seed)."""
    for q in quantities:
        row = res.row(q)
        assert row.within, (f"seed {res.params['seed']}: {q}: esxlab {row.esxlab:.3g} vs paper {row.paper:.3g} "
                            f"± {row.tolerance}")
