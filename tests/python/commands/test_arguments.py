"""commands/arguments.py: the argparse types the commands share."""

import argparse

import pytest

from sysgatelib import cli
from sysgatelib.commands import arguments


@pytest.mark.parametrize("text, value", [("0.05", 0.05), ("0.5", 0.5), ("1e-3", 0.001)])
def test_probability_takes_a_level_between_0_and_1(text, value):
    assert arguments.probability(text) == value


@pytest.mark.parametrize("text, why", [
    ("0", "must be between 0 and 1, exclusive"), ("1", "must be between 0 and 1, exclusive"),
    ("-0.1", "must be between 0 and 1, exclusive"), ("nan", "must be between 0 and 1"),
    ("x", "is not a number"),
])
def test_probability_refuses_what_is_no_level(text, why):
    with pytest.raises(argparse.ArgumentTypeError, match=why):
        arguments.probability(text)


@pytest.mark.parametrize("command", [["compare", "a.json", "b.json"], ["trend"],
                                     ["gate", "a.json"]])
def test_a_bad_alpha_is_one_error_line_and_exit_2(command, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(command + ["--alpha", "1.5"])
    assert stop.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.endswith("error: argument --alpha: '1.5': must be between 0 and 1, exclusive")
