"""pyproject.toml and environment.yml list the same packages; the project files agree."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[;]", req.strip(), maxsplit=1)[0].lower()


def test_environment_yml_matches_pyproject():
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11 (tomllib)")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = {_name(r): r.replace(" ", "") for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        pip.update({_name(r): r.replace(" ", "") for r in extra})
    conda = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text[text.index("dependencies:"):].splitlines():
        m = re.match(r"\s*-\s*([A-Za-z0-9_.\-]+.*)$", line)
        if m and not line.strip().startswith("#"):
            conda[_name(m.group(1))] = m.group(1).replace(" ", "")
    conda.pop("python", None)
    conda.pop("pip", None)
    assert conda == pip, "environment.yml and pyproject.toml must list the same packages and versions"


def test_makefile_and_ci_use_the_readme_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "pip install --no-deps ." in (ROOT / "postBuild").read_text()
