"""The command line on tiny data: every subcommand, and its one-line errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from glassnet.cli import main
from glassnet.serialization import load, save


def _run(*args, env=None):
    """glassnet in a subprocess (as a user runs it): (exit status, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "glassnet", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    status = main(["train", "--dataset", "mnist1d", "--limit", "256", "--epochs", "2", "--batch-size", "32",
                   "--out", str(out), "--no-progress", "--optimizer", "adam", "--lr", "0.01"])
    assert status == 0
    return out


def test_train_writes_weights_metrics_and_figures(run_dir):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == [1, 2]
    for key in ("train_loss", "train_accuracy", "val_accuracy", "seconds"):
        assert all(np.isfinite(e[key]) for e in metrics["epochs"])
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    for name in ("curves.png", "confusion.png"):
        data = (run_dir / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
        import matplotlib.image
        image = matplotlib.image.imread(run_dir / name)
        assert image.std() > 0.01  # not a blank canvas
    assert (run_dir / "checkpoints").is_dir()


def test_eval_json_reports_accuracy(run_dir, capsys):
    assert main(["eval", str(run_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert result["accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert np.array(result["confusion_matrix"]).sum() == 1000  # the full MNIST-1D test split
    assert result["split"] == "test"


def test_predict_npy(run_dir, tmp_path, capsys):
    sample = np.random.default_rng(0).standard_normal((1, 40)).astype(np.float32)
    np.save(tmp_path / "x.npy", sample)
    assert main(["predict", str(run_dir), str(tmp_path / "x.npy"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    probs = result["probabilities"]
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)
    assert result["label"] == max(probs, key=probs.get)


def test_predict_rejects_wrong_shape(run_dir, tmp_path):
    np.save(tmp_path / "bad.npy", np.zeros((3, 7), np.float32))
    status, _, err = _run("predict", str(run_dir), str(tmp_path / "bad.npy"))
    assert status == 1 and "shape (3, 7)" in err and "(1, 40)" in err and "Traceback" not in err


def test_summary_prints_the_layer_table(capsys):
    assert main(["summary", "lenet5"]) == 0
    out = capsys.readouterr().out
    assert "61,706" in out  # LeNet-5's parameter count
    assert "(6, 28, 28)" in out and "(10,)" in out


@pytest.mark.parametrize("args, message", [
    (["train", "--model", "nosuchnet", "--dataset", "mnist1d"], "unknown model 'nosuchnet'"),
    (["summary", "nosuchnet"], "unknown model 'nosuchnet'"),
    (["eval", "no/such/run"], "no trained model at no/such/run"),
])
def test_errors_are_one_line_without_traceback(args, message):
    status, _, err = _run(*args)
    assert status == 1
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_missing_dataset_says_how_to_get_it(tmp_path):
    status, _, err = _run("train", "--dataset", "mnist", "--no-download", "--out", str(tmp_path / "r"),
                          env={"GLASSNET_DATA": str(tmp_path), "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)})
    assert status == 1 and "Traceback" not in err
    assert "GLASSNET_DATA" in err


def test_checkpoint_of_another_model_lists_mismatched_keys(run_dir, tmp_path):
    weights = load(run_dir / "model.safetensors")
    save(weights, tmp_path / "model.safetensors",
         metadata={"model": "lenet5", "classes": json.dumps([str(i) for i in range(10)])})
    status, _, err = _run("eval", str(tmp_path))
    assert status == 1 and "Traceback" not in err
    assert "lenet5" in err and "0.weight" in err


def test_corrupt_weights_file_is_a_clean_error(run_dir, tmp_path):
    data = (run_dir / "model.safetensors").read_bytes()
    (tmp_path / "model.safetensors").write_bytes(data[: len(data) // 2])
    status, _, err = _run("eval", str(tmp_path))
    assert status == 1 and "Traceback" not in err
    assert "model.safetensors" in err


def test_debug_shows_the_traceback():
    status, _, err = _run("--debug", "summary", "nosuchnet")
    assert status != 0 and "Traceback" in err
