"""Checkpoints: round trip of every part of the training state, and damaged files."""

import json

import numpy as np
import pytest

import glassnet
from glassnet import nn, optim
from glassnet.data import DataLoader, TensorDataset
from glassnet.train.checkpoint import TrainState, latest_checkpoint, load_checkpoint, save_checkpoint


def _setup(seed=0):
    glassnet.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    opt = optim.Adam(model.parameters(), lr=0.01)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    rng = np.random.default_rng(1)
    data = TensorDataset(glassnet.tensor(rng.standard_normal((20, 4))), glassnet.tensor(rng.integers(0, 3, 20)))
    loader = DataLoader(data, batch_size=5, shuffle=True, seed=3)
    return model, opt, sched, loader


def _train_steps(model, opt, it, steps):
    for _ in range(steps):
        x, y = next(it)
        loss = glassnet.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_round_trip_restores_model_optimizer_scheduler_loader_and_rng(tmp_path):
    model, opt, sched, loader = _setup()
    batches = iter(loader)
    _train_steps(model, opt, batches, 2)
    sched.step()
    state = TrainState(epoch=1, step=2, history=[{"epoch": 1, "train_loss": 0.5}])
    path = save_checkpoint(tmp_path, model=model, optimizer=opt, state=state, scheduler=sched, loader=loader)
    rng_draw = glassnet.random.default_generator().standard_normal(3)

    model2, opt2, sched2, loader2 = _setup(seed=99)
    state2, _ = load_checkpoint(path, model=model2, optimizer=opt2, scheduler=sched2, loader=loader2)
    assert state2.step == 2 and state2.history == state.history
    for (k, a), (k2, b) in zip(model.state_dict().items(), model2.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(a, b)
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(opt.state[p]["exp_avg"], opt2.state[q]["exp_avg"])
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert loader2.state_dict() == loader.state_dict()
    np.testing.assert_array_equal(glassnet.random.default_generator().standard_normal(3), rng_draw)

    # the interrupted pass and the restored one continue identically (epoch 0, batches 2 and 3)
    _train_steps(model, opt, batches, 2)
    _train_steps(model2, opt2, iter(loader2), 2)
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_latest_skips_damaged_and_incomplete_checkpoints(tmp_path):
    model, opt, sched, loader = _setup()
    for step in (1, 2, 3):
        save_checkpoint(tmp_path, model=model, optimizer=opt, state=TrainState(step=step), keep=5)
    assert latest_checkpoint(tmp_path).name == "step-00000003.json"
    # a crash between the two files: arrays written, sidecar not
    (tmp_path / "step-00000004.safetensors").write_bytes(b"partial")
    assert latest_checkpoint(tmp_path).name == "step-00000003.json"
    # arrays corrupted after the sidecar was written: the hash no longer matches
    arrays = tmp_path / "step-00000003.safetensors"
    arrays.write_bytes(arrays.read_bytes()[:-10])
    assert latest_checkpoint(tmp_path).name == "step-00000002.json"
    with pytest.raises(ValueError, match="does not match the hash"):
        load_checkpoint(tmp_path / "step-00000003.json", model=model)
    # a garbled sidecar
    (tmp_path / "step-00000002.json").write_text("{not json")
    assert latest_checkpoint(tmp_path).name == "step-00000001.json"
    with pytest.raises(ValueError, match="step-00000002.json is not a valid glassnet checkpoint sidecar"):
        load_checkpoint(tmp_path / "step-00000002.json", model=model)


def test_old_checkpoints_are_pruned(tmp_path):
    model, opt, _, _ = _setup()
    for step in range(1, 6):
        save_checkpoint(tmp_path, model=model, optimizer=opt, state=TrainState(step=step), keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "step-00000004.json", "step-00000004.safetensors", "step-00000005.json", "step-00000005.safetensors"]


def test_checkpoint_of_another_model_names_the_keys(tmp_path):
    model, opt, _, _ = _setup()
    path = save_checkpoint(tmp_path, model=model, optimizer=opt, state=TrainState(step=1))
    other = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    with pytest.raises(Exception, match="1.running_mean|unexpected"):
        load_checkpoint(path, model=other)


def test_sidecar_is_plain_json(tmp_path):
    model, opt, sched, loader = _setup()
    path = save_checkpoint(tmp_path, model=model, optimizer=opt, state=TrainState(step=7), scheduler=sched,
                           loader=loader)
    sidecar = json.loads(path.read_text())
    assert sidecar["state"]["step"] == 7 and sidecar["format"] == "glassnet-checkpoint-2"
