import gzip
import os
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


# ---- sizes from the header, bounded before anything is allocated ----------------------------

def gzip_bomb(path, header_shape=(10, 28, 28), expands_to=1100 << 20):
    """A gzip file whose IDX header declares `header_shape` of uint8 but whose stream expands to
    `expands_to` bytes: one member with the header, then copies of a member of 64 MiB of zeros
    (a gzip reader joins members), about 1 MB in all."""
    block = 64 << 20
    zeros = gzip.compress(bytes(block), mtime=0)
    head = gzip.compress(to_idx_bytes(np.zeros(header_shape, np.uint8)), mtime=0)
    with open(path, "wb") as f:
        f.write(head)
        for _ in range(expands_to // block + 1):
            f.write(zeros)
    return path


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the address space size from /proc (Linux)")
def test_gzip_bomb_stops_at_the_size_in_its_header_under_a_memory_limit(tmp_path):
    """In a fresh process allowed 768 MiB more address space than it holds after importing
    glassnet: decompressing the whole 1.1 GB stream (as before) dies with MemoryError; reading
    no further than the header's size gives a clean error."""
    import subprocess
    import sys
    path = gzip_bomb(tmp_path / "train-images-idx3-ubyte.gz")
    assert path.stat().st_size < 2 << 20
    code = ("import resource, sys\n"
            "from glassnet.data.idx import read_idx\n"
            "vm = int(open('/proc/self/status').read().split('VmSize:')[1].split()[0]) * 1024\n"
            "resource.setrlimit(resource.RLIMIT_AS, (vm + (768 << 20), resource.RLIM_INFINITY))\n"
            "try:\n"
            "    read_idx(sys.argv[1], expected_shape=(None, 28, 28))\n"
            "except ValueError as error:\n"
            "    print(error)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (f"{path}: has trailing bytes: shape (10, 28, 28) of uint8 needs 7856 bytes of content, found more"
            in proc.stdout)


def test_gzip_bomb_in_a_data_directory_is_rejected_with_its_name(tmp_path, monkeypatch):
    from glassnet.data.mnist import FashionMNIST
    gzip_bomb(tmp_path / "t10k-images-idx3-ubyte.gz", header_shape=(10000, 28, 28), expands_to=200 << 20)
    monkeypatch.setattr(FashionMNIST, "system_dirs", [])
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz: has trailing bytes: shape \(10000, 28, 28\)"):
        FashionMNIST(root=tmp_path, train=False, download=False)


@pytest.mark.parametrize("dims", [(2**32 - 1,) * 3,            # 8e28 bytes: overflows int64
                                  (2**16, 2**16, 2**16, 2**16),  # 2**64: wraps to 0 in int64
                                  (70000, 28, 28, 28)])          # 1.5 GB: fits int64, over max_bytes
def test_header_sizes_are_bounded_before_allocating(tmp_path, dims):
    raw = bytes([0, 0, 0x08, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + bytes(100)
    for path in (tmp_path / "x", tmp_path / "x.gz"):
        path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)
        expected = 1
        for d in dims:
            expected *= d
        with pytest.raises(ValueError, match=rf"{path.name}: the header's shape \({', '.join(map(str, dims))}\) of "
                                             rf"uint8 needs {expected:,} bytes, more than the 1,073,741,824 allowed"):
            read_idx(path)
    with pytest.raises(ValueError, match=r"<bytes>: the header's shape"):
        parse_idx(raw)


def test_max_bytes_can_be_raised_or_lowered(tmp_path):
    path = write_idx(tmp_path / "a.gz", np.zeros((4, 5), np.int16))
    assert read_idx(path, max_bytes=40).shape == (4, 5)
    with pytest.raises(ValueError, match="needs 40 bytes, more than the 39 allowed"):
        read_idx(path, max_bytes=39)


@pytest.mark.parametrize("name", ["a", "a.gz"])
def test_hasher_sees_the_uncompressed_content(tmp_path, name):
    import hashlib
    a = np.arange(1000, dtype=np.int32).reshape(10, 100)
    path = write_idx(tmp_path / name, a)
    hasher = hashlib.sha256()
    np.testing.assert_array_equal(read_idx(path, hasher=hasher), a)
    assert hasher.hexdigest() == hashlib.sha256(to_idx_bytes(a)).hexdigest()


def test_multi_member_gzip_and_big_endian_values(tmp_path):
    a = np.arange(-50, 50, dtype=np.float64).reshape(4, 25)
    raw = to_idx_bytes(a)
    path = tmp_path / "m.gz"
    path.write_bytes(gzip.compress(raw[:30]) + gzip.compress(raw[30:]))  # what `cat a.gz b.gz` makes
    b = read_idx(path)
    np.testing.assert_array_equal(b, a)
    assert b.dtype == np.float64 and b.dtype.isnative and b.flags.writeable
