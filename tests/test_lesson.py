"""esxlab.views.lesson without a browser: the buttons' handlers run through ``Button.click()``,
and what a student would read is checked in the HTML they fill."""
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import esxlab as esx
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


# Numbers as students type them (a student tester's blocker: "16,384" was judged as 16.384, "16 384" as 16).
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
