"""Workloads: what the applications inside a guest do each simulated second.

A workload owns a range of *logical pages* (anonymous memory or file blocks) and, each
tick, says which of them it touches and which it writes. The guest turns that into PPN
accesses; the hypervisor into MPN accesses. Every workload here is an invented model
(the paper describes its benchmarks, not their access patterns), kept small and stated
in its docstring. The pages a tick touches (``len(Access.lps)``) are its work and
``cpu_us_per_access`` the CPU cost of each; with the stall time of faults and disk I/O they
give the workload's throughput (accesses per second).

The package: ``base`` (the contract: :class:`Workload`, :class:`Access`, the checks of an outside
workload), ``general`` (the general-purpose workloads, named in :data:`WORKLOADS`), ``registry``
(:data:`WORKLOADS`, :func:`make`), ``figures`` (workloads made for one figure's set-up) and ``teaching``
(the exercises' small workloads). Everything public is here, as ``esx.workloads.<name>``.
"""
from .base import EMPTY, PER_WORKLOAD, Access, Workload, attached_pages, checked, disk_contents, outside, packaged
from .figures import Delayed, Deployed, Server
from .general import ACCESSES_PER_CLIENT, Dbench, Idle, NetServer, Spec95, Toucher
from .registry import WORKLOADS, make
from .teaching import Contents, Grow, HotCold, Probe

__all__ = ["ACCESSES_PER_CLIENT", "EMPTY", "PER_WORKLOAD", "WORKLOADS", "Access", "Contents", "Dbench", "Delayed",
           "Deployed", "Grow", "HotCold", "Idle", "NetServer", "Probe", "Server", "Spec95", "Toucher", "Workload",
           "attached_pages", "checked", "disk_contents", "make", "outside", "packaged"]
