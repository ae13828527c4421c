"""glassnet.onnx.load on malformed and hostile files (each a clear OnnxError, never a crash or a
read outside the model's folder) and on what it refuses (operators, opsets, dtypes, each named
with its node); external data inside the folder; the runtime's shape checks."""

import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet import models  # noqa: E402
from glassnet.onnx import OnnxError, export, load  # noqa: E402

from onnx_helpers import randn, run_glassnet  # noqa: E402


def relu_model(nodes=None, initializers=(), opset=17, inputs=None, elem_type=TensorProto.FLOAT):
    """A small valid graph (x -> Relu -> y) to break in one place."""
    nodes = nodes or [helper.make_node("Relu", ["x"], ["y"], name="relu1")]
    inputs = inputs or [helper.make_tensor_value_info("x", elem_type, ["N", 3])]
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def save(model, path):
    path.write_bytes(model.SerializeToString())
    return path


def test_a_valid_small_graph_loads(tmp_path):
    model = load(save(relu_model(), tmp_path / "relu.onnx"))
    np.testing.assert_array_equal(run_glassnet(model, np.array([[-1, 0, 2]], np.float32)), [[0, 0, 2]])


def test_truncated_file(tmp_path):
    path = tmp_path / "lenet.onnx"
    export(models.lenet5(), randn((1, 1, 28, 28)), path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 7, 11):
        (tmp_path / "cut.onnx").write_bytes(data[:cut])
        with pytest.raises(OnnxError, match=r"cut.onnx (as an ONNX model \(truncated|holds no ONNX graph)"):
            load(tmp_path / "cut.onnx")


@pytest.mark.parametrize("content", [b"", b"not an onnx file at all\n", bytes(range(256)) * 4])
def test_empty_and_foreign_files(content, tmp_path):
    (tmp_path / "x.onnx").write_bytes(content)
    with pytest.raises(OnnxError, match=r"x.onnx"):
        load(tmp_path / "x.onnx")


def test_missing_file(tmp_path):
    with pytest.raises(OnnxError, match="no ONNX file at .*absent.onnx"):
        load(tmp_path / "absent.onnx")


def tensor_proto(name, dims, raw=None, floats=None):
    """A float TensorProto filled field by field: helper.make_tensor refuses inconsistent ones,
    which is what a hostile file holds."""
    t = TensorProto()
    t.name, t.data_type = name, TensorProto.FLOAT
    t.dims.extend(dims)
    if raw is not None:
        t.raw_data = raw
    if floats is not None:
        t.float_data.extend(floats)
    return t


def _add_weight(tensor):
    return relu_model([helper.make_node("Add", ["x", tensor.name], ["y"], name="add1")], [tensor])


def test_absurd_shape_is_refused_before_allocating(tmp_path):
    t = tensor_proto("w", [1 << 20, 1 << 20], raw=b"\0\0\0\0")
    with pytest.raises(OnnxError, match=r"initializer 'w' declares an absurd shape \(1048576, 1048576\)"):
        load(save(_add_weight(t), tmp_path / "m.onnx"))


def test_shape_larger_than_its_data(tmp_path):
    t = tensor_proto("w", [1000, 1000], raw=b"\0\0\0\0")
    message = r"initializer 'w' of shape \(1000, 1000\) needs 4000000 bytes, the file holds 4"
    with pytest.raises(OnnxError, match=message):
        load(save(_add_weight(t), tmp_path / "m.onnx"))
    t = tensor_proto("w", [3, 3], floats=[1.0, 2.0])
    with pytest.raises(OnnxError, match=r"needs 9 values, the file holds 2"):
        load(save(_add_weight(t), tmp_path / "m.onnx"))


def _external(location, offset=0, length=12):
    t = tensor_proto("w", [3])
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
        entry = t.external_data.add()
        entry.key, entry.value = key, value
    return _add_weight(t)


def test_external_data_inside_the_folder_is_read(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\xff" * 8 + np.array([1, -2, 3], np.float32).tobytes())
    model = load(save(_external("weights.bin", offset=8), tmp_path / "m.onnx"))
    np.testing.assert_array_equal(run_glassnet(model, np.zeros((1, 3), np.float32)), [[1, -2, 3]])


def test_external_data_written_by_onnx_round_trips(tmp_path):
    original = models.lenet5()
    proto = export(original, randn((1, 1, 28, 28)), None)
    onnx.save(proto, str(tmp_path / "ext.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
              location="ext.data", size_threshold=0)
    assert (tmp_path / "ext.data").stat().st_size >= 4 * sum(p.size for p in original.state_dict().values())
    x = randn((2, 1, 28, 28))
    np.testing.assert_allclose(run_glassnet(load(tmp_path / "ext.onnx"), x), run_glassnet(original, x), atol=1e-6)


@pytest.mark.parametrize("location, message", [
    ("../secret.bin", "leads outside the model's folder"),
    ("sub/../../secret.bin", "leads outside the model's folder"),
    ("/etc/passwd", "must be a path relative to the model's folder"),
    ("", "must be a path relative"),
    ("missing.bin", "external data file 'missing.bin' not found"),
    ("w\0.bin", "is not a usable path"),
    (".", "external data file '.' not found"),
])
def test_external_data_paths_outside_the_folder_are_refused(location, message, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "secret.bin").write_bytes(np.ones(3, np.float32).tobytes())
    with pytest.raises(OnnxError, match=message):
        load(save(_external(location), folder / "m.onnx"))


def test_external_data_through_a_symbolic_link_out_of_the_folder(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "secret.bin").write_bytes(np.ones(3, np.float32).tobytes())
    os.symlink(tmp_path / "secret.bin", folder / "link.bin")
    with pytest.raises(OnnxError, match="leads outside the model's folder"):
        load(save(_external("link.bin"), folder / "m.onnx"))


@pytest.mark.parametrize("offset, length", [(8, 12), (0, 400), (-4, 12)])
def test_external_data_offsets_beyond_the_file(offset, length, tmp_path):
    (tmp_path / "w.bin").write_bytes(np.ones(4, np.float32).tobytes())
    with pytest.raises(OnnxError, match=r"external data needs 12 bytes at offset|length"):
        load(save(_external("w.bin", offset, length), tmp_path / "m.onnx"))


def test_unsupported_operator_names_the_node(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["h"], name="relu1"),
             helper.make_node("Erf", ["h"], ["y"], name="the_erf")]
    with pytest.raises(OnnxError, match=r"ONNX node 'the_erf': unsupported operator Erf"):
        load(save(relu_model(nodes), tmp_path / "m.onnx"))


def test_foreign_domain_names_the_node(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="custom_relu", domain="com.example")]
    model = relu_model(nodes)
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    with pytest.raises(OnnxError, match=r"ONNX node 'custom_relu': operator Relu of domain 'com.example'"):
        load(save(model, tmp_path / "m.onnx"))


@pytest.mark.parametrize("opset", [6, 99])
def test_unsupported_opset(opset, tmp_path):
    with pytest.raises(OnnxError, match=rf"opset {opset} of the ONNX operators is not supported"):
        load(save(relu_model(opset=opset), tmp_path / "m.onnx"))


def test_unsupported_dtypes_are_named(tmp_path):
    with pytest.raises(OnnxError, match=r"ONNX input 'x' has dtype double"):
        load(save(relu_model(elem_type=TensorProto.DOUBLE), tmp_path / "m.onnx"))
    half = numpy_helper.from_array(np.ones(3, np.float16), "w16")
    with pytest.raises(OnnxError, match=r"initializer 'w16' has dtype float16"):
        load(save(_add_weight(half), tmp_path / "m.onnx"))


def test_node_reading_an_undefined_value(tmp_path):
    nodes = [helper.make_node("Add", ["x", "ghost"], ["y"], name="add1")]
    with pytest.raises(OnnxError, match=r"ONNX node 'add1' \(Add\) reads \['ghost'\] before any node writes it"):
        load(save(relu_model(nodes), tmp_path / "m.onnx"))


def test_node_options_glassnet_cannot_reproduce_are_named(tmp_path):
    w = numpy_helper.from_array(np.ones((2, 3, 3, 3), np.float32), "w")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])
    nodes = [helper.make_node("MaxPool", ["x"], ["y"], name="pool1", kernel_shape=[2, 2], pads=[0, 0, 1, 1])]
    with pytest.raises(OnnxError, match=r"ONNX node 'pool1' \(MaxPool\): asymmetric pads"):
        load(save(relu_model(nodes, inputs=[x]), tmp_path / "m.onnx"))
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv1", kernel_shape=[5, 5])]
    with pytest.raises(OnnxError, match=r"ONNX node 'conv1' \(Conv\): kernel_shape \(5, 5\) does not match"):
        load(save(relu_model(nodes, [w], inputs=[x]), tmp_path / "m.onnx"))


def test_nodes_missing_inputs_or_with_options_a_layer_refuses(tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 8, 8])
    nodes = [helper.make_node("Conv", ["x"], ["y"], name="conv_without_weight")]
    with pytest.raises(OnnxError, match=r"ONNX node 'conv_without_weight' \(Conv\)"):
        load(save(relu_model(nodes, inputs=[x]), tmp_path / "m.onnx"))
    w = numpy_helper.from_array(np.ones((3, 2, 3, 3), np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv_bad_groups", group=2)]  # 3 filters, 2 groups
    with pytest.raises(OnnxError, match=r"ONNX node 'conv_bad_groups' \(Conv\): .*3"):
        load(save(relu_model(nodes, [w], inputs=[x]), tmp_path / "m.onnx"))


def test_input_of_the_wrong_shape_is_refused_by_the_model(tmp_path):
    model = load(save(relu_model(), tmp_path / "m.onnx"))
    with pytest.raises(ValueError, match=r"ONNX input 'x' expected shape \(N, 3\), got \(2, 4\)"):
        model(gn.tensor(np.zeros((2, 4), np.float32)))


def test_a_file_with_a_fixed_batch_size_runs_other_batch_sizes(tmp_path):
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])]
    model = load(save(relu_model(inputs=inputs), tmp_path / "m.onnx"))
    np.testing.assert_array_equal(run_glassnet(model, -np.ones((5, 3), np.float32)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"expected shape \(N, 3\), got \(5, 2\)"):
        model(gn.tensor(np.zeros((5, 2), np.float32)))


def test_corrupted_bytes_load_cleanly_or_fail_with_an_onnx_error(tmp_path):
    """Bytes of a valid file changed at random (200 seeded variants, 1-3 bytes each, in the graph
    and in the weights): loading gives a model or an OnnxError, and a loaded model's forward
    gives an output or a ValueError / TypeError naming the node — never another exception."""
    path = tmp_path / "lenet.onnx"
    export(models.lenet5(), randn((1, 1, 28, 28)), path)
    data = path.read_bytes()
    rng = np.random.default_rng(0)
    outcomes = set()
    for _ in range(200):
        corrupt = bytearray(data)
        for _ in range(rng.integers(1, 4)):
            corrupt[rng.integers(0, min(len(data), 1500)) if rng.random() < 0.5 else rng.integers(0, len(data))] = \
                rng.integers(0, 256)
        (tmp_path / "bad.onnx").write_bytes(bytes(corrupt))
        try:
            model = load(tmp_path / "bad.onnx")
        except OnnxError:
            outcomes.add("refused")
            continue
        try:
            model(gn.tensor(np.zeros((1, 1, 28, 28), np.float32)))
            outcomes.add("ran")
        except (ValueError, TypeError):
            outcomes.add("refused at run time")
    assert {"refused", "ran"} <= outcomes
