"""The IDX file format of MNIST and Fashion-MNIST, read and written with NumPy.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the values in
C order, big-endian:

    magic = 0x00 0x00 <type code> <number of dimensions>
    type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64

Files may be gzip-compressed (recognised by their first two bytes, 0x1f 0x8b, not by name); they
are decompressed as they are read, never further than the size the header declares (plus one
byte, to see that nothing follows), and that size is bounded (max_bytes) before anything is
allocated. Every inconsistency raises a ValueError naming the file, what was expected and what
was found.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..untrusted import open_regular

IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_GZIP_MAGIC = b"\x1f\x8b"
MAX_BYTES = 1 << 30  # payload a header may declare: MNIST's largest file holds 47 MB, EMNIST's 550 MB
CHUNK = 1 << 20


def _read_idx_stream(stream, name: str, expected_shape, max_bytes: int, hasher, stored: int | None) -> np.ndarray:
    """Decode IDX from `stream` (raw, or gzip decompressing as it is read), reading no more than
    the header says plus one byte: the payload size is computed from the header and bounded
    before anything is allocated, so a gzip bomb stops at its first surplus byte.

    stored: the file's size when it is not compressed (its payload size is known up front).
    """
    magic = stream.read(4)
    if len(magic) < 4:
        raise ValueError(f"{name}: expected an IDX file (at least a 4-byte header), got {len(magic)} bytes")
    if hasher is not None:
        hasher.update(magic)
    zero, code, ndim = magic[:2], magic[2], magic[3]
    if zero != b"\x00\x00" or code not in IDX_TYPES:
        raise ValueError(f"{name}: bad IDX magic number 0x{magic.hex()}: expected 0x0000 followed by a "
                         f"type code in {{{', '.join(f'0x{c:02x}' for c in IDX_TYPES)}}} and the number "
                         f"of dimensions")
    header = 4 + 4 * ndim
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(f"{name}: truncated header: {ndim} dimensions need {header} header bytes, "
                         f"got {4 + len(dims)}")
    if hasher is not None:
        hasher.update(dims)
    shape = struct.unpack(f">{ndim}I", dims)
    if expected_shape is not None:
        expected_shape = tuple(expected_shape)
        if len(shape) != len(expected_shape) or any(e is not None and e != s
                                                    for e, s in zip(expected_shape, shape)):
            want = "(" + ", ".join("*" if e is None else str(e) for e in expected_shape) + ")"
            raise ValueError(f"{name}: expected an array of shape {want}, the header says {shape}")
    dtype = IDX_TYPES[code]
    payload = math.prod(shape) * dtype.itemsize  # Python ints: 255 dimensions of 2**32 - 1 do not overflow
    if payload > max_bytes:
        raise ValueError(f"{name}: the header's shape {shape} of {dtype.name} needs {payload:,} bytes, more "
                         f"than the {max_bytes:,} allowed (max_bytes)")
    if stored is not None and stored != header + payload:
        what = "truncated" if stored < header + payload else "has trailing bytes"
        raise ValueError(f"{name}: file {what}: shape {shape} of {dtype.name} needs {header + payload} bytes, "
                         f"found {stored}")
    data = np.empty(payload // dtype.itemsize, dtype=dtype)
    view = memoryview(data.view(np.uint8))  # (payload,) bytes, filled in place
    filled = 0
    while filled < payload:
        n = stream.readinto(view[filled:filled + CHUNK])
        if not n:
            raise ValueError(f"{name}: truncated: shape {shape} of {dtype.name} needs {header + payload} bytes "
                             f"of content, found {header + filled}")
        if hasher is not None:
            hasher.update(view[filled:filled + n])
        filled += n
    if stream.read(1):  # one byte more is enough to know; reading on is what a gzip bomb wants
        raise ValueError(f"{name}: has trailing bytes: shape {shape} of {dtype.name} needs {header + payload} "
                         f"bytes of content, found more")
    native = data.dtype.newbyteorder("=")
    if native != data.dtype:  # swap in place, no copy
        data = data.byteswap(inplace=True).view(native)
    return data.reshape(shape)


def read_idx(path, expected_shape=None, *, max_bytes: int = MAX_BYTES, hasher=None) -> np.ndarray:
    """Read an IDX file (raw or gzipped) into a writeable array of native byte order.

    expected_shape: a tuple whose entries are ints or None (any size), e.g. (None, 28, 28) for
    images; a mismatch in the number of dimensions or a size raises ValueError.
    max_bytes: the most payload bytes the header may declare (checked before allocating).
    hasher: a hashlib object updated with the uncompressed content as it is read.

    A gzip file is decompressed as it is read, never further than its header's size plus one
    byte, whatever the compressed stream holds.

    Returns an array of the header's shape and type (uint8 for MNIST's images and labels).

    Examples:
        >>> import numpy as np, pathlib, tempfile
        >>> from glassnet.data import read_idx, write_idx
        >>> images = np.arange(18, dtype=np.uint8).reshape(2, 3, 3)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = write_idx(pathlib.Path(folder) / "images-idx3-ubyte.gz", images)
        ...     back = read_idx(path, expected_shape=(None, 3, 3))
        ...     try:
        ...         read_idx(path, expected_shape=(None, 28, 28))
        ...     except ValueError as err:
        ...         print(str(err).split(": ", 1)[1])       # after the file name
        expected an array of shape (*, 28, 28), the header says (2, 3, 3)
        >>> back.shape, back.dtype, bool((back == images).all())
        ((2, 3, 3), dtype('uint8'), True)
    """
    path = Path(path)
    with open_regular(path, "IDX file") as f:
        compressed = f.read(2) == _GZIP_MAGIC
        f.seek(0)
        try:
            if not compressed:
                return _read_idx_stream(f, str(path), expected_shape, max_bytes, hasher, os.fstat(f.fileno()).st_size)
            with gzip.GzipFile(fileobj=f, mode="rb") as stream:  # read(n) decompresses at most n bytes
                return _read_idx_stream(stream, str(path), expected_shape, max_bytes, hasher, None)
        except EOFError as err:
            raise ValueError(f"{path}: gzip stream is truncated ({os.fstat(f.fileno()).st_size} compressed "
                             f"bytes): the file is incomplete; delete it and get it again") from err
        except (OSError, zlib.error) as err:  # BadGzipFile is an OSError
            if not compressed:
                raise
            raise ValueError(f"{path}: not a valid gzip file ({err}); delete it and get it again") from err


def parse_idx(buf: bytes, name: str = "<bytes>", expected_shape=None, *, max_bytes: int = MAX_BYTES) -> np.ndarray:
    """Decode IDX bytes (not compressed) into an array; see `read_idx`.

    name: how errors name the data (a file name, say).

    Examples:
        >>> import numpy as np
        >>> from glassnet.data.idx import parse_idx, to_idx_bytes
        >>> data = to_idx_bytes(np.array([1, 2, 3], np.uint8))
        >>> parse_idx(data).tolist()
        [1, 2, 3]
        >>> parse_idx(data[:-1], "labels.idx")
        Traceback (most recent call last):
        ...
        ValueError: labels.idx: file truncated: shape (3,) of uint8 needs 11 bytes, found 10
    """
    return _read_idx_stream(io.BytesIO(buf), name, expected_shape, max_bytes, None, len(buf))


def to_idx_bytes(array) -> bytes:
    """Encode an array as IDX bytes (the inverse of `parse_idx`).

    The dtype must be uint8, int8, int16, int32, float32 or float64; values are written big-endian.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data.idx import to_idx_bytes
        >>> to_idx_bytes(np.array([1, 2, 3], np.uint8)).hex(" ")   # magic, size 3, then the values
        '00 00 08 01 00 00 00 03 01 02 03'
    """
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
    """Write `array` as an IDX file; gzip-compressed when `compress` (default: name ends in .gz).

    The array's dtype must be one of the IDX types (uint8, int8, int16, int32, float32, float64);
    the file is written next to `path` and renamed onto it, so `path` is never half-written.
    Returns `path`.

    Examples:
        >>> import numpy as np, pathlib, tempfile
        >>> from glassnet.data import write_idx
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = write_idx(pathlib.Path(folder) / "images-idx3-ubyte", np.zeros((2, 3, 3), np.uint8))
        ...     header = path.read_bytes()[:16]
        >>> header.hex(" ")     # magic 0 0 <uint8> <3 dims>, then the sizes 2, 3, 3 as big-endian uint32
        '00 00 08 03 00 00 00 02 00 00 00 03 00 00 00 03'
    """
    path = Path(path)
    data = to_idx_bytes(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path
