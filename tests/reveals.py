"""What a student sees around a reveal, for the tests that check nothing gives a prediction's value away
(test_reveal_spoilers.py, test_notebooks_executed.py): the markers a notebook run prints when a Prediction is asked
and revealed (:data:`RECORD`), the text of an output, and where a text writes a value (invented)."""
import html
import json
import re
from decimal import Decimal

MARK = "\u2063"                   # an invisible separator brackets each marker in the cell's stdout
RECORD = f"""
import json as _json
from esxlab.views.lesson import Prediction as _P
def _tell(**record):
    print({MARK!r} + _json.dumps(record) + {MARK!r})
def _asked(init):
    def wrapped(self, *args, **kwargs):
        init(self, *args, **kwargs)
        _tell(asked=self.prompt)
    return wrapped
def _revealed(reveal):
    def wrapped(self, actual, *args, **kwargs):
        _tell(revealed=self.prompt, actual=float(actual), unit=self.unit)
        return reveal(self, actual, *args, **kwargs)
    return wrapped
_P.__init__, _P.reveal = _asked(_P.__init__), _revealed(_P.reveal)
"""
WIDGET = "application/vnd.jupyter.widget-view+json"
#: a thousands separator: a comma, a space (plain, no-break, thin) or LaTeX's thin space
GROUP = r"(?:[ ,\u00a0\u2009\u202f]|\\,)"
#: a number as a notebook prints it: thousands grouped or not, decimals, an exponent (a sign does not matter)
NUMBER = re.compile(rf"(?<![\w.])(\d{{1,3}}(?:{GROUP}\d{{3}})+(?!\d)|\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?")
#: what may follow a number: a unit; a number in another one of these units is another quantity
UNIT = re.compile(r"[ \u00a0\u2009\u202f]*(%|×|[^\W\d_]+)")
UNITS = {"%", "×", "KB", "MB", "GB", "TB", "s", "ms", "min", "pages", "PPNs", "copies", "shares", "frames", "bytes"}


def shown(output) -> str:
    """The text a student sees for one output: a stream, or a rich result (HTML without its tags); not a widget."""
    if output.output_type == "stream":
        return output.text
    data = output.get("data", {})
    if WIDGET in data:
        return ""
    if "text/html" in data:
        return re.sub(r"<[^>]+>", " ", html.unescape(data["text/html"]))
    return data.get("text/markdown", data.get("text/plain", ""))


def giveaways(actual: float, unit: str, text: str) -> list[str]:
    """Where ``text`` writes ``actual`` (in ``unit``): each number equal to it at the precision of the two, with
    its context ("62" and "62.36" both write 62.4)."""
    found, exact = [], 0.5 * 10.0 ** Decimal(repr(abs(actual))).as_tuple().exponent   # the notebook may round it
    for m in NUMBER.finditer(text):
        whole, decimals, exponent = m.group(1), m.group(2) or "", int(m.group(3) or 0)
        digits = re.sub(GROUP, "", whole)
        if len((digits + decimals).lstrip("0")) < 2:
            continue
        after = UNIT.match(text, m.end())
        if after and after.group(1) in UNITS and after.group(1) != unit:
            continue
        value = float(f"{digits}.{decimals or 0}e{exponent}")
        if abs(value - abs(actual)) <= max(0.5 * 10.0 ** (exponent - len(decimals)), exact) * (1 + 1e-9):
            found.append(" ".join(text[max(0, m.start() - 40):m.end() + 20].split()))
    return found


def events(text: str) -> tuple[list[str], list[dict]]:
    """``text`` cut at the markers: the plain pieces around them, and the markers' records between."""
    parts = text.split(MARK)
    return parts[::2], [json.loads(p) for p in parts[1::2]]
