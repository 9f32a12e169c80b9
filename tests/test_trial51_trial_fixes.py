"""A fresh user's trial of session 51's changes: a reveal of a value worked out from the paper's own numbers says so,
not "simulated"; the warning for a percentage of exactly 1 points at the user's line however it was made, and a
configuration refused for another reason does not warn first."""
import warnings

import pytest

import esxlab as esx
from esxlab.views.lesson import Prediction


def test_a_reveal_names_where_its_value_comes_from():
    p = Prediction("How many MB?", unit="MB")
    p.record(20)
    p.reveal(actual=13, explain="Worked out from the paper's curves.", label="worked out")
    assert p.revealed.text.startswith("Your prediction: 20 MB · worked out: 13 MB · gap (worked out − predicted): ")
    q = Prediction("How many MB?", unit="MB")
    q.record(20)
    q.reveal(actual=13, explain="The simulator's.")
    assert "· simulated: 13 MB · gap (simulated − predicted)" in q.revealed.text
    with pytest.raises(esx.ConfigError, match="give a word or two such as 'simulated' or 'worked out'"):
        Prediction("How many?").reveal(actual=1, explain="x", label=" ")


def test_without_a_prediction_the_reveal_says_the_worked_out_value():
    p = Prediction("How many MB?", unit="MB")
    p.reveal(actual=13, explain="Why.", label="worked out")
    assert "The worked out value is ready" in p.reveal_box.value
    assert p.show() is None and "the worked out value is 13 MB" in p.show().text


@pytest.mark.parametrize("make", [
    lambda: esx.VMConfig(balloon_max_pct=1),
    lambda: esx.VMConfig().replace(balloon_max_pct=1.0),
    lambda: esx.HostConfig.esxi6(minfree_low_pct=1),
])
def test_the_percentage_warning_points_at_the_users_line(make):
    with pytest.warns(UserWarning, match="is read as 1 %") as caught:
        make()
    assert caught[0].filename == __file__, caught[0].filename


def test_a_configuration_refused_for_another_reason_does_not_warn_first():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(esx.ConfigError, match="must be ordered"):
            esx.HostConfig.esxi6(minfree_soft_pct=1)
