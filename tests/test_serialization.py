"""glassnet.serialization: safetensors round trips, atomic writes, clean errors, no code execution."""

import os

import numpy as np
import pytest
import torch
from safetensors.torch import load_file as torch_load_file
from safetensors.torch import save_file as torch_save_file

import glassnet as gn
from glassnet import serialization


def _state():
    rng = np.random.default_rng(0)
    return {"features.0.weight": rng.standard_normal((4, 1, 3, 3)).astype(np.float32),
            "features.0.bias": rng.standard_normal(4).astype(np.float32),
            "bn.num_batches_tracked": np.array(7, np.int64),  # 0-d stays 0-d
            "a.double": rng.standard_normal((2, 2)),
            "flags": np.array([True, False])}


def test_round_trip_keeps_values_dtypes_shapes_and_order(tmp_path):
    sd = _state()
    path = tmp_path / "m.safetensors"
    serialization.save(sd, path)
    back = serialization.load(path)
    assert list(back) == list(sd)
    for k in sd:
        assert back[k].dtype == sd[k].dtype and back[k].shape == sd[k].shape, k
        np.testing.assert_array_equal(back[k], sd[k])


def test_tensors_and_non_contiguous_arrays_are_saved(tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    serialization.save({"t": gn.tensor(x), "view": x.T}, tmp_path / "f")
    back = serialization.load(tmp_path / "f")
    np.testing.assert_array_equal(back["t"], x)
    np.testing.assert_array_equal(back["view"], x.T)


def test_metadata_round_trip(tmp_path):
    serialization.save({"w": np.zeros(2, np.float32)}, tmp_path / "f", metadata={"model": "lenet5"})
    assert serialization.load_metadata(tmp_path / "f") == {"model": "lenet5"}


def test_files_interoperate_with_pytorch_safetensors(tmp_path):
    sd = _state()
    serialization.save(sd, tmp_path / "ours")
    theirs = torch_load_file(str(tmp_path / "ours"))
    np.testing.assert_array_equal(theirs["features.0.weight"].numpy(), sd["features.0.weight"])
    torch_save_file({"w": torch.ones(2, 3)}, str(tmp_path / "theirs"))
    np.testing.assert_array_equal(serialization.load(tmp_path / "theirs")["w"], np.ones((2, 3), np.float32))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "bad_header"])
def test_corrupt_file_gives_value_error_naming_the_file(tmp_path, damage):
    path = tmp_path / "broken.safetensors"
    serialization.save(_state(), path)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[:-10], "garbage": b"not a safetensors file at all",
                      "empty": b"", "bad_header": data[:8] + b"[" + data[9:]}[damage])
    with pytest.raises(ValueError, match="broken.safetensors is not a valid safetensors file"):
        serialization.load(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        serialization.load(tmp_path / "nope")


def test_pickle_file_is_refused_not_executed(tmp_path):
    import pickle
    marker = tmp_path / "executed"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ValueError, match="evil.pt is not a valid safetensors file"):
        serialization.load(path)
    assert not marker.exists()


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    serialization.save({"w": np.zeros(3, np.float32)}, path)

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        serialization.save({"w": np.ones(3, np.float32)}, path)
    # the old file is intact and the temporary file was removed
    np.testing.assert_array_equal(serialization.load(path)["w"], np.zeros(3, np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]


def test_non_array_values_and_keys_are_refused(tmp_path):
    with pytest.raises(TypeError, match=r"save\(\) stores arrays only: state_dict\['opt'\] is a dict"):
        serialization.save({"opt": {"lr": 0.1}}, tmp_path / "f")
    with pytest.raises(TypeError, match="keys must be strings, got 3"):
        serialization.save({3: np.zeros(1)}, tmp_path / "f")


def test_model_saved_here_runs_identically_in_pytorch(tmp_path):
    from glassnet import nn
    gn.manual_seed(0)
    ours = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2))
    ours(gn.tensor(np.random.default_rng(0).standard_normal((4, 1, 6, 6)).astype(np.float32)))  # move running stats
    ours.eval()
    serialization.save(ours.state_dict(), tmp_path / "m.safetensors")
    T = torch.nn
    theirs = T.Sequential(T.Conv2d(1, 3, 3), T.BatchNorm2d(3), T.ReLU(), T.Flatten(), T.Linear(3 * 4 * 4, 2)).eval()
    theirs.load_state_dict(torch_load_file(str(tmp_path / "m.safetensors")))
    x = np.random.default_rng(1).standard_normal((2, 1, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(ours(gn.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    # and back: a fresh glassnet model loads the file
    fresh = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2))
    fresh.load_state_dict(serialization.load(tmp_path / "m.safetensors"))
    np.testing.assert_array_equal(fresh.eval()(gn.tensor(x)).data, ours(gn.tensor(x)).data)
