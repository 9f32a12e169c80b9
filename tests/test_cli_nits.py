"""Command-line sentences a tester found unhelpful (2026-12-02, night): each says what to write instead."""
import io

import pytest
from tqdm import tqdm

from esxlab.errors import ConfigError
from esxlab.experiments import EXPERIMENTS, cli, runner, sweeps


def _error(capsys, argv) -> str:
    assert cli.sweep_main(argv) == 2
    return capsys.readouterr().err


def test_a_backward_seed_range_is_named_as_such():
    with pytest.raises(ConfigError, match=r"the range 3-1 runs backwards; write it low to high \(1-3\)"):
        runner.parse_seeds("3-1", "sweep: seeds")


def test_one_number_in_parentheses_is_not_a_tuple_and_the_error_says_how_to_write_one(capsys):
    assert "a tuple only with a comma: (128,))" in _error(capsys, ["fig2", "--param", "sizes=(128)"])
    with pytest.raises(ConfigError) as err:
        sweeps.check_grid("fig2", {"sizes": ["esx"]})
    assert "with a comma" not in str(err.value)


def test_the_running_task_line_has_one_colon():
    """"  task 2/3: 7 simulated min", not "  task 2/3: : 7 …" (tqdm's set_description adds a ": ")."""
    with tqdm(desc="  task 1/3", unit=" simulated min", file=io.StringIO()) as line:
        minutes = runner._Minutes(line, 3)
        minutes.next_task(2)
        line.update(7)
        assert str(line).startswith("  task 2/3: 7 simulated min"), str(line)


MISSING = ("error: sweep: the following arguments are required: EXPERIMENT; give one of "
           f"{', '.join(EXPERIMENTS)}, or a figure number.\n")


@pytest.mark.parametrize("argv", [[], ["--list"], ["--param", "tax_after=0,0.5"]], ids=lambda a: " ".join(a) or "-")
def test_a_sweep_without_an_experiment_names_the_experiments(argv, capsys):
    assert cli.sweep_main(argv) == 2
    assert capsys.readouterr().err == MISSING


def test_the_parser_reproduce_shares_does_not_read_sweep_s_messages():
    """The shared Parser turns argparse's message into a sentence and adds nothing; sweep's parser takes
    no EXPERIMENT (sweep_main names the experiments)."""
    with pytest.raises(ConfigError) as err:
        cli.Parser(prog="python -m esxlab reproduce").error("the following arguments are required: EXPERIMENT")
    assert str(err.value) == "reproduce: the following arguments are required: EXPERIMENT."
    assert cli._sweep_parser().parse_args(["--list"]).experiment is None
