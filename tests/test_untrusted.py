"""glassnet.untrusted: JSON with a depth limit, regular files only."""

import json
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassnet.untrusted import InvalidFileError, json_depth, loads_json, open_regular

_text = st.text(alphabet=st.sampled_from('[]{}"\\ab \u00e9\n'), max_size=8)
_json = st.recursive(st.none() | st.integers() | _text,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
                     max_leaves=20)


def _depth(value) -> int:
    """The reference: nesting depth of the parsed value."""
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@given(_json)
def test_depth_counts_brackets_outside_strings_only(value):
    assert json_depth(json.dumps(value)) == _depth(value)
    assert json_depth(json.dumps(value, ensure_ascii=False, indent=1)) == _depth(value)


def test_deep_nesting_is_refused_before_parsing():
    text = "[" * 100_000 + "]" * 100_000
    with pytest.raises(InvalidFileError, match=r"f.json is not a valid sidecar: field 'x': the JSON nests 100000 levels deep"):
        loads_json(text, "f.json", "sidecar", "x")
    assert loads_json("[" * 32 + "]" * 32, "f", "sidecar") is not None


@pytest.mark.parametrize("text, message", [
    (b"\xff", "the JSON is not UTF-8"),
    ("{'a': 1}", "expected JSON, found"),
    ("1" * 5000, "expected JSON, found"),  # Python refuses to convert integers of over 4300 digits
])
def test_broken_json_names_the_file(text, message):
    with pytest.raises(InvalidFileError, match="f.json is not a valid sidecar: " + message):
        loads_json(text, "f.json", "sidecar")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_only_regular_files_are_opened(tmp_path):
    (tmp_path / "ok").write_bytes(b"x")
    with open_regular(tmp_path / "ok", "thing") as f:
        assert f.read() == b"x"
    os.mkfifo(tmp_path / "fifo")  # opening it for reading would wait for a writer forever
    with pytest.raises(InvalidFileError, match="fifo is not a valid thing: not a regular file"):
        open_regular(tmp_path / "fifo", "thing")
    with pytest.raises(InvalidFileError, match="not a regular file"):
        open_regular(tmp_path, "thing")
    with pytest.raises(FileNotFoundError):
        open_regular(tmp_path / "missing", "thing")
