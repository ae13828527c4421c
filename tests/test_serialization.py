"""glassnet.serialization: safetensors round trips, atomic writes, clean errors, no code execution."""

import json
import os

import numpy as np
import pytest
import torch
from safetensors.torch import load_file as torch_load_file
from safetensors.torch import save_file as torch_save_file

import glassnet as gn
from glassnet import serialization


def _state():
    rng = np.random.default_rng(0)
    return {"features.0.weight": rng.standard_normal((4, 1, 3, 3)).astype(np.float32),
            "features.0.bias": rng.standard_normal(4).astype(np.float32),
            "bn.num_batches_tracked": np.array(7, np.int64),  # 0-d stays 0-d
            "a.double": rng.standard_normal((2, 2)),
            "flags": np.array([True, False])}


def test_round_trip_keeps_values_dtypes_shapes_and_order(tmp_path):
    sd = _state()
    path = tmp_path / "m.safetensors"
    serialization.save(sd, path)
    back = serialization.load(path)
    assert list(back) == list(sd)
    for k in sd:
        assert back[k].dtype == sd[k].dtype and back[k].shape == sd[k].shape, k
        np.testing.assert_array_equal(back[k], sd[k])


def test_tensors_and_non_contiguous_arrays_are_saved(tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    serialization.save({"t": gn.tensor(x), "view": x.T}, tmp_path / "f")
    back = serialization.load(tmp_path / "f")
    np.testing.assert_array_equal(back["t"], x)
    np.testing.assert_array_equal(back["view"], x.T)


def test_metadata_round_trip(tmp_path):
    serialization.save({"w": np.zeros(2, np.float32)}, tmp_path / "f", metadata={"model": "lenet5"})
    assert serialization.load_metadata(tmp_path / "f") == {"model": "lenet5"}


def test_files_interoperate_with_pytorch_safetensors(tmp_path):
    sd = _state()
    serialization.save(sd, tmp_path / "ours")
    theirs = torch_load_file(str(tmp_path / "ours"))
    np.testing.assert_array_equal(theirs["features.0.weight"].numpy(), sd["features.0.weight"])
    torch_save_file({"w": torch.ones(2, 3)}, str(tmp_path / "theirs"))
    np.testing.assert_array_equal(serialization.load(tmp_path / "theirs")["w"], np.ones((2, 3), np.float32))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "bad_header"])
def test_corrupt_file_gives_value_error_naming_the_file(tmp_path, damage):
    path = tmp_path / "broken.safetensors"
    serialization.save(_state(), path)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[:-10], "garbage": b"not a safetensors file at all",
                      "empty": b"", "bad_header": data[:8] + b"[" + data[9:]}[damage])
    with pytest.raises(ValueError, match="broken.safetensors is not a valid safetensors file"):
        serialization.load(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        serialization.load(tmp_path / "nope")


def test_pickle_file_is_refused_not_executed(tmp_path):
    import pickle
    marker = tmp_path / "executed"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ValueError, match="evil.pt is not a valid safetensors file"):
        serialization.load(path)
    assert not marker.exists()


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    serialization.save({"w": np.zeros(3, np.float32)}, path)

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        serialization.save({"w": np.ones(3, np.float32)}, path)
    # the old file is intact and the temporary file was removed
    np.testing.assert_array_equal(serialization.load(path)["w"], np.zeros(3, np.float32))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]


def test_non_array_values_and_keys_are_refused(tmp_path):
    with pytest.raises(TypeError, match=r"save\(\) stores arrays only: state_dict\['opt'\] is a dict"):
        serialization.save({"opt": {"lr": 0.1}}, tmp_path / "f")
    with pytest.raises(TypeError, match="keys must be strings, got 3"):
        serialization.save({3: np.zeros(1)}, tmp_path / "f")


def test_model_saved_here_runs_identically_in_pytorch(tmp_path):
    from glassnet import nn
    gn.manual_seed(0)
    ours = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2))
    ours(gn.tensor(np.random.default_rng(0).standard_normal((4, 1, 6, 6)).astype(np.float32)))  # move running stats
    ours.eval()
    serialization.save(ours.state_dict(), tmp_path / "m.safetensors")
    T = torch.nn
    theirs = T.Sequential(T.Conv2d(1, 3, 3), T.BatchNorm2d(3), T.ReLU(), T.Flatten(), T.Linear(3 * 4 * 4, 2)).eval()
    theirs.load_state_dict(torch_load_file(str(tmp_path / "m.safetensors")))
    x = np.random.default_rng(1).standard_normal((2, 1, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(ours(gn.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    # and back: a fresh glassnet model loads the file
    fresh = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 2))
    fresh.load_state_dict(serialization.load(tmp_path / "m.safetensors"))
    np.testing.assert_array_equal(fresh.eval()(gn.tensor(x)).data, ours(gn.tensor(x)).data)


# ---- same weights, same bytes ----------------------------------------------------------------

def test_same_weights_give_the_same_bytes_in_every_process(tmp_path):
    import subprocess
    import sys
    meta = {"model": "lenet5", "classes": '["a", "b"]', "input_shape": "[1, 28, 28]", "dataset": "shapes"}
    serialization.save(_state(), tmp_path / "a", metadata=meta)
    serialization.save(_state(), tmp_path / "b", metadata=dict(reversed(meta.items())))  # order given does not matter
    # another interpreter (another hash seed) writes the same file again from what it reads
    code = ("import sys; from glassnet import serialization; "
            "serialization.save(serialization.load(sys.argv[1]), sys.argv[2], serialization.load_metadata(sys.argv[1]))")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "a"), str(tmp_path / "c")], check=True,
                   cwd=os.getcwd(), env={**os.environ, "PYTHONHASHSEED": "7"})
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes() == (tmp_path / "c").read_bytes()
    other = _state()
    other["features.0.bias"][0] += 1
    serialization.save(other, tmp_path / "d", metadata=meta)
    assert (tmp_path / "d").read_bytes() != (tmp_path / "a").read_bytes()


def test_tensors_start_aligned_to_their_item_size(tmp_path):
    sd = {"u8": np.arange(3, dtype=np.uint8), "f64": np.ones(3), "f32": np.ones(1, np.float32), "b": np.ones(5, bool)}
    serialization.save(sd, tmp_path / "f")
    data = (tmp_path / "f").read_bytes()
    n = int.from_bytes(data[:8], "little")
    assert (8 + n) % 8 == 0
    header = json.loads(data[8:8 + n])
    for key, value in sd.items():
        assert header[key]["data_offsets"][0] % value.itemsize == 0, key


# ---- hostile files: a clean error naming the file and the field ------------------------------

def _raw_file(path, header, data=b""):
    """A safetensors file with `header` (a dict, or the JSON text itself) and `data` as given."""
    text = header if isinstance(header, (str, bytes)) else json.dumps(header)
    text = text.encode() if isinstance(text, str) else text
    path.write_bytes(len(text).to_bytes(8, "little") + text + data)
    return path


def _w(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


HOSTILE_HEADERS = {
    # name: (header, data, the message expected after "<file> is not a valid safetensors file: ")
    "key_order not JSON": ({"__metadata__": {"glassnet.key_order": "[w"}, "w": _w()}, bytes(8),
                           r"field '__metadata__.glassnet.key_order': expected JSON, found '\[w'"),
    "key_order a number": ({"__metadata__": {"glassnet.key_order": "5"}, "w": _w()}, bytes(8),
                           r"field '__metadata__.glassnet.key_order': expected a JSON list of the file's 1 tensor names, found '5'"),
    "key_order of other names": ({"__metadata__": {"glassnet.key_order": '["v"]'}, "w": _w()}, bytes(8),
                                 r"""field '__metadata__.glassnet.key_order': expected a JSON list of the file's 1 tensor names, found '\["v"\]'"""),
    "__metadata__ a list": ({"__metadata__": ["a"], "w": _w()}, bytes(8),
                            r"field '__metadata__': expected an object of strings, found a list"),
    "metadata value a number": ({"__metadata__": {"model": 5}, "w": _w()}, bytes(8),
                                r"field '__metadata__.model': expected a string, found 5"),
    "nested 100,000 deep": ("[" * 100_000 + "]" * 100_000, b"", r"the JSON nests 100000 levels deep, more than the 32 allowed"),
    "header a list": ("[1, 2]", b"", r"the header is a JSON list, expected an object"),
    "header not JSON": ("{'w': 1}", b"", r"expected JSON, found"),
    "header not UTF-8": (b'{"\xff": 1}', b"", r"the JSON is not UTF-8"),
    "tensor entry a string": ({"w": "F32"}, b"", r"tensor 'w': expected an object with exactly the fields dtype, shape and data_offsets, found 'F32'"),
    "tensor entry with an extra field": ({"w": {**_w(), "code": "x"}}, bytes(8), r"tensor 'w': expected an object with exactly the fields"),
    "unknown dtype": ({"w": _w(dtype="F8_E4M3", offsets=(0, 2))}, bytes(2), r"tensor 'w': field 'dtype': expected one of F64, F32, .*found 'F8_E4M3'"),
    "shape a string": ({"w": {"dtype": "F32", "shape": "2", "data_offsets": [0, 8]}}, bytes(8), r"tensor 'w': field 'shape': expected a list of at most 32 sizes"),
    "negative size": ({"w": _w(shape=(-2,))}, bytes(8), r"tensor 'w': field 'shape': .* found \[-2\]"),
    "size true": ({"w": _w(shape=(True,), offsets=(0, 4))}, bytes(4), r"tensor 'w': field 'shape': .* found \[True\]"),
    "offsets not matching the shape": ({"w": _w(shape=(3,))}, bytes(8), r"tensor 'w': field 'data_offsets': expected 12 bytes for shape \[3\] of F32, found \[0, 8\]"),
    "offsets reversed": ({"w": _w(offsets=(8, 0))}, bytes(8), r"tensor 'w': field 'data_offsets': expected \[begin, end\] with 0 <= begin <= end, found \[8, 0\]"),
    "overlapping tensors": ({"a": _w(), "b": _w()}, bytes(16), r"tensor 'b' starts at byte 0 of the data, expected 8"),
    "a gap": ({"a": _w(), "b": _w(offsets=(12, 20))}, bytes(20), r"tensor 'b' starts at byte 12 of the data, expected 8"),
    "huge shape, small file": ({"w": _w(shape=(100_000, 100_000), offsets=(0, 40_000_000_000))}, bytes(8),
                               r"the tensors take 40000000000 bytes of data, the file holds 8 \(truncated\?\)"),
    "trailing data": ({"w": _w()}, bytes(9), r"the tensors take 8 bytes of data, the file holds 9"),
}


@pytest.mark.parametrize("case", list(HOSTILE_HEADERS))
def test_hostile_header_is_a_clean_error_naming_file_and_field(tmp_path, case):
    header, data, message = HOSTILE_HEADERS[case]
    path = _raw_file(tmp_path / "hostile.safetensors", header, data)
    for read in (serialization.load, serialization.load_metadata):
        with pytest.raises(serialization.InvalidFileError, match="hostile.safetensors is not a valid safetensors file: " + message):
            read(path)


def test_header_length_beyond_the_file(tmp_path):
    path = tmp_path / "f"
    path.write_bytes((10**12).to_bytes(8, "little") + b"{}")
    with pytest.raises(serialization.InvalidFileError, match=r"f is not a valid safetensors file: the header length says "
                                                             r"1000000000000 bytes, but the file has only 2 after it"):
        serialization.load(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_not_waited_on(tmp_path):
    path = tmp_path / "model.safetensors"
    os.mkfifo(path)
    with pytest.raises(serialization.InvalidFileError, match="model.safetensors is not a valid safetensors file: not a regular file"):
        serialization.load(path)


def test_bf16_and_f16_files_from_pytorch(tmp_path):
    w = torch.randn(3, 4)
    torch_save_file({"bf": w.bfloat16(), "half": w.half()}, str(tmp_path / "f"))
    back = serialization.load(tmp_path / "f")
    assert back["bf"].dtype == np.float32  # NumPy has no bfloat16: widened, exactly
    np.testing.assert_array_equal(back["bf"], w.bfloat16().float().numpy())
    assert back["half"].dtype == np.float16
    checked = serialization.check_weights(back, tmp_path / "f")
    assert checked["half"].dtype == np.float32
    np.testing.assert_array_equal(checked["half"], w.half().float().numpy())


@pytest.mark.parametrize("bad, message", [
    (np.array([1.0, np.nan, np.inf, -np.inf], np.float32), r"tensor 'w' holds 1 NaN and 2 infinite value\(s\); weights must be finite"),
    (np.array([np.nan], np.float16), r"tensor 'w' holds 1 NaN and 0 infinite"),
    (np.array([True, False]), r"tensor 'w' is bool; weights are float"),
])
def test_weights_a_model_cannot_hold_are_refused(tmp_path, bad, message):
    serialization.save({"ok": np.ones(2, np.float32), "w": bad}, tmp_path / "m.safetensors")
    state = serialization.load(tmp_path / "m.safetensors")
    with pytest.raises(serialization.InvalidFileError, match="m.safetensors is not a valid glassnet weights file: " + message):
        serialization.check_weights(state, tmp_path / "m.safetensors")


GOOD_META = {"model": "lenet5", "classes": '["a", "b"]', "input_shape": "[1, 28, 28]"}


@pytest.mark.parametrize("field, value, message", [
    ("model", None, r"the header has no field 'model'"),
    ("model", "", r"field 'model': expected a model name"),
    ("classes", None, r"the header has no field 'classes'"),
    ("classes", "abc", r"field 'classes': expected JSON, found 'abc'"),
    ("classes", "5", r"field 'classes': expected a JSON list of 1 to 100000 class names \(strings\), found '5'"),
    ("classes", "[1, 2]", r"field 'classes': expected a JSON list .* found '\[1, 2\]'"),
    ("classes", "[]", r"field 'classes': expected a JSON list of 1 to"),
    ("classes", "[" * 50 + "]" * 50, r"field 'classes': the JSON nests 50 levels deep"),
    ("input_shape", "[1, 100000, 100000]", r"field 'input_shape': expected a JSON list of 1 to 4 sizes >= 1 .* found '\[1, 100000, 100000\]'"),
    ("input_shape", "[1, -28, 28]", r"field 'input_shape': expected .* found '\[1, -28, 28\]'"),
    ("input_shape", '"1x28x28"', r"field 'input_shape': expected"),
    ("input_shape", "[1.5]", r"field 'input_shape': expected"),
    ("input_shape", "[" + "9" * 5000 + "]", r"field 'input_shape': expected JSON"),
])
def test_model_metadata_checked_by_type_and_range(field, value, message):
    meta = {k: v for k, v in {**GOOD_META, field: value}.items() if v is not None}
    with pytest.raises(serialization.InvalidFileError, match="run/model.safetensors is not a valid glassnet weights file: " + message):
        serialization.check_model_metadata(meta, "run/model.safetensors")


def test_model_metadata_parsed():
    assert serialization.check_model_metadata(GOOD_META, "f") == {
        "model": "lenet5", "classes": ["a", "b"], "input_shape": [1, 28, 28], "dataset": None}
    assert serialization.check_model_metadata({"model": "m", "classes": '["x"]', "dataset": "d"}, "f")["input_shape"] is None


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="reads the peak memory from /proc (Linux)")
def test_load_does_not_hold_the_file_twice(tmp_path):
    """Peak memory of loading a 96 MiB file, in a fresh process: reading the whole file and then
    copying the arrays out of it (as before) needed twice the file; reading each tensor straight
    into its array needs the arrays only."""
    import subprocess
    import sys
    size = 96 << 20
    serialization.save({"a": np.ones(size // 8, np.float32), "b": np.zeros(size // 8, np.float32)}, tmp_path / "big")
    code = ("import sys; from glassnet import serialization; "
            "open('/proc/self/clear_refs', 'w').write('5'); "  # resets the peak (VmHWM) to the resident size
            "before = open('/proc/self/status').read().split('VmRSS:')[1].split()[0]; "
            "state = serialization.load(sys.argv[1]); "
            "print(int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) - int(before))")  # KiB
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "big")], capture_output=True, text=True,
                         check=True, cwd=os.getcwd())
    grown = int(out.stdout) * 1024
    assert size * 0.9 < grown < size * 1.4, f"loading a {size} byte file raised the peak memory by {grown} bytes"
