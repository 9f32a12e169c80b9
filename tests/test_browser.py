"""Real-browser smoke test: Voilà serves the notebooks on 127.0.0.1, headless Debian chromium
(driven by Python playwright) opens them, waits for the bqplot SVG and the sliders, moves a
slider with the keyboard and checks that the plotted path changed; screenshots go to
docs/screenshots/ for the README. In CI (CI=true) a missing chromium fails the test."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "screenshots"
NOTEBOOKS = ["00_tour", "02_ballooning", "05_idle_memory_tax"]
LINE = ".bqplot svg path.line"
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


@pytest.fixture(scope="module")
def voila(tmp_path_factory):
    """A Voilà server over notebooks/ (its PID is the only process we stop)."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("voila") / "voila.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "voila", str(ROOT / "notebooks"), "--no-browser",
                             f"--port={port}", "--Voila.ip=127.0.0.1", "--ServerApp.allow_root=True"],
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"voila exited with code {proc.returncode}; see {log.name}")
                time.sleep(0.5)
        else:
            pytest.fail(f"voila did not answer on {url} within 60 s; see {log.name}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_dashboard_renders_and_follows_the_keyboard(voila, browser, name):
    if not (ROOT / "notebooks" / f"{name}.ipynb").exists():
        pytest.fail(f"notebooks/{name}.ipynb is missing")
    page = browser.new_page(viewport={"width": 1100, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{voila}/voila/render/{name}.ipynb", timeout=120_000)
        page.wait_for_selector(LINE, timeout=120_000)
        page.wait_for_selector(".widget-slider .noUi-handle", timeout=30_000)
        assert page.locator(".jupyter-widgets .widget-readout").count() >= 2        # a control + the minute
        assert "There was an error when executing cell" not in page.content(), "a notebook cell failed in Voilà"
        SHOTS.mkdir(parents=True, exist_ok=True)                 # the README's picture: the default view
        dashboard = page.locator(".widget-vbox", has=page.locator(".bqplot")).first
        box = dashboard.bounding_box()
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True,
                        clip=dict(x=box["x"], y=box["y"], width=box["width"], height=min(box["height"], 1100)))
        d0 = page.get_attribute(LINE, "d")
        handle = page.locator(".widget-slider .noUi-handle").first
        handle.focus()
        page.keyboard.press("Home")                               # first control to its minimum: a rerun
        page.wait_for_function("([sel, d0]) => document.querySelector(sel).getAttribute('d') !== d0",
                               arg=[LINE, d0], timeout=60_000)
        assert not [e for e in errors if "fontawesome" not in e.lower()], errors
    finally:
        page.close()
