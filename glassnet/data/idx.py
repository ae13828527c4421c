"""The IDX file format of MNIST and Fashion-MNIST, read and written with NumPy.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the values in
C order, big-endian:

    magic = 0x00 0x00 <type code> <number of dimensions>
    type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64

Files may be gzip-compressed (recognised by their first two bytes, 0x1f 0x8b, not by name).
Every inconsistency raises a ValueError naming the file, what was expected and what was found.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path) -> bytes:
    """The file's content, decompressed when it is gzip; corrupt gzip -> ValueError."""
    path = Path(path)
    raw = path.read_bytes()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError as err:
        raise ValueError(f"{path}: gzip stream is truncated ({len(raw)} compressed bytes): "
                         f"the file is incomplete; delete it and get it again") from err
    except (OSError, zlib.error) as err:  # BadGzipFile is an OSError
        raise ValueError(f"{path}: not a valid gzip file ({err}); delete it and get it again") from err


def parse_idx(buf: bytes, name: str = "<bytes>", expected_shape=None) -> np.ndarray:
    """Decode IDX bytes into an array of native byte order.

    expected_shape: a tuple whose entries are ints or None (any size), e.g. (None, 28, 28) for
    images; a mismatch in the number of dimensions or a size raises ValueError.
    """
    if len(buf) < 4:
        raise ValueError(f"{name}: expected an IDX file (at least a 4-byte header), got {len(buf)} bytes")
    zero, code, ndim = buf[:2], buf[2], buf[3]
    if zero != b"\x00\x00" or code not in IDX_TYPES:
        raise ValueError(f"{name}: bad IDX magic number 0x{buf[:4].hex()}: expected 0x0000 followed by a "
                         f"type code in {{{', '.join(f'0x{c:02x}' for c in IDX_TYPES)}}} and the number "
                         f"of dimensions")
    header = 4 + 4 * ndim
    if len(buf) < header:
        raise ValueError(f"{name}: truncated header: {ndim} dimensions need {header} header bytes, "
                         f"got {len(buf)}")
    shape = tuple(int(v) for v in np.frombuffer(buf, dtype=">u4", count=ndim, offset=4))
    if expected_shape is not None:
        expected_shape = tuple(expected_shape)
        if len(shape) != len(expected_shape) or any(e is not None and e != s
                                                    for e, s in zip(expected_shape, shape)):
            want = "(" + ", ".join("*" if e is None else str(e) for e in expected_shape) + ")"
            raise ValueError(f"{name}: expected an array of shape {want}, the header says {shape}")
    dtype = IDX_TYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(buf) != expected:
        what = "truncated" if len(buf) < expected else "has trailing bytes"
        raise ValueError(f"{name}: file {what}: shape {shape} of {dtype.name} needs {expected} bytes, "
                         f"found {len(buf)}")
    data = np.frombuffer(buf, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # native byte order, and a writeable copy


def read_idx(path, expected_shape=None) -> np.ndarray:
    """Read an IDX file (raw or gzipped) into an array. See `parse_idx` for `expected_shape`."""
    return parse_idx(read_bytes(path), str(path), expected_shape)


def to_idx_bytes(array) -> bytes:
    """Encode an array as IDX bytes (the inverse of `parse_idx`)."""
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in IDX_TYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(f"IDX stores uint8, int8, int16, int32, float32 or float64, got dtype {array.dtype}")
    if array.ndim > 255:
        raise ValueError(f"IDX stores at most 255 dimensions, got {array.ndim}")
    code = codes[native]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()


def write_idx(path, array, compress: bool | None = None) -> Path:
    """Write `array` as an IDX file; gzip-compressed when `compress` (default: name ends in .gz)."""
    path = Path(path)
    data = to_idx_bytes(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path
