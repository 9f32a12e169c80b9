"""Instructions, not seconds (issue 13): ``python benchmarks/bench_instructions.py [--vs TREE] [scenario ...]``.

On a shared machine whose speed drifts by more than 1.5× within minutes (2026-12-02), a change
that saves 3 % of a run cannot be told from noise by timing whole processes, even paired.
Valgrind's callgrind counts the instructions a process executes: the same code, inputs and
environment give the same count to within about 0.1 %, whatever else the machine does (the choices esxlab
makes by timing are timed once here, at full speed, and fixed in every run: :func:`timed_choices`). Each
scenario runs in a fresh interpreter under ``valgrind --tool=callgrind`` (about 50× slower than
normal; the runs go side by side, one per core, since their counts do not depend on load), and
the count of a process that only imports esxlab is subtracted, so the figure is the simulation's.
Instructions weigh per-call overhead (thousands per numpy call) far more than elementwise work
(about one per element and pass): they show a leaner call path, not fewer passes over pages.

``--vs TREE`` runs the same scenarios on another checkout (e.g. a ``git worktree`` of the
commit before a change) and prints the ratio this tree / TREE. Instructions are not time:
cache misses, which dominate a many-VM run, are not counted; speed claims still need timed
runs (``run.py``, ``bench_scale.py``). Needs valgrind (Debian/Ubuntu: ``apt-get install
valgrind``; macOS and Windows have none).

Scenarios (invented short versions of the experiments' set-ups):

* ``fig7``: ``benchmarks/run.py``'s Figure 7 set-up (two 256 MB VMs, idle Windows and dbench, on
  a 448 MB host), 3 + 5 + 5 simulated minutes, τ 0 then 0.75, sharing off (the dbench guest's
  paging path);
* ``fig8``: Figure 8's five Windows servers, 18 minutes, benchmarks from minute 8, τ = 0.5,
  ESX page sharing on (notebook 09's run: sharing, ballooning, reclamation);
* ``scale``: ``bench_scale.py``'s mix of dbench, toucher and idle VMs, 32 × 256 MB for 2 simulated
  minutes (the per-VM-tick costs that dominate a many-VM host).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))                   # (timed_choices imports this tree's esxlab)

SCENARIOS = {
    "import": "import esxlab",
    "fig7": """
import esxlab as esx
host = esx.Host(esx.HostConfig(memory_mb=448, swap_mb=1024, tax_rate=0.0, sharing=esx.SharingConfig(mode="off")), seed=0)
host.power_on(esx.VMConfig(name="idle", max_mb=256, guest_os="windows"))
host.run(minutes=3)
host.power_on(esx.VMConfig(name="dbench", max_mb=256), workload=esx.workloads.Dbench())
host.run(minutes=5)
host.set_tax_rate(0.75)
host.run(minutes=5)
""",
    "fig8": """
from esxlab.experiments import fig8
fig8.run(seed=0, minutes=18, bench_start_min=8, tax_rate=0.5)
""",
    "scale": """
import pathlib, runpy
import esxlab
bench = runpy.run_path(str(pathlib.Path(esxlab.__file__).parents[1] / "benchmarks" / "bench_scale.py"))
bench["big_host"](minutes=2, vms=32, vm_mb=256)
""",
}


def timed_choices() -> str:
    """Code fixing, in a child, the choices esxlab makes by timing, as this process makes them at full speed:
    the fastest way to sort small integers (``arrays.distinct``), whether Dbench's rank table beats the
    power and whether marking its blocks beats sorting them (``ranks.pays``, a default Dbench's answers).
    Timed under valgrind they could go either way from run to run (its slowdown is not the same for every
    instruction), and a different choice is a different count. The child still builds the rank table before
    the choice, as a real run does to time it."""
    import numpy as np

    import esxlab as esx
    from esxlab import arrays
    dbench = esx.workloads.Dbench()
    dbench.attach(1, 0, np.random.default_rng(0))
    arrays.distinct(np.zeros(2, dtype=np.uint16))                  # (times the sorts, once)
    widen = None if arrays._small_int_sort[0] is None else f"np.{np.dtype(arrays._small_int_sort[0]).name}"
    return (f"import numpy as np, esxlab.arrays, esxlab.workloads\n"
            f"esxlab.arrays._small_int_sort = ({widen}, {arrays._small_int_sort[1]!r})\n"
            f"W = getattr(esxlab.workloads, 'general', esxlab.workloads)   # (a checkout before workloads/ was a package)\n"
            f"W._table_pays = lambda *key: W._rank_table(*key) is not None and {dbench._ranks is not None}\n"
            f"W._marks_pay = lambda *key: {dbench._marks}\n")


def instructions(tree: Path, scenario: str, prelude: str = "") -> int:
    """Instructions (callgrind's Ir) of a fresh interpreter running ``prelude`` and ``scenario`` with ``tree``
    first on the path."""
    # the same dict layouts every run (str hashes), and no OpenBLAS worker threads spinning beside the run
    env = dict(os.environ, PYTHONPATH=str(tree), PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1")
    code = SCENARIOS[scenario] if scenario == "import" else prelude + SCENARIOS[scenario]
    # run in ``tree``: ``python -c`` puts the current directory before PYTHONPATH, so run from another
    # checkout's root both trees would import that one
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c",
                          code], env=env, cwd=tree, capture_output=True, text=True, check=True).stderr
    found = re.search(r"Collected : (\d+)", out)
    if found is None:
        raise SystemExit(f"callgrind printed no instruction count for {scenario}:\n{out[-2000:]}")
    return int(found.group(1))


def main() -> None:
    names = [s for s in SCENARIOS if s != "import"]
    p = argparse.ArgumentParser(
        description="Count the instructions of short Figure 7, Figure 8 and many-VM runs with valgrind's callgrind "
                    "(repeatable where timings drift), optionally against another checkout.",
        epilog="Needs valgrind (Debian/Ubuntu: apt-get install valgrind). Runs take about 50 times their normal "
               "time: a few minutes for both scenarios.")
    p.add_argument("scenarios", nargs="*", metavar="scenario", help=f"which to run: {', '.join(names)} (default: all)")
    p.add_argument("--vs", type=Path, metavar="TREE", help="another checkout to compare with (this tree / TREE)")
    args = p.parse_args()
    args.vs = args.vs and args.vs.resolve()                   # (each run starts in its own tree)
    unknown = [s for s in args.scenarios if s not in names]
    if unknown:
        p.error(f"no scenario {', '.join(map(repr, unknown))}; choose from {', '.join(names)}.")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: this benchmark counts instructions with valgrind's callgrind "
                         "(Debian/Ubuntu: apt-get install valgrind).")
    if args.vs is not None and not (args.vs / "esxlab" / "__init__.py").is_file():
        raise SystemExit(f"--vs {args.vs} is not an esxlab checkout (it has no esxlab/__init__.py).")
    trees = [HERE] + ([args.vs] if args.vs else [])
    runs = [(t, s) for s in ("import", *(args.scenarios or names)) for t in trees]
    prelude = timed_choices()
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:     # counts do not depend on load: run side by side
        got = dict(zip(runs, pool.map(lambda run: instructions(*run, prelude), runs)))
    for name in args.scenarios or names:
        counts = [got[t, name] - got[t, "import"] for t in trees]
        line = f"{name:<6} {counts[0] / 1e9:8.3f} G instructions"
        if args.vs:
            line += f"   vs {counts[1] / 1e9:8.3f} G in {args.vs}: ratio {counts[0] / counts[1]:.4f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
