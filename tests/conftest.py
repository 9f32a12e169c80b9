import pytest

import esxlab as esx


def small_host(memory_mb=96, seed=0, **kw):
    """A small host for fast tests: two 48 MB VMs overcommit it."""
    kw.setdefault("swap_mb", 4 * memory_mb)
    return esx.Host(esx.HostConfig(memory_mb=memory_mb, **kw), seed=seed)


@pytest.fixture
def host():
    return small_host()
