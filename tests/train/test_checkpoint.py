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


# ---- hostile and damaged run directories --------------------------------------------------

import hashlib  # noqa: E402
import os  # noqa: E402
import threading  # noqa: E402

from glassnet.serialization import load as load_arrays  # noqa: E402
from glassnet.serialization import save as save_arrays  # noqa: E402
from glassnet.train import fit  # noqa: E402
from glassnet.train.checkpoint import CheckpointError, clean_leftovers, find_checkpoint  # noqa: E402


def _three_checkpoints(tmp_path):
    """Checkpoints of steps 1-3 of a real little run (epochs done: 0), keep=5."""
    model, opt, sched, loader = _setup()
    batches = iter(loader)
    for step in (1, 2, 3):
        _train_steps(model, opt, batches, 1)
        save_checkpoint(tmp_path, model=model, optimizer=opt, state=TrainState(step=step), scheduler=sched,
                        loader=loader, config={"epochs": 5}, keep=5)
    return tmp_path / "step-00000003.json"


def _rewrite(path, change, rebind=False):
    """Edit a sidecar's JSON; with rebind, also make its arrays file name the new content and the
    sidecar the new arrays' hash -- a consistent pair, as a careful forger would leave it."""
    sidecar = json.loads(path.read_text())
    change(sidecar)
    if rebind:
        arrays_path = path.with_suffix(".safetensors")
        body = {k: v for k, v in sidecar.items() if k != "sha256"}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        save_arrays(load_arrays(arrays_path), arrays_path, metadata={
            "glassnet.step": str(sidecar["step"]), "glassnet.sidecar_sha256": hashlib.sha256(canonical).hexdigest()})
        sidecar["sha256"] = hashlib.sha256(arrays_path.read_bytes()).hexdigest()
    path.write_text(json.dumps(sidecar))


def _load_into_fresh(path):
    model, opt, sched, loader = _setup(seed=7)
    return load_checkpoint(path, model=model, optimizer=opt, scheduler=sched, loader=loader)


def _set(*keys, value):
    def change(sidecar):
        target = sidecar
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return change


@pytest.mark.parametrize("change, rebind, message", [
    (_set("arrays", value=7), False, r"field 'arrays': expected 'step-00000003.safetensors', found 7"),
    (_set("state", "epoch", value="1"), False, r"field 'state.epoch': expected an int in \[0, 5\], found '1'"),
    (_set("state", "epoch", value=-1), False, r"field 'state.epoch': expected an int in \[0, 5\], found -1"),
    (_set("state", "epoch", value=10 ** 9), False, r"field 'state.epoch': expected an int in \[0, 5\], found 1000000000"),
    (_set("state", "bogus", value=1), False, r"field 'state': expected the fields .* unknown \['bogus'\]"),
    (_set("state", "history", value="abc"), False, r"field 'state.history': expected a list of 0 per-epoch records, found 'abc'"),
    (_set("state", "step", value=2), False, r"field 'state.step': expected the checkpoint's step 3, found 2"),
    (_set("rng", value=[1, 2]), False, r"field 'rng': expected an object, found \[1, 2\]"),
    (_set("rng", "state", "state", value="garbled"), False, r"field 'rng.state.state': expected an int in \[0, \d+\], found 'garbled'"),
    (_set("rng", "bit_generator", value="MT19937"), False, r"field 'rng.bit_generator': expected 'PCG64', found 'MT19937'"),
    (lambda s: s.pop("optimizer"), False, r"field '\(top level\)': .*missing \['optimizer'\]"),
    (lambda s: s.pop("rng"), False, r"field '\(top level\)': .*missing \['rng'\]"),
    (_set("format", value="glassnet-checkpoint-1"), False, r"field 'format': expected 'glassnet-checkpoint-2'"),
    (_set("sha256", value="0" * 63), False, r"field 'sha256': expected 64 hex digits"),
    (_set("config", value={"epochs": [5]}), False, r"field 'config': expected an object of names to numbers"),
    (_set("optimizer", "scalars", value={"0": {"step": "x"}}), False, r"field 'optimizer.scalars'"),
    (_set("optimizer", "param_groups", 0, "lr", value="fast"), True,
     r"field 'optimizer': param_groups\[0\]\['lr'\]: expected a finite number >= 0, found 'fast'"),
    (_set("loader", "batch", value=-3), True,
     r"field 'loader': DataLoader state field 'batch': expected an int in \[0, 4\], found -3"),
    (_set("scheduler", "base_lrs", value=[float("nan")]), True,
     r"field 'scheduler': StepLR state field 'base_lrs': expected a list of 1 finite rates >= 0, found \[nan\]"),
    (_set("scheduler", "optimizer", value={}), True, r"field 'scheduler': StepLR state: expected the fields"),
    (_set("scheduler", "get_lr", value="x"), True, r"field 'scheduler': StepLR state: expected the fields"),
    (_set("state", "epoch", value=1), True, r"field 'state.history': expected a list of 1 per-epoch records"),
])
def test_each_bad_sidecar_field_is_named_with_the_file(tmp_path, change, rebind, message):
    path = _three_checkpoints(tmp_path)
    _rewrite(path, change, rebind)
    with pytest.raises(CheckpointError, match=str(path.name) + ".*" + message):
        _load_into_fresh(path)
    found, rejected = find_checkpoint(tmp_path)
    if not rebind or message.startswith("field 'state"):  # caught when looking for a checkpoint to resume from
        assert found.name == "step-00000002.json" and rejected[0][0] == path


def test_a_sidecar_edited_without_its_arrays_is_refused(tmp_path):
    path = _three_checkpoints(tmp_path)
    _rewrite(path, _set("optimizer", "param_groups", 0, "lr", value=0.5))  # valid, but not what was saved
    with pytest.raises(CheckpointError, match="written for another sidecar"):
        _load_into_fresh(path)


def test_arrays_of_another_step_are_refused(tmp_path):
    path = _three_checkpoints(tmp_path)
    other = tmp_path / "step-00000002.safetensors"
    path.with_suffix(".safetensors").write_bytes(other.read_bytes())
    with pytest.raises(CheckpointError, match="does not match the hash"):
        _load_into_fresh(path)
    _rewrite(path, _set("sha256", value=hashlib.sha256(other.read_bytes()).hexdigest()))  # rehashed
    with pytest.raises(CheckpointError, match=r"written for another sidecar \(step '2' in its header\)"):
        _load_into_fresh(path)


def test_removed_optimizer_arrays_are_refused_not_reset(tmp_path):
    path = _three_checkpoints(tmp_path)
    arrays_path = path.with_suffix(".safetensors")
    from glassnet.serialization import load_metadata
    meta = load_metadata(arrays_path)
    save_arrays({k: v for k, v in load_arrays(arrays_path).items() if not k.startswith("optimizer.")},
                arrays_path, metadata=meta)
    _rewrite(path, _set("sha256", value=hashlib.sha256(arrays_path.read_bytes()).hexdigest()))
    with pytest.raises(CheckpointError, match=r"does not fit this model and optimiser: missing \['optimizer.0.exp_avg'"):
        _load_into_fresh(path)


def test_json_nested_too_deep_is_refused_before_parsing(tmp_path):
    path = _three_checkpoints(tmp_path)
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match=r"step-00000003.json .*nests 100000 levels"):
        _load_into_fresh(path)


def test_a_fifo_in_place_of_the_newest_sidecar_does_not_block(tmp_path):
    path = _three_checkpoints(tmp_path)
    path.unlink()
    os.mkfifo(path)
    result = {}
    worker = threading.Thread(target=lambda: result.update(found=find_checkpoint(tmp_path)), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "reading a FIFO blocked"
    found, rejected = result["found"]
    assert found.name == "step-00000002.json"
    assert rejected == [(path, f"{path}: is not a regular file (a FIFO, device or directory)")]


def test_a_symlink_to_a_file_outside_is_not_followed(tmp_path):
    run = tmp_path / "run"
    path = _three_checkpoints(run)
    outside = tmp_path / "elsewhere.json"
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)
    found, rejected = find_checkpoint(run)
    assert found.name == "step-00000002.json"
    assert "is a symbolic link" in rejected[0][1]
    with pytest.raises(CheckpointError, match="symbolic link"):
        _load_into_fresh(path)


def test_leftovers_of_a_killed_write_or_prune_are_removed_damaged_files_kept(tmp_path):
    _three_checkpoints(tmp_path)
    (tmp_path / ".step-00000004.safetensors.x1y2.tmp").write_bytes(b"half written")
    (tmp_path / "step-00000004.safetensors").write_bytes(b"arrays whose sidecar never came")
    (tmp_path / "step-00000001.json").unlink()  # a prune killed between its two deletions
    (tmp_path / "step-00000002.json").write_text("{damaged")
    assert clean_leftovers(tmp_path) == [".step-00000004.safetensors.x1y2.tmp", "step-00000001.safetensors",
                                         "step-00000004.safetensors"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "step-00000002.json", "step-00000002.safetensors", "step-00000003.json", "step-00000003.safetensors"]


def test_pruning_never_deletes_a_damaged_checkpoint(tmp_path):
    model, opt, sched, loader = _setup()
    save_checkpoint(tmp_path, model=model, optimizer=opt, state=TrainState(step=1))
    (tmp_path / "step-00000001.json").write_text("{damaged")
    for step in (2, 3, 4):
        save_checkpoint(tmp_path, model=model, optimizer=opt, state=TrainState(step=step), keep=2)
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [
        "step-00000001.json", "step-00000003.json", "step-00000004.json"]


def _blobs_run(out, **kwargs):
    rng = np.random.default_rng(0)
    data = TensorDataset(glassnet.tensor(rng.standard_normal((40, 4))), glassnet.tensor(rng.integers(0, 3, 40)))
    glassnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3))
    return fit(model, optim.SGD(model.parameters(), lr=0.1), DataLoader(data, batch_size=10, seed=0), epochs=2,
               out_dir=out, progress=False, log=lambda s: None, **kwargs)


def test_resume_with_only_damaged_checkpoints_is_an_error_naming_each(tmp_path):
    _blobs_run(tmp_path)
    sidecars = sorted((tmp_path / "checkpoints").glob("*.json"))
    for path in sidecars:
        path.write_text('{"format": 1}')
    with pytest.raises(CheckpointError) as error:
        _blobs_run(tmp_path, resume=True)
    for path in sidecars:
        assert f"  {path.name}: {path}: not a valid glassnet checkpoint: field '(top level)'" in str(error.value)
    # "auto" starts over; the damaged files are neither pruned nor overwritten, but set aside
    _blobs_run(tmp_path, resume="auto")
    for path in sidecars:
        assert path.with_name(path.name + ".rejected").read_text() == '{"format": 1}'
    assert latest_checkpoint(tmp_path / "checkpoints").name == "step-00000008.json"


def test_resume_with_nothing_to_resume_says_so(tmp_path):
    with pytest.raises(CheckpointError, match="nothing to resume: .* holds no checkpoint"):
        _blobs_run(tmp_path, resume=True)
    assert len(_blobs_run(tmp_path, resume="auto")) == 2


def test_a_new_run_refuses_a_directory_with_checkpoints(tmp_path):
    _blobs_run(tmp_path)
    with pytest.raises(CheckpointError, match="already holds checkpoints of a run"):
        _blobs_run(tmp_path)
