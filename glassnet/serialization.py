"""Save and load a state_dict as a safetensors file: plain arrays and a JSON header, never code.

    glassnet.serialization.save(model.state_dict(), "model.safetensors")
    model.load_state_dict(glassnet.serialization.load("model.safetensors"))

A file written by save() is readable by any safetensors reader (safetensors.torch.load_file
gives PyTorch tensors with the same keys). Loading never unpickles anything, so a file from an
untrusted source can at worst hold wrong numbers.

The write is atomic: the bytes go to a temporary file in the same directory, are fsync'ed, and
the temporary file is renamed over the target (os.replace), so a crash mid-write leaves either
the old file or the new one, never a truncated mix.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np
import safetensors
import safetensors.numpy

from .tensor import Tensor

_ORDER_KEY = "glassnet.key_order"  # safetensors sorts entries; we keep the state_dict's order


def _to_array(key: str, value) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.data
    if not isinstance(value, np.ndarray):
        if isinstance(value, (int, float, bool, np.number)):
            value = np.asarray(value)
        else:
            raise TypeError(f"save() stores arrays only: state_dict[{key!r}] is a {type(value).__name__}")
    # not np.ascontiguousarray: it turns a 0-d array (num_batches_tracked) into shape (1,)
    return value if value.flags.c_contiguous else value.copy(order="C")


def save(state_dict: Mapping, path: str | os.PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Write a flat {name: ndarray or Tensor} mapping to `path` as safetensors, atomically.

    metadata: optional extra str -> str pairs stored in the header (e.g. the model's name).
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"save() expects a mapping of names to arrays, got {type(state_dict).__name__}")
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"state_dict keys must be strings, got {key!r}")
        arrays[key] = _to_array(key, value)
    header = {str(k): str(v) for k, v in (metadata or {}).items()}
    header[_ORDER_KEY] = json.dumps(list(arrays))
    data = safetensors.numpy.save(arrays, metadata=header)

    atomic_write_bytes(path, data)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves either the old file or the new one.

    The bytes go to a temporary file in the same directory, are fsync'ed, and the temporary file
    is renamed over the target (os.replace is atomic on POSIX and Windows).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable (not possible on every platform)
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _header(data: bytes) -> dict:
    """The JSON header of a safetensors file: an 8-byte little-endian length, then the JSON."""
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + n])


def load(path: str | os.PathLike) -> OrderedDict:
    """Read a state_dict written by save() (or any safetensors file) into {name: ndarray}, in the
    order it was saved. A corrupt or truncated file raises ValueError naming the file."""
    path = os.fspath(path)
    with open(path, "rb") as f:  # FileNotFoundError passes through unchanged
        data = f.read()
    try:
        arrays = safetensors.numpy.load(data)
        metadata = _header(data).get("__metadata__") or {}
    except (safetensors.SafetensorError, ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not a valid safetensors file ({len(data)} bytes; corrupt or "
                         f"truncated?): {error}") from None
    order = json.loads(metadata.get(_ORDER_KEY, "[]"))
    if sorted(order) != sorted(arrays):
        order = list(arrays)
    return OrderedDict((k, arrays[k]) for k in order)


def load_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The str -> str metadata stored by save(metadata=...)."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(8)
        try:
            n = int.from_bytes(head, "little")
            if len(head) != 8 or n > os.path.getsize(path):
                raise ValueError("header length exceeds the file")
            metadata = json.loads(f.read(n)).get("__metadata__") or {}
        except (ValueError, UnicodeDecodeError, AttributeError) as error:
            raise ValueError(f"{path} is not a valid safetensors file: {error}") from None
    return {k: v for k, v in metadata.items() if k != _ORDER_KEY}


__all__ = ["save", "load", "load_metadata", "atomic_write_bytes"]
