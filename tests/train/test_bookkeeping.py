"""fit()'s bookkeeping: the best result and the early-stopping counter, the checks on opening a
run, and a real Ctrl-C in the middle of an epoch and at its end (a checkpoint, then
TrainingInterrupted; resuming gives the weights of a run that was never stopped)."""

import os
import signal

import numpy as np
import pytest

import glassnet
from glassnet import nn, optim
from glassnet.data import DataLoader, TensorDataset
from glassnet.train import CheckpointError, fit, latest_checkpoint
from glassnet.train.bookkeeping import Bookkeeping
from glassnet.train.checkpoint import read_sidecar
from glassnet.train.loop import TrainingInterrupted

STEPS_PER_EPOCH = 4  # 128 samples in batches of 32


def _data(seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, 128)
    x = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])[y] + rng.standard_normal((128, 2))
    return TensorDataset(glassnet.tensor(x), glassnet.tensor(y))


def _parts():
    glassnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))
    return model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), DataLoader(_data(), 32, shuffle=True, seed=3)


def _book(tmp_path=None):
    model, opt, loader = _parts()
    return Bookkeeping(model, opt, loader, out_dir=tmp_path, log=lambda s: None)


def test_best_result_and_patience():
    book = _book()
    seen = [book.new_best({"epoch": e + 1, "val_accuracy": a}) for e, a in enumerate([0.5, 0.7, 0.7, 0.6, 0.8])]
    assert seen == [True, True, False, False, True]
    assert (book.state.best_metric, book.state.best_epoch, book.state.epochs_without_improvement) == (0.8, 5, 0)
    book.new_best({"epoch": 6, "val_accuracy": 0.1})
    assert book.out_of_patience(1) and not book.out_of_patience(2) and not book.out_of_patience(None)


def test_opening_a_run_refuses_what_it_cannot_continue(tmp_path):
    with pytest.raises(ValueError, match="resume needs the out_dir"):
        _book().open(True, epochs=2)
    with pytest.raises(CheckpointError, match="no usable checkpoint|no checkpoint"):
        _book(tmp_path).open(True, epochs=2)
    book = _book(tmp_path)
    book.open(False, epochs=2)
    book.begin_epoch(0)
    book.checkpoint()
    with pytest.raises(CheckpointError, match="already holds checkpoints of a run"):
        _book(tmp_path).open(False, epochs=2)
    resumed = _book(tmp_path)
    resumed.open(True, epochs=2)
    assert resumed.state.extra == {"loss_sum": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}
    resumed.loader.load_state_dict({"seed": 3, "epoch": 1, "batch": 0})  # the state is in epoch 1, the loader in 2
    with pytest.raises(CheckpointError, match="data loader is in epoch 2, its training state in epoch 1"):
        resumed.begin_epoch(0)


def _fit(out_dir, resume=False, press=None):
    """Three epochs of fit(); press=("step", n) sends a real SIGINT during step n's loss,
    ("epoch", e) while epoch e's record is logged (after its last step, before its checkpoint)."""
    model, opt, loader = _parts()
    steps = {"n": 0}

    def loss_fn(logits, y, **kwargs):
        steps["n"] += 1
        if press == ("step", steps["n"]):
            os.kill(os.getpid(), signal.SIGINT)
        return glassnet.functional.cross_entropy(logits, y, **kwargs)

    def log(line):
        if press is not None and press[0] == "epoch" and line.startswith(f"epoch={press[1]} "):
            os.kill(os.getpid(), signal.SIGINT)

    history = fit(model, opt, loader, epochs=3, loss_fn=loss_fn, out_dir=out_dir, resume=resume, progress=False,
                  log=log)
    return model, history


# in the middle of an epoch; at an epoch's last step (a checkpoint with the whole epoch's running
# metrics); between an epoch's last step and its checkpoint (that checkpoint, the epoch done)
@pytest.mark.parametrize("press, step, extra_seen", [(("step", 2), 2, 64), (("step", 8), 8, 128),
                                                     (("epoch", 2), 8, None)])
def test_ctrl_c_writes_a_checkpoint_and_resume_finishes_the_same_run(tmp_path, press, step, extra_seen):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is handled by someone else here; fit() leaves it to them")
    straight, history = _fit(tmp_path / "straight")
    with pytest.raises(TrainingInterrupted) as stop:
        _fit(tmp_path / "stopped", press=press)
    assert stop.value.step == step and stop.value.epoch == (step - 1) // STEPS_PER_EPOCH
    assert stop.value.checkpoint == latest_checkpoint(tmp_path / "stopped" / "checkpoints")
    state = read_sidecar(stop.value.checkpoint)["state"]
    assert state["step"] == step
    if extra_seen is None:
        assert state["extra"] == {} and state["epoch"] == step // STEPS_PER_EPOCH
    else:  # the running metrics of the epoch in progress travel along
        assert state["extra"]["seen"] == extra_seen and state["epoch"] == (step - 1) // STEPS_PER_EPOCH
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # given back

    resumed, resumed_history = _fit(tmp_path / "stopped", resume=True)
    for a, b in zip(straight.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert [{k: v for k, v in h.items() if k != "seconds"} for h in resumed_history] == \
        [{k: v for k, v in h.items() if k != "seconds"} for h in history]
