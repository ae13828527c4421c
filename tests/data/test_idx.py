import gzip
import struct

import numpy as np
import pytest

from glassnet.data.idx import parse_idx, read_idx, to_idx_bytes, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
def test_round_trip(tmp_path, dtype, name):
    a = (np.random.default_rng(0).standard_normal((5, 3, 4)) * 50).astype(dtype)
    path = write_idx(tmp_path / name, a)
    assert path.read_bytes()[:2] == (b"\x1f\x8b" if name.endswith(".gz") else b"\x00\x00")
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.shape == (5, 3, 4) and b.flags.writeable
    np.testing.assert_array_equal(a, b)


def test_header_layout_is_the_mnist_one():
    # labels file of MNIST: magic 0x00000801, then the count, big-endian
    raw = to_idx_bytes(np.array([7, 2, 1], dtype=np.uint8))
    assert raw == struct.pack(">IIBBB", 0x0801, 3, 7, 2, 1)
    assert parse_idx(b"\x00\x00\x08\x02" + struct.pack(">II", 2, 2) + bytes([1, 2, 3, 4])).tolist() == [[1, 2], [3, 4]]


def test_compression_detected_by_content_not_name(tmp_path):
    a = np.arange(6, dtype=np.uint8)
    path = tmp_path / "plain-name"
    path.write_bytes(gzip.compress(to_idx_bytes(a)))
    np.testing.assert_array_equal(read_idx(path), a)


def test_bad_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x12\x34\x08\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(ValueError, match=r"bad: bad IDX magic number 0x12340801: expected 0x0000"):
        read_idx(path)
    path.write_bytes(b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00")  # unknown type code
    with pytest.raises(ValueError, match="bad IDX magic number 0x00000701"):
        read_idx(path)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="at least a 4-byte header.*got 2 bytes"):
        read_idx(path)


def test_truncated_and_trailing_data(tmp_path):
    raw = to_idx_bytes(np.zeros((10, 28, 28), np.uint8))
    path = tmp_path / "images"
    path.write_bytes(raw[:-100])
    with pytest.raises(ValueError, match=r"images: file truncated: shape \(10, 28, 28\) of uint8 needs 7856 bytes, found 7756"):
        read_idx(path)
    path.write_bytes(raw + b"\x00")
    with pytest.raises(ValueError, match="has trailing bytes.*needs 7856 bytes, found 7857"):
        read_idx(path)
    path.write_bytes(raw[:10])  # cut inside the dimension list
    with pytest.raises(ValueError, match="truncated header: 3 dimensions need 16 header bytes, got 10"):
        read_idx(path)


def test_truncated_and_corrupt_gzip(tmp_path):
    packed = gzip.compress(to_idx_bytes(np.arange(1000, dtype=np.int32)))
    path = tmp_path / "x.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match=r"x.gz: gzip stream is truncated"):
        read_idx(path)
    path.write_bytes(packed[:10] + b"\xff" * 40 + packed[50:])
    with pytest.raises(ValueError, match=r"x.gz: not a valid gzip file"):
        read_idx(path)


def test_wrong_dims(tmp_path):
    path = write_idx(tmp_path / "labels", np.zeros((7, 2), np.uint8))
    with pytest.raises(ValueError, match=r"labels: expected an array of shape \(\*\), the header says \(7, 2\)"):
        read_idx(path, expected_shape=(None,))
    with pytest.raises(ValueError, match=r"expected an array of shape \(7, 3\), the header says \(7, 2\)"):
        read_idx(path, expected_shape=(7, 3))
    assert read_idx(path, expected_shape=(None, 2)).shape == (7, 2)


def test_write_refuses_unsupported_dtype(tmp_path):
    with pytest.raises(ValueError, match="got dtype int64"):
        write_idx(tmp_path / "a", np.zeros(3, np.int64))
