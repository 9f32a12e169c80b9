"""The lesson widgets take a typed number in their own unit only (a fresh tester, "Clear bugs" 3 and 6).

``Prediction(unit="MB").record("0.1 GB")`` recorded 0.1 MB, "100 pages" 100 MB, "5 apples" 5 and "0x10" 0; a
unitless Question marked "2 MB" right; an MB question answered "20480 KB" with a generic "Not yet"; and a
multiple-choice ``check("Soft")`` raised a bare KeyError. Now the box's own unit (in any usual spelling) is taken,
any other unit, unknown word or non-decimal form is refused with one sentence saying what to type, never judged,
and a choice is matched whatever its case."""
import html

import pytest

import esxlab as esx
from esxlab.views.lesson import Feedback, Prediction, Question

MB_QUESTION = dict(answer=20.48, tol=0.5, unit="MB", hint="Each state's threshold is a percentage of memory.")


def _refused(p: Prediction, typed: str) -> str:
    """The sentence a student reads after typing ``typed`` and pressing the button (nothing recorded)."""
    p.entry.value = typed
    p.button.click()
    assert p.value is None, typed
    return html.unescape(p.status.value)


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


CHOICES = dict(choices=["high", "soft", "hard"], answer="soft",
               feedback={"high": "High has room to spare.", "soft": "Right: soft balloons.", "hard": "Hard pages."})


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
