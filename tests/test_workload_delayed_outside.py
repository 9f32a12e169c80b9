"""A workload written outside esxlab and wrapped in Delayed had none of its ticks checked (Delayed is the
package's, so the VM skipped the check): a repeated page corrupted the model silently (a tester)."""
import numpy as np
import pytest

import esxlab as esx
from esxlab.workloads import Access, Delayed, Workload


class Repeats(Workload):
    name = "repeats"

    def attach(self, vm_pages, uid, rng):
        super().attach(vm_pages, uid, rng)
        return 64

    def step(self, t):
        return Access(np.array([9, 9]), np.zeros(2, dtype=bool))


class Huge(Workload):
    def attach(self, vm_pages, uid, rng):
        super().attach(vm_pages, uid, rng)
        return int("8" * 256)


@pytest.mark.parametrize("wrap", [lambda w: w, lambda w: Delayed(w, 2), lambda w: Delayed(Delayed(w, 2), 3)])
def test_an_outside_workload_is_checked_inside_delayed_too(wrap):
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    host.power_on(esx.VMConfig(name="a", max_mb=64, overhead_mb=1), workload=wrap(Repeats()))
    with pytest.raises(esx.ConfigError, match=r"^Repeats\.step\(t = 1\) returned Access\.lps with page 9 twice"):
        host.run(seconds=10)


def test_a_huge_page_count_is_shortened():
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    with pytest.raises(esx.ConfigError) as err:
        host.power_on(esx.VMConfig(name="a", max_mb=64, overhead_mb=1), workload=Huge())
    assert "888888888888888888888888888888888888888888888888888888888888" not in str(err.value)
    assert len(str(err.value)) < 400
