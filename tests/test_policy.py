"""Shares, min/max, the idle memory tax, ρ, targets (§5, §6.1)."""
from __future__ import annotations

import copy
import re

import numpy as np
import pytest

import esxlab as esx
from esxlab.errors import ConfigError
from esxlab.policy import compute_targets, idle_cost

MB = esx.PAGES_PER_MB


def test_rho_formula():
    # ρ = S / (P (f + k (1 − f))), k = 1/(1 − τ)
    assert esx.policy.shares_per_page(1000, 100, 1.0, 0.75) == pytest.approx(10.0)
    assert esx.policy.shares_per_page(1000, 100, 0.0, 0.75) == pytest.approx(2.5)
    assert esx.policy.shares_per_page(1000, 100, 0.5, 0.0) == pytest.approx(10.0)
    assert idle_cost(0.75) == pytest.approx(4.0)
    # an idle page costs k times an active one
    all_idle = esx.policy.shares_per_page(1, 1, 0.0, 0.5)
    all_active = esx.policy.shares_per_page(1, 1, 1.0, 0.5)
    assert all_active / all_idle == pytest.approx(2.0)


def test_rho_rejects_bad_input():
    with pytest.raises(esx.ConfigError, match="tax_rate"):
        esx.policy.shares_per_page(1, 1, 0.5, 1.0)
    with pytest.raises(esx.ConfigError, match="active_fraction"):
        esx.policy.shares_per_page(1, 1, 1.5, 0.5)


def test_equal_shares_no_tax_splits_equally():
    t = compute_targets([2560, 2560], [0, 0], [256 * MB] * 2, [10 * MB, 197 * MB], 358 * MB, 0.0)
    assert abs(t[0] - t[1]) <= 1 and t.sum() <= 358 * MB


def test_figure7_calibration_with_the_default_tax():
    # paper-notes §4.4: with k = 4, idle 10 MB vs active 197 MB on ~344 MB → ~101 / ~243 MB
    t = compute_targets([2560, 2560], [0, 0], [256 * MB] * 2, [10 * MB, 197 * MB], 344 * MB, 0.75) / MB
    assert t[0] == pytest.approx(101, abs=2) and t[1] == pytest.approx(243, abs=2)


def test_targets_respect_min_max_and_shares():
    t = compute_targets([1000, 3000], [50 * MB, 0], [100 * MB, 400 * MB], [100 * MB, 400 * MB], 300 * MB, 0.0)
    assert t[0] >= 50 * MB and t[1] <= 400 * MB
    # twice... three times the shares, both fully active: three times the memory where bounds allow
    assert t[1] / t[0] == pytest.approx(3.0, rel=0.02) or t[0] == 50 * MB
    zero = compute_targets([0, 1000], [20 * MB, 0], [100 * MB] * 2, [100 * MB] * 2, 150 * MB, 0.75)
    assert zero[0] == 20 * MB          # 0 shares pins a VM to its min
    assert compute_targets([1, 1], [0, 0], [10, 10], [5, 5], 100, 0.5).tolist() == [10, 10]
    assert compute_targets([1, 1], [30, 30], [90, 90], [5, 5], 60, 0.5).tolist() == [30, 30]
    assert esx.policy.revoke(np.ones(2), np.full(2, 30.0), np.full(2, 90.0), np.full(2, 5.0), 40, 0.5).tolist() \
        == [30, 30]                        # the host's own path: mins kept, whatever is short


@pytest.mark.parametrize("args, says", [
    (([1, 1], [0, 0], [256, 256], [300, 197], 344, 0.75),
     "active_pages[0] = 300 is larger than max_pages[0] = 256: a VM cannot touch more pages than it has"),
    (([1, 1], [200, 200], [256, 256], [10, 197], 344, 0.75),
     "the mins add up to 400 pages, more than available = 344; admission control (§6.2) admits VMs only while "
     "their mins fit"),
])
def test_targets_refuse_what_no_host_would_ask(args, says):
    """Passed to the function notebook 05 invites students to call, these were answered [172 172]
    and [200 200] (400 pages out of 344) without a word."""
    with pytest.raises(ConfigError, match=re.escape(says)):
        compute_targets(*args)
    assert compute_targets([1], [0], [256], [197], 100, 0.75, limit_pages=[150]).tolist() == [100]   # a limit caps


@pytest.mark.parametrize("tau", [0.0, 0.25, 0.5, 0.75, 0.9])
def test_lowest_rho_pays_at_the_fixed_point(tau):
    rng = np.random.default_rng(1)
    shares = rng.integers(500, 5000, 5).astype(float)
    hi = rng.integers(64, 512, 5) * MB
    act = (rng.random(5) * hi).astype(int)
    t = compute_targets(shares, np.zeros(5), hi, act, 0.5 * hi.sum(), tau)
    assert t.sum() <= 0.5 * hi.sum()
    inside = (t > 0) & (t < hi)
    f = np.minimum(act, t) / np.maximum(t, 1)
    rho = [esx.policy.shares_per_page(s, p, fi, tau) for s, p, fi in zip(shares[inside], t[inside], f[inside])]
    assert max(rho) / min(rho) == pytest.approx(1.0, abs=0.02)


def test_when_no_vm_has_shares_none_has_a_stronger_claim():
    """Every VM at 0 shares had target 0 (balloons held, pages swapped while the host sat in high with
    memory free); as no VM's claim is stronger (§5.1: a VM's fraction of all shares is 0/0), they now
    divide memory as with equal shares. A VM with 0 shares beside one with shares stays at its min."""
    args = ([0, 20 * MB], [100 * MB] * 2, [10 * MB, 90 * MB], 150 * MB, 0.75)
    assert compute_targets([0, 0], *args).tolist() == compute_targets([1, 1], *args).tolist() != [0, 20 * MB]
    assert compute_targets([0, 5], *args)[0] == 0


@pytest.mark.parametrize("config", [dict(shares=0), dict(shares_per_mb=0)])
def test_a_host_whose_vms_have_no_shares_runs_as_with_equal_shares(config):
    """Two VMs with shares=0 (here also every VM at the default, with 0 shares per MB)."""
    def targets(vm_shares, shares_per_mb=10):
        host = esx.Host(esx.HostConfig(memory_mb=128, shares_per_mb=shares_per_mb), seed=0)
        for name, mb in (("a", 40), ("b", 20)):
            host.power_on(esx.VMConfig(name=name, max_mb=64, overhead_mb=4, shares=vm_shares),
                          workload=esx.workloads.Toucher([(0, mb)]))
        host.run(minutes=3)
        return [s.target for s in host.vm_stats().values()]

    equal = targets(640)
    assert targets(config.get("shares"), config.get("shares_per_mb", 10)) == equal and min(equal) > 0


def test_a_copied_host_reads_its_own_tax_rate():
    """``experiments.common.fork`` deep-copies a host; its VMs read τ through a closure over the original host,
    so the copy's ρ used the original's τ (0.219 where 0.082)."""
    host = esx.Host(esx.HostConfig(memory_mb=512, tax_rate=0.0), seed=0)
    host.power_on(esx.VMConfig(name="idle", max_mb=256, guest_os="windows"))
    host.run(seconds=60)
    fork = copy.deepcopy(host)
    fork.set_tax_rate(0.75)
    vm = fork.vm("idle")
    assert vm.stats().rho == vm.rho(0.75) != vm.rho(0.0)
    assert host.vm("idle").stats().rho == host.vm("idle").rho(0.0)


def test_compute_targets_names_a_none_as_written():
    """A student's `limit_pages=[65536, None, 393216]` was reported as `limit_pages[1] = nan`."""
    with pytest.raises(esx.ConfigError, match=r"compute_targets.limit_pages\[1\] = None \(in \[65, None, 90\]\)"):
        esx.policy.compute_targets([1, 1, 1], [0, 0, 0], [100, 100, 100], [10, 10, 10], 200, 0.5,
                                   limit_pages=[65, None, 90])
