"""Save and load a state_dict as a safetensors file: plain arrays and a JSON header, never code.

    glassnet.serialization.save(model.state_dict(), "model.safetensors")
    model.load_state_dict(glassnet.serialization.load("model.safetensors"))

The safetensors format is small enough to be read and written here in full:

    8 bytes    N, the length of the header, little-endian
    N bytes    JSON, padded with spaces: {"__metadata__": {str: str, ...},
               "<name>": {"dtype": "F32", "shape": [4, 1, 3, 3], "data_offsets": [begin, end]}, ...}
    the rest   the tensors' bytes, little-endian, C order, one after another without gaps;
               data_offsets count from the start of this section

A file written by save() is readable by any safetensors reader (safetensors.torch.load_file gives
PyTorch tensors with the same keys), and load() reads theirs. Doing it here rather than through
the safetensors package keeps three promises the package does not:

- the same state_dict and metadata give the same bytes (the package writes the metadata in a
  different order on each run), so a file comparison tells equal weights apart;
- load() reads each tensor straight into its array, so a file is never held in memory twice
  (the package's NumPy loader wants the whole file as one bytes object first);
- every field of a file from outside is checked before anything is allocated, and a broken file
  raises InvalidFileError naming the file, the field, what was expected and what was found.

Loading never unpickles anything, so a file from an untrusted source can at worst hold wrong
numbers; check_weights() refuses those no model can use (NaN, infinities, booleans), and
check_model_metadata() the header fields `glassnet train` writes.

The write is atomic: the bytes go to a temporary file in the same directory, are fsync'ed, and
the temporary file is renamed over the target (os.replace), so a crash mid-write leaves either
the old file or the new one, never a truncated mix.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections import OrderedDict
from collections.abc import Iterable, Mapping

import numpy as np

from .tensor import Tensor
from .untrusted import InvalidFileError, brief, loads_json, open_regular

KIND = "safetensors file"
WEIGHTS_KIND = "glassnet weights file"
_ORDER_KEY = "glassnet.key_order"  # tensors are stored by dtype size and name; this keeps the state_dict's order
_META = "__metadata__"

# safetensors dtype -> the NumPy dtype of its stored bytes. BF16 has no NumPy dtype: its 16 bits
# are read as uint16 and widened to float32 (the upper half of a float32 is a bfloat16).
_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4",
           "I16": "<i2", "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items() if k != "BF16"}

MAX_HEADER_BYTES = 100_000_000  # the limit of the reference (Rust) reader
MAX_NDIM = 32
MAX_DIM = 1 << 40               # a dimension of an empty tensor is not bounded by the file's size
MAX_CLASSES = 100_000
MAX_INPUT_ELEMENTS = 1 << 24    # one input sample: 16.7 M values (64 MiB of float32); 3x1024x1024 is 3.1 M


# ---- writing -------------------------------------------------------------------------------

def _to_array(key: str, value) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.data
    if not isinstance(value, np.ndarray):
        if isinstance(value, (int, float, bool, np.number)):
            value = np.asarray(value)
        else:
            raise TypeError(f"save() stores arrays only: state_dict[{key!r}] is a {type(value).__name__}")
    little = value.dtype.newbyteorder("<")
    if little not in _NAMES:
        raise TypeError(f"save() stores float, int, uint and bool arrays: state_dict[{key!r}] has dtype {value.dtype}")
    # not np.ascontiguousarray: it turns a 0-d array (num_batches_tracked) into shape (1,)
    value = value.astype(little, copy=False)
    return value if value.flags.c_contiguous else value.copy(order="C")


def _encode_header(arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> bytes:
    """The length prefix and the JSON header for `arrays`, whose bytes follow in the given order."""
    header: dict = {_META: {k: metadata[k] for k in sorted(metadata)}} if metadata else {}
    offset = 0
    for key, array in arrays.items():
        header[key] = {"dtype": _NAMES[array.dtype], "shape": list(array.shape),
                       "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data section starts 8-byte aligned, as in the reference writer
    return len(text).to_bytes(8, "little") + text


def save(state_dict: Mapping, path: str | os.PathLike, metadata: Mapping[str, str] | None = None) -> None:
    """Write a flat {name: ndarray or Tensor} mapping to `path` as safetensors, atomically.

    metadata: optional extra str -> str pairs stored in the header (e.g. the model's name).
    The same arrays and metadata always give the same bytes.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"save() expects a mapping of names to arrays, got {type(state_dict).__name__}")
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"state_dict keys must be strings, got {key!r}")
        if key == _META:
            raise ValueError(f"{_META!r} is reserved by the safetensors format and cannot name an array")
        arrays[key] = _to_array(key, value)
    header = {str(k): str(v) for k, v in (metadata or {}).items()}
    header[_ORDER_KEY] = json.dumps(list(arrays))
    # largest items first, then by name: every tensor starts aligned to its item size
    stored = {k: arrays[k] for k in sorted(arrays, key=lambda k: (-arrays[k].itemsize, k))}
    chunks = [_encode_header(stored, header)]
    chunks += [a.reshape(-1).view(np.uint8) for a in stored.values()]  # views: no copy of the data
    _atomic_write(path, chunks)


def _atomic_write(path: str | os.PathLike, chunks: Iterable) -> None:
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
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


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves either the old file or the new one.

    The bytes go to a temporary file in the same directory, are fsync'ed, and the temporary file
    is renamed over the target (os.replace is atomic on POSIX and Windows).
    """
    _atomic_write(path, [data])


# ---- reading: every field checked before anything is allocated -----------------------------

def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not a size


def _read_header(f, path: str, size: int) -> tuple[dict, int]:
    """(the parsed JSON header, where the data section starts)."""
    prefix = f.read(8)
    if len(prefix) < 8:
        raise InvalidFileError(path, KIND, f"the file has {size} bytes, fewer than the 8 of the header length")
    n = int.from_bytes(prefix, "little")
    if n > min(size - 8, MAX_HEADER_BYTES):
        raise InvalidFileError(path, KIND, f"the header length says {n} bytes, but "
                               + (f"the file has only {size - 8} after it (truncated?)" if n > size - 8
                                  else f"at most {MAX_HEADER_BYTES} are allowed"))
    header = loads_json(f.read(n), path, KIND)
    if not isinstance(header, dict):
        raise InvalidFileError(path, KIND, f"the header is a JSON {type(header).__name__}, expected an object")
    return header, 8 + n


def _check_entry(path: str, name: str, entry) -> tuple[str, tuple[int, ...], int, int]:
    """One tensor's header entry -> (dtype name, shape, begin, end), or InvalidFileError."""
    def bad(field, expected, found):
        return InvalidFileError(path, KIND, f"tensor {name!r}: field {field!r}: expected {expected}, found {brief(found)}")

    fields = ("dtype", "shape", "data_offsets")
    if not isinstance(entry, dict) or sorted(entry) != sorted(fields):
        found = sorted(entry) if isinstance(entry, dict) else entry
        raise InvalidFileError(path, KIND, f"tensor {name!r}: expected an object with exactly the fields "
                                           f"dtype, shape and data_offsets, found {brief(found)}")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in _DTYPES:
        raise bad("dtype", "one of " + ", ".join(_DTYPES), dtype)
    if not (isinstance(shape, list) and len(shape) <= MAX_NDIM
            and all(_is_int(d) and 0 <= d <= MAX_DIM for d in shape)):
        raise bad("shape", f"a list of at most {MAX_NDIM} sizes in [0, 2**40]", shape)
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)
            and 0 <= offsets[0] <= offsets[1]):
        raise bad("data_offsets", "[begin, end] with 0 <= begin <= end", offsets)
    needed = math.prod(shape) * np.dtype(_DTYPES[dtype]).itemsize  # Python ints: no overflow
    if needed != offsets[1] - offsets[0]:
        raise bad("data_offsets", f"{needed} bytes for shape {shape} of {dtype}", offsets)
    return dtype, tuple(shape), offsets[0], offsets[1]


def _check_header(path: str, header: dict, data_bytes: int) -> tuple[list, dict]:
    """([(name, dtype, shape, begin, end)] in file order, metadata), or InvalidFileError."""
    metadata = header.get(_META)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise InvalidFileError(path, KIND, f"field {_META!r}: expected an object of strings, found a "
                                           f"{type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(value, str):
            raise InvalidFileError(path, KIND, f"field '{_META}.{key}': expected a string, found {brief(value)}")
    entries = sorted(((name, *_check_entry(path, name, entry)) for name, entry in header.items() if name != _META),
                     key=lambda e: (e[3], e[4]))
    position = 0
    for name, _, _, begin, end in entries:
        if begin != position:
            raise InvalidFileError(path, KIND, f"tensor {name!r} starts at byte {begin} of the data, expected "
                                               f"{position}: tensors follow one another without gaps or overlaps")
        position = end
    if position != data_bytes:
        raise InvalidFileError(path, KIND, f"the tensors take {position} bytes of data, the file holds "
                                           f"{data_bytes}" + (" (truncated?)" if position > data_bytes else ""))
    return entries, metadata


def _key_order(path: str, metadata: dict, names: list[str]) -> list[str]:
    """The state_dict order recorded by save(); a file from elsewhere keeps its header's order."""
    if _ORDER_KEY not in metadata:
        return names
    order = loads_json(metadata[_ORDER_KEY], path, KIND, f"{_META}.{_ORDER_KEY}")
    if not (isinstance(order, list) and all(isinstance(k, str) for k in order) and sorted(order) == sorted(names)):
        raise InvalidFileError(path, KIND, f"field '{_META}.{_ORDER_KEY}': expected a JSON list of the file's "
                                           f"{len(names)} tensor names, found {brief(metadata[_ORDER_KEY])}")
    return order


def _read_tensor(f, path: str, name: str, dtype: str, shape: tuple[int, ...], nbytes: int) -> np.ndarray:
    array = np.empty(shape, dtype=_DTYPES[dtype])
    if f.readinto(array.reshape(-1).view(np.uint8)) != nbytes:
        raise InvalidFileError(path, KIND, f"tensor {name!r}: the file ended inside its data (changed while read?)")
    if dtype == "BF16":  # exact: every bfloat16 is a float32 with 16 zero bits below
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array.astype(array.dtype.newbyteorder("="), copy=False)  # a copy only on big-endian machines


def _open(path) -> tuple:
    """(open file, path as str, the checked header entries, metadata, data start)."""
    path = os.fspath(path)
    f = open_regular(path, KIND)
    try:
        size = os.fstat(f.fileno()).st_size
        header, start = _read_header(f, path, size)
        entries, metadata = _check_header(path, header, size - start)
        return f, path, entries, metadata, start
    except BaseException:
        f.close()
        raise


def load(path: str | os.PathLike) -> OrderedDict:
    """Read a state_dict written by save() (or any safetensors file) into {name: ndarray}, in the
    order it was saved. Arrays keep their stored dtype, except BF16, which NumPy lacks and which
    becomes float32 (exactly). A broken file raises InvalidFileError (a ValueError) naming the file
    and what is wrong; FileNotFoundError passes through."""
    f, path, entries, metadata, start = _open(path)
    with f:
        order = _key_order(path, metadata, [e[0] for e in entries])
        f.seek(start)
        arrays = {name: _read_tensor(f, path, name, dtype, shape, end - begin)
                  for name, dtype, shape, begin, end in entries}  # in file order: one pass, no seeks
    return OrderedDict((k, arrays[k]) for k in order)


def load_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The str -> str metadata stored by save(metadata=...); the whole header is checked."""
    f, path, entries, metadata, _ = _open(path)
    f.close()
    _key_order(path, metadata, [e[0] for e in entries])
    return {k: v for k, v in metadata.items() if k != _ORDER_KEY}


# ---- what a trained model's file must hold -------------------------------------------------

def check_model_metadata(metadata: Mapping[str, str], path) -> dict:
    """The header fields `glassnet train` writes, parsed and checked:
    {"model": str, "classes": [str, ...], "input_shape": [int, ...] or None, "dataset": str or None}.

    `input_shape` (one sample, (C, *spatial)) is bounded here, before anything of that shape is
    allocated. A missing or malformed field raises InvalidFileError naming `path` and the field.
    """
    def bad(field, expected, found):
        return InvalidFileError(path, WEIGHTS_KIND, f"field {field!r}: expected {expected}, found {brief(found)}")

    model = metadata.get("model")
    if model is None:
        raise InvalidFileError(path, WEIGHTS_KIND, "the header has no field 'model' (the model's name): "
                                                   "it was not written by `glassnet train`")
    if not (0 < len(model) <= 100 and model.isprintable()):
        raise bad("model", "a model name (1 to 100 printable characters)", model)
    if "classes" not in metadata:
        raise InvalidFileError(path, WEIGHTS_KIND, "the header has no field 'classes' (the class names)")
    classes = loads_json(metadata["classes"], path, WEIGHTS_KIND, "classes")
    if not (isinstance(classes, list) and 0 < len(classes) <= MAX_CLASSES
            and all(isinstance(c, str) for c in classes)):
        raise bad("classes", f"a JSON list of 1 to {MAX_CLASSES} class names (strings)", metadata["classes"])
    input_shape = None
    if "input_shape" in metadata:
        input_shape = loads_json(metadata["input_shape"], path, WEIGHTS_KIND, "input_shape")
        expected = f"a JSON list of 1 to 4 sizes >= 1 (C, *spatial) of at most {MAX_INPUT_ELEMENTS} values in all"
        if not (isinstance(input_shape, list) and 0 < len(input_shape) <= 4
                and all(_is_int(d) and 0 < d <= MAX_INPUT_ELEMENTS for d in input_shape)
                and math.prod(input_shape) <= MAX_INPUT_ELEMENTS):
            raise bad("input_shape", expected, metadata["input_shape"])
    return {"model": model, "classes": classes, "input_shape": input_shape, "dataset": metadata.get("dataset")}


def check_weights(state: Mapping[str, np.ndarray], path) -> OrderedDict:
    """Weights a model can hold: float16 widened to float32 (exactly), float32/float64 and integer
    buffers as they are; bool tensors and NaN or infinite values refused with InvalidFileError
    naming `path` and the tensor."""
    checked = OrderedDict()
    for name, value in state.items():
        if value.dtype.kind == "b":
            raise InvalidFileError(path, WEIGHTS_KIND, f"tensor {name!r} is bool; weights are float "
                                                       "(and counters integer)")
        if value.dtype.kind == "f":
            if value.dtype == np.float16:
                value = value.astype(np.float32)
            finite = np.isfinite(value)
            if not finite.all():
                nan = int(np.isnan(value).sum())
                raise InvalidFileError(path, WEIGHTS_KIND, f"tensor {name!r} holds {nan} NaN and "
                                                           f"{finite.size - int(finite.sum()) - nan} infinite "
                                                           "value(s); weights must be finite")
        checked[name] = value
    return checked


__all__ = ["save", "load", "load_metadata", "atomic_write_bytes", "check_model_metadata", "check_weights",
           "InvalidFileError"]
