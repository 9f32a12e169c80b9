"""nan and inf given to an experiment's parameter: the sentence says they are not finite and what the
parameter allows (its ``PARAMS`` range), from the command line as from Python."""
import pytest

from esxlab import ConfigError
from esxlab import experiments as E
from esxlab.__main__ import main
from esxlab.errors import describe_range
from esxlab.experiments.sweeps import parse_param


def allowed(name: str, key: str) -> str:
    """The range ``key`` of experiment ``name`` allows, from its ``PARAMS`` (e.g. "0 ≤ tax_after ≤ 0.99.")."""
    spec = E.get(name).PARAMS[key]
    return describe_range(key, spec.lo, spec.hi, spec.lo_open, spec.hi_open) + "."


@pytest.mark.parametrize("typed, shown", [("nan", "nan"), ("inf", "inf"), ("-inf", "-inf"), ("NaN", "nan"),
                                          ("0.5,inf", "inf")])
def test_the_command_line_says_not_finite_and_what_is_allowed(typed, shown, capsys):
    assert main(["sweep", "fig7", "--param", f"tax_after={typed}"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: fig7.tax_after = {shown} is not a finite number; allowed: {allowed('fig7', 'tax_after')}\n"
    assert "must be a number" not in err


def test_nan_inside_a_tuple_and_for_a_whole_number_parameter(capsys):
    assert main(["sweep", "fig2", "--param", "sizes=(128,nan)"]) == 2
    assert "sizes = nan is not a finite number; allowed: 16 ≤" in capsys.readouterr().err
    assert main(["sweep", "fig2", "--param", "clients=inf"]) == 2
    assert capsys.readouterr().err == f"error: fig2.clients = inf is not a finite number; allowed: " \
                                      f"{allowed('fig2', 'clients')}\n"


def test_words_stay_words():
    assert parse_param("sharing=off,esx") == ("sharing", ["off", "esx"])
    assert parse_param("sizes=(128,160),(192,224)") == ("sizes", [(128, 160), (192, 224)])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_python_says_the_same(value):
    with pytest.raises(ConfigError, match=rf"^fig7.tax_after = {value!r} is not a finite number; allowed: 0 ≤ "
                                          r"tax_after ≤ 0.99\.$"):
        E.sweep("fig7", params={"tax_after": [value]})
    with pytest.raises(ConfigError, match=rf"^fig7.tax_after = {value!r} is not a finite number"):
        E.fig7.run(tax_after=value)
