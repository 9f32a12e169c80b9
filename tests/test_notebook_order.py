"""Students do not run a notebook top to bottom once (session 66's trial): they move a dashboard's sliders and then
run the cells below it, and they run a reveal cell twice. Each notebook runs in a kernel (nbclient) as such a student
would: Run All, each reveal cell once more at once; then the first dashboard's minute slider scrubbed to mid-run,
nothing else moved, and every cell below it run again (a dashboard a cell builds anew scrubbed as soon as it shows);
then for each dashboard, its controls moved as a browser moves them (a comm message: the property lock held; each
slider four steps, each dropdown to its next choice: one step missed notebook 03's 176 MB and 05's τ = 0.5, and
dropdowns were not moved at all), its minute slider scrubbed to mid-run, and every cell below it run again.

What a student must see: no cell fails (a guard cell compares the text with the runs as built, so it checks only
``if not dash.moved``), a guard cell leaves the sliders where the student put them, the minute slider too (none of
``dash.controls``, so it was neither scrubbed nor compared: 05's guard that moved τ and back, redrawing the dashboard
at its last minute, went unnoticed), and a reveal cell run twice prints the same. Under the plain Run All no guard may
skip its checks (its ``if`` must hold there). A guard under ``if not dash.moved`` skips once the controls moved, so
only the pass with the minutes alone scrubbed (session 67) shows it a scrubbed minute: it caught the guards of 00, 02,
03 and 04 that moved a control and back, and 01's, which compared the pmap grid with the run's end wherever the minute
was."""
import ast
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: a cell that builds a dashboard: ``name = views.SomeDashboard(``
BUILDS = re.compile(r"^(\w+) = views\.\w*Dashboard\(", re.M)
#: scrubs dashboard {var}'s minute slider to mid-run as the browser would, if it shows one
SCRUB = """
if {var}.time_row.layout.display != "none" and not {var}.minute.disabled:
    {var}.minute.set_state({{"value": round({var}.minute.max * 30) / 60}})
"""
#: moves every control of dashboard {var} as the browser would, and waits for its run: a slider {steps} step(s) (down
#: where there is no room up), a dropdown to its next choice; then scrubs its minute slider (:data:`SCRUB`)
MOVE = """
_moved = {{}}
for _name, _c in {var}.controls.items():
    if _c.disabled:
        continue
    if hasattr(_c, "options"):                   # a dropdown's comm message sets its index
        if len(_c.options) < 2:
            continue
        _c.set_state({{"index": (_c.index + 1) % len(_c.options)}})
    else:
        _to = _c.value + {steps} * _c.step
        _to = _to if _to <= _c.max else _c.value - {steps} * _c.step
        if not _c.min <= _to <= _c.max:
            continue
        _c.set_state({{"value": _to}})            # what a slider's comm message does
    {var}.done.wait(600)
    {var}.idle(600)
    _moved[_name] = {var}.values[_name]
""" + SCRUB
#: the dashboards' values and minutes before a guard cell runs, and a check that it left them there
BEFORE = """
from esxlab.views.dashboards import Dashboard as _Dashboard
_before = {_n: (_d.values, _d.minute.value) for _n, _d in globals().items() if isinstance(_d, _Dashboard)
           and not _n.startswith("_")}
"""
AFTER = """
_after = {_n: (_d.values, _d.minute.value) for _n, _d in globals().items() if isinstance(_d, _Dashboard)
          and not _n.startswith("_")}
assert _after == _before, ("the guard cell moved the student's sliders", _before, _after)
"""


def is_guard(cell) -> bool:
    return "guard" in cell.metadata.get("tags", [])


def guard_condition(source: str) -> str | None:
    """The test of a guard cell that checks only under a condition (``if not dash.moved:``), else None."""
    first = ast.parse(source).body[0]
    return ast.unparse(first.test) if isinstance(first, ast.If) and len(ast.parse(source).body) == 1 else None


def plan(nb) -> list[tuple[str, str]]:
    """(what the cell is, its source): Run All, each reveal cell twice in a row and each conditional guard's
    condition asserted first; then the first dashboard's minute slider scrubbed, nothing else moved, and the cells
    below it run again (each dashboard they build scrubbed at once); then, per dashboard, its controls moved and the
    cells below it run again."""
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    steps = []
    for i, c in code:
        condition = guard_condition(c.source) if is_guard(c) else None
        if condition:
            steps.append((f"cell {i}'s condition", f"assert {condition}, 'guard cell {i} checks nothing in Run All'"))
        steps.append((f"cell {i}", c.source))
        if ".reveal(" in c.source:
            steps.append((f"cell {i} again", c.source))
    builds = [(d, BUILDS.findall(c.source)) for d, c in code if BUILDS.search(c.source)]
    if builds:
        steps += [(f"scrubbing {var}'s minute", SCRUB.format(var=var)) for var in builds[0][1]]
        steps += below(code, builds[0][0], "with only the minutes scrubbed", scrub=True)
    for d, names in builds:
        for var in names:
            steps.append((f"moving {var}'s controls", MOVE.format(var=var, steps=4)))
            steps += below(code, d, f"after moving {var}")
    return steps


def below(code, d: int, when: str, scrub: bool = False) -> list[tuple[str, str]]:
    """The steps running the code cells below cell ``d`` once more (``when``: what the student did first), each guard
    between a note of the dashboards' values and minutes and a check that it left them; with ``scrub``, each
    dashboard's minute slider scrubbed to mid-run as soon as a cell builds it."""
    steps = []
    for i, c in code:
        if i <= d:
            continue
        guard = is_guard(c)
        steps += [(f"before guard {i}", BEFORE)] * guard + [(f"cell {i} {when}", c.source)]
        steps += [(f"guard cell {i} {when}: the sliders", AFTER)] * guard
        steps += [(f"scrubbing {var}'s minute", SCRUB.format(var=var)) for var in BUILDS.findall(c.source)] * scrub
    return steps


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_student_who_moves_sliders_and_runs_cells_again_sees_nothing_fail(path):
    steps = plan(nbformat.read(path, as_version=4))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for _, src in steps])
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    failed = [f"{what}: {o.ename}: {o.evalue[:200]}" for (what, _), cell in zip(steps, nb.cells)
              for o in cell.outputs if o.output_type == "error"]
    assert failed == [], "\n".join(failed)
    printed = {what: "".join(o.text for o in cell.outputs if o.output_type == "stream")
               for (what, _), cell in zip(steps, nb.cells)}
    twice = {what[:-len(" again")]: text for what, text in printed.items() if what.endswith(" again")}
    assert {k: printed[k] for k in twice} == twice, "a reveal cell run twice printed something else"
