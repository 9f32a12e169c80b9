"""The README's reproduction table is the generated one, made from today's ``esxlab/`` sources.

When this fails, regenerate it (≈ 2.5 min on 2 cores):
``python -m esxlab reproduce --seeds 0-3 --jobs 2 --readme README.md``.
"""
from pathlib import Path

from esxlab.experiments import runner

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_table_is_generated_from_the_current_sources():
    recorded = runner.readme_hash(README)
    assert recorded is not None, "README.md has no generated reproduction table between the markers"
    assert recorded == runner.source_hash(), (
        f"README.md's table was made from esxlab sources {recorded}, they are now {runner.source_hash()}: "
        "regenerate it with `python -m esxlab reproduce --seeds 0-3 --jobs 2 --readme README.md`.")
