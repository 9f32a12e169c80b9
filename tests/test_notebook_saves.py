"""Running and saving a notebook never breaks `make test`, and a reopened notebook says what
to do: a student runs 08 in a kernel, JupyterLab saves it with its outputs (through the
server's contents manager configured by jupyter_server_config.py, as `make lab` starts it),
and git — with the filter `make` sets up — still holds the clean notebook."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import nbformat
import pytest
from notebook_cells import dirt

from esxlab.views import saves

ROOT = Path(__file__).resolve().parents[1]
NAME = "notebooks/08_io_remapping.ipynb"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path):
    """A throw-away repository holding the project's .gitattributes and one committed notebook,
    with git's filter set up by the Makefile's own `filters` target."""
    for name in (".gitattributes", ".gitignore"):
        shutil.copy(ROOT / name, tmp_path)
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / NAME, tmp_path / NAME)
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "student@example.org")
    git(tmp_path, "config", "user.name", "student")
    subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "filters", f"PY={sys.executable}"],
                   cwd=tmp_path, check=True)
    assert "nbstripout" in git(tmp_path, "config", "filter.nbstripout.clean")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "clean notebook")
    return tmp_path


def lab_save(repo: Path, nb):
    """Save ``nb`` as JupyterLab does: PUT through the server's FileContentsManager, with
    the repository's jupyter_server_config.py, and without widget state (Lab's default)."""
    from jupyter_server.services.contents.filemanager import FileContentsManager
    from traitlets.config.loader import PyFileConfigLoader

    with warnings.catch_warnings():
        warnings.simplefilter("error")       # `make lab` printed "Overriding existing pre_save_hook (pre_save)"
        config = PyFileConfigLoader("jupyter_server_config.py", path=str(ROOT)).load_config()
        manager = FileContentsManager(root_dir=str(repo), config=config)
    content = json.loads(nbformat.writes(nb))
    content["metadata"].pop("widgets", None)
    manager.save({"type": "notebook", "format": "json", "content": content}, NAME)
    return nbformat.read(repo / NAME, as_version=4)


def test_a_run_and_saved_notebook_keeps_git_clean_and_says_run_the_cells(repo, tmp_path_factory, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path_factory.mktemp("jupyter-data")))  # notebook signatures
    nb = nbformat.read(repo / NAME, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}
                   ).execute()
    saved = lab_save(repo, nb)

    outputs = [o for c in saved.cells if c.cell_type == "code" for o in c.outputs]
    assert any(c.get("execution_count") for c in saved.cells)               # the student's copy keeps the run
    assert not any(saves.WIDGET_VIEW in o.get("data", {}) for o in outputs)
    notes = [o for o in outputs if o.get("data", {}).get("text/plain") == saves.NOTE]
    assert notes, "a reopened notebook must say to run the cells where its dashboards were"
    assert dirt(saved), "the saved working copy has outputs"

    assert git(repo, "diff", "--stat") == ""                                 # the filter hides the outputs
    git(repo, "add", "-A")
    assert git(repo, "status", "--porcelain") == "", "nothing to commit after running and saving"
    assert dirt(nbformat.reads(git(repo, "show", f":{NAME}"), as_version=4)) == []   # what test_notebooks_clean reads
    assert git(repo, "show", f":{NAME}") == (ROOT / NAME).read_text()


def test_pre_save_leaves_other_files_alone():
    model = {"type": "file", "content": "text"}
    saves.pre_save(model)
    assert model == {"type": "file", "content": "text"}


def test_make_lab_serves_the_repository_root(tmp_path):
    """`make lab`'s server (without its install step) starts as whoever runs the tests — root in
    CI — and serves notebooks/ and exercises/ with the save hook configured."""
    port = _free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path), "JUPYTER_DATA_DIR": str(tmp_path)}
    args = (f"--no-browser --port={port} --ServerApp.token= --ServerApp.password= --ServerApp.open_browser=False "
            "--ServerApp.disable_check_xsrf=True")
    log = (tmp_path / "lab.log").open("w")
    proc = subprocess.Popen(["make", "-s", "serve-lab", f"PY={sys.executable}", f"LAB_ARGS={args}"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        listing = None
        for _ in range(120):
            if proc.poll() is not None:
                pytest.fail(f"make serve-lab exited with {proc.returncode}: {(tmp_path / 'lab.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=1) as r:
                    listing = json.load(r)
                break
            except OSError:
                time.sleep(0.5)
        assert listing is not None, "JupyterLab did not answer within 60 s"
        names = {item["name"] for item in listing["content"]}
        assert {"notebooks", "exercises"} <= names
        assert _saved_through(port, tmp_path.name)["data"] == saves.note_bundle(), "the save hook is configured"
        assert "Running as root is not recommended" not in (tmp_path / "lab.log").read_text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)       # make and the server it started: our own process group
        proc.wait(timeout=20)
        log.close()


def _saved_through(port: int, stem: str) -> dict:
    """Save a notebook holding a widget output through the server's contents API, read it back
    and delete it; its one output as saved."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("dash", outputs=[nbformat.v4.new_output(
        "display_data", data={saves.WIDGET_VIEW: {"model_id": "x", "version_major": 2, "version_minor": 0}})])])
    url = f"http://127.0.0.1:{port}/api/contents/esxlab-save-check-{stem}.ipynb"
    body = json.dumps({"type": "notebook", "format": "json", "content": nb}).encode()
    urllib.request.urlopen(urllib.request.Request(url, data=body, method="PUT"), timeout=10).close()
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)["content"]["cells"][0]["outputs"][0]
    finally:
        urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=10).close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_passes_allow_root_to_root_only():
    """JupyterLab refuses root without --allow-root, and a user does not need it: `make lab`'s
    command line as root and, through setpriv, as the unprivileged user nobody (dry runs; the
    Makefile goes in on stdin, since nobody may not read the checkout)."""
    def command(*as_user: str) -> str:
        return subprocess.run([*as_user, "make", "-n", "-s", "-f", "-", "serve-lab", f"PY={sys.executable}"],
                              input=(ROOT / "Makefile").read_text(), capture_output=True, text=True, check=True,
                              cwd="/").stdout
    if os.geteuid() != 0:
        assert "--allow-root" not in command()
        return
    assert "--allow-root" in command()
    if shutil.which("setpriv"):
        assert "--allow-root" not in command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
