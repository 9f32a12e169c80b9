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
