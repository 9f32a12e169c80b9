"""docs/screenshots/ (the README's pictures) show today's dashboards: ``make screenshots`` writes
docs/screenshots/SOURCE, a hash of the sources that decide what the pictures show, and this test fails
when those sources changed since.

What is hashed is what the pictures show, not all of esxlab: the notebooks' code cells (which
dashboard, with which controls; their markdown is not photographed), ``esxlab/views/`` (layout,
charts, tables), ``esxlab/experiments/`` (each experiment's rows, its table's columns, its sliders)
and ``esxlab/data/`` (the paper's digitized curves drawn on the figures). The model (host, VM,
balloon, sharing, …) is left out on purpose: a model change moves a number or a line in a picture
without making the picture wrong about what the dashboard is, and the model changes often. Over the
102 commits after the pictures of 2026-12-05, a hash of all of esxlab/ and the notebooks changed 78
times, this one 42: asking for the 13 browser photographs (4 min on 2 cores) after nearly every commit
would teach everyone to regenerate without looking. The README's reproduction table, whose numbers
are the point, is guarded against every model change by tests/test_readme_table.py.
"""
from screenshot_source import SOURCE, screenshots_hash


def test_screenshots_were_taken_from_the_current_sources():
    recorded = SOURCE.read_text().strip() if SOURCE.exists() else "(no docs/screenshots/SOURCE)"
    now = screenshots_hash()
    assert recorded == now, (
        f"docs/screenshots/ were taken from sources {recorded}, the notebooks' code, esxlab/views, "
        f"esxlab/experiments and esxlab/data are now {now}: run make screenshots (it rewrites the "
        "pictures and docs/screenshots/SOURCE), look at the pictures, and commit them.")
