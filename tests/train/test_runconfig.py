"""The run's settings: defaults, checks, and resume's rule (recorded values win, conflicts are errors)."""

import pytest

from glassnet.train.runconfig import DEFAULTS, merge, parse_val_split, val_count


def test_a_new_run_takes_the_given_flags_over_the_defaults():
    settings = merge({"epochs": 3, "seed": 7}, None, "")
    assert settings == {**DEFAULTS, "epochs": 3, "seed": 7}


def test_a_resumed_run_takes_the_recorded_settings_and_agreeing_flags():
    recorded = {**DEFAULTS, "model": "lenet5", "dataset": "shapes", "batch_size": 16, "seed": 3}
    assert merge({}, recorded, "ck.json") == recorded
    assert merge({"seed": 3, "model": "lenet5"}, recorded, "ck.json") == recorded


@pytest.mark.parametrize("given, message", [
    ({"batch_size": 32}, "--batch-size 32 conflicts with the run's recorded batch size 16 (ck.json)"),
    ({"seed": 4}, "--seed 4 conflicts with the run's recorded seed 3"),
    ({"augment": True}, "--augment True conflicts with the run's recorded augment False"),
    ({"val_split": 0.2}, "--val-split 0.2 conflicts with the run's recorded val split 0.1"),
])
def test_a_flag_that_differs_from_the_recorded_run_is_an_error_naming_both(given, message):
    recorded = {**DEFAULTS, "model": "lenet5", "dataset": "shapes", "batch_size": 16, "seed": 3}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        merge(given, recorded, "ck.json")


@pytest.mark.parametrize("field, value", [("batch_size", "64"), ("epochs", 0), ("lr", -1.0), ("seed", True),
                                          ("optimizer", "rmsprop"), ("val_split", 1.5), ("patience", 0)])
def test_recorded_settings_are_checked_naming_the_file_and_field(field, value):
    recorded = {**DEFAULTS, "model": "lenet5", "dataset": "shapes", field: value}
    with pytest.raises(ValueError, match=f"ck.json: field 'config.{field}' must be .*, got {value!r}"):
        merge({}, recorded, "ck.json")


def test_val_split_is_a_fraction_or_a_count():
    assert parse_val_split("0.1") == 0.1 and parse_val_split("500") == 500
    assert val_count(0.1, 1000) == 100 and val_count(0.001, 100) == 1 and val_count(0, 100) == 0
    assert val_count(30, 100) == 30
    with pytest.raises(ValueError, match="holds out 100 of the 100"):
        val_count(100, 100)
