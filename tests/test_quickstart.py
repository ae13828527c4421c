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
    """Same data, model, optimiser (Nesterov momentum), schedule and seeds: the same losses."""
    ours = quickstart.main(["--dataset", "shapes", "--epochs", "2", "--limit", "512"])
    assert glassnet_main(["train", "--dataset", "shapes", "--model", "lenet5", "--epochs", "2", "--limit", "512",
                          "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    theirs = json.loads((tmp_path / "run" / "metrics.json").read_text())
    for mine, cli in zip(ours["history"], theirs["epochs"], strict=True):
        assert mine["train_loss"] == pytest.approx(cli["train_loss"], rel=1e-5)
        assert mine["val_accuracy"] == pytest.approx(cli["val_accuracy"])
