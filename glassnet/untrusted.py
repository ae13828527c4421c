"""Reading files from outside: the error they raise when broken, and JSON with a depth limit.

Anything glassnet reads from disk or the network (weights, checkpoints' sidecars, data files,
images) is treated as untrusted: it is checked field by field, and a broken file raises
`InvalidFileError`, a ValueError whose message names the file, what was expected and what was
found, instead of whatever Python error the bad value would have caused further on.
"""

from __future__ import annotations

import json
import os
import re
import stat

import numpy as np

MAX_JSON_DEPTH = 32  # glassnet's own JSON nests 3-5 levels; Python's parser recurses per level

# A JSON string: quotes around any run of non-quote characters and backslash escapes.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)


class InvalidFileError(ValueError):
    """`path` is not a valid `kind` (e.g. "safetensors file"): `reason` says what was wrong."""

    def __init__(self, path, kind: str, reason: str):
        self.path, self.kind, self.reason = os.fspath(path), kind, reason
        super().__init__(f"{self.path} is not a valid {kind}: {reason}")


def open_regular(path, kind: str):
    """Open `path` for reading in binary mode, refusing anything but a regular file (a FIFO would
    block the reader forever, a device could stream without end)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # FileNotFoundError passes through
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InvalidFileError(path, kind, "not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def brief(value, limit: int = 60) -> str:
    """repr(value), cut to `limit` characters: a message quotes what it found, not all of it."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def json_depth(text: str) -> int:
    """How deeply `text` nests [ and { outside strings (0 for a bare number or string)."""
    skeleton = _JSON_STRING.sub("", text).encode("utf-8")  # brackets never occur inside UTF-8 multibyte chars
    codes = np.frombuffer(skeleton, dtype=np.uint8)
    steps = (np.isin(codes, (ord("["), ord("{"))).astype(np.int64)
             - np.isin(codes, (ord("]"), ord("}"))))
    return int(np.cumsum(steps).max(initial=0))


def loads_json(text: str | bytes, path, kind: str, field: str | None = None, max_depth: int = MAX_JSON_DEPTH):
    """json.loads for text from a file, refusing nesting deeper than `max_depth` before parsing
    (Python's parser recurses once per level and would die with RecursionError), and turning every
    failure into an InvalidFileError naming `path` and, when given, the `field` the text came from."""
    where = f"field {field!r}: " if field else ""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidFileError(path, kind, f"{where}the JSON is not UTF-8 ({error})") from None
    depth = json_depth(text)
    if depth > max_depth:
        raise InvalidFileError(path, kind, f"{where}the JSON nests {depth} levels deep, more than the "
                                           f"{max_depth} allowed")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:  # JSONDecodeError, or an integer of over 4300 digits
        raise InvalidFileError(path, kind, f"{where}expected JSON, found {brief(text)} ({error})") from None


__all__ = ["InvalidFileError", "open_regular", "brief", "loads_json", "json_depth", "MAX_JSON_DEPTH"]
