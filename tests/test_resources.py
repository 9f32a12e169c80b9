"""What this computer can simulate (issue 11): requests too big for its memory are refused up
front with a sentence naming the memory needed and what the machine holds; long runs show
progress; the estimate of a host's memory is not below what it really allocates."""
import tracemalloc

import pytest

import esxlab as esx
from esxlab import resources

W = esx.workloads
GIB = 1 << 30


@pytest.fixture
def small_machine(monkeypatch):
    monkeypatch.setattr(resources, "machine_bytes", lambda: 4 * GIB)      # holds 3.2 GiB (80 %)


@pytest.mark.parametrize("make,fragments", [
    (lambda: esx.HostConfig(memory_mb=1 << 20), ["memory_mb = 1048576", "needs about 16.0 GiB", "can hold 3.2 GiB"]),
    (lambda: esx.HostConfig(swap_mb=1 << 22), ["swap_mb = 4194304", "needs about 24.0 GiB"]),
    (lambda: esx.VMConfig(max_mb=1 << 20), ["max_mb = 1048576", "needs about 14.0 GiB", "a smaller VM"]),
    (lambda: W.Toucher([(0, 1e9)]), ["schedule mb = 1000000000.0", "can hold 3.2 GiB", "logical pages (", "MB of them)"]),
    (lambda: W.Dbench(mb_per_client=1e12), ["mb_per_client = 1000000000000.0", "GiB"]),
    (lambda: W.Spec95(files_mb=1 << 20), ["files_mb = 1048576", "GiB"]),
    (lambda: W.NetServer(data_mb=1 << 20), ["data_mb = 1048576", "GiB"]),
    (lambda: esx.Host(esx.HostConfig(memory_mb=64)).run(minutes=10 ** 6),
     ["run: minutes = 1000000", "60,000,000 ticks", "can hold 3.2 GiB", "a shorter run"]),
])
def test_too_big_for_this_computer_is_refused_up_front(small_machine, make, fragments):
    with pytest.raises(esx.ConfigError) as e:
        make()
    assert all(f in str(e.value) for f in fragments), str(e.value)


def test_the_host_estimate_covers_what_a_host_allocates():
    cfg = esx.HostConfig(memory_mb=1024, swap_mb=1024)
    tracemalloc.start()
    try:
        host = esx.Host(cfg, seed=0)
        host.power_on(esx.VMConfig(name="a", max_mb=512, overhead_mb=1), workload=W.Toucher([(0, 256)]))
        host.run(seconds=20)
        used, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    pages = cfg.total_pages
    estimate = (pages * (resources.HOST_BYTES_PER_PAGE + resources.SWAP_BYTES_PER_PAGE)
                + 512 * 256 * resources.VM_BYTES_PER_PAGE + 256 * 256 * resources.LOGICAL_BYTES_PER_PAGE)
    assert used <= estimate, f"{used / 2 ** 20:.0f} MiB used, estimated {estimate / 2 ** 20:.0f} MiB"


def test_long_runs_show_progress_and_short_ones_stay_quiet(capsys, monkeypatch):
    """By default a run shows progress once it has computed for PROGRESS_AFTER_S wall seconds,
    however few simulated minutes it covers (a big host's 10 minutes can take minutes)."""
    host = esx.Host(esx.HostConfig(memory_mb=64), seed=0)
    host.run(seconds=120)
    assert capsys.readouterr().err == ""
    host.run(seconds=120, progress=True)
    assert "simulated 2/2 min" in capsys.readouterr().err
    monkeypatch.setattr(esx.host, "PROGRESS_AFTER_S", 0.0)          # as if each minute took seconds
    host.run(seconds=120)
    assert "simulated 2/2 min" in capsys.readouterr().err
    host.run(seconds=120, progress=False)
    assert capsys.readouterr().err == ""
    with esx.host.watching(lambda h: None):                          # a dashboard shows its own progress
        host.run(seconds=120)
    assert capsys.readouterr().err == ""


def test_sizes_read_in_the_unit_they_need():
    """A mistyped size (a workload's attach returning 2**80 pages) read "27021597764222976.0 GiB"."""
    assert [resources.gib(x) for x in (512 * 2 ** 20, 3.2 * GIB, 3 * 2 ** 40, 5 * 2 ** 50, 9 * 2 ** 80)] == \
        ["512 MiB", "3.2 GiB", "3.0 TiB", "5.0 PiB", "9.7e+09 PiB"]
