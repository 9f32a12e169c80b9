"""A third student-tester's lesson findings (notebooks 00, 01, 10).

00: the ballooned-PPN question's right answer said the data was "nowhere" while its own feedback on another choice
(and lesson 02) says a guest may page the data to its own disk first. 01: the Predict box asked for the number the
worked example had just computed (1239, by the same steps for the same 14 MB host). 10: the feedback refuting
"sharing never saved much beyond zero pages" cited zero pages as its evidence."""
import re

import nbformat

from esxlab.experiments.fig4 import PAPER

NB = "notebooks/{}.ipynb"


def _cells(name: str):
    return nbformat.read(NB.format(name), as_version=4).cells


def _flat(s: str) -> str:
    """Source text with the string literals' line breaks joined (as a reader sees the sentence)."""
    return " ".join(re.sub(r'"\s*\n\s*"', "", s).split())


def test_00_a_ballooned_pages_data_may_be_on_the_guests_disk_in_every_text():
    q = _flat(next(c.source for c in _cells("00_tour") if "A PPN is shown as ballooned" in c.source))
    answer = re.search(r'answer="([^"]+)"', q).group(1)
    right = q[q.index(f'"{answer}": "Right'):]
    assert "Nowhere" not in q and "saving any data" in answer and "own disk" in right[:300]


def test_01_the_worked_example_and_the_prediction_use_different_hosts():
    cells = _cells("01_memory_virtualization")
    example = next(c.source for c in cells if "## A worked example, by hand" in c.source)
    host = int(re.search(r"Now give the host only \*\*(\d+) MB\*\*", example).group(1))
    assert host != 14 and "Work the same three steps for 14 MB" in example
    mapped = 4096 - round(0.06 * host * 256)               # the example's own steps, for its host
    assert f"({host} − 2) " not in example and f"4096 − {round(0.06 * host * 256)} = **{mapped}**" in example
    assert f"at least 4096 − {mapped} = **{4096 - mapped} PPNs**" in example
    assert "1239" not in example                           # the prediction's hand value is the student's to find
    predict = next(c.source for c in cells if c.source.startswith("guess = Prediction("))
    assert "With 14 MB of machine memory" in predict


def test_10_the_sharing_feedback_argues_from_more_than_zero_pages():
    q = _flat(next(c.source for c in _cells("10_security") if "turning inter-VM page sharing off" in c.source))
    feedback = q[q.index('feedback={"Nothing:'):q.index('"Memory: identical pages of different VMs now stay separate '
                                                         'copies": "Right')]
    vm_mb, _, reclaimed, zero = PAPER[10]
    assert f"({reclaimed:.0f} MB)" in feedback and f"only {zero:.0f} MB" in feedback
    assert "nearly 60 %" in feedback and 0.58 < reclaimed / vm_mb < 0.6
    assert "325 MB of zero" not in feedback
