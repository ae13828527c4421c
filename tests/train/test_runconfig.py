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


# ---- the data set's defaults: flag > recorded > data set > global ------------------------------

TRAINING = ("epochs", "batch_size", "lr", "optimizer", "momentum", "weight_decay", "scheduler")


def test_every_data_set_sets_only_training_settings_and_valid_ones():
    from glassnet.data.registry import DATASETS
    from glassnet.train.runconfig import check, defaults_for
    for name, info in DATASETS.items():
        assert set(info.training) <= set(TRAINING), name
        check(defaults_for(name))  # raises for a value out of range


@pytest.mark.parametrize("name", ["fashion-mnist", "mnist", "mnist1d", "shapes", "clips"])
def test_a_new_run_without_flags_takes_its_data_sets_model_and_training_settings(name):
    from glassnet.data.registry import DATASETS
    info = DATASETS[name]
    settings = merge({"dataset": name}, None, "")
    assert settings["model"] == info.default_model
    for key in TRAINING:  # the data set's own value, else the global one
        assert settings[key] == info.training.get(key, DEFAULTS[key]), key
    for key in set(DEFAULTS) - set(TRAINING) - {"model", "dataset"}:
        assert settings[key] == DEFAULTS[key], key


def test_the_data_sets_differ_where_measurement_said_so():
    # docs/results.md: Adam trains the MNIST-1D CNN and the 3-D CNN better than the global SGD
    assert merge({"dataset": "mnist1d"}, None, "")["optimizer"] == "adam"
    assert merge({"dataset": "clips"}, None, "")["optimizer"] == "adam"
    assert merge({"dataset": "fashion-mnist"}, None, "")["optimizer"] == "sgd"


def test_a_flag_given_wins_over_the_data_sets_default_and_only_that_setting_changes():
    new = merge({"dataset": "mnist1d"}, None, "")
    flagged = merge({"dataset": "mnist1d", "optimizer": "sgd", "lr": 0.2, "model": "allconv"}, None, "")
    assert (flagged["optimizer"], flagged["lr"], flagged["model"]) == ("sgd", 0.2, "allconv")
    assert {k: v for k, v in flagged.items() if k not in ("optimizer", "lr", "model")} == \
        {k: v for k, v in new.items() if k not in ("optimizer", "lr", "model")}


def test_a_resumed_run_keeps_its_recorded_settings_over_the_data_sets_defaults():
    # recorded with other settings than the data set's defaults (given by flags, or older defaults)
    recorded = {**DEFAULTS, "model": "mnist1d_cnn", "dataset": "mnist1d", "optimizer": "sgd", "lr": 0.05,
                "batch_size": 64, "epochs": 3}
    assert merge({}, recorded, "ck.json") == recorded
    with pytest.raises(ValueError, match="--optimizer adam conflicts with the run's recorded optimizer sgd"):
        merge({"optimizer": "adam"}, recorded, "ck.json")


def test_a_setting_the_run_did_not_record_comes_from_its_data_sets_defaults():
    from glassnet.data.registry import DATASETS
    recorded = {k: v for k, v in {**DEFAULTS, "model": "cnn3d", "dataset": "clips"}.items() if k != "lr"}
    assert merge({}, recorded, "ck.json")["lr"] == DATASETS["clips"].training.get("lr", DEFAULTS["lr"])


def test_a_recorded_data_set_that_does_not_exist_is_named():
    recorded = {**DEFAULTS, "model": "lenet5", "dataset": "cifar"}
    with pytest.raises(ValueError, match="ck.json: field 'config.dataset' must be one of auto, fashion-mnist, .*"
                                         "got 'cifar'"):
        merge({}, recorded, "ck.json")


def test_help_words_a_default_that_differs_between_data_sets_as_per_data_set():
    from glassnet.data.registry import DATASETS
    from glassnet.train.runconfig import help_default
    for key in (*TRAINING, "model"):
        values = {repr(merge({"dataset": name}, None, "")[key]) for name in DATASETS}
        if len(values) > 1:
            assert help_default(key) == "default: per data set, see `glassnet datasets`"
        else:
            assert help_default(key) == f"default {values.pop().strip(chr(39))}"
    assert help_default("model") == "default: per data set, see `glassnet datasets`"  # lenet5, cnn3d, ...
