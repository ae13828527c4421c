"""The fit loop: learning, validation, early stopping, gradient clipping and the nan guard."""

import numpy as np
import pytest

import glassnet
from glassnet import nn, optim
from glassnet.data import DataLoader, TensorDataset
from glassnet.train import TrainingDiverged, evaluate, fit, latest_checkpoint
from glassnet.train.checkpoint import load_checkpoint


def _blobs(n=256, seed=0):
    """Three well separated Gaussian blobs in 2-D: learnable to ~100% in a few epochs."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    x = centres[y] + 0.5 * rng.standard_normal((n, 2))
    return TensorDataset(glassnet.tensor(x), glassnet.tensor(y))


def _model():
    glassnet.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))


def test_fit_learns_and_records_history(tmp_path):
    model = _model()
    history = fit(model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                  DataLoader(_blobs(), batch_size=32, shuffle=True, seed=0), epochs=3,
                  val_loader=DataLoader(_blobs(seed=1), batch_size=64, seed=0), progress=False, log=lambda s: None)
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["val_accuracy"] > 0.95
    result = evaluate(model, DataLoader(_blobs(seed=1), batch_size=64, seed=0), num_classes=3)
    assert result["accuracy"] == pytest.approx(history[-1]["val_accuracy"])
    assert result["confusion"].sum() == 256


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    model = _model()
    # lr 0: nothing changes, so validation accuracy never improves after the first epoch
    history = fit(model, optim.SGD(model.parameters(), lr=0.0), DataLoader(_blobs(), batch_size=64, seed=0),
                  epochs=10, val_loader=DataLoader(_blobs(seed=1), batch_size=64, seed=0), patience=2,
                  progress=False, log=lambda s: None)
    assert len(history) == 3


def test_gradient_clipping_bounds_the_update():
    model = _model()
    before = [p.data.copy() for p in model.parameters()]
    # one step of plain SGD with lr 1: the update is exactly the (clipped) gradient
    fit(model, optim.SGD(model.parameters(), lr=1.0), DataLoader(_blobs(64), batch_size=64, seed=0), epochs=1,
        grad_clip=0.01, progress=False, log=lambda s: None)
    step = np.sqrt(sum(float(np.sum((p.data - b) ** 2)) for p, b in zip(model.parameters(), before)))
    assert step == pytest.approx(0.01, rel=1e-3)


def test_nan_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    data = _blobs(128)
    fit(model, opt, DataLoader(data, batch_size=32, seed=0), epochs=1, out_dir=tmp_path, progress=False,
        log=lambda s: None)
    good = latest_checkpoint(tmp_path / "checkpoints")
    assert good.name == "step-00000004.json"
    weights = [p.data.copy() for p in model.parameters()]

    poisoned = data.tensors[0].copy()  # the dataset keeps plain arrays
    poisoned[40] = np.nan  # the second batch of the next epoch (unshuffled loader)
    bad = TensorDataset(glassnet.tensor(poisoned), data.tensors[1])
    with pytest.raises(TrainingDiverged, match="at step 6"):
        fit(model, opt, DataLoader(bad, batch_size=32, seed=0), epochs=2, out_dir=tmp_path, resume=True,
            progress=False, log=lambda s: None)
    assert latest_checkpoint(tmp_path / "checkpoints") == good  # nothing written after the bad step
    restored = _model()
    load_checkpoint(good, model=restored)
    for p, w in zip(restored.parameters(), weights):
        np.testing.assert_array_equal(p.data, w)


def test_progress_bar_in_a_log_file_is_not_rewritten_every_step(tmp_path, capsys):
    """With stderr not a terminal (a log file, CI) the bar refreshes every 5 s: a short epoch
    of 16 steps writes its running metrics a couple of times, not once per step."""
    model = _model()
    fit(model, optim.SGD(model.parameters(), lr=0.1), DataLoader(_blobs(), batch_size=16, seed=0),
        epochs=1, out_dir=tmp_path, progress=True, log=lambda s: None)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err
    assert err.count("samples_s=") <= 2, err


def test_a_run_that_stopped_early_stays_stopped_on_resume(tmp_path):
    def run(**kwargs):
        model = _model()
        return fit(model, optim.SGD(model.parameters(), lr=0.0), DataLoader(_blobs(), batch_size=64, seed=0),
                   epochs=10, val_loader=DataLoader(_blobs(seed=1), batch_size=64, seed=0), patience=2,
                   out_dir=tmp_path, progress=False, log=lambda s: None, **kwargs)
    assert len(run()) == 3
    assert len(run(resume=True)) == 3
