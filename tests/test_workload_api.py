"""A workload written outside esxlab (the Workload base class's contract): what its attach() returns,
how power_on takes it, and the sentences its mistakes get (among them an attach that does not call the
base class's)."""
import re

import numpy as np
import pytest

import esxlab as esx
from esxlab import resources
from esxlab.workloads import Access, Delayed, Workload

W = esx.workloads
MB = esx.PAGES_PER_MB


class Sized(W.Workload):
    """attach() returns ``n``; each tick touches ``lps`` and sends ``io`` to a device."""

    def __init__(self, n, lps=(), io=()):
        self.n, self.lps, self.io = n, np.array(lps, dtype=np.int64), np.array(io, dtype=np.int64)

    def attach(self, vm_pages, uid, rng):
        super().attach(vm_pages, uid, rng)
        return self.n

    def step(self, t):
        return W.Access(self.lps, np.zeros(len(self.lps), dtype=bool), io=self.io)


def power_on(workload, host=None):
    host = host or esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    return host.power_on(esx.VMConfig(name=f"v{len(host.vms)}", max_mb=16, overhead_mb=2), workload=workload)


@pytest.mark.parametrize("returned", [-1, None, 1.5, "5", True, 7.0])
def test_attach_must_return_a_whole_number_of_pages(returned):
    """-1 was numpy's "negative dimensions", None a TypeError from guest.py; 1.5 and "5" were accepted."""
    with pytest.raises(esx.ConfigError) as err:
        power_on(Sized(returned))
    assert str(err.value) == (f"Sized.attach() returned {returned!r}; allowed: a whole number ≥ 0 (an int), how many "
                              "logical pages the workload uses (its step() touches pages 0 to that number − 1).")


@pytest.mark.parametrize("returned", [2 ** 80, 10 ** 9])
def test_attach_may_not_return_more_pages_than_this_computer_holds(returned, monkeypatch):
    """The bound of the built-in workloads' sizes (check_pages_fit): 2**80 was numpy's "maximum allowed
    dimension exceeded", 10**9 (4 TB of logical pages) was accepted."""
    monkeypatch.setattr(resources, "machine_bytes", lambda: 8 << 30)
    with pytest.raises(esx.ConfigError, match=rf"^Sized\.attach\(\) = {returned} logical pages needs about .*; "
                                              r"allowed: at most about [\d,]+ logical pages \([\d,]+ MB of them\)\.$"):
        power_on(Sized(returned))


def test_attach_may_return_more_pages_than_the_vm_has_or_a_numpy_integer():
    """A file set larger than memory is legitimate (Dbench's is); a numpy integer is a whole number."""
    assert power_on(Sized(64 * MB, lps=[0, 64 * MB - 1])).guest.lp_ppn.shape == (64 * MB,)
    assert power_on(Sized(np.int64(5))).guest.lp_ppn.shape == (5,)


class Careless(W.Workload):
    """attach() forgets ``super().attach(...)``, so it has no ``self.rng``."""

    def attach(self, vm_pages, uid, rng):
        return 4

    def step(self, t):
        return W.Access(self.rng.permutation(4)[:2], np.zeros(2, dtype=bool))


def test_an_attach_that_does_not_call_the_base_classs_is_refused_as_the_vm_attaches_it():
    """It failed in step with "'NoneType' object has no attribute …", and make()'s one-instance check (an
    attached workload has an rng) let one instance drive two VMs; inside a Delayed too."""
    host = esx.Host(esx.HostConfig(memory_mb=96), seed=0)
    careless = Careless()
    for _ in range(2):                          # refused every time (not taken the second time as reused)
        with pytest.raises(esx.ConfigError) as err:
            power_on(careless, host)
        assert str(err.value) == ("Careless.attach must call super().attach(pages, uid, rng) first: it gives the "
                                  "workload the VM's seeded random stream (self.rng) and marks the instance as driving "
                                  "this VM.")
    with pytest.raises(esx.ConfigError, match=r"^Careless\.attach must call super\(\)\.attach\(pages, uid, rng\)"):
        power_on(W.Delayed(Careless(), 5), host)
    assert not host.vms
    power_on(Sized(3, lps=[0, 2]), host)
    host.run(seconds=2)                         # the host is unharmed


def test_a_workload_class_that_needs_parameters_is_a_sentence():
    with pytest.raises(esx.ConfigError) as err:
        power_on(Sized)
    assert str(err.value) == ("workload = Sized is a class, and Sized() needs its parameter 'n'; pass an instance, "
                              "e.g. workload=Sized(n=…).")
    with pytest.raises(esx.ConfigError, match=r"e\.g\. workload=esx\.workloads\.Delayed\(inner=…\)\.$"):
        power_on(W.Delayed)
    assert isinstance(power_on(W.Idle).workload, W.Idle), "a class whose parameters all have defaults still works"


def test_a_reused_instance_is_named_as_the_user_writes_its_class():
    host = esx.Host(esx.HostConfig(memory_mb=96), seed=0)
    for workload, spelled in ((Sized(3), "workload=Sized(...)"), (W.Idle(), "workload=esx.workloads.Idle(...)")):
        power_on(workload, host)
        with pytest.raises(esx.ConfigError) as err:
            power_on(workload, host)
        assert f"(e.g. {spelled} again)." in str(err.value)


def test_a_page_sent_to_a_device_must_be_one_the_tick_touches():
    """Access.io "among lps": a page outside them was accepted (and may have no guest page behind it)."""
    host = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    power_on(Sized(10, lps=[0, 1], io=[1, 3]), host)
    with pytest.raises(esx.ConfigError) as err:
        host.run(seconds=1)
    assert str(err.value) == ("Sized.step(t = 1) returned Access.io with page 3, which is not in Access.lps; allowed: "
                              "pages the tick touches (a device transfer reads or writes its page).")


def test_a_workload_of_no_pages_is_told_it_may_touch_none():
    """It was told "whole numbers from 0 to -1"."""
    host = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    power_on(Sized(0, lps=[0]), host)
    with pytest.raises(esx.ConfigError) as err:
        host.run(seconds=1)
    assert str(err.value) == ("Sized.step(t = 1) returned Access.lps = array([0]), which holds page 0, and there are no pages; allowed: an empty "
                              "array (attach() returned 0 logical pages).")


def test_a_delayed_workload_drives_one_vm_and_wraps_a_fresh_one():
    """Delayed never set its own rng, so power_on took the same Delayed twice (two VMs sharing one Dbench's
    state); and it wrapped a workload that had already driven a VM."""
    host = esx.Host(esx.HostConfig(memory_mb=256), seed=0)
    late = esx.workloads.Delayed(esx.workloads.Idle(), 5)
    host.power_on(esx.VMConfig(name="a", max_mb=32), workload=late)
    with pytest.raises(esx.ConfigError, match="has already driven a VM"):
        host.power_on(esx.VMConfig(name="b", max_mb=32), workload=late)
    with pytest.raises(esx.ConfigError, match="has already driven a VM"):
        esx.workloads.Delayed(late.inner, 5)


def test_a_workload_wrapped_in_delayed_drives_no_other_vm():
    """Two Delayed around one workload, or the workload given to one VM and its Delayed to another, let one
    workload's state and random stream drive two VMs."""
    inner = esx.workloads.Idle()
    esx.workloads.Delayed(inner, 2)
    with pytest.raises(esx.ConfigError, match="already wrapped in a Delayed workload"):
        esx.workloads.Delayed(inner, 3)
    host = esx.Host(esx.HostConfig(memory_mb=256), seed=0)
    with pytest.raises(esx.ConfigError, match="already wrapped in a Delayed workload"):
        host.power_on(esx.VMConfig(name="a", max_mb=32), workload=inner)


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
    with pytest.raises(esx.ConfigError, match=r"^Repeats\.step\(t = 1\) returned Access\.lps = array\(\[9, 9\]\), which holds page 9 twice"):
        host.run(seconds=10)


def test_a_huge_page_count_is_shortened():
    host = esx.Host(esx.HostConfig(memory_mb=128), seed=0)
    with pytest.raises(esx.ConfigError) as err:
        host.power_on(esx.VMConfig(name="a", max_mb=64, overhead_mb=1), workload=Huge())
    assert "888888888888888888888888888888888888888888888888888888888888" not in str(err.value)
    assert len(str(err.value)) < 400


class Borrower(W.Workload):
    """Each tick takes the shared EMPTY tick and gives it pages of its own (a student's shortcut)."""

    def attach(self, vm_pages, uid, rng):
        super().attach(vm_pages, uid, rng)
        return 100

    def step(self, t):
        a = W.EMPTY
        a.lps = np.arange(100)
        return a


def test_the_shared_empty_tick_cannot_be_changed_by_a_workload():
    """Before: Borrower's change to EMPTY reached every later idle tick of every host (IndexError in guest.py)."""
    def grown():
        fresh = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
        vm = power_on(W.Grow(base_mb=4, grow_mb=1, grow_at_s=3), fresh)
        power_on("idle", fresh)
        fresh.run(seconds=5)
        return vm.totals.accesses

    before = grown()
    host = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    power_on(Borrower(), host)
    with pytest.raises(esx.ConfigError, match=r"^EMPTY\.lps = array\(\[ 0, .* is not allowed: esxlab\.workloads\."
                                              r"EMPTY is the one empty tick every workload shares; allowed: a new "):
        host.run(seconds=1)
    for change in (lambda: W.EMPTY.lps.resize(100), lambda: W.EMPTY.writes.__setitem__(slice(None), True)):
        with pytest.raises(ValueError):
            change()
    assert len(W.EMPTY.lps) == len(W.EMPTY.writes) == 0
    assert grown() == before


def test_a_workload_whose_attach_was_refused_may_be_given_again(monkeypatch):
    """Before: after power_on refused Sized(vm_pages * 5000) ("needs about …"), the smaller VM was told it "has
    already driven a VM", against power_on's promise."""
    class Greedy(Sized):
        def attach(self, vm_pages, uid, rng):
            super().attach(vm_pages, uid, rng)
            return vm_pages * self.n

    monkeypatch.setattr(resources, "machine_bytes", lambda: 8 << 30)
    workload = Greedy(10 ** 6)
    host = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    with pytest.raises(esx.ConfigError, match="logical pages needs about"):
        host.power_on(esx.VMConfig(name="big", max_mb=16, overhead_mb=2), workload=workload)
    workload.n = 1
    vm = host.power_on(esx.VMConfig(name="small", max_mb=16, overhead_mb=2), workload=workload)
    assert vm.workload is workload and vm.guest.lp_ppn.shape == (16 * MB,)
    host.run(seconds=2)


class FileSet(Workload):
    """A file-backed workload of 100 logical pages whose disk_tokens returns what ``contents(mint, pages)`` does."""
    file_backed = True

    def __init__(self, contents):
        self.contents = contents

    def attach(self, vm_pages, uid, rng):
        super().attach(vm_pages, uid, rng)
        return 100

    def disk_tokens(self, mint, pages):
        return self.contents(mint, pages)


@pytest.mark.parametrize("contents, shown", [
    (lambda mint, pages: mint.take(10), "an array of shape (10,) (uint64)"),      # IndexError at a page-in
    (lambda mint, pages: mint.take(pages).reshape(10, 10), "an array of shape (10, 10)"),   # numpy's broadcast error
    (lambda mint, pages: 5, "5"),                                                 # IndexError on a scalar
    (lambda mint, pages: np.full(pages, 1.5), "an array of shape (100,) (float64)"),           # truncated silently
    (lambda mint, pages: np.full(pages, -1), "an array of shape (100,) (int64)"),              # wrapped to 0xFFFF…
])
def test_disk_tokens_are_checked_when_the_vm_powers_on(contents, shown):
    """A helper's trial: disk_tokens' result was used unchecked (the failures in the comments, or silently)."""
    workload = FileSet(contents)
    with pytest.raises(esx.ConfigError, match=re.escape(f"FileSet.disk_tokens(mint, 100) returned {shown}") +
                       r".*; allowed: None \(zero-filled pages\) or an array of whole numbers ≥ 0, one token per "
                       r"logical page \(100\), e.g. mint.take\(pages\).$"):
        power_on(workload)
    workload.contents = lambda mint, pages: list(mint.take(pages))               # a list of tokens is fine
    host = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    power_on(workload, host)
    host.run(seconds=2)


class MyDbench(esx.workloads.Dbench):
    def __init__(self, label):                  # the built-in's __init__ never called: no clients, no file set
        self.label = label


class Typo(esx.workloads.Toucher):
    def __init__(self):
        super().__init__([(0, 8)])

    def attach(self, vm_pages, uid, rng):
        return super().attach(vm_pages, uid, rng) + self.extra      # its own mistake: Python's error stays


def test_a_subclass_that_skips_the_built_ins_init_is_told_to_call_it():
    """A helper's trial: "AttributeError: 'MyDbench' object has no attribute 'clients'" from inside esxlab."""
    with pytest.raises(esx.ConfigError, match=r"^MyDbench has no attribute 'clients', which Dbench.__init__ sets: "
                                              r"MyDbench.__init__ must call super\(\).__init__\(…\) with Dbench's "
                                              r"parameters.$"):
        power_on(MyDbench("db"))
    with pytest.raises(AttributeError, match="'Typo' object has no attribute 'extra'"):
        power_on(Typo())
