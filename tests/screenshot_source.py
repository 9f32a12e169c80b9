"""What docs/screenshots/ were taken from: :func:`screenshots_hash` of the sources that decide what the
pictures show, recorded in docs/screenshots/SOURCE by ``make screenshots`` (tests/test_browser.py) and
compared by tests/test_screenshots.py, whose docstring says why these sources and not all of esxlab."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from esxlab.experiments import runner

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "docs" / "screenshots" / "SOURCE"
SHOWN = ("views", "experiments", "data")        # the esxlab/ folders the pictures show


def screenshots_hash(root: Path = ROOT) -> str:
    """sha256 (16 hex digits) of what docs/screenshots/ show: :func:`esxlab.experiments.runner.source_hash`
    of each folder of ``esxlab/`` in :data:`SHOWN`, and the code cells of every ``notebooks/*.ipynb``."""
    h = hashlib.sha256()
    for folder in SHOWN:
        h.update(f"esxlab/{folder}\0{runner.source_hash(root / 'esxlab' / folder, leave_out=())}\0".encode())
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        code = [c["source"] for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        h.update(path.name.encode() + b"\0" + json.dumps(code).encode() + b"\0")
    return h.hexdigest()[:16]
