"""`glassnet train`: the validation split, the test split read once, resume with the recorded
configuration, a new run's --out, Ctrl-C, and errors in the user's terms."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import glassnet.data.registry as registry
from glassnet import cli
from glassnet.cli import main

TINY = ["train", "--dataset", "shapes", "--model", "lenet5", "--limit", "120", "--batch-size", "30",
        "--no-progress", "--lr", "0.01"]


def _train(out, *args):
    return main([*TINY, "--out", str(out), *args])


@pytest.fixture
def reads(monkeypatch):
    """Every batch the data sets serve, in order: ("train", n) for the training data (training
    and validation parts), ("test", n) for the test split; and the validation split's indices."""
    events, splits = [], []
    load = registry.load_dataset

    def counting_load(name, train=True, **kwargs):
        dataset = load(name, train=train, **kwargs)
        get_batch, label = dataset.get_batch, "train" if train else "test"

        def counted(indices, generator=None):
            events.append((label, len(indices)))
            return get_batch(indices, generator)
        dataset.get_batch = counted
        return dataset

    split = cli._split_train_val

    def recording_split(*args):
        train_part, val_part = split(*args)
        splits.append((train_part.indices.copy(), val_part.indices.copy()))
        return train_part, val_part

    monkeypatch.setattr(registry, "load_dataset", counting_load)
    monkeypatch.setattr(cli, "_split_train_val", recording_split)
    return events, splits


def test_validation_is_held_out_of_the_training_data_and_the_test_split_read_once_at_the_end(tmp_path, reads):
    events, splits = reads
    assert _train(tmp_path / "run", "--epochs", "2", "--seed", "3") == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())

    train_idx, val_idx = splits[0]
    assert len(val_idx) == 12 and len(train_idx) == 108  # --val-split 0.1 of --limit 120
    assert not set(train_idx) & set(val_idx) and set(train_idx) | set(val_idx) == set(range(120))
    assert metrics["split"]["train"] == 108 and metrics["split"]["val"] == 12 and metrics["split"]["test"] == 1000
    assert all("val_accuracy" in e and "test_accuracy" not in e for e in metrics["epochs"])

    # the test split: one pass over its 1,000 samples, after every read of the training data
    first_test = next(i for i, (label, _) in enumerate(events) if label == "test")
    assert all(label == "test" for label, _ in events[first_test:])
    assert sum(n for label, n in events if label == "test") == 1000
    # the training data: 2 epochs of 108 samples and 2 validation passes of 12
    assert sum(n for label, n in events if label == "train") == 2 * 108 + 2 * 12


def test_the_split_is_drawn_with_the_seed_and_kept_on_resume(tmp_path, reads):
    _, splits = reads
    assert _train(tmp_path / "a", "--epochs", "2", "--seed", "3", "--checkpoint-every", "2") == 0
    assert main(["train", "--out", str(tmp_path / "a"), "--resume", "--no-progress"]) == 0  # flags from the checkpoint
    assert _train(tmp_path / "b", "--epochs", "2", "--seed", "4") == 0
    (train_a, val_a), (train_resumed, val_resumed), (_, val_b) = splits
    np.testing.assert_array_equal(val_a, val_resumed)
    np.testing.assert_array_equal(train_a, train_resumed)
    assert set(val_a) != set(val_b)


@pytest.mark.parametrize("value, held_out", [("0", 0), ("20", 20), ("0.25", 30)])
def test_val_split_takes_a_fraction_or_a_count(tmp_path, reads, value, held_out):
    _, splits = reads
    assert _train(tmp_path / "run", "--epochs", "1", "--val-split", value) == 0
    assert len(splits[0][1]) == held_out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert ("val_accuracy" in metrics["epochs"][0]) == (held_out > 0)


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "--epochs must be a number of epochs from 1"),
    (["--val-split", "1.5"], "--val-split must be a fraction in"),
    (["--val-split", "120"], "--val-split 120 holds out 120 of the 120 training samples"),
    (["--val-split", "lots"], "--val-split takes a fraction like 0.1 or a count like 500, got 'lots'"),
    (["--batch-size", "0"], "--batch-size must be a positive number"),
    (["--lr", "nan"], "--lr must be a learning rate > 0"),
])
def test_bad_settings_are_errors_in_the_users_terms_and_leave_no_folder(tmp_path, capsys, args, message):
    out = tmp_path / "new" / "run"
    assert _train(out, *args) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


def test_resume_restores_the_recorded_settings_and_refuses_conflicting_flags(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out, "--epochs", "2", "--seed", "3", "--batch-size", "20", "--optimizer", "adam") == 0
    # no --model, --dataset, --batch-size...: all from the checkpoint (lenet5, not the default model)
    assert main(["train", "--out", str(out), "--resume", "--no-progress"]) == 0
    config = json.loads((out / "metrics.json").read_text())["config"]
    assert (config["model"], config["batch_size"], config["seed"], config["optimizer"]) == ("lenet5", 20, 3, "adam")
    capsys.readouterr()
    assert main(["train", "--out", str(out), "--resume", "--batch-size", "32"]) == 1
    err = capsys.readouterr().err
    assert "--batch-size 32 conflicts with the run's recorded batch size 20" in err and "step-" in err
    assert main(["train", "--out", str(out), "--resume", "--seed", "4"]) == 1
    assert "--seed 4 conflicts with the run's recorded seed 3" in capsys.readouterr().err
    assert main(["train", "--out", str(out), "--resume", "--seed", "3", "--model", "lenet5"]) == 0  # agreeing flags


def test_resume_finding_nothing_or_only_damaged_checkpoints_is_an_error(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--resume"]) == 1
    assert "nothing to resume" in capsys.readouterr().err
    assert not out.exists()
    assert _train(out, "--epochs", "1") == 0
    sidecars = sorted((out / "checkpoints").glob("*.json"))
    for path in sidecars:
        path.write_text("[]")
    assert main(["train", "--out", str(out), "--resume"]) == 1
    err = capsys.readouterr().err
    assert "cannot resume: no usable checkpoint" in err and "--resume=auto starts the run over" in err
    for path in sidecars:
        assert f"{path}: not a valid glassnet checkpoint" in err
    assert main([*TINY, "--epochs", "1", "--out", str(out), "--resume=auto"]) == 0
    assert all(path.with_name(path.name + ".rejected").read_text() == "[]" for path in sidecars)


def test_a_new_run_refuses_a_used_out_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out, "--epochs", "1", "--seed", "1") == 0
    before = (out / "model.safetensors").read_bytes()
    assert _train(out, "--epochs", "1", "--seed", "2") == 1
    err = capsys.readouterr().err
    assert "is not empty" in err and "--resume" in err and "--overwrite" in err
    assert (out / "model.safetensors").read_bytes() == before
    assert _train(out, "--epochs", "1", "--seed", "2", "--overwrite") == 0
    assert json.loads((out / "metrics.json").read_text())["config"]["seed"] == 2
    # the old run's checkpoints are gone: a later --resume continues the new run
    assert main(["train", "--out", str(out), "--resume", "--no-progress"]) == 0
    assert json.loads((out / "metrics.json").read_text())["config"]["seed"] == 2


def test_ctrl_c_after_training_says_how_to_finish(tmp_path, capsys, monkeypatch):
    import glassnet.viz.training as figures

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(figures, "plot_curves", interrupted)
    out = tmp_path / "run"
    assert _train(out, "--epochs", "1") == 130
    err = capsys.readouterr().err
    assert "interrupted after training finished" in err and f"glassnet train --out {out} --resume" in err
    monkeypatch.undo()
    assert main(["train", "--out", str(out), "--resume", "--no-progress"]) == 0
    assert (out / "curves.png").is_file()


def test_ctrl_c_writes_a_checkpoint_and_prints_the_resume_command(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "glassnet", *TINY, "--limit", "400", "--batch-size", "10",
                             "--epochs", "3", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 120
    while proc.poll() is None and not (out / "checkpoints").is_dir() and time.monotonic() < deadline:
        time.sleep(0.01)  # the first epoch's checkpoint: training is under way
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "checkpoint written" in stderr and f"glassnet train --out {out} --resume" in stderr
    assert "Traceback" not in stderr
    done = json.loads(max((out / "checkpoints").glob("step-*.json")).read_text())["state"]["epoch"]
    assert done < 3
    status = subprocess.run([sys.executable, "-m", "glassnet", "train", "--out", str(out), "--resume", "--no-progress"],
                            capture_output=True, text=True, timeout=300, env=os.environ)
    assert status.returncode == 0, status.stderr
    assert len(json.loads((out / "metrics.json").read_text())["epochs"]) == 3


def test_ctrl_c_while_the_finished_command_exits_is_not_a_crash(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-u", "-m", "glassnet", *TINY, "--epochs", "1", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.startswith("test accuracy"):  # the last line: everything is written
            time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            break
    proc.communicate(timeout=120)
    assert proc.returncode == 0  # was -2 (killed by SIGINT during the interpreter's shutdown)
    assert (out / "confusion.png").is_file()


def test_a_resumed_run_removes_temporary_files_of_an_interrupted_final_write(tmp_path):
    out = tmp_path / "run"
    assert _train(out, "--epochs", "1") == 0
    leftover = out / ".model.safetensors.k3j4.tmp"
    leftover.write_bytes(b"half a file")
    assert main(["train", "--out", str(out), "--resume", "--no-progress"]) == 0
    assert not leftover.exists()
    from glassnet.serialization import load_metadata
    meta, best = load_metadata(out / "model.safetensors"), load_metadata(out / "best.safetensors")
    assert (meta["model"], meta["dataset"], best["dataset"], best["epoch"]) == ("lenet5", "shapes", "shapes", "1")


# ---- the data set's training defaults ---------------------------------------------------------

@pytest.fixture
def optimizers(monkeypatch):
    """The (name, lr, momentum, weight decay) of every optimiser `glassnet train` builds."""
    built, make = [], cli._optimizer

    def recording(name, params, lr, momentum, weight_decay):
        built.append((name, lr, momentum, weight_decay))
        return make(name, params, lr, momentum, weight_decay)
    monkeypatch.setattr(cli, "_optimizer", recording)
    return built


def _mnist1d(out, *args):
    return main(["train", "--dataset", "mnist1d", "--limit", "120", "--out", str(out), "--no-progress", *args])


def test_a_run_takes_its_data_sets_training_defaults_where_no_flag_is_given(tmp_path, optimizers):
    training = registry.DATASETS["mnist1d"].training
    assert _mnist1d(tmp_path / "defaults", "--epochs", "1") == 0
    assert optimizers == [(training["optimizer"], training["lr"], 0.9, training["weight_decay"])]
    config = json.loads((tmp_path / "defaults" / "metrics.json").read_text())["config"]
    assert config["model"] == "mnist1d_cnn" and config["batch_size"] == training["batch_size"]
    assert config["scheduler"] == training["scheduler"] and config["epochs"] == 1


def test_a_flag_given_wins_over_the_data_sets_default(tmp_path, optimizers):
    training = registry.DATASETS["mnist1d"].training
    assert training["optimizer"] != "sgd" and training["lr"] != 0.2  # else this test shows nothing
    assert _mnist1d(tmp_path / "run", "--epochs", "1", "--optimizer", "sgd", "--lr", "0.2") == 0
    assert optimizers == [("sgd", 0.2, 0.9, training["weight_decay"])]
    config = json.loads((tmp_path / "run" / "metrics.json").read_text())["config"]
    assert config["batch_size"] == training["batch_size"]  # the settings not given stay the data set's


def test_resume_keeps_the_recorded_settings_not_the_data_sets_defaults(tmp_path, optimizers, capsys):
    out = tmp_path / "run"
    assert _mnist1d(out, "--epochs", "2", "--optimizer", "sgd", "--lr", "0.05", "--batch-size", "32",
                    "--scheduler", "none") == 0
    assert main(["train", "--out", str(out), "--resume", "--no-progress"]) == 0
    assert optimizers == [("sgd", 0.05, 0.9, 0.0)] * 2
    config = json.loads((out / "metrics.json").read_text())["config"]
    assert (config["batch_size"], config["scheduler"], config["epochs"]) == (32, "none", 2)
    capsys.readouterr()
    assert main(["train", "--out", str(out), "--resume", "--optimizer", "adam"]) == 1
    assert "--optimizer adam conflicts with the run's recorded optimizer sgd" in capsys.readouterr().err
