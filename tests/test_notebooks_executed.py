"""Every notebook executed as JupyterLab runs it (a client that echoes widget values back): what a student sees."""

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from notebook_cells import calls
from reveals import MARK, RECORD, events, giveaways as spoiled, shown


ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: the last cell run: each dashboard's minute slider (value, max), once the browser's echoes are in
MINUTES = f"""
from esxlab.views.dashboards import Dashboard as _Dashboard
print({MARK!r} + _json.dumps({{name: [float(d.minute.value), float(d.minute.max)] for name, d in globals().items()
                              if isinstance(d, _Dashboard) and not name.startswith("_")}}) + {MARK!r})
"""
SIGNIFICANT = 4          # digits a Reveal shows (esxlab.views.lesson: "simulated: 1187 MB")


class EchoingClient(NotebookClient):
    """nbclient with a browser's minute sliders: each value the kernel sets strictly between a slider's ends comes
    back (as ipywidgets' slider view sends the value it snapped), after the notebook's last cell but one."""

    def __init__(self, nb, **kw) -> None:
        super().__init__(nb, **kw)
        self.sliders: dict[str, dict] = {}        # comm id → the minute slider's state as the browser knows it
        self.echoes: list[tuple[str, float]] = []

    def handle_comm_msg(self, outs, msg, cell_index) -> None:
        super().handle_comm_msg(outs, msg, cell_index)
        comm, state = msg["content"]["comm_id"], msg["content"].get("data", {}).get("state", {})
        if msg["msg_type"] == "comm_open" and state.get("_model_name") == "FloatSliderModel" \
                and state.get("description") == "minute":
            self.sliders[comm] = dict(state)
        elif comm in self.sliders:
            self.sliders[comm].update(state)
            slider = self.sliders[comm]
            if "value" in state and slider["min"] < state["value"] < slider["max"]:
                self.echoes.append((comm, state["value"]))

    async def async_execute_cell(self, cell, cell_index, *args, **kw):
        if cell_index == len(self.nb.cells) - 1:  # Run All queued every cell before the browser's messages
            for comm, value in self.echoes:
                data = {"method": "update", "state": {"value": value}, "buffer_paths": []}
                self.kc.shell_channel.send(self.kc.session.msg("comm_msg", {"comm_id": comm, "data": data}))
        return await super().async_execute_cell(cell, cell_index, *args, **kw)


def until_after_last_reveal(nb) -> list:
    """The cells of ``nb`` up to its last reveal and the code cells printed under it (to the next markdown)."""
    reveals = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and calls(c.source, "reveal")]
    end = reveals[-1] + 1 if reveals else 0
    while end < len(nb.cells) and nb.cells[end].cell_type == "code":
        end += 1
    return nb.cells[:end]


@pytest.fixture(scope="module")
def executed():
    """name → the notebook run as :func:`until_after_last_reveal` says, between RECORD and MINUTES, by a browser
    that echoes its minute sliders; each run once."""
    done = {}

    def run(path: Path):
        if path.stem not in done:
            nb = nbformat.read(path, as_version=4)
            nb.cells = [nbformat.v4.new_code_cell(RECORD), *until_after_last_reveal(nb),
                        nbformat.v4.new_code_cell(MINUTES)]
            EchoingClient(nb, timeout=600, kernel_name="python3",
                          resources={"metadata": {"path": str(path.parent)}}).execute()
            done[path.stem] = nb
        return done[path.stem]
    return run


def as_revealed(actual: float) -> float | int:
    """``actual`` as a Reveal writes it, to four significant figures (an int when that leaves no decimals), so that
    :func:`reveals.giveaways` reads its precision as the student sees it: 1187, not 1187.0."""
    s = f"{actual:.{SIGNIFICANT}g}"
    return round(actual) if "e+" in s else float(s) if "." in s else int(s)


def written(actual: float, unit: str, text: str) -> list[str]:
    """Where ``text`` writes the Reveal's ``actual`` ("1187.3" and "1187" both write a Reveal of 1187 MB)."""
    return spoiled(as_revealed(actual), unit, text)


def giveaways(nb) -> list[str]:
    """Every give-away around a reveal of ``nb`` (run by :func:`executed`): above it, as
    :func:`test_reveal_spoilers.spoilers` reads it, and in the outputs printed under it, to the next markdown cell."""
    above, question, under, found = [], None, [], []
    for i, cell in enumerate(nb.cells[1:-1]):
        if cell.cell_type == "markdown":
            above.append((i, "markdown", cell.source))
            under = []
            continue
        pieces, records = events("".join(shown(o) for o in cell.outputs))
        for piece, record in zip(pieces, records + [None]):
            above.append((i, "output", piece))
            found += [f"cell {i} output, under the Reveal of {r['actual']:g} {r['unit']}: …{where}…"
                      for r in under for where in written(r["actual"], r["unit"], piece)]
            if record and "asked" in record:
                question = i - 1
            elif record:
                found += [f"cell {j} {kind}, above the Reveal of {record['actual']:g} {record['unit']}: …{where}…"
                          for j, kind, text in above if (j, kind) != (question, "markdown")
                          for where in written(record["actual"], record["unit"], text.replace(record["revealed"], ""))]
                under.append(record)
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_nothing_next_to_a_reveal_gives_its_value_away(path, executed):
    found = giveaways(executed(path))
    assert found == [], f"{path.name}: Run All shows the asked value before Reveal is pressed:\n" + "\n".join(found)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_jupyterlab_opens_each_dashboard_at_the_minute_voila_does(path, executed):
    _, (minutes, *_) = events("".join(shown(o) for o in executed(path).cells[-1].outputs))
    moved = {name: value for name, (value, end) in minutes.items() if value != end}
    assert moved == {}, f"{path.name}: after Run All in JupyterLab these dashboards' minute sliders left their end"


def test_the_checks_can_fail():
    assert written(1187.0, "MB", "sum of alloc 1187.3 MB, free 33.6 MB") == ["sum of alloc 1187.3 MB, free 33.6 MB"]
    assert written(35.5507, "MB", "ballooned 35.6 + swapped 1.7") and written(4.8376, "%", "= 4.84 %")
    assert written(1187.0, "MB", "1188 MB, 1187 s, 118.7 MB") == [] and written(35.5507, "MB", "35.4, 35.54") == []
    assert (as_revealed(1187.0), as_revealed(35.5507), as_revealed(16384.2)) == (1187, 35.55, 16384)

    def cell(text):
        return nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("stream", text=text)])

    def told(**record):
        return MARK + json.dumps(record) + MARK

    reveal = told(revealed="q?", actual=35.5507, unit="MB")
    nb = nbformat.v4.new_notebook(cells=[cell(""), cell(told(asked="q?")), cell("35 or 36 MB?\n" + reveal),
                                         cell("idle ballooned 35.6 MB"), nbformat.v4.new_markdown_cell("Then:"),
                                         cell("idle ballooned 35.6 MB"), cell("")])
    found = giveaways(nb)
    assert [f.split(",")[0] for f in found] == ["cell 1 output", "cell 2 output"], found
    assert "under the Reveal" in found[1] and "above the Reveal" in found[0]

    client = EchoingClient(nbformat.v4.new_notebook())
    open_ = {"comm_id": "m", "data": {"state": {"_model_name": "FloatSliderModel", "description": "minute",
                                                 "min": 0.0, "max": 1.0, "value": 1.0}}}
    client.handle_comm_msg([], {"msg_type": "comm_open", "content": open_}, 0)
    for state in ({"max": 60.0, "value": 60.0}, {"value": 31.1}, {"value": 0.0}, {"value": 60.0}):
        client.handle_comm_msg([], {"msg_type": "comm_msg", "content": {"comm_id": "m", "data": {"state": state}}}, 0)
    assert client.echoes == [("m", 31.1)], client.echoes
