import pytest

import esxlab as esx
from esxlab.experiments import runner


def small_host(memory_mb=96, seed=0, **kw):
    """A small host for fast tests: two 48 MB VMs overcommit it."""
    kw.setdefault("swap_mb", 4 * memory_mb)
    return esx.Host(esx.HostConfig(memory_mb=memory_mb, **kw), seed=seed)


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
