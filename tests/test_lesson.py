"""esxlab.views.lesson without a browser: the buttons' handlers run through ``Button.click()``,
and what a student would read is checked in the HTML they fill."""
from __future__ import annotations

import html
import re

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import esxlab as esx
from esxlab.errors import ConfigError
from esxlab.views import lesson
from esxlab.views.lesson import CHOICES_CLASS, CHOICES_CSS, Feedback, Prediction, Question, Reveal


@pytest.fixture
def shown(monkeypatch):
    """What lesson.display() was asked to show (a notebook would render it)."""
    seen = []
    monkeypatch.setattr(lesson, "display", seen.append)
    return seen


def test_prediction_records_what_is_typed_and_refuses_the_rest():
    p = Prediction("How many MB will the idle VM keep?", unit="MB", lo=0, hi=256)
    assert p.value is None and "not recorded" in repr(p)
    for typed, why in (("", "empty"), ("lots", "not a number"), ("300", "between 0 and 256"), ("-1", "between")):
        p.entry.value = typed
        p.button.click()
        assert p.value is None and why in p.status.value, typed
    p.entry.value = " 101,5 MB"
    p.button.click()
    assert p.value == 101.5 and "101.5 MB" in p.status.value and "recorded 101.5 MB" in repr(p)
    assert p.record(90) == 90.0 and p.value == 90.0                    # may change its mind before the reveal


def test_reveal_puts_prediction_beside_actual_once_and_locks_it(shown):
    p = Prediction("How many MB?", unit="MB")
    p.record("90")
    r = p.reveal(actual=101.3, explain="The tax took idle memory first.")
    assert isinstance(r, Reveal) and (r.prediction, r.actual, r.unit) == (90.0, 101.3, "MB")
    assert r.gap == pytest.approx(11.3) and "+11.3 MB" in r.text and "90 MB" in r.text and "101.3 MB" in r.text
    assert "The tax took idle memory first." in r.text and p.status.value == r.html
    assert shown == [r]
    with pytest.raises(esx.ConfigError, match="locked"):
        p.record(5)
    assert p.entry.disabled and p.button.disabled


def test_reveal_is_shown_once_in_a_notebook():
    """``p.reveal(...)`` as a cell's last line: shown by reveal(), not again as the cell's result."""
    shell = InteractiveShell.instance()
    shell.run_cell("from esxlab.views.lesson import Prediction\np = Prediction('How many?', unit='MB')\np.record(3)")
    with capture_output() as cap:
        assert shell.run_cell("p.reveal(actual=5, explain='Two more.')").success
    assert len(cap.outputs) == 1 and "Two more." in cap.outputs[0].data["text/plain"]
    assert "Reveal(" not in cap.stdout


def test_reveal_waits_behind_a_button_until_a_prediction_is_recorded(shown):
    """Voilà and Run All reach reveal() before the student predicts: nothing is given away, a
    Reveal button waits, and pressing it after recording compares the two."""
    p = Prediction("How many MB?", unit="MB")
    assert p.reveal(actual=7, explain="Seven.") is None and p.revealed is None
    assert len(shown) == 1 and p.reveal_button in shown[0].children and "7" not in p.reveal_box.value
    p.record("5")
    assert "press Reveal below" in p.status.value
    p.reveal_button.click()
    r = p.revealed
    assert (r.prediction, r.actual, r.gap) == (5.0, 7.0, 2.0) and "+2 MB" in r.text and "Seven." in r.text
    assert p.reveal_box.value == r.html == p.status.value and p.reveal_button.disabled and p.entry.disabled
    assert p.show() is r and len(shown) == 1


def test_reveal_without_prediction_asks_once_then_says_so(shown):
    p = Prediction("How many MB?", unit="MB")
    p.reveal(actual=7, explain="Seven.")
    p.reveal_button.click()
    assert p.revealed is None and "No prediction recorded yet" in p.reveal_box.value and "7" not in p.reveal_box.value
    p.reveal_button.click()
    r = p.revealed
    assert r.prediction is None and r.gap is None and "did not record a prediction" in r.text and "7 MB" in r.text
    with pytest.raises(esx.ConfigError, match="locked"):
        p.record(5)


def test_show_before_reveal_is_refused():
    with pytest.raises(esx.ConfigError, match="reveal"):
        Prediction("How many?").show()


@pytest.mark.parametrize("kw, name", [
    (dict(prompt=""), "prompt"), (dict(unit=3), "unit"), (dict(lo="0"), "lo"), (dict(hi=float("nan")), "hi"),
    (dict(lo=5, hi=5), "lo")])
def test_prediction_bad_arguments(kw, name):
    args = dict(prompt="How many?") | kw
    with pytest.raises(esx.ConfigError, match=name):
        Prediction(**args)


@pytest.mark.parametrize("actual, explain, name", [("1", "x", "actual"), (float("inf"), "x", "actual"), (1, "", "explain")])
def test_reveal_bad_arguments(actual, explain, name, shown):
    with pytest.raises(esx.ConfigError, match=name):
        Prediction("How many?").reveal(actual=actual, explain=explain)


def choice():
    return Question("Which VM loses memory first?", choices=["busy A", "idle B"], answer="idle B",
                    feedback={"busy A": "A touches its pages: the tax charges idle memory.", "idle B": "B is idle."})


def test_choice_question_gives_the_sentence_of_the_choice():
    q = choice()
    assert repr(q) == "Question: Which VM loses memory first? [choices: busy A / idle B]"
    q.button.click()
    assert q.last == Feedback(False, "Nothing to check yet: pick a choice, then press Check.", judged=False)
    q.entry.value = "busy A"
    q.button.click()
    assert not q.last.correct and "charges idle memory" in q.last.message and "idle B" not in q.last.message
    assert "charges idle memory" in q.result.value
    q.entry.value = "idle B"
    q.button.click()
    assert q.last == Feedback(True, "Right. B is idle.")


def test_a_refusal_is_shown_neither_right_nor_wrong():
    """What cannot be judged (nothing picked, not a choice, not a number, a unit the box does not take) is
    shown with the grey rule of "nothing judged yet", not the wrong answer's vermillion (a student's wish:
    at a glance, "not judged" is not "wrong")."""
    from esxlab.views.lesson import NOTE, RIGHT, WRONG
    assert len({NOTE, RIGHT, WRONG}) == 3
    q, n = choice(), Question("How many MB?", answer=58, tol=1, unit="MB", hint="Count the pages.")
    for question, value in ((q, None), (q, "neither"), (n, ""), (n, "four"), (n, "58 apples")):
        f = question.check(value)
        assert not f.judged and not f.correct and f"solid {NOTE}" in question.result.value, (value, f)
    for question, value, color in ((q, "busy A", WRONG), (q, "idle B", RIGHT), (n, "40", WRONG), (n, "58 MB", RIGHT)):
        f = question.check(value)
        assert f.judged and f"solid {color}" in question.result.value, (value, f)


def test_a_right_choice_whose_sentence_says_right_is_not_prefixed_twice_and_long_choices_wrap():
    q = Question("Which VM loses memory first?", choices=["busy A", "idle B"], answer="idle B",
                 feedback={"busy A": "A touches its pages.", "idle B": "Right: B is idle."})
    assert q.check("idle B") == Feedback(True, "Right: B is idle.")
    assert CHOICES_CLASS in q.entry._dom_classes and CHOICES_CSS in q.widget.children[0].value


def test_numeric_question_judges_within_tolerance_without_giving_the_value():
    q = Question("What is k at τ = 0.75?", answer=4.0, tol=0.05, hint="k = 1/(1 − τ): divide, do not subtract.")
    assert q.check("4.04 ").correct and q.check(3.96).correct and "within ±0.05" in q.check(4).message
    wrong = q.check("0.25")
    assert not wrong.correct and "divide" in wrong.message and "4" not in wrong.message.replace("0.05", "")
    assert "not a number" in q.check("four").message and "type a number" in q.check("").message
    assert not q.check(None).correct


@pytest.mark.parametrize("kw, name", [
    (dict(answer="x"), "answer"), (dict(answer=1, tol=-1, hint="h"), "tol"), (dict(answer=1), "hint"),
    (dict(answer=1, hint="h", feedback={}), "feedback"), (dict(answer=1, hint="h", unit=None), "unit"),
    (dict(choices=["A"], answer="A", feedback={"A": "a"}), "choices"),
    (dict(choices="AB", answer="A", feedback={"A": "a", "B": "b"}), "choices"),
    (dict(choices=["A", "B"], answer="C", feedback={"A": "a", "B": "b"}), "answer"),
    (dict(choices=["A", "B"], answer="A", feedback={"A": "a"}), "feedback"),
    (dict(choices=["A", "B"], answer="A", feedback={"A": "a", "B": " "}), "feedback"),
    (dict(choices=["A", "B"], answer="A", feedback={"A": "a", "B": "b"}, tol=1), "tol")])
def test_question_bad_arguments(kw, name):
    with pytest.raises(esx.ConfigError, match=name):
        Question("Which?", **kw)


def test_reprs_are_text_and_widgets_render():
    for obj in (Prediction("How many?", unit="MB"), choice()):
        bundle = obj._repr_mimebundle_()
        assert bundle["text/plain"] == repr(obj) and "application/vnd.jupyter.widget-view+json" in bundle


# Numbers as students type them ("16,384" was judged as 16.384, "16 384" as 16).
PPNS = dict(answer=16384, unit="PPNs", hint="Multiply the size in MB by the pages per MB.")


@pytest.mark.parametrize("typed", ["16384", "16 384", "16\u202f384", "16\u00a0384", "16\u2009384", "16,384",
                                   "16,384 PPNs", "16 384 PPNs", " 16384PPNs "])
def test_thousands_separators_are_read_as_thousands(typed):
    q = Question("How many PPNs does a 64 MB VM have?", **PPNS)
    assert q.check(typed).correct, typed
    p = Prediction("How many PPNs?", unit="PPNs")
    assert p.record(typed) == 16384.0 and "16384 PPNs" in p.status.value and "e+" not in p.status.value


@pytest.mark.parametrize("typed, value", [("1,234,567", 1234567), ("1 234 567", 1234567), ("1,234.5", 1234.5),
                                          ("1 234,5", 1234.5), ("-1,288", -1288), ("\u22121 288", -1288)])
def test_longer_groups_and_decimals_after_them(typed, value):
    assert lesson._parse(typed) == value


@pytest.mark.parametrize("typed, value", [("16,5", 16.5), ("101,5 MB", 101.5), ("0,384", 0.384), ("16,38", 16.38),
                                          ("12,3456", 12.3456), ("1234,567", 1234.567), ("4.8 %", 4.8), ("65%", 65),
                                          (" 12 MB", 12), ("1e3", 1000), ("16.384", 16.384)])
def test_a_decimal_comma_is_still_a_decimal_and_a_unit_may_follow(typed, value):
    assert lesson._parse(typed) == pytest.approx(value)
    assert "read" not in Question("How much?", answer=value, hint="Look again.").check(typed).message


def test_an_ambiguous_comma_is_read_the_english_way_and_the_feedback_says_so():
    q = Question("How many PPNs does a 64 MB VM have?", **PPNS)
    right = q.check("16,384")
    assert right.correct and "read '16,384' as 16384" in right.message and "'16.384'" in right.message
    assert "read" not in q.check("16 384").message and "read" not in q.check("16384").message
    wrong = Question("How many PPNs does a 16 MB VM have?", answer=4096, unit="PPNs", hint="Multiply.").check("1,024")
    assert not wrong.correct and "read '1,024' as 1024" in wrong.message
    p = Prediction("How many PPNs?", unit="PPNs")
    p.record("1,288")
    assert p.value == 1288.0 and "as 1288" in p.status.value


@pytest.mark.parametrize("typed", ["16 38", "16.384,5", "1,234,5", "1,23,456", "16,384,5", "12 5 MB", "lots", "MB 12"])
def test_what_cannot_be_read_is_refused_saying_what_is_allowed(typed):
    q = Question("How many PPNs does a 64 MB VM have?", **PPNS)
    f = q.check(typed)
    assert not f.correct and "not a number I can read" in f.message and "12 500" in f.message and "16 384" not in f.message and "Not yet" not in f.message
    p = Prediction("How many PPNs?", unit="PPNs")
    p.entry.value = typed
    p.button.click()
    assert p.value is None and "not a number I can read" in p.status.value and "16,5" in p.status.value


def test_large_numbers_are_shown_in_full_not_in_exponent_form(shown):
    p = Prediction("How many PPNs?", unit="PPNs")
    p.record("12 000")
    r = p.reveal(actual=16384, explain="Four pages per 16 KB.")
    assert "12000 PPNs" in r.text and "16384 PPNs" in r.text and "+4384 PPNs" in r.text and "e+" not in r.text


def test_a_prediction_typed_as_minus_zero_reads_zero():
    """"-0" was recorded and revealed as "−0 MB" (a helper's trial)."""
    p = Prediction("How much does the balloon take back?", unit="MB")
    p.record("-0")
    r = p.reveal(actual=3, explain="It deflates.")
    assert "−0" not in p.status.value and "−0" not in r.text and "0 MB" in r.text, (p.status.value, r.text)


MB_QUESTION = dict(answer=20.48, tol=0.5, unit="MB", hint="Each state's threshold is a percentage of memory.")
CHOICES = dict(choices=["high", "soft", "hard"], answer="soft",
               feedback={"high": "High has room to spare.", "soft": "Right: soft balloons.", "hard": "Hard pages."})


def _refused(p: Prediction, typed: str) -> str:
    """The sentence a student reads after typing ``typed`` and pressing the button (nothing recorded)."""
    p.entry.value = typed
    p.button.click()
    assert p.value is None, typed
    return html.unescape(p.status.value)


def test_a_question_names_its_typical_mistakes():
    """A numeric Question gave its one hint to every wrong number; ``mistakes`` names a typical slip's own."""
    q = Question("How long is one pass?", answer=419.4, tol=2, unit="s", hint="Count the pages.",
                 mistakes={419430.4: "That is milliseconds."})
    assert q.check("419430").message.endswith("That is milliseconds.")
    assert q.check("100").message.endswith("Count the pages.")
    assert q.check("419").correct
    with pytest.raises(ConfigError, match="a dict"):
        Question("?", answer=1, hint="h", mistakes=[1])
    with pytest.raises(ConfigError, match="numeric questions"):
        Question("?", answer="a", choices=["a", "b"], feedback={"a": "yes", "b": "no"}, mistakes={1: "x"})


@pytest.mark.parametrize("typed, other", [("0.1 GB", "GB"), ("100 pages", "pages"), ("20480 KB", "KB"),
                                          ("0.1 gigabytes", "GB"), ("30 s", "s")])
def test_a_number_in_another_unit_is_refused_naming_the_unit_to_use(typed, other):
    said = _refused(Prediction("How many MB will the idle VM keep?", unit="MB", lo=0, hi=256), typed)
    assert f"in {other}, but this box takes MB" in said and "type the number in MB" in said, said
    f = Question("Below how many MB of free memory does ESX page?", **MB_QUESTION).check(typed)
    assert not f.correct and f.message.startswith("Nothing to check yet: ") and "type the number in MB" in f.message
    assert "Not yet" not in f.message and "20" not in f.message.replace(typed, ""), f.message    # never the answer


@pytest.mark.parametrize("typed", ["12 MB", "12MB", "12 mb", "12 megabytes", "12 MiB", "12"])
def test_the_boxs_own_unit_is_taken_in_any_usual_spelling(typed):
    assert Prediction("How many MB?", unit="MB").record(typed) == 12.0
    assert not Question("How many MB?", answer=12.5, unit="MB", hint="Look again.").check(typed).message.startswith(
        "Nothing")


@pytest.mark.parametrize("unit, typed", [("PPNs", "16384 pages"), ("pages", "16384 PPNs"), ("%", "4.8 percent"),
                                         ("%", "4.8 pp"), ("×", "3×"), ("×", "3 x"), ("×", "3 times"),
                                         ("s", "419 seconds"), ("copies", "2 copies")])
def test_spellings_of_the_same_unit_are_taken(unit, typed):
    p = Prediction("How many?", unit=unit)
    assert p.record(typed) == float(typed.split()[0].rstrip("×")), typed


def test_an_unknown_word_is_refused_saying_what_is_allowed():
    said = _refused(Prediction("How many MB?", unit="MB", lo=0, hi=256), "5 apples")
    assert "'apples' is not a unit I know" in said and "type the number in MB" in said, said
    f = Question("How many MB?", **MB_QUESTION).check("5 apples")
    assert not f.correct and "'apples' is not a unit I know" in f.message and "Not yet" not in f.message


@pytest.mark.parametrize("typed", ["0x10", "0b101", "0o17", "1x2"])
def test_non_decimal_forms_are_refused_as_unreadable(typed):
    said = _refused(Prediction("How many MB?", unit="MB", lo=0, hi=256), typed)
    assert "is not a number I can read" in said and "digits" in said, said
    assert "is not a number I can read" in Question("How many MB?", **MB_QUESTION).check(typed).message


@pytest.mark.parametrize("typed", ["2 MB", "2 pages", "2 apples", "65%"])
def test_a_unit_on_a_unitless_question_is_refused(typed):
    q = Question("What is the idle page cost k when the tax rate is τ = 0.5?", answer=2.0, tol=0.01,
                 hint="k = 1/(1 − τ).")
    f = q.check(typed)
    assert not f.correct and "takes a plain number: type it without a unit" in f.message, f.message
    with pytest.raises(esx.ConfigError, match="plain number"):
        Prediction("What factor?").record(typed)


def test_a_percentage_on_a_unitless_question_says_a_share_is_a_fraction():
    f = Question("What does the slow average read?", answer=0.65, tol=0.005, hint="An EWMA moves.").check("65 %")
    assert "a share as a fraction of 1" in f.message and "0.65" not in f.message


def test_the_refusal_of_an_unreadable_number_names_the_boxs_unit():
    assert "'MB' after it if you like" in _refused(Prediction("How many MB?", unit="MB"), "lots")
    assert "no unit after it" in Question("k?", answer=2.0, hint="k = 1/(1 − τ).").check("two").message


@pytest.mark.parametrize("typed, right", [("Soft", True), (" SOFT ", True), ("Hard", False), ("soft", True)])
def test_a_choice_is_matched_whatever_its_case(typed, right):
    f = Question("Which state balloons?", **CHOICES).check(typed)
    assert f.correct is right and not f.message.startswith("Nothing"), f.message


@pytest.mark.parametrize("typed", ["medium", 5, "so"])
def test_something_that_is_no_choice_is_refused_in_a_sentence(typed):
    q = Question("Which state balloons?", **CHOICES)
    f = q.check(typed)
    assert f == q.last and not f.correct and f.message == (
        f"Nothing to check yet: {typed!r} is not one of the choices 'high', 'soft', 'hard'; pick one, "
        "then press Check.")


def test_a_choice_that_differs_only_in_case_from_another_is_taken_exactly():
    q = Question("Which?", choices=["A", "a"], answer="a", feedback={"A": "Big A.", "a": "Right: small a."})
    assert q.check("a") == Feedback(True, "Right: small a.") and not q.check("A").correct


def test_an_exact_answer_is_judged_without_a_zero_tolerance():
    q = Question("How many PPNs does a 64 MB VM have?", answer=16384, tol=0, unit="PPNs", hint="Pages per MB.")
    assert q.check("16384").message == "Right."
    assert q.check("16383").message == "Not yet: that is not the answer. Pages per MB."


def test_a_tolerance_is_still_stated():
    q = Question("k at τ = 0.75?", answer=4.0, tol=0.05, hint="k = 1/(1 − τ).")
    assert q.check(4).message == "Right (within ±0.05)."
    assert q.check(3).message.startswith("Not yet: that is not within ±0.05 of the answer. ")


def test_a_factor_margin_is_said_without_the_times_sign():
    """A factor's tolerance read "within ±0.01 ×"; it is a plain number."""
    q = Question("What is k at τ = 0.5?", answer=2.0, tol=0.01, unit="×", hint="k = 1/(1 − τ).")
    assert q.check("2").message == "Right (within ±0.01)."
    assert q.check("2.5").message.startswith("Not yet: that is not within ±0.01 of the answer.")
    assert "within ±5 MB" in Question("How much?", answer=10, tol=5, unit="MB", hint="Count again.").check("30").message


def test_a_factor_prediction_s_gap_is_a_plain_number():
    from esxlab.views.lesson import Prediction
    p = Prediction("How many times as many?", unit="×", lo=0, hi=50)
    p.record(2)
    assert "gap (simulated − predicted): +1.5." in p.reveal(actual=3.5, explain="Because.").text


def test_a_reveal_names_where_its_value_comes_from():
    p = Prediction("How many MB?", unit="MB")
    p.record(20)
    p.reveal(actual=13, explain="Worked out from the paper's curves.", label="worked-out")
    assert p.revealed.text.startswith("Your prediction: 20 MB · worked-out: 13 MB · gap (worked-out − predicted): ")
    q = Prediction("How many MB?", unit="MB")
    q.record(20)
    q.reveal(actual=13, explain="The simulator's.")
    assert "· simulated: 13 MB · gap (simulated − predicted)" in q.revealed.text
    with pytest.raises(esx.ConfigError, match="give a word or two such as 'simulated' or 'worked-out'"):
        Prediction("How many?").reveal(actual=1, explain="x", label=" ")


def test_without_a_prediction_the_reveal_says_the_worked_out_value():
    p = Prediction("How many MB?", unit="MB")
    p.reveal(actual=13, explain="Why.", label="worked-out")
    assert "The worked-out value is ready" in p.reveal_box.value
    assert p.show() is None and "the worked-out value is 13 MB" in p.show().text


def test_a_wrong_answer_says_what_the_tolerance_is_for():
    """"Not yet (within ±0.01 MB)" read as if the answer were within the tolerance."""
    q = Question("How many MB are unbacked?", answer=3.0, tol=0.01, unit="MB", hint="The five states add up.")
    wrong = q.check("5")
    assert wrong.message.startswith("Not yet: that is not within ±0.01 MB of the answer. "), wrong.message
    assert "(within" not in wrong.message


def test_the_gap_has_the_precision_of_the_values_beside_it(shown):
    """"simulated: 35.55 MB · gap: +5.551 MB": one precision for both."""
    p = Prediction("How many MB?", unit="MB")
    p.record(30)
    r = p.reveal(actual=35.551, explain="Ballooned.")
    assert "35.55 MB" in r.text and "gap (simulated − predicted): +5.55 MB." in r.text


def test_a_percentage_gap_is_in_percentage_points_with_a_true_minus(shown):
    p = Prediction("What overhead?", unit="%")
    p.record(50)
    r = p.reveal(actual=4.84, explain="Small.")
    assert "gap (simulated − predicted): \u221245.16 percentage points." in r.text
    assert not re.search(r"-\d", r.text), "a hyphen as a minus"


def test_text_that_is_no_number_is_answered_in_a_sentence():
    """"Prediction = 'abc' is not a number" read like code."""
    p = Prediction("How many MB?", unit="MB", lo=0, hi=64)
    for typed, said in (("abc", "'abc' is not a number"), ("300", "300 MB is out of range"), ("", "empty")):
        p.entry.value = typed
        p.button.click()
        assert said in html.unescape(p.status.value) and "Prediction =" not in p.status.value, typed


def test_recording_after_an_empty_reveal_replaces_the_stale_message(shown):
    """Voilà: Reveal pressed with no prediction, then one recorded: "No prediction recorded yet…" stayed."""
    p = Prediction("How many MB?", unit="MB")
    p.reveal(actual=7, explain="Seven.")
    p.reveal_button.click()
    assert "No prediction recorded yet" in p.reveal_box.value
    p.record("5")
    assert "No prediction recorded yet" not in p.reveal_box.value and "press Reveal" in p.reveal_box.value
    assert "7" not in p.reveal_box.value
    p.reveal_button.click()
    assert p.revealed.prediction == 5.0 and p.reveal_box.value == p.revealed.html


def test_the_reveal_spans_the_cell_at_a_normal_line_height(shown):
    p = Prediction("How many MB?", unit="MB")
    p.reveal(actual=7, explain="Seven. " * 60)
    p.record(5)
    p.reveal_button.click()
    for box in (p.reveal_box, p.status):
        assert box.layout.width == "100%"
        assert "max-width:600px" not in box.value and re.search(r"line-height:1\.\d+", box.value)
    assert "max-width:600px" not in p.revealed.html


def test_a_question_tells_a_percentage_from_a_wrong_fraction():
    q = Question("New slow average?", answer=0.65, tol=0.005, hint="An EWMA moves a fraction α of the way.")
    assert q.check("65").message == ("Not yet: that is not within ±0.005 of the answer. This box takes a fraction "
                                     "of 1, not a percentage: 0.65 for 65 %.")
    assert q.check("0.5").message.endswith("An EWMA moves a fraction α of the way.")
    assert q.check("50").message.endswith("An EWMA moves a fraction α of the way.")   # not 0.65 either way


def test_a_question_tells_a_fraction_typed_in_a_percent_box():
    """0.048 in a box that asks for 4.8 % got only the generic hint."""
    q = Question("Standard deviation of f?", answer=4.8, tol=0.1, unit="%", hint="√(f(1 − f)/n).")
    assert q.check("0.048").message.endswith("This box takes a percentage, not a fraction of 1: 4.8 for 0.048.")
    assert q.check("0.5").message.endswith("√(f(1 − f)/n).")


def test_feedback_shows_markdown_emphasis_as_italics_not_asterisks():
    q = Question("Who sees the swap?", choices=("guest", "ESX"), answer="ESX",
                 feedback={"guest": "The guest's tables map virtual to *physical* pages.", "ESX": "Right: ESX does."})
    q.widget  # built
    q.check("guest")
    html = q.result.value
    assert "<i>physical</i>" in html and "*physical*" not in html


def test_an_absolute_margin_on_a_percentage_reads_in_percentage_points():
    """In lesson 06, "not within ±0.1 % of the answer" for a question in percentage points
    reads as a relative margin; and "4.8 points" was 'not a unit I know' where "4.8 pp" was read."""
    q = Question("Standard deviation of f, in percentage points?", answer=4.8, tol=0.1, unit="%", hint="√(f(1 − f)/n).")
    assert q.check("5.2").message.startswith("Not yet: that is not within ±0.1 percentage points of the answer.")
    assert q.check("4.8 points").correct and q.check("4.85 point").correct
    from esxlab.checks import Expect
    assert Expect("rhos", "numbers", [1.0], "h", tol=0.01, rel=True).tolerance == " (each within ±1 %)"


def test_a_reveal_reads_a_ratio_or_a_fraction_typed_for_a_percentage():
    """Notebook 05 asks "how much faster, in %": 1.178 (the ratio) or 0.178 (the fraction) typed for 17.8 % is
    named at the reveal; a percentage near the value, or a reading that is no nearer, is not."""
    def revealed(typed, actual=17.8):
        p = Prediction("How much faster, in %?", unit="%", lo=-100, hi=1000)
        p.record(typed)
        p.reveal(actual=actual, explain="Why.")
        return p.revealed.text.splitlines()[0]
    assert revealed(1.178).endswith("If you meant 1.178 as a ratio, that is 17.8 %: this box takes the percentage "
                                    "itself.")
    assert "as a fraction of 1, that is 17.8 %" in revealed(0.178)
    assert "If you meant" not in revealed(18) and "If you meant" not in revealed(2.2, actual=31.9)
    assert "If you meant" not in revealed(1.5, actual=1.36), "a small percentage near the value is one"
    p = Prediction("Pages?", unit="MB", lo=0, hi=1000)
    p.record(1.178)
    p.reveal(actual=17.8, explain="Why.")
    assert "If you meant" not in p.revealed.text, "only for a percentage"


@pytest.mark.parametrize("pressed", [False, True])
def test_a_reveal_cell_run_again_shows_the_comparison_again(shown, pressed):
    """A student who runs a reveal cell a second time (JupyterLab clears its output first) saw an empty cell:
    the Reveal was shown once only. It is shown again, beside the new actual (a slider may have moved), and the
    prediction stays locked; shown through the Reveal button or not (a student's trial, session 66)."""
    p = Prediction("How many MB?", unit="MB")
    if pressed:                                  # Run All reached the reveal first; the student pressed Reveal
        p.reveal(actual=7, explain="Seven.")
        p.record(5)
        p.reveal_button.click()
    else:
        p.record(5)
        p.reveal(actual=7, explain="Seven.")
    first = p.revealed
    shown.clear()
    again = p.reveal(actual=9, explain="Nine now.")
    assert shown == [again] and again is p.revealed and again is not first
    assert (again.prediction, again.actual, again.gap) == (5.0, 9.0, 4.0) and "Nine now." in again.text
    with pytest.raises(esx.ConfigError, match="locked"):
        p.record(6)


def test_a_reveal_without_prediction_run_again_shows_the_value_and_stays_locked(shown):
    p = Prediction("How many MB?", unit="MB")
    p.reveal(actual=7, explain="Seven.")
    p.reveal_button.click()
    p.reveal_button.click()                      # seen without a prediction
    shown.clear()
    again = p.reveal(actual=7, explain="Seven.")
    assert shown == [again] and again.prediction is None and "did not record a prediction" in again.text
    with pytest.raises(esx.ConfigError, match="locked"):
        p.record(5)


def test_a_reveal_cell_run_again_in_a_notebook_is_not_empty():
    shell = InteractiveShell.instance()
    shell.run_cell("from esxlab.views.lesson import Prediction\np = Prediction('How many?', unit='MB')\np.record(3)")
    for _ in range(2):
        with capture_output() as cap:
            assert shell.run_cell("p.reveal(actual=5, explain='Two more.')").success
        assert len(cap.outputs) == 1 and "Two more." in cap.outputs[0].data["text/plain"]
