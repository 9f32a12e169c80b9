"""Sweeps on a Dask cluster (--scheduler)."""
from __future__ import annotations

import csv
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import esxlab as esx
from esxlab.__main__ import main
from esxlab.experiments import SweepFailed, cluster as dask_side, runner, sweep, sweeps

# a scheduler serves HTTP on 8787 even without its dashboard: a second cluster of this module moves to a free port
pytestmark = pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning")


ONE_WORKER = dict(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
SLOW_AFTER_SEED_0 = '''
import time

from esxlab.experiments import remap_io
from esxlab.experiments.params import Param

PARAMS = {"minutes": Param(1, "run length", 1, 3, integer=True, unit="min")}


def run(seed=0, minutes=1):
    if seed > 0:
        time.sleep(60)          # the cluster is closed long before: only seed 0 ever finishes
    return remap_io.run(seed=seed, minutes=minutes)
'''
distributed = pytest.importorskip("distributed")           # the "cluster" extra; the "test" extra installs it
NO_ESXLAB = '''"""A Dask worker preload: this worker cannot import esxlab (as a cluster started without PYTHONPATH)."""
import sys


class NoEsxlab:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "esxlab":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoEsxlab())
for name in [m for m in sys.modules if m.partition(".")[0] == "esxlab"]:
    del sys.modules[name]
'''


@pytest.fixture
def lost_after_first_result(tmp_path, monkeypatch) -> Iterator[str]:
    """The address of a cluster closed (from another thread) as soon as the sweep's first result arrives, and an
    experiment module of one's own, ``slow_after_seed_0``, whose runs after seed 0 take a minute."""
    (tmp_path / "slow_after_seed_0.py").write_text(SLOW_AFTER_SEED_0)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "slow_after_seed_0", raising=False)
    lost = distributed.LocalCluster(**ONE_WORKER)
    closing: list[threading.Thread] = []
    real = runner.execute

    def execute(*args: Any, each: Callable[[tuple, Any], None], **kwargs: Any) -> list[Any]:
        def then_close(task: tuple, got: Any) -> None:
            each(task, got)
            if not closing:
                closing.append(threading.Thread(target=lost.close))
                closing[0].start()
        return real(*args, each=then_close, **kwargs)

    monkeypatch.setattr(runner, "execute", execute)
    yield lost.scheduler_address
    for thread in closing:
        thread.join()
    lost.close()


def within(seconds: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, failing the test if it has not returned after ``seconds`` (a hang)."""
    out: dict[str, Any] = {}

    def call() -> None:
        try:
            out["value"] = fn(*args, **kwargs)
        except BaseException as e:               # handed to the test's thread
            out["error"] = e

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still running after {seconds} s")
    if "error" in out:
        raise out["error"]
    return out["value"]


def _serve(tmp_path, kind: str) -> Iterator[str]:
    """The address of a local server that is not a Dask scheduler: a web server (``http``), a peer that answers
    "HTTP/1.0 400 Bad Request" to anything (``400``), or one that takes the connection and never answers."""
    if kind == "http":
        handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path))  # noqa: E731
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"tcp://127.0.0.1:{server.server_address[1]}"
        server.shutdown()
        server.server_close()
        return
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:                          # closed: the test is over
                return
            held.append(conn)
            if kind == "400":
                conn.sendall(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=accept, daemon=True).start()
    yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    for conn in held:
        conn.close()


@pytest.fixture(params=["http", "400", "silent"])
def not_a_scheduler(request, tmp_path, monkeypatch) -> Iterator[str]:
    monkeypatch.setattr(dask_side, "CONNECT_S", 1.0)     # 10 s on a real network; 1 s here
    yield from _serve(tmp_path, request.param)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(**ONE_WORKER) as c:
        yield c


def test_a_cluster_lost_mid_sweep_raises_sweep_failed_holding_the_seeds_that_finished(lost_after_first_result):
    with pytest.raises(SweepFailed) as failed:
        within(60, sweep, "slow_after_seed_0", {"minutes": [1, 2]}, seeds="0-2", scheduler=lost_after_first_result)
    assert failed.value.table.seeds == (0,) and (failed.value.runs, failed.value.total) == (2, 6)
    assert failed.value.stopped == "the Dask cluster was lost"
    assert str(failed.value).startswith(f"sweep: the Dask cluster at {lost_after_first_result} was lost after 2 of 6 "
                                        "runs (")
    assert str(failed.value).endswith("; allowed: a cluster that stays up until the sweep ends: run the seeds that "
                                      "did not finish (1-2) again once it is back.")
    assert failed.value.table.tables == sweep("remap_io", {"minutes": [1, 2]}, seeds=[0]).tables, "bit for bit"


def test_the_command_line_writes_the_seeds_that_finished_then_says_the_cluster_was_lost(lost_after_first_result,
                                                                                        tmp_path, capsys):
    out = tmp_path / "killed.csv"
    argv = ["sweep", "slow_after_seed_0", "--param", "minutes=1,2", "--seeds", "0-2", "--scheduler",
            lost_after_first_result, "--csv", str(out)]
    assert within(60, main, argv) == 1
    printed, err = capsys.readouterr()
    assert "2 runs of slow_after_seed_0 (2 grid points × 1 seed; the Dask cluster was lost: 6 runs asked for)" \
        in printed
    assert "Traceback" not in err and err.splitlines()[-1].startswith(
        f"error: sweep: the Dask cluster at {lost_after_first_result} was lost after 2 of 6 runs (")
    with open(out, newline="") as f:
        assert {row["seed"] for row in csv.DictReader(f)} == {"0"}


def test_an_address_where_no_dask_scheduler_listens_is_one_sentence_not_a_hang(not_a_scheduler):
    with pytest.raises(esx.ConfigError, match=r"^sweep: scheduler = 'tcp://127\.0\.0\.1:\d+' (could not be reached "
                                              r"\(no answer as a Dask scheduler within 1 s|is not a Dask scheduler's "
                                              r"address \(something answered there, but not in Dask's protocol)\); "
                                              r"allowed: the address of a running Dask scheduler, e\.g\. "
                                              r"tcp://10\.0\.0\.5:8786\.$"):
        within(30, sweep, "remap_io", {"minutes": [1]}, scheduler=not_a_scheduler)


def test_the_command_line_says_so_with_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dask_side, "CONNECT_S", 1.0)
    for address in _serve(tmp_path, "400"):
        assert within(30, main, ["sweep", "remap_io", "--scheduler", address]) == 2
        assert capsys.readouterr().err == (f"error: sweep: --scheduler = {address!r} is not a Dask scheduler's "
                                           "address (something answered there, but not in Dask's protocol); allowed: "
                                           "the address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786.\n")


def test_a_dask_workers_address_is_not_a_schedulers(cluster):
    worker = next(iter(cluster.scheduler_info["workers"]))
    with pytest.raises(esx.ConfigError, match=r"is not a Dask scheduler's address \(it is a Dask Worker, not a "
                                              r"scheduler\)"):
        within(30, sweep, "remap_io", {"minutes": [1]}, scheduler=worker)


def test_workers_that_cannot_import_esxlab_are_named_in_a_sentence(tmp_path, capsys):
    (tmp_path / "no_esxlab.py").write_text(NO_ESXLAB)
    with distributed.LocalCluster(**ONE_WORKER, preload=[str(tmp_path / "no_esxlab.py")]) as blind:
        with pytest.raises(esx.ConfigError, match=r"^sweep: scheduler = '.*': the workers cannot import esxlab \("
                                                  r"ModuleNotFoundError\(\"No module named 'esxlab'\"\)\); allowed: "
                                                  r"workers with the same esxlab installed, or its checkout on their "
                                                  r"PYTHONPATH\.$"):
            within(60, sweep, "remap_io", {"minutes": [1]}, scheduler=blind.scheduler_address)
        assert main(["sweep", "remap_io", "--scheduler", blind.scheduler_address]) == 2
        assert capsys.readouterr().err.startswith(f"error: sweep: --scheduler = {blind.scheduler_address!r}: the "
                                                  "workers cannot import esxlab (")


OTHER_SOURCES = '''"""A Dask scheduler preload: this scheduler runs other esxlab sources (a checkout of another day)."""
import esxlab.experiments.runner

esxlab.experiments.runner._LOADED = "0123456789abcdef"
'''
READS = "and it must read the tasks, which name esxlab's functions; allowed: a scheduler started where"


@pytest.mark.parametrize("preload, says", [
    (NO_ESXLAB, f"the scheduler cannot import esxlab (No module named 'esxlab'), {READS} esxlab imports, as its "
                "workers are (esxlab installed, or its checkout on PYTHONPATH)."),
    (OTHER_SOURCES, f"the scheduler runs other esxlab sources (sha256 0123456789abcdef, here "
                    f"{runner.loaded_source_hash()}), {READS} the same esxlab is installed."),
])
def test_a_scheduler_that_cannot_read_the_tasks_is_named_in_a_sentence(preload, says, tmp_path, capsys):
    """A helper's trial: a scheduler started without PYTHONPATH (its workers with it) failed every task with ~50 lines
    of Dask's "Error during deserialization of the task graph": the scheduler reads the tasks, which name esxlab's
    functions; one running other sources may not read them either. A scheduler and a worker of their own processes,
    as `dask scheduler` and `dask worker` start them."""
    (tmp_path / "preload.py").write_text(preload)
    info = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(esx.__file__).parents[1]),
                                                        os.environ.get("PYTHONPATH", "")])}
    started = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--port", "0",
                                 "--no-dashboard", "--scheduler-file", str(info), "--preload",
                                 str(tmp_path / "preload.py")], env=env, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        started.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads",
                                         "1", "--no-dashboard"], env=env, stderr=subprocess.DEVNULL))
        assert within(90, main, ["sweep", "remap_io", "--param", "minutes=1", "--scheduler", address]) == 2
        assert capsys.readouterr().err == f"error: sweep: --scheduler = {address!r}: {says}\n"
    finally:
        for process in started:
            process.terminate()
            process.wait(30)


def test_a_scheduler_without_workers_is_one_sentence_after_a_bounded_wait(monkeypatch, capsys):
    monkeypatch.setattr(dask_side, "WORKERS_S", 1.0)
    with distributed.LocalCluster(n_workers=0, dashboard_address=None) as empty:
        address = empty.scheduler_address
        assert within(30, main, ["sweep", "remap_io", "--scheduler", address]) == 2
        assert capsys.readouterr().err == (f"error: sweep: --scheduler = {address!r}: that Dask scheduler has no "
                                           f"workers (none joined within 1 s); allowed: a scheduler with workers: start "
                                           f"them with `dask worker {address}`, where esxlab imports, then run "
                                           "again.\n")


def test_a_cluster_runs_each_seeds_grid_points_in_one_task_and_gives_the_serial_table(cluster):
    grid, seeds = {"minutes": [1, 2], "packets_per_s": [1000, 2000]}, [0, 1]
    plan = sweeps.Plan.of("remap_io", grid, seeds, scheduler=cluster.scheduler_address)
    assert [(task[1], len(task[2])) for task in plan.tasks] == [(0, 4), (1, 4)], \
        "one task per seed, as here, when the seeds are at least the cluster's worker threads (1)"
    assert plan.run() == sweep("remap_io", grid, seeds), "bit for bit"
    one_seed = sweeps.Plan.of("remap_io", grid, [0], scheduler=cluster.scheduler_address)
    assert len(one_seed.tasks) == 1, "one seed, one thread: one task"


def test_jobs_with_a_scheduler_is_refused_as_the_command_line_refuses_it(monkeypatch):
    monkeypatch.setattr(runner, "identify", lambda *a: pytest.fail("connected before refusing"), raising=False)
    with pytest.raises(esx.ConfigError, match=r"^sweep: jobs = 2 and scheduler = 'tcp://127\.0\.0\.1:8786' were both "
                                              r"given; allowed: one of them"):
        sweep("remap_io", jobs=2, scheduler="tcp://127.0.0.1:8786")


def test_a_scheduler_that_is_not_an_address_is_told_in_the_apis_words(cluster):
    with pytest.raises(esx.ConfigError, match=r"^sweep: scheduler = 8786 is not allowed; give the scheduler's address "
                                              r"as a str, e\.g\. 'tcp://10\.0\.0\.5:8786'\.$"):
        sweep("remap_io", scheduler=8786)
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        with pytest.raises(esx.ConfigError, match=r"^sweep: scheduler = <Client: .*> is a dask Client, not an address; "
                                                  r"allowed: its scheduler's address as a str, client\.scheduler\."
                                                  rf"address \('{cluster.scheduler_address}'\)\.$"):
            sweep("remap_io", scheduler=client)
    with pytest.raises(esx.ConfigError, match=r"^sweep: scheduler = 'nowhere' is not a valid address \(missing port"):
        sweep("remap_io", scheduler="nowhere")


def test_a_cluster_left_without_workers_mid_sweep_is_lost_not_a_hang(tmp_path, monkeypatch):
    """Every worker gone, the scheduler up: the tasks waited for good (a sweep sat at 4/10 for 120 s)."""
    (tmp_path / "slow_after_seed_0.py").write_text(SLOW_AFTER_SEED_0)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "slow_after_seed_0", raising=False)
    monkeypatch.setattr(dask_side, "WORKERS_S", 2.0)
    with distributed.LocalCluster(**ONE_WORKER) as c:
        threading.Timer(3.0, lambda: c.scale(0)).start()        # seed 0 has finished; seed 1 sleeps on the worker
        with pytest.raises(SweepFailed, match=r"was lost after 1 of 2 runs .*no worker left for 2 s") as lost:
            within(60, sweep, "slow_after_seed_0", seeds=[0, 1], scheduler=c.scheduler_address)
        assert list(lost.value.table.seeds) == [0]


def test_a_worker_that_loaded_other_sources_is_refused(cluster, monkeypatch):
    """The check hashed the files on the worker's disk, not the code it had loaded: a worker that imported esxlab
    before an edit ran the old code while the check passed (its CSVs differed). It compares the loaded."""
    client = distributed.Client(cluster.scheduler_address, set_as_default=False)
    try:
        client.run(runner.loaded_source_hash)                    # the worker has loaded the runner
        monkeypatch.setattr(runner, "_LOADED", "0123456789abcdef")   # this process "loaded other sources"
        with pytest.raises(esx.ConfigError, match=r"run other esxlab sources .*here 0123456789abcdef"):
            within(60, sweep, "remap_io", {"minutes": [1]}, scheduler=cluster.scheduler_address)
    finally:
        client.close()


def test_an_in_process_address_and_a_closed_port_are_said_at_once():
    """``inproc://`` (LocalCluster(processes=False)) was "could not be reached"; a closed port took 10 s."""
    with pytest.raises(esx.ConfigError, match=r"is an in-process address, .*protocol='tcp://'"):
        sweep("remap_io", {"minutes": [1]}, scheduler="inproc://10.0.0.5/123/1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]                                # bound, never listening: refused
        with pytest.raises(esx.ConfigError, match=r"could not be reached \(connection refused: nothing listens"):
            within(3, sweep, "remap_io", {"minutes": [1]}, scheduler=f"tcp://127.0.0.1:{port}")
        with pytest.raises(esx.ConfigError, match=r"could not be reached \(connection refused: nothing listens"):
            within(3, sweep, "remap_io", {"minutes": [1]}, scheduler=f"127.0.0.1:{port}")   # (Dask reads it as tcp://)


@pytest.mark.parametrize("address, why", [("localhost:41289x", "its port '41289x' is not a whole number"),
                                          ("tcp://127.0.0.1:", "no port after its ':'"),
                                          ("localhost:-1", "its port -1 is outside 1–65535"),
                                          ("localhost:99999", "its port 99999 is outside 1–65535"),
                                          ("tcp://[::1]:0", "its port 0 is outside 1–65535")])
def test_a_port_that_is_not_one_is_said_so_before_any_connection(address, why, monkeypatch):
    """A typo in the port read "could not be reached (invalid literal for int() with base 10: '41289x')"; a port
    outside 1–65535 "could not be reached" after a connection tried, with the name service's "Servname not supported
    for ai_socktype" (-1) or "connection refused" (99999)."""
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: pytest.fail("connected"))
    with pytest.raises(esx.ConfigError, match=rf"^sweep: scheduler = '{re.escape(address)}' is not a valid address "
                                              rf"\({re.escape(why)}\); allowed: HOST:PORT with a port from 1 to 65535, "
                                              r"e\.g\. tcp://10\.0\.0\.5:8786\.$"):
        within(3, sweep, "remap_io", {"minutes": [1]}, scheduler=address)


@pytest.mark.parametrize("address, why", [("[::1]", "missing port number in address '[::1]'"),
                                          ("tcp://a:b:c", "ipv6 needs brackets like [::1]"),
                                          ("tcp://[::1]:87x", "its port '87x' is not a whole number")])
def test_an_ipv6_address_is_read_with_its_brackets(address, why):
    """A review: '[::1]' (no port) was said to have the port '1]', and 'tcp://a:b:c' the port 'c', hiding Dask's own
    "missing port number" and "ipv6 needs brackets"."""
    with pytest.raises(esx.ConfigError, match=rf"^sweep: scheduler = '{re.escape(address)}' is not a valid address "
                                              rf"\([^)]*{re.escape(why)}"):
        within(3, sweep, "remap_io", {"minutes": [1]}, scheduler=address)


def test_a_failed_name_lookup_is_not_said_to_name_no_host(monkeypatch):
    """A review: every gaierror read "no host is named …", a temporary failure of the name service too."""
    def lookup_fails(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    monkeypatch.setattr(socket, "create_connection", lookup_fails)
    with pytest.raises(esx.ConfigError, match=r"could not be reached \(the name 'sched.example.org' could not be "
                                              r"looked up \(Temporary failure in name resolution\)\)"):
        within(5, sweep, "remap_io", {"minutes": [1]}, scheduler="tcp://sched.example.org:8786")


def test_a_host_name_that_names_no_host_is_said_at_once():
    """A helper's trial: tcp://nosuchhost.invalid:8786 waited 11 s, then said 'Timed out trying to connect'."""
    with pytest.raises(esx.ConfigError, match=r"^sweep: scheduler = 'tcp://nosuchhost.invalid:8786' could not be "
                                              r"reached \(no host is named 'nosuchhost.invalid'\); allowed: "):
        within(30, sweep, "remap_io", {"minutes": [1]}, scheduler="tcp://nosuchhost.invalid:8786")
