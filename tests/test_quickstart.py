"""examples/quickstart.py: the IDX reader, the generated shapes and a tiny end-to-end run."""

import gzip
import importlib.util
import os

import numpy as np
import pytest

_PATH = os.path.join(os.path.dirname(__file__), "..", "examples", "quickstart.py")
_spec = importlib.util.spec_from_file_location("quickstart", _PATH)
quickstart = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(quickstart)


def _write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_read_idx_round_trip_and_truncation(tmp_path):
    images = np.arange(2 * 3 * 4).reshape(2, 3, 4) % 256
    _write_idx(tmp_path / "x.gz", images)
    np.testing.assert_array_equal(quickstart.read_idx(str(tmp_path / "x.gz")), images)
    with gzip.open(tmp_path / "bad.gz", "wb") as f:
        f.write(bytes([0, 0, 0x08, 1]) + (10).to_bytes(4, "big") + bytes(5))
    with pytest.raises(ValueError, match=r"header says \(10,\) but the file holds 5 values"):
        quickstart.read_idx(str(tmp_path / "bad.gz"))


def test_shapes_are_labelled_and_distinct():
    x, y = quickstart.make_shapes(200, np.random.default_rng(0))
    assert x.shape == (200, 1, 28, 28) and x.dtype == np.float32 and set(y) == set(range(5))
    # class means differ (the shapes are really drawn): squares are brighter on average than lines
    assert x[y == 0].mean() > x[y == 4].mean() + 0.05


def test_tiny_run_on_generated_data(tmp_path, capsys):
    assert quickstart.main(["--data", str(tmp_path), "--epochs", "1", "--train-samples", "256",
                            "--batch-size", "32"]) == 0
    out = capsys.readouterr().out
    assert "using generated shapes" in out and "epoch 1/1: train loss" in out
    accuracy = float(out.strip().splitlines()[-1].split("test accuracy: ")[1].split()[0])
    assert 0.0 <= accuracy <= 1.0


def test_fashion_mnist_files_are_found_and_used(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for name, n in (("train", 128), ("t10k", 64)):
        _write_idx(tmp_path / f"{name}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(tmp_path / f"{name}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))
    quickstart.main(["--data", str(tmp_path), "--epochs", "1", "--train-samples", "64", "--batch-size", "32"])
    out = capsys.readouterr().out
    assert "data: Fashion-MNIST from" in out and "on 64 images" in out
