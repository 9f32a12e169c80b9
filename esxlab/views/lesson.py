"""Lesson widgets: a recorded prediction with its reveal, and check-your-understanding questions.

PhET's "predict, interact, explain" in a notebook: the student writes down a number *before* the
simulator runs, and the reveal puts it beside the simulated value with a sentence on what the gap
means. Questions give immediate feedback through :mod:`esxlab.checks` (a teaching sentence per
wrong answer, never the right value). Invented for esxlab (issue 17); nothing here is in the paper.

    from esxlab.views.lesson import Prediction, Question
    p = Prediction("How many MB will the idle VM keep at τ = 0.75?", unit="MB", lo=0, hi=256)
    p                                   # a text box + "Record my prediction"; p.value is None until then
    # ... a later cell, after the simulator ran:
    p.reveal(actual=101.3, explain="The tax took idle memory first ...")   # shown once (a Reveal);
                                        # with no prediction yet (Run All, Voilà): a "Reveal" button waits
    q = Question("Which VM loses memory first?", choices=["A", "B"], answer="B",
                 feedback={"A": "A is busy: its active pages ...", "B": "Right: B is idle, so ..."})
    q                                   # radio buttons + "Check" with immediate feedback
    Question("What is k at τ = 0.75?", answer=4.0, tol=0.05, hint="k = 1/(1 − τ).")  # numeric variant

Both work headless (nbval, tests): each has a plain-text repr, and ``record`` / ``check`` do what
the buttons do. A typed number may carry a decimal comma ("16,5") and thousands separators ("16 384",
"16,384"; an ambiguous "16,384" is read as 16384 and the feedback says so), and the box's own unit after it
in any usual spelling ("12 MB", "12 mb", "12 megabytes" in an MB box; "65%" in a % box; PPNs and pages
count the same thing). It is never converted from another unit: "0.1 GB" or "100 pages" in an MB box is
refused with a sentence naming the unit to type, since converting is often the very step a question asks
for (PPNs from MB). A unit on a box that takes a plain number, an unknown word ("5 apples"), a non-decimal
form ("0x10") and other text that cannot be read are refused too, with a sentence saying what is allowed,
never judged as a wrong value. A multiple-choice answer given in code matches its choice whatever its case
("Soft" for "soft"; an exact match first); other text is refused in a sentence listing the choices.
Bad arguments raise :class:`esxlab.ConfigError` naming the parameter.
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import ipywidgets as widgets
from IPython.display import display

from ..checks import (GROUPED_NUMBER, PLAIN_NUMBER, UNIT_WORD, CheckFailed, Expect, Mistake, as_choice,
                      grouped_reading, hint_for, spelling, verify)
from ..errors import ConfigError, check_number
from .components import COLORS

RIGHT = COLORS["shared"]          # bluish green
WRONG = COLORS["swapped"]         # vermillion
NOTE = "#999999"                  # grey: nothing judged yet (no prediction, a refusal), neither right nor wrong
WIDTH = widgets.Layout(width="600px")
#: a reveal's paragraph spans the cell (a long explanation in a 600 px column ran a screen down)
FULL = widgets.Layout(width="100%")
#: ipywidgets gives each radio option one line's height, so a long choice that wraps would run into the
#: next one: the options of a Question grow with their text instead
CHOICES_CLASS = "esx-choices"
CHOICES_CSS = (f"<style>.{CHOICES_CLASS} label {{display: flex !important; align-items: flex-start; gap: 6px; "
               f"height: auto !important; line-height: 1.35; margin-bottom: 5px}} "
               f".{CHOICES_CLASS} input {{order: -1; flex: none; margin-top: 3px}}</style>")


def _box(text: str, color: str) -> str:
    """An HTML paragraph with a coloured left rule (feedback and reveals), as wide as what holds it; its
    line height set, since an HTML widget's is one control's height (28 px: the text was double-spaced)."""
    return (f"<div style='border-left:4px solid {color};padding:4px 10px;margin:4px 0;line-height:1.45'>"
            f"{text}</div>")


#: what a box accepts, said to a student whose answer could not be read ({unit}: what may follow the number)
ALLOWED = ("write it with digits, a decimal point or comma (16.5 or 16,5), thousands grouped by commas or "
           "spaces if you like (12,500 or 12 500), and {unit}")
#: the units a box knows (invented): each spelling a student may type, in lower case, → the unit it names. A
#: PPN or an MPN names one page, so they count pages. A box for a factor has the unit "×": it takes "234×", "2x",
#: "2 times" and a plain number; a box without a unit (a fraction, a count) takes none of them
_SPELLINGS = {word: unit for unit, words in {
    "KB": ("kb", "kib", "kbyte", "kbytes", "kilobyte", "kilobytes"),
    "MB": ("mb", "mib", "mbyte", "mbytes", "megabyte", "megabytes"),
    "GB": ("gb", "gib", "gbyte", "gbytes", "gigabyte", "gigabytes"), "TB": ("tb", "tib", "terabyte", "terabytes"),
    "pages": ("page", "pages", "ppn", "ppns", "mpn", "mpns"),
    "µs": ("µs", "μs", "us", "microsecond", "microseconds"), "ms": ("ms", "msec", "millisecond", "milliseconds"),
    "s": ("s", "sec", "secs", "second", "seconds"), "min": ("min", "mins", "minute", "minutes"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "%": ("%", "percent", "per cent", "pct", "pp", "percentage point", "percentage points", "point", "points"),
    "×": ("×", "x", "times"), "copies": ("copy", "copies"),
}.items() for word in words}


def _unit_of(word: str) -> str:
    """The unit ``word`` names (``"megabytes"`` → ``"MB"``); one this module does not know, as spelled by :func:`~esxlab.checks.spelling`."""
    return _SPELLINGS.get(spelling(word), spelling(word))


def _read(text: Any) -> tuple[float | None, str, str]:
    """A number typed in a text box, the word typed after it ("" for none) and, when the text is
    ambiguous, how it was read (the feedback says it; "" otherwise); (None, "", "") if it is not one.

    ``"16384"``, ``"16 384"`` and ``"1,234,567.5"`` are read with thousands separators; ``"16,5"`` and
    ``"0,384"`` and ``"1 234,5"`` with a decimal comma; ``"16,384"`` could be either and is read the English way, as
    16384, saying so. A word may follow (``" 12 MB"``, ``"65%"``); anything else after the number
    (``"16 38"``, ``"16.384,5"``, ``"0x10"``) is not read."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return (float(text), "", "") if math.isfinite(text) else (None, "", "")
    s = str(text).strip().replace("\u2212", "-")                       # a typographic minus too
    m = GROUPED_NUMBER.match(s)
    if m:
        digits, ambiguous = grouped_reading(m)
        if digits is None:
            return None, "", ""                                         # 1,234,5: a comma for both
        x = float(digits)
        note = (f"read {m.group(0)!r} as {x:.15g}: a comma before three digits groups thousands; for a decimal, "
                f"write {m.group(0).replace(',', '.')!r}") if ambiguous else ""
    else:
        m = PLAIN_NUMBER.match(s)
        if not m:
            return None, "", ""
        x, note = float(m.group(0).replace(",", ".")), ""
    rest = s[m.end():].strip()
    if rest and not UNIT_WORD.match(rest):
        return None, "", ""
    return (x, rest, note) if math.isfinite(x) else (None, "", "")


def _parse(text: Any) -> float | None:
    """A number typed in a text box (``"1,5"``, ``"16,384"``, ``" 12 MB"`` too), or None if it is not one."""
    return _read(text)[0]


def _unit_refusal(typed: str, word: str, unit: str) -> str:
    """Why a number typed as ``typed``, ``word`` after it, is not taken in a box of ``unit``; "" if it is."""
    if not word or _unit_of(word) == _unit_of(unit):
        return ""
    if not unit:
        share = " (a share as a fraction of 1, not in %)" if _unit_of(word) == "%" else ""
        return f"{typed!r} carries a unit ({word}), but this box takes a plain number: type it without a unit{share}"
    takes = "a factor" if unit == "×" else unit
    told = f"{typed!r} is in {_unit_of(word)}, but this box takes {takes}" if spelling(word) in _SPELLINGS \
        else f"{word!r} is not a unit I know"
    number = "the factor as a plain number" if unit == "×" else f"the number in {unit}"
    return f"{told}: type {number}, with or without {unit!r} after it"


def _in_unit(unit: str) -> str:
    """" in MB" after "a number" for a box of ``unit``; a factor's "×" is no unit to count in: " (a factor, ×)"."""
    return "" if not unit else " (a factor, ×)" if unit == "×" else f" in {unit}"


def _number(value: Any, unit: str) -> tuple[float | None, str]:
    """``value`` (a number, or text holding one, perhaps with ``unit`` after it) as a number in ``unit`` and how
    an ambiguous text was read (:func:`_read`); or None and why it is refused, a clause saying what is allowed."""
    x, word, note = _read(value)
    typed = str(value).strip()
    if x is None:
        what = f"{unit!r} after it if you like" if unit else "no unit after it"
        return None, f"{typed!r} is not a number I can read: {ALLOWED.format(unit=what)}"
    refusal = _unit_refusal(typed, word, unit)
    return (None, refusal) if refusal else (x, note)


def _emphasis(text: str) -> str:
    """Markdown's *emphasis* as the notebook's text shows it (italics) in escaped feedback: an author writes a
    hint as the markdown around it, and a student should not read the asterisks."""
    return re.sub(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])", r"<i>\1</i>", text)


def _capital(text: str) -> str:
    """``text`` with a capital first letter, unless its first word is a name from code (``pages_sharing``,
    ``vm.totals``), which keeps its spelling."""
    first = text.split(" ", 1)[0]
    if "_" in first or "`" in first or "." in first.rstrip(".,:;") or "(" in first:
        return text
    return text[:1].upper() + text[1:]


def _percent_slip(e: Expect, x: float) -> str:
    """The hint for a fraction of 1 typed as a percentage (65 for 0.65) or a percentage as a fraction (0.048 for
    4.8 %) when that is the slip; else ""."""
    if not e.unit and 0 < abs(e.value) <= 1 and abs(x) >= 1:
        fixed, said = x / 100, f"This box takes a fraction of 1, not a percentage: {_num(x / 100)} for {_num(x)} %."
    elif e.unit == "%" and abs(e.value) >= 1 and 0 < abs(x) < 1:
        fixed, said = x * 100, f"This box takes a percentage, not a fraction of 1: {_num(x * 100)} for {_num(x)}."
    else:
        return ""
    try:
        verify(e, fixed)
    except CheckFailed:
        return ""
    return said


def _percent_reading(x: float, actual: float) -> str:
    """For a prediction ``x`` in % that reads closer to ``actual`` as a fraction of 1 (0.18 for 18 %) or as a
    ratio (1.18 for a gain of 18 %), a sentence saying so; else "" (invented)."""
    for lo, hi, as_pct, what in ((0, 1, x * 100, "a fraction of 1"), (1, 3, (x - 1) * 100, "a ratio")):
        if lo < abs(x) < hi and abs(as_pct - actual) < abs(x - actual):
            return (f" If you meant {_num(x)} as {what}, that is {_num(as_pct)} %: this box takes the percentage "
                    "itself.")
    return ""


def _num(x: float) -> str:
    """``x`` to four significant figures, but never in exponent form for a large number (16384, not 1.638e+04);
    a minus is the typographic one (−2, as in the explanations); −0 (typed "-0") reads 0."""
    x = x + 0.0                                   # −0.0 + 0.0 is 0.0
    s = f"{x:.4g}"
    return (f"{x:.0f}" if "e+" in s and abs(x) < 1e15 else s).replace("-", "\u2212")


def _decimals(shown: str) -> int:
    """How many decimals a number as :func:`_num` shows it has (``"35.55"`` → 2)."""
    return len(shown.partition(".")[2]) if "e" not in shown else 4


def _gap(gap: float, *shown: str) -> str:
    """``gap`` signed, to as many decimals as the most precise of the numbers ``shown`` beside it
    (35.55 and 30: +5.55, not +5.551); 0 unsigned."""
    d = max(map(_decimals, shown))
    return f"{0:.{d}f}" if round(gap, d) == 0 else f"{gap:+.{d}f}".replace("-", "\u2212")


def _fmt(x: float, unit: str) -> str:
    return f"{_num(x)}{' ' + unit if unit else ''}"


def _prompt(text: str, owner: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{owner}.prompt = {text!r} is not allowed; give the question as a non-empty str.")
    return text


def _unit(unit: str, owner: str) -> str:
    if not isinstance(unit, str):
        raise ConfigError(f"{owner}.unit = {unit!r} is not allowed; give a str such as 'MB' (or '').")
    return unit


@dataclass(frozen=True)
class Reveal:
    """What :meth:`Prediction.reveal` showed: the recorded ``prediction`` (None if none was
    recorded), the simulated ``actual``, their ``gap`` = actual − prediction (same ``unit``;
    None without a prediction) and the ``text`` shown (plain text; ``html`` is how it looks).
    Displayed once: ``reveal()`` shows it at once, so it does not appear again as the cell's result."""

    prediction: float | None
    actual: float
    gap: float | None
    unit: str
    text: str
    _shown: list = field(default_factory=list, repr=False, compare=False)

    @property
    def html(self) -> str:
        """``text`` as the HTML box the notebook shows (a note's colour when no prediction was recorded)."""
        return _box(html.escape(self.text).replace("\n", "<br>"), NOTE if self.prediction is None else RIGHT)

    def _ipython_display_(self) -> None:
        if not self._shown:
            self._shown.append(True)
            display({"text/html": self.html, "text/plain": self.text}, raw=True)


class Prediction:
    """A prediction box: ``prompt``, a text input and a "Record my prediction" button.

    ``unit`` labels the number (e.g. "MB"); ``lo``/``hi`` (optional) bound what may be recorded.
    ``value`` is None until a number is recorded (float afterwards, same unit). A recorded
    prediction can be changed until :meth:`reveal` is called, then it is locked.
    """

    def __init__(self, prompt: str, unit: str = "", lo: float | None = None, hi: float | None = None) -> None:
        self.prompt = _prompt(prompt, "Prediction")
        _unit(unit, "Prediction")
        for name, bound in (("lo", lo), ("hi", hi)):
            if bound is not None:
                check_number("Prediction", name, bound)
        if lo is not None and hi is not None and lo >= hi:
            raise ConfigError(f"Prediction.lo = {lo!r} must be below Prediction.hi = {hi!r}.")
        self.unit, self.lo, self.hi = unit, lo, hi
        self.value: float | None = None
        self.revealed: Reveal | None = None
        self._answer: tuple[float, str] | None = None          # (actual, explain) once reveal() was called
        self._asked = False                                     # the Reveal button asked for a prediction once
        self.label = "simulated"                                # where the revealed value comes from (reveal)
        self.reveal_button: widgets.Button | None = None
        self.reveal_box: widgets.HTML | None = None
        self.entry = widgets.Text(placeholder=f"your prediction{_in_unit(unit)}",
                                  layout=widgets.Layout(width="200px"))
        self.button = widgets.Button(description="Record my prediction", button_style="info",
                                     layout=widgets.Layout(width="200px"))
        self.status = widgets.HTML(_box("No prediction recorded yet.", NOTE), layout=FULL)
        self.button.on_click(lambda _: self._clicked())
        self.widget = widgets.VBox([widgets.HTML(f"<b>Predict first.</b> {html.escape(self.prompt)}", layout=WIDTH),
                                    widgets.HBox([self.entry, self.button]), self.status])

    def _range(self) -> str:
        if self.lo is not None and self.hi is not None:
            return f"between {self.lo:g} and {self.hi:g}"
        return f"at least {self.lo:g}" if self.lo is not None else f"at most {self.hi:g}"

    def _clicked(self) -> None:
        try:
            self.record(self.entry.value)
        except ConfigError as e:
            self.status.value = _box(html.escape(str(e)), WRONG)

    def record(self, value: Any) -> float:
        """Record ``value`` (a number, or text holding one) as the prediction; what the button does.
        Raises ConfigError if it is not a finite number within ``lo``/``hi``, or after the reveal."""
        if self.revealed is not None:
            raise ConfigError(f"The prediction is locked: it was already revealed beside the {self.label} value.")
        if not str(value).strip():
            raise ConfigError(f"The box is empty: type a number{_in_unit(self.unit)} first.")
        x, note = _number(value, self.unit)
        if x is None:
            raise ConfigError(f"{note}.")
        if (self.lo is not None and x < self.lo) or (self.hi is not None and x > self.hi):
            raise ConfigError(f"{_fmt(x, self.unit)} is out of range: type a number {self._range()}.")
        self.value = x
        then = "press Reveal below" if self._answer is not None else "run the next cells"
        how = f" ({html.escape(note)})" if note else ""
        self.status.value = _box(f"Recorded: <b>{_fmt(x, self.unit)}</b>{how}. Now {then}.", RIGHT)
        if self.reveal_box is not None:          # no longer "No prediction recorded yet" under the button
            self.reveal_box.value = _box(f"Your prediction ({_fmt(x, self.unit)}) is recorded: press Reveal.", NOTE)
        return x

    def reveal(self, actual: float, explain: str, *, label: str = "simulated") -> Reveal | None:
        """Show the recorded prediction beside ``actual`` (the simulated value, same unit) and the
        sentence ``explain`` (what the gap means), and lock the prediction; returns the :class:`Reveal`.
        ``label`` names where ``actual`` comes from ("simulated"; e.g. "worked-out" for a value computed
        from the paper's own numbers).

        Without a recorded prediction (Run All, or Voilà, which runs every cell on load) nothing is
        given away yet: a "Reveal" button waits below the cell and this returns None. Pressed after
        a prediction is recorded, it shows the comparison; pressed without one, it asks for one
        first, and a second press shows the value without a prediction. :meth:`show` does what the
        button does. Called again after the reveal (the student ran its cell again, perhaps after moving a
        slider), it shows the locked prediction beside this ``actual`` at once: the cell's output is never
        empty (invented)."""
        check_number("Prediction.reveal", "actual", actual)
        if not isinstance(explain, str) or not explain.strip():
            raise ConfigError(f"Prediction.reveal(explain={explain!r}) is not allowed; give a sentence on what the "
                              f"gap means.")
        if not isinstance(label, str) or not label.strip():
            raise ConfigError(f"Prediction.reveal(label={label!r}) is not allowed; give a word or two such as "
                              f"'simulated' or 'worked-out'.")
        self._answer = (float(actual), explain)
        self.label = label.strip()
        if self.value is not None or self.revealed is not None:    # (a cell run again after its reveal shows it
            display(self._compare())                                # again, with this actual; still locked)
            return self.revealed
        self.reveal_button = widgets.Button(description="Reveal", button_style="warning",
                                            layout=widgets.Layout(width="200px"))
        self.reveal_box = widgets.HTML(_box(f"The {html.escape(self.label)} value is ready. Record your prediction "
                                            "above, then press Reveal.", NOTE), layout=FULL)
        self.reveal_button.on_click(lambda _: self.show())
        display(widgets.VBox([self.reveal_button, self.reveal_box]))
        return None

    def show(self) -> Reveal | None:
        """What the Reveal button does: the :class:`Reveal` once a prediction is recorded (or on
        the second press without one); None while it still asks for a prediction."""
        if self.revealed is not None:
            return self.revealed
        if self._answer is None:
            raise ConfigError("Nothing to show yet: call reveal(actual=..., explain=...) first.")
        if self.value is None and not self._asked:
            self._asked = True
            self.reveal_box.value = _box("No prediction recorded yet: type one above and press <i>Record my "
                                         "prediction</i>, then Reveal — or press Reveal again to see the value "
                                         "without one.", NOTE)
            return None
        return self._compare()

    def _compare(self) -> Reveal:
        """The recorded prediction (or its absence) beside the last reveal()'s actual, shown in the widgets;
        the prediction is locked from then on."""
        actual, explain = self._answer
        if self.value is None:
            says = "the simulator says" if self.label == "simulated" else f"the {self.label} value is"
            head = (f"You did not record a prediction, so there is nothing to compare: {says} "
                    f"{_fmt(actual, self.unit)}. Next time, commit to a number first — a guess "
                    f"written down teaches more than a value read off.")
            gap = None
        else:
            gap = actual - self.value
            # a gap between two percentages is in points; one between two factors is a plain number
            unit = "percentage points" if self.unit == "%" else "" if self.unit == "×" else self.unit
            head = (f"Your prediction: {_fmt(self.value, self.unit)} · {self.label}: {_fmt(actual, self.unit)} · "
                    f"gap ({self.label} − predicted): {_gap(gap, _num(self.value), _num(actual))}"
                    f"{' ' + unit if unit else ''}."
                    + (_percent_reading(self.value, actual) if self.unit == "%" else ""))
        self.revealed = Reveal(self.value, actual, gap, self.unit, f"{head}\n{explain}")
        self.entry.disabled = self.button.disabled = True
        self.status.value = self.revealed.html
        if self.reveal_button is not None:
            self.reveal_button.disabled = True
            self.reveal_box.value = self.revealed.html
        return self.revealed

    def __repr__(self) -> str:
        now = "not recorded" if self.value is None else f"recorded {_fmt(self.value, self.unit)}"
        return f"Prediction: {self.prompt} [{now}]"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle


@dataclass(frozen=True)
class Feedback:
    """The outcome of one :meth:`Question.check`: ``correct`` and the sentence shown; ``judged`` is False
    for a refusal (nothing to judge: no choice, not a number in the box's unit), shown grey, not as wrong."""

    correct: bool
    message: str
    judged: bool = True

    @classmethod
    def refusal(cls, what: str) -> "Feedback":
        """Nothing judged: "Nothing to check yet: ``what``, then press Check." (``what`` says what to give)."""
        return cls(False, f"Nothing to check yet: {what}, then press Check.", judged=False)


class Question:
    """A check-your-understanding question with immediate, ungraded feedback.

    Multiple choice: ``choices`` (str), ``answer`` (one of them) and ``feedback``, a teaching
    sentence for every choice (the right one's says why it is right). Numeric: ``answer`` (a
    number), ``tol`` (absolute, in ``unit``; default 0, said as "exact") and ``hint`` (what to reconsider when
    wrong — never the value), and optionally ``mistakes``: {a typical wrong value: its own hint}, named when
    an answer lies within ``tol`` of that value. Judged by :func:`esxlab.checks.verify`.
    """

    def __init__(self, prompt: str, *, answer: Any, choices: Sequence[str] | None = None,
                 feedback: dict[str, str] | None = None, tol: float = 0.0, unit: str = "", hint: str = "",
                 mistakes: dict[float, str] | None = None) -> None:
        self.prompt = _prompt(prompt, "Question")
        self.last: Feedback | None = None
        self.button = widgets.Button(description="Check", button_style="info", layout=widgets.Layout(width="120px"))
        self.result = widgets.HTML(layout=WIDTH)
        if choices is None:
            self._numeric(answer, feedback, tol, unit, hint, mistakes or {})
        else:
            if mistakes:
                raise ConfigError("Question.mistakes is for numeric questions; a multiple-choice question takes "
                                  "feedback={choice: sentence} instead.")
            self._choice(answer, choices, feedback, tol, unit, hint)
        self.button.on_click(lambda _: self.check(self.entry.value))
        head = f"<b>Check your understanding.</b> {html.escape(self.prompt)}" + (CHOICES_CSS if choices else "")
        self.widget = widgets.VBox([widgets.HTML(head, layout=WIDTH), widgets.HBox([self.entry, self.button]),
                                    self.result])

    def _numeric(self, answer: Any, feedback: Any, tol: float, unit: str, hint: str, mistakes: Any) -> None:
        check_number("Question", "answer", answer)
        check_number("Question", "tol", tol, lo=0)
        if feedback is not None:
            raise ConfigError("Question.feedback is for multiple choice; a numeric question takes hint=... instead.")
        if not isinstance(hint, str) or not hint.strip():
            raise ConfigError(f"Question.hint = {hint!r} is not allowed; a numeric question needs a teaching "
                              f"sentence for wrong answers.")
        if not isinstance(mistakes, dict) or not all(isinstance(h, str) and h.strip() for h in mistakes.values()):
            raise ConfigError(f"Question.mistakes = {mistakes!r} is not allowed; give a dict {{a typical wrong "
                              f"number: a teaching sentence}}.")
        for value in mistakes:
            check_number("Question", "a mistakes value", value)
        # no rounding hint: a question's whole-number slips (5 for 4.8) are likelier the mistakes its hint names
        self.expect = Expect("your answer", "number", float(answer), hint, tol=float(tol), unit=_unit(unit, "Question"),
                             mistakes=tuple(Mistake(float(v), h) for v, h in mistakes.items()), rounded_hint=None)
        self.entry = widgets.Text(placeholder=f"a number{_in_unit(unit)}",
                                  layout=widgets.Layout(width="200px"))

    def _choice(self, answer: Any, choices: Sequence[str], feedback: Any, tol: float, unit: str, hint: str) -> None:
        if isinstance(choices, str) or not all(isinstance(c, str) for c in choices) or len(set(choices)) < 2 \
                or len(set(choices)) != len(choices):
            raise ConfigError(f"Question.choices = {choices!r} is not allowed; give two or more distinct str.")
        if answer not in choices:
            raise ConfigError(f"Question.answer = {answer!r} is not one of the choices {list(choices)!r}.")
        if not isinstance(feedback, dict) or set(feedback) != set(choices) \
                or not all(isinstance(s, str) and s.strip() for s in feedback.values()):
            raise ConfigError(f"Question.feedback = {feedback!r} is not allowed; give a dict with a teaching sentence "
                              f"for every choice ({', '.join(map(repr, choices))}).")
        if tol or unit or hint:
            raise ConfigError("Question.tol, unit and hint are for numeric questions; a multiple-choice question "
                              "takes feedback={choice: sentence} instead.")
        self.feedback = dict(feedback)
        self.expect = Expect("your answer", "choice", answer, feedback[answer], choices=tuple(choices),
                             mistakes=tuple(Mistake(c, feedback[c]) for c in choices if c != answer))
        self.entry = widgets.RadioButtons(options=list(choices), value=None, layout=widgets.Layout(width="600px"))
        self.entry.add_class(CHOICES_CLASS)         # long choices wrap onto lines of their own (CHOICES_CSS)

    def check(self, value: Any) -> Feedback:
        """Judge ``value`` (a choice, or a number / text holding one) as the Check button does; show
        and return the :class:`Feedback`. What cannot be judged (no choice, not a number in the box's unit)
        is refused in a sentence saying what to give, never judged as wrong."""
        self.last = self._choice_feedback(value) if self.expect.kind == "choice" else self._number_feedback(value)
        color = NOTE if not self.last.judged else RIGHT if self.last.correct else WRONG
        self.result.value = _box(_emphasis(html.escape(self.last.message)), color)
        return self.last

    def _choice_feedback(self, value: Any) -> Feedback:
        """The feedback of the choice ``value`` names: exactly, or else whatever its case and spaces."""
        choices = self.expect.choices
        if value is None or (isinstance(value, str) and not value.strip()):
            return Feedback.refusal("pick a choice")
        choice = as_choice(self.expect, value)
        if choice not in choices:
            return Feedback.refusal(f"{value!r} is not one of the choices {', '.join(map(repr, choices))}; pick one")
        why = self.feedback[choice]
        if choice != self.expect.value:
            return Feedback(False, f"Not yet. {why}")
        return Feedback(True, why if why.startswith("Right") else f"Right. {why}")     # no "Right. Right: …"

    def _number_feedback(self, value: Any) -> Feedback:
        """Right or "Not yet" and the hint for a number in the box's unit; else why it cannot be judged."""
        e = self.expect
        if value is None or (isinstance(value, str) and not value.strip()):
            return Feedback.refusal("type a number")
        x, note = _number(value, e.unit)
        if x is None:
            return Feedback.refusal(note)
        try:
            verify(e, x)
        except CheckFailed:
            near = "the answer" if e.tol == 0 else f"{e.tolerance.strip(' ()')} of the answer"    # "within ±5 MB of …"
            said = _percent_slip(e, x) or hint_for(e, x)          # a typical mistake's hint, else the question's
            judged = Feedback(False, f"Not yet: that is not {near}. {_capital(said)}")
        else:
            judged = Feedback(True, f"Right{e.tolerance if e.tol else ''}.")      # "Right.", not "Right (exact)."
        return Feedback(judged.correct, f"{judged.message} I {note}.") if note else judged

    def __repr__(self) -> str:
        kind = f"choices: {' / '.join(self.expect.choices)}" if self.expect.kind == "choice" else \
            f"a number{_in_unit(self.expect.unit)}"
        return f"Question: {self.prompt} [{kind}]"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle
