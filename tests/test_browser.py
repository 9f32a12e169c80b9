"""Real-browser test of all thirteen notebooks: Voilà serves notebooks/ on 127.0.0.1, headless
Debian chromium (driven by Python playwright) opens each, waits for its bqplot figures, checks
that no cell failed, moves one control (the first parameter slider with the keyboard, else
the first dropdown), checks that a figure changed and that the charts' code logged no error in the console. The dashboards' first view is
photographed: into docs/screenshots/ for the README when ESXLAB_SCREENSHOTS=1 (``make
screenshots``), else into a temporary folder, so a test run leaves the checkout as it was. A run that
photographed every notebook also writes docs/screenshots/SOURCE, the hash of the sources the pictures
show (tests/test_screenshots.py fails when they change). A last
test renders a notebook with a picture through the Voilà inside JupyterLab, started as `make lab` starts it. In CI
(CI=true) a missing chromium fails the test."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from screenshot_source import SOURCE, screenshots_hash

ROOT = Path(__file__).resolve().parents[1]
DOC_SHOTS = ROOT / "docs" / "screenshots"
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
# what the figures draw (every bqplot SVG)
SIGNATURE = "() => Array.from(document.querySelectorAll('.bqplot svg')).map(s => s.innerHTML).join('#')"
PHOTOGRAPHED: set[str] = set()          # notebooks photographed into docs/screenshots/ by this run
#: the charts' own code, served by Voilà (bqplot bundles d3): an error it logs in the console is the page's defect; the
#: console's other errors are the environment's (fonts from a CDN offline, other JupyterLab extensions Voilà loads)
CHART_CODE = ("/labextensions/bqplot/", "/labextensions/bqscales/")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-dev-shm-usage"]

pytestmark = pytest.mark.browser


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Debian chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed: `apt-get install chromium` to run the browser test")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(args: list[str], tmp: Path):
    """Run the server ``python args --port=…`` (its log and caches in ``tmp``) until the module's tests are done;
    yields its URL. Its PID is the only process we stop."""
    port = _free_port()
    log = (tmp / "server.log").open("w")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp / "cache"),       # runs kept on disk stay out of ~
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime")}
    proc = subprocess.Popen([sys.executable, *args, f"--port={port}"], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                            env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"{args[1]} exited with code {proc.returncode}; see {log.name}")
                time.sleep(0.5)
        else:
            pytest.fail(f"{args[1]} did not answer on {url} within 60 s; see {log.name}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def voila(tmp_path_factory):
    """A Voilà server over notebooks/."""
    yield from _serve(["-m", "voila", str(ROOT / "notebooks"), "--no-browser", "--Voila.ip=127.0.0.1",
                       "--ServerApp.allow_root=True"], tmp_path_factory.mktemp("voila"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab over the repository with its jupyter_server_config.py, as `make lab` starts it (Voilà included)."""
    yield from _serve(["-m", "jupyterlab", f"--config={ROOT / 'jupyter_server_config.py'}",
                       f"--ServerApp.root_dir={ROOT}", "--no-browser", "--ServerApp.ip=127.0.0.1", "--ServerApp.token=",
                       "--ServerApp.password=", "--allow-root"], tmp_path_factory.mktemp("lab"))


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module", autouse=True)
def screenshots_source():
    """With ESXLAB_SCREENSHOTS=1, docs/screenshots/SOURCE is written after the tests, only if every notebook
    was photographed and the hashed sources did not change during the run (a partial run, ``-k``, leaves it)."""
    before = screenshots_hash()
    yield
    if os.environ.get("ESXLAB_SCREENSHOTS") == "1" and PHOTOGRAPHED == set(NOTEBOOKS) and screenshots_hash() == before:
        SOURCE.write_text(before + "\n")


def _move_a_control(page) -> str:
    """Move the first parameter slider (Home key) or else the first dropdown; what was moved."""
    sliders = page.locator(".widget-slider").filter(has_not_text="minute")
    if sliders.count():
        sliders.first.locator(".noUi-handle").focus()
        page.keyboard.press("Home")
        return "slider: " + sliders.first.inner_text()
    select = page.locator(".widget-dropdown select").first
    values = select.locator("option").evaluate_all("os => os.map(o => o.value)")
    select.select_option(values[1] if select.input_value() == values[0] else values[0])
    return "dropdown: " + select.inner_text()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_renders_and_a_control_changes_its_figure(voila, browser, name, tmp_path):
    shots = DOC_SHOTS if os.environ.get("ESXLAB_SCREENSHOTS") == "1" else tmp_path
    page = browser.new_page(viewport={"width": 1100, "height": 1000})
    errors, console = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: console.append(m) if m.type == "error" else None)
    try:
        page.goto(f"{voila}/voila/render/{name}.ipynb", timeout=180_000)
        page.wait_for_selector(".bqplot svg", timeout=180_000)
        text = page.content()
        assert "There was an error when executing cell" not in text, f"{name}: a notebook cell failed in Voilà"
        assert "Traceback" not in text and "Error displaying widget" not in text, name
        shots.mkdir(parents=True, exist_ok=True)                 # the README's picture: the default view
        dashboard = page.locator(".widget-vbox", has=page.locator(".bqplot")).first
        dashboard.scroll_into_view_if_needed()
        tall = int(min(dashboard.bounding_box()["height"], 3000)) + 40   # a viewport holding it all: bqplot
        page.set_viewport_size({"width": 1100, "height": max(1000, tall)})  # draws only what is on screen
        dashboard.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        dashboard.screenshot(path=str(shots / f"{name}.png"))
        before = page.evaluate(SIGNATURE)
        moved = _move_a_control(page)
        page.wait_for_function(f"before => ({SIGNATURE})() !== before", arg=before, timeout=120_000)
        assert not [e for e in errors if "fontawesome" not in e.lower()], (moved, errors)
        # a line ending in NaN logged "translate(960,undefined)" (its hidden label at its last point) on 11 pages
        logged = [m.text for m in console if any(c in m.location.get("url", "") for c in CHART_CODE)]
        assert not logged, f"{name}: the charts logged errors in the console (after {moved}): {logged}"
        if shots == DOC_SHOTS:
            PHOTOGRAPHED.add(name)
    finally:
        page.close()


def test_voila_reveal_waits_for_the_recorded_prediction(voila, browser):
    """Voilà runs every cell on load: the reveal must wait behind its button, then compare."""
    page = browser.new_page(viewport={"width": 1100, "height": 1000})
    try:
        page.goto(f"{voila}/voila/render/05_idle_memory_tax.ipynb", timeout=180_000)
        reveal = page.get_by_role("button", name="Reveal", exact=True)
        reveal.first.wait_for(timeout=180_000)
        assert "Your prediction" not in page.content() and "did not record" not in page.content()
        page.get_by_placeholder("your prediction in MB").first.fill("120")
        page.get_by_role("button", name="Record my prediction").first.click()
        page.get_by_text("Recorded: 120 MB").first.wait_for(timeout=30_000)
        reveal.first.click()
        page.get_by_text("Your prediction: 120 MB").first.wait_for(timeout=30_000)
    finally:
        page.close()


def test_voila_inside_jupyterlab_renders_a_notebook_with_a_picture(lab, browser):
    """JupyterLab's View → Render Notebook with Voilà hung on every markdown image (voila-dashboards/voila#1473)."""
    page = browser.new_page(viewport={"width": 1100, "height": 1000})
    try:
        page.goto(f"{lab}/voila/render/notebooks/09_dynamic_reallocation.ipynb", timeout=180_000)
        page.wait_for_selector(".bqplot svg", timeout=180_000)
        page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        assert "There was an error when executing cell" not in page.content()
    finally:
        page.close()
