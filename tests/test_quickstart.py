"""examples/quickstart.py runs end to end, learns something, and takes the same steps as
`glassnet train` with its defaults."""

import importlib.util
import json
import os

import pytest

from glassnet.cli import main as glassnet_main

_PATH = os.path.join(os.path.dirname(__file__), "..", "examples", "quickstart.py")
_spec = importlib.util.spec_from_file_location("quickstart", _PATH)
quickstart = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(quickstart)


def test_tiny_run_on_shapes(tmp_path, capsys):
    result = quickstart.main(["--dataset", "shapes", "--epochs", "3", "--limit", "2000", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "procedural shapes" in out and "test accuracy" in out
    assert result["accuracy"] > 0.4  # five classes: chance is 0.2
    assert list((tmp_path / "checkpoints").glob("step-*.json"))


def test_quickstart_and_the_command_line_agree(tmp_path, capsys):
    """Same data, model, optimiser (Nesterov momentum), schedule and seeds: the same losses. The
    command line is given no model or optimiser flag: it takes the data set's defaults."""
    ours = quickstart.main(["--dataset", "shapes", "--epochs", "2", "--limit", "512"])
    assert glassnet_main(["train", "--dataset", "shapes", "--epochs", "2", "--limit", "512",
                          "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    theirs = json.loads((tmp_path / "run" / "metrics.json").read_text())
    for mine, cli in zip(ours["history"], theirs["epochs"], strict=True):
        assert mine["train_loss"] == pytest.approx(cli["train_loss"], rel=1e-5)
        assert mine["val_accuracy"] == pytest.approx(cli["val_accuracy"])


@pytest.mark.parametrize("name", [n for n in quickstart.DATASETS_HERE if n != "auto"])
def test_the_quickstarts_settings_are_the_command_lines_defaults_on_its_data_sets(name):
    """The quickstart writes SGD with Nesterov momentum, a cosine schedule and no weight decay out
    in code; the rest of the data set's defaults are its constants."""
    from glassnet.train.runconfig import defaults_for
    settings = defaults_for(name)
    assert (settings["optimizer"], settings["scheduler"], settings["weight_decay"]) == ("sgd", "cosine", 0.0)
    assert (settings["model"], settings["lr"], settings["momentum"], settings["batch_size"]) == \
        (quickstart.MODEL, quickstart.LR, quickstart.MOMENTUM, quickstart.BATCH_SIZE)
