"""The Dask side of the experiments' runner (issue 13): what a ``--scheduler`` address must be, the connection to
its cluster, the tasks' futures there, and what a lost cluster looks like. :mod:`.runner` checks that the
cluster's workers run these very sources and hands the tasks over.

An address is checked before anything runs (:func:`identify`): it must answer as a Dask scheduler within
:data:`CONNECT_S` seconds, so a web server, a silent peer, a worker's address, a closed port or an in-process
address is refused in one sentence instead of hanging. The tasks go to the cluster as the client's own futures
(:func:`results`; joblib's dask backend ran every task in the calling process on a one-thread cluster), and a
cluster that stops running them (its scheduler gone, or no worker for :data:`WORKERS_S` seconds) is
:class:`ClusterLost` to the caller, which keeps what finished. Source of the approach: invented."""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import re
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..errors import ConfigError, Error, install_hint, shorten

#: seconds a Dask scheduler has to answer: to take the connection, return Dask's handshake and say what it is
#: (:func:`identify`); an address where something else listens (a web server, a peer that never answers) is
#: refused in a sentence when they are up, rather than hanging
CONNECT_S = 10.0
#: seconds a scheduler without workers is given to get one before the runs are refused (:func:`connect`), and a
#: cluster left without workers mid-run before it is lost (:func:`results`)
WORKERS_S = 10.0


def check_scheduler(scheduler: Any, label: str = "reproduce: --scheduler") -> str:
    """``scheduler`` if it is a str (a Dask scheduler's address: :func:`identify` checks it is one); ConfigError
    for anything else, naming what to give instead (for a dask ``Client`` or cluster: its scheduler's address)."""
    if isinstance(scheduler, str):
        return scheduler
    kind = type(scheduler).__name__
    if type(scheduler).__module__.split(".")[0] == "distributed" and kind == "Client":
        address = getattr(getattr(scheduler, "scheduler", None), "address", None)
        raise ConfigError(f"{label} = {shorten(scheduler)} is a dask Client, not an address; allowed: its scheduler's "
                          f"address as a str, client.scheduler.address{f' ({address!r})' if address else ''}.")
    address = getattr(scheduler, "scheduler_address", None)
    if isinstance(address, str):
        raise ConfigError(f"{label} = {shorten(scheduler)} is a {kind}, not an address; allowed: its scheduler's "
                          f"address as a str, cluster.scheduler_address ({address!r}).")
    raise ConfigError(f"{label} = {shorten(scheduler)} is not allowed; give the scheduler's address as a str, e.g. "
                      "'tcp://10.0.0.5:8786'.")


def clip(error: object, limit: int = 200) -> str:
    """``error``'s text on one line (its type's name if it has none), at most ``limit`` characters."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else f"{text[:limit - 1]}…"


def _unreachable(scheduler: str, label: str, why: object, answered: bool = False) -> ConfigError:
    """The sentence for an address where no Dask scheduler answers: nothing did (``could not be reached``), or
    something else did (``answered``: a web server, a Dask worker)."""
    said = "is not a Dask scheduler's address" if answered else "could not be reached"
    return ConfigError(f"{label} = {shorten(scheduler)} {said} ({clip(why)}); allowed: the address "
                       "of a running Dask scheduler, e.g. tcp://10.0.0.5:8786.")


def _refused(scheduler: str) -> str | None:
    """Why nothing can listen at a tcp:// or tls:// ``scheduler`` (or one without a protocol, which Dask reads as
    tcp://): its host's name unknown, or its connection refused, at once, where Dask's own connect retries until
    its timeout (11 s for 127.0.0.1:1: a helper's trial); else None (something listens, or another protocol)."""
    from distributed.comm import get_address_host_port
    if "://" not in scheduler:
        scheduler = f"tcp://{scheduler}"
    if not scheduler.startswith(("tcp://", "tls://")):
        return None
    host, port = get_address_host_port(scheduler)
    try:
        socket.create_connection((host, port), timeout=CONNECT_S).close()
    except socket.gaierror as e:                  # (a failed lookup, not an unknown name: what it said)
        return f"no host is named {host!r}" if e.errno == socket.EAI_NONAME else \
            f"the name {host!r} could not be looked up ({e.strerror or e})"
    except ConnectionRefusedError:
        return "connection refused: nothing listens there"
    except OSError:
        return None                               # no route, a timeout: Dask's connect says which
    return None


def _bad_port(scheduler: str) -> str:
    """Why the port of ``scheduler`` (``HOST:PORT`` after any ``tcp://``; an IPv6 host in brackets, ``[::1]:8786``)
    is not one, said before any connection: not a whole number (Dask would say "invalid literal for int()") or
    outside 1–65535 (the name service would say "Servname not supported" for -1, the connection "refused" for
    99999); "" when it has no port, a port in range, or an IPv6 host without brackets (Dask's own message says what
    is wrong: "missing port number", "ipv6 needs brackets")."""
    address = scheduler.split("://", 1)[-1]
    host_end = address.find("]") + 1 if address.startswith("[") else 0
    if not host_end and address.count(":") > 1:
        return ""
    _, colon, port = address[host_end:].rpartition(":")
    if not colon:
        return ""
    if not re.fullmatch(r"-?\d+", port):
        return f"its port {port!r} is not a whole number" if port else "no port after its ':'"
    return "" if 1 <= int(port) <= 65535 else f"its port {int(port)} is outside 1–65535"


def identify(scheduler: Any, label: str = "reproduce: --scheduler") -> dict[str, Any]:
    """What the Dask scheduler at ``scheduler`` says of itself (its ``identity``: ``n_workers``, ``total_threads``,
    …), asked within :data:`CONNECT_S` seconds (plus one for the handshake) on a connection of its own, in a thread
    of its own (so that a notebook's running event loop is no obstacle). ConfigError, one sentence, for anything
    else: not a str (:func:`check_scheduler`), a malformed address, nothing listening, a peer that does not answer
    in time or answers other than a Dask scheduler does (a web server's "HTTP 400" read as Dask's frame lengths
    would ask for exabytes: that MemoryError is one of the answers it maps), a Dask worker's address, or Dask
    distributed missing (the "cluster" extra)."""
    scheduler = check_scheduler(scheduler, label)
    try:
        from distributed.comm import connect, get_address_host_port
        from distributed.security import Security
    except ImportError:
        raise ConfigError(f"{label} needs Dask distributed; {install_hint('cluster')}.") from None
    if scheduler.startswith("inproc://"):
        raise ConfigError(f"{label} = {shorten(scheduler)} is an in-process address, which the runs cannot use; "
                          "allowed: a tcp:// address, e.g. LocalCluster(processes=False, protocol='tcp://')'s.")
    try:
        if bad := _bad_port(scheduler):           # before any connection, which would say something else
            raise ValueError(bad)
        get_address_host_port(scheduler)          # a malformed address fails here, before any connection
    except (ValueError, TypeError) as e:
        raise ConfigError(f"{label} = {shorten(scheduler)} is not a valid address ({clip(e)}); allowed: HOST:PORT "
                          "with a port from 1 to 65535, e.g. tcp://10.0.0.5:8786.") from None
    try:
        arguments = Security().get_connection_args("client")      # TLS as dask's configuration says
        refused = _refused(scheduler)
    except (ValueError, TypeError) as e:
        raise _unreachable(scheduler, label, e) from None
    if refused:
        raise _unreachable(scheduler, label, refused)

    async def ask() -> Any:
        comm = await connect(scheduler, timeout=CONNECT_S, **arguments)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    answer: dict[str, Any] = {}

    def run() -> None:
        try:
            answer["reply"] = asyncio.run(asyncio.wait_for(ask(), CONNECT_S + 1))
        except BaseException as e:                # whatever a peer that is not a scheduler makes happen
            answer["error"] = e

    thread = threading.Thread(target=run, name="esxlab-scheduler-check", daemon=True)
    thread.start()
    thread.join(CONNECT_S + 3)
    reply, error = answer.get("reply"), answer.get("error")
    if isinstance(error, (TimeoutError, asyncio.TimeoutError)) or not answer:
        raise _unreachable(scheduler, label, f"no answer as a Dask scheduler within {CONNECT_S:g} s")
    if isinstance(error, MemoryError) or (error is None and not isinstance(reply, dict)):
        raise _unreachable(scheduler, label, "something answered there, but not in Dask's protocol", answered=True)
    if error is not None:
        raise _unreachable(scheduler, label, error)
    if reply.get("type") != "Scheduler":
        what = f"a Dask {reply['type']}" if isinstance(reply.get("type"), str) else "not a Dask scheduler"
        raise _unreachable(scheduler, label, f"it is {what}, not a scheduler", answered=True)
    return reply


@contextlib.contextmanager
def connect(scheduler: str, label: str) -> Iterator[Any]:
    """While open, a dask ``Client`` of the cluster at ``scheduler``: a Dask scheduler (:func:`identify`) that has a
    worker (given up to :data:`WORKERS_S` seconds to get one); ConfigError, one sentence, otherwise. Closed at the
    end without the traceback a lost cluster's reconnection would log (the caller's sentence says it)."""
    info = identify(scheduler, label)
    from distributed import Client
    try:
        client = Client(scheduler, timeout=f"{CONNECT_S}s", set_as_default=False)
    except Exception as e:                        # it answered a moment ago: stopped meanwhile
        raise _unreachable(scheduler, label, e) from None
    try:
        if not info.get("n_workers"):
            try:
                client.wait_for_workers(1, timeout=WORKERS_S)
            except Exception:
                raise ConfigError(f"{label} = {shorten(scheduler)}: that Dask scheduler has no workers (none joined "
                                  f"within {WORKERS_S:g} s); allowed: a scheduler with workers: start them with "
                                  f"`dask worker {scheduler}`, where esxlab imports, then run again.") from None
        yield client
    finally:
        with contextlib.suppress(Exception), _silent("distributed"):
            client.close(timeout=2)


@contextlib.contextmanager
def _silent(logger: str) -> Iterator[None]:
    """While open, ``logger`` and the loggers under it (each logs to its ancestors' handlers) log nothing."""
    logs = [log for name, log in list(logging.root.manager.loggerDict.items())
            if isinstance(log, logging.Logger) and (name == logger or name.startswith(f"{logger}."))]
    before = [log.disabled for log in logs]
    for log in logs:
        log.disabled = True
    try:
        yield
    finally:
        for log, was in zip(logs, before):
            log.disabled = was


class ClusterLost(Error):
    """The Dask cluster at ``scheduler`` stopped running the tasks (``reason``, one line: its scheduler went away,
    its workers died or left) after ``done`` of them had finished; :func:`.runner.execute`'s caller keeps what finished
    (a sweep: :class:`~esxlab.experiments.SweepFailed`)."""

    def __init__(self, message: str, scheduler: str, reason: str, done: int) -> None:
        super().__init__(message)
        self.scheduler, self.reason, self.done = scheduler, reason, done


def lost(error: BaseException) -> str | None:
    """Why the cluster stopped, if ``error`` (raised while it ran the tasks) is the cluster's, not a task's: a
    cancelled future (the scheduler's connection lost), a closed connection or a timeout (no worker left), a
    worker killed while running a task; else None."""
    if isinstance(error, (concurrent.futures.CancelledError, asyncio.CancelledError, OSError)) \
            or type(error).__module__.split(".")[0] == "distributed":
        reason = getattr(error, "reason", None) or str(error).strip().partition("\n")[0]
        return clip(f"{type(error).__name__}: {reason}" if reason else type(error).__name__)
    return None


def results(client: Any, call: Callable[..., Any], tasks: Sequence[tuple]) -> Iterator[Any]:
    """``call(*task)`` for each of ``tasks`` on ``client``'s cluster, the results in task order;
    closed early, it cancels the tasks not finished. (Futures of the client's own, not joblib's dask backend:
    joblib runs the tasks in this process when the cluster has a single worker thread.) The cluster starts
    them in the order given (:func:`.runner.plan`'s: longest first)."""
    futures = [client.submit(call, *task, pure=False) for task in tasks]
    try:
        for future in futures:
            yield _result(client, future)
    finally:
        with contextlib.suppress(Exception):      # a lost cluster: nothing left to cancel
            client.cancel(futures)


def _result(client: Any, future: Any) -> Any:
    """``future``'s result, waited for while the cluster has a worker to run it; TimeoutError (a lost cluster, to
    :func:`lost`) once it has had none for :data:`WORKERS_S` seconds: its scheduler keeps such a task waiting
    for good."""
    alone = 0.0
    while True:
        try:
            return future.result(timeout=1.0)
        except (TimeoutError, asyncio.TimeoutError, concurrent.futures.TimeoutError):
            alone = alone + 1.0 if not client.nthreads() else 0.0
            if alone >= WORKERS_S:
                raise TimeoutError(f"no worker left for {WORKERS_S:g} s") from None
