import subprocess
import sys


def test_import_esxlab_loads_no_widget_libraries():
    code = "import sys, esxlab; print([m for m in ('ipywidgets', 'bqplot') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_names():
    import esxlab as esx
    for name in ("Host", "HostConfig", "VMConfig", "Trace", "VMStats", "HostStats",
                 "Error", "ConfigError", "AdmissionError", "policy", "workloads"):
        assert hasattr(esx, name), name
    assert issubclass(esx.ConfigError, ValueError) and issubclass(esx.ConfigError, esx.Error)
    assert callable(esx.policy.shares_per_page)
    for w in ("Idle", "Dbench", "Toucher"):
        assert isinstance(getattr(esx.workloads, w)(), esx.workloads.Workload)


def test_import_esxlab_loads_numpy_only():
    """README, Architecture: "`import esxlab` imports only numpy" (issue 2). tqdm, for a long run's progress line,
    is imported by the first run that shows one."""
    code = ("import sys; before = set(sys.modules); import esxlab; "
            "tops = {m.split('.')[0] for m in sys.modules if m not in before}; "
            "print(sorted(t for t in tops if t not in sys.stdlib_module_names and not t.startswith('_') "
            "and t != 'cython_runtime'))")     # numpy 1.x's compiled parts register Cython's runtime module
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['esxlab', 'numpy']"
    from pathlib import Path
    readme = " ".join((Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8").split())
    assert "`import esxlab` imports only numpy;" in readme
