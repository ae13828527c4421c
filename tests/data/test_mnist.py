import gzip
import hashlib
import socket
from pathlib import Path

import numpy as np
import pytest

from glassnet.data import DataLoader
from glassnet.data.idx import read_idx, to_idx_bytes
from glassnet.data.mnist import MNIST, FashionMNIST, FileInfo

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def tiny_split(seed):
    """Small stand-ins for the four files: (name -> uncompressed IDX bytes)."""
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": rng.integers(0, 10, 12, dtype=np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, 4, dtype=np.uint8)}
    return {k: to_idx_bytes(v) for k, v in arrays.items()}


def tiny_class(raw, mirrors=(), base=FashionMNIST):
    """A FashionMNIST that expects the tiny files (their sizes and checksums) and no system dir."""
    files = {name: FileInfo(hashlib.sha256(gzip.compress(raw[name], mtime=0)).hexdigest(),
                            hashlib.sha256(raw[name]).hexdigest(), len(gzip.compress(raw[name], mtime=0)))
             for name in NAMES}
    return type("TinyFashion", (base,), {"files": files, "sizes": {"train": 12, "t10k": 4},
                                         "system_dirs": [], "mirrors": list(mirrors),
                                         "backoff": 0.0})


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No $GLASSNET_DATA, an empty user cache."""
    monkeypatch.delenv("GLASSNET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"


def test_offline_without_files_says_how_to_get_them(isolated, monkeypatch):
    monkeypatch.setattr(FashionMNIST, "system_dirs", [str(isolated / "nowhere")])
    monkeypatch.setattr(FashionMNIST, "mirrors", [closed_port_url()])
    monkeypatch.setattr(FashionMNIST, "backoff", 0.0)
    with pytest.raises(FileNotFoundError) as info:
        FashionMNIST(train=False)
    msg = str(info.value)
    assert "Fashion-MNIST file t10k-images-idx3-ubyte.gz was not found" in msg
    assert str(isolated / "cache" / "glassnet" / "fashion-mnist") in msg  # where it looked
    assert "could not download" in msg and "127.0.0.1" in msg           # why downloading failed
    assert "sudo apt-get install dataset-fashion-mnist" in msg
    assert "set GLASSNET_DATA" in msg
    assert "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/" in msg
    with pytest.raises(FileNotFoundError, match=r"(?s)download=False.*yann.lecun.com"):
        MNIST(train=False, download=False)


@pytest.mark.parametrize("compressed", [True, False])
def test_loads_from_glassnet_data(isolated, monkeypatch, compressed):
    raw = tiny_split(0)
    folder = isolated / "data" / "fashion-mnist"
    folder.mkdir(parents=True)
    for name, data in raw.items():
        (folder / (name + ".gz" if compressed else name)).write_bytes(gzip.compress(data) if compressed else data)
    monkeypatch.setenv("GLASSNET_DATA", str(isolated / "data"))
    ds = tiny_class(raw)(train=True, download=False)
    images = read_idx(folder / ("train-images-idx3-ubyte" + (".gz" if compressed else "")))
    assert len(ds) == 12 and ds.data.dtype == np.uint8
    x, y = ds[3]
    assert x.shape == (1, 28, 28) and x.dtype == np.float32
    np.testing.assert_allclose(x[0], images[3] / 255, rtol=1e-6)
    xb, yb = next(iter(DataLoader(ds, batch_size=5)))
    assert xb.shape == (5, 1, 28, 28) and xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(yb.data, ds.targets[:5])


def test_skips_files_of_another_dataset_and_rejects_damaged_ones(isolated, monkeypatch):
    right, other = tiny_split(0), tiny_split(1)
    env_dir = isolated / "env"
    env_dir.mkdir()
    for name in NAMES:  # same names, other content, found first ($GLASSNET_DATA itself) ...
        (env_dir / name).write_bytes(other[name])
    cache = isolated / "cache" / "glassnet" / "fashion-mnist"
    cache.mkdir(parents=True)
    for name in NAMES:  # ... and the right ones later in the search order
        (cache / name).write_bytes(right[name])
    monkeypatch.setenv("GLASSNET_DATA", str(env_dir))
    cls = tiny_class(right)
    ds = cls(train=False, download=False)
    np.testing.assert_array_equal(ds.targets, read_idx(cache / "t10k-labels-idx1-ubyte"))
    for name in NAMES:
        (cache / name).unlink()
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte: the uncompressed content has SHA-256 [0-9a-f]{64}, "
                                         r"expected [0-9a-f]{64} \(the original Fashion-MNIST"):
        cls(train=False, download=False)


def test_downloads_from_mirror_into_root(isolated, http_server):
    raw = tiny_split(2)
    for name in NAMES:
        http_server.files[f"/fashion/{name}.gz"] = gzip.compress(raw[name], mtime=0)
    cls = tiny_class(raw, mirrors=[closed_port_url(), http_server.url + "/fashion/"])
    ds = cls(root=isolated / "root", train=False)
    assert sorted(p.name for p in (isolated / "root" / "fashion-mnist").iterdir()) == [
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    np.testing.assert_array_equal(ds.data, np.frombuffer(raw["t10k-images-idx3-ubyte"], np.uint8, offset=16).reshape(4, 28, 28))
    # found locally the second time: no new request
    before = len(http_server.requests)
    cls(root=isolated / "root", train=False)
    assert len(http_server.requests) == before


def test_download_with_wrong_checksum_reports_it(isolated, http_server):
    raw = tiny_split(3)
    for name in NAMES:
        http_server.files[f"/fashion/{name}.gz"] = gzip.compress(raw[name][:-1] + b"\x07", mtime=0)
    cls = tiny_class(raw, mirrors=[http_server.url + "/fashion/"])
    with pytest.raises(FileNotFoundError, match=r"(?s)SHA-256 mismatch.*apt-get install dataset-fashion-mnist"):
        cls(root=isolated / "root", train=False)
    assert not any((isolated / "root" / "fashion-mnist").iterdir())


@pytest.mark.skipif(not (DEBIAN_DIR / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="Debian package dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)")
def test_fashion_mnist_from_debian_files(isolated):
    test = FashionMNIST(train=False, download=False)  # verifies the published uncompressed SHA-256
    assert test.data.shape == (10000, 28, 28) and test.data.dtype == np.uint8
    assert np.bincount(test.targets).tolist() == [1000] * 10
    assert test.targets[:5].tolist() == [9, 2, 1, 1, 6]  # ankle boot, pullover, trouser, trouser, shirt
    x, y = test[0]
    assert x.shape == (1, 28, 28) and 0 <= x.min() and x.max() <= 1 and y == 9
    assert FashionMNIST.classes[y] == "Ankle boot"
    train_labels = read_idx(DEBIAN_DIR / "train-labels-idx1-ubyte.gz", expected_shape=(60000,))
    assert np.bincount(train_labels).tolist() == [6000] * 10
