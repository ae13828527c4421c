"""Operators on small hand-built graphs, imported into glassnet and compared with ONNX Runtime
running the same file: the ones the PyTorch and round-trip tests do not reach (Sub, Div, Pow,
Squeeze, a Pad no convolution reads, Slice, reductions, Softmax before opset 13, Gemm with
alpha/beta and transposes, MatMul of two computed tensors, Conv with auto_pad, ...), and the
channels-last pattern tf2onnx writes for Keras models (no TensorFlow here to export a real one)."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet.onnx import load  # noqa: E402

from onnx_helpers import randn, run_glassnet, run_onnxruntime  # noqa: E402


def graph_file(tmp_path, nodes, x_shape, initializers=(), opset=17):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *x_shape])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in dict(initializers).items()]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], inits),
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    path = tmp_path / "g.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def i64(*values):
    return np.array(values, np.int64)


def f32(shape, seed=0):
    return randn(shape, seed)


N = helper.make_node
CASES = {
    "sub_div_pow": ([N("Sub", ["x", "c"], ["a"]), N("Div", ["a", "d"], ["b"]), N("Pow", ["b", "p"], ["y"])],
                    (3, 4), {"c": f32((4,)), "d": np.full((3, 1), 2.0, np.float32), "p": np.float32(2.0)}),
    "pad_alone_squeeze_unsqueeze": ([N("Pad", ["x", "pads"], ["a"], mode="reflect"),
                                     N("Unsqueeze", ["a", "ax"], ["b"]), N("Squeeze", ["b", "ax"], ["y"])],
                                    (2, 5, 4), {"pads": i64(0, 0, 1, 2, 0, 0, 2, 1), "ax": i64(1)}),
    "pad_constant_value": ([N("Pad", ["x", "pads", "v"], ["y"], mode="constant")], (2, 3),
                           {"pads": i64(0, 0, 1, 0, 0, 2), "v": np.float32(0.25)}),
    "pad_edge_then_max_pool": ([N("Pad", ["x", "pads"], ["a"], mode="edge"),
                                N("MaxPool", ["a"], ["y"], kernel_shape=[2, 2])], (2, 5, 5),
                               {"pads": i64(0, 0, 1, 0, 0, 0, 0, 1)}),
    "slice_transpose_reduce": ([N("Slice", ["x", "s", "e", "a", "st"], ["b"]),
                                N("Transpose", ["b"], ["t"], perm=[0, 3, 1, 2]),
                                N("ReduceMean", ["t"], ["m"], axes=[2], keepdims=1),  # an attribute before opset 18
                                N("ReduceSum", ["m", "rax2"], ["y"], keepdims=0)], (3, 6, 5),
                               {"s": i64(1, -1), "e": i64(3, -6), "a": i64(1, 3), "st": i64(1, -2),
                                "rax2": i64(1)}),
    "gemm_transposes_alpha_beta": ([N("Gemm", ["x", "w", "c"], ["y"], alpha=0.5, beta=2.0, transB=1)], (4,),
                                   {"w": f32((3, 4)), "c": f32((3,))}),
    "gemm_computed_operands": ([N("Relu", ["x"], ["r"]), N("Gemm", ["x", "r", "c"], ["y"], transB=1, alpha=0.7)],
                               (4,), {"c": f32((1,))}),
    "matmul_computed": ([N("Transpose", ["x"], ["t"], perm=[0, 2, 1]), N("MatMul", ["x", "t"], ["y"])], (3, 2), {}),
    "conv_auto_pad_same_lower_stride": ([N("Conv", ["x", "w", "b"], ["y"], auto_pad="SAME_LOWER", strides=[2, 2])],
                                        (2, 7, 6), {"w": f32((3, 2, 4, 3)), "b": f32((3,))}),
    "conv_grouped_dilated_average_pool": ([N("Conv", ["x", "w"], ["c"], group=2, dilations=[2], pads=[2, 1]),
                                           N("AveragePool", ["c"], ["y"], kernel_shape=[3], strides=[2], pads=[1, 1],
                                             count_include_pad=1, ceil_mode=1)],
                                          (4, 11), {"w": f32((6, 2, 3))}),
    "clip_both_bounds_concat": ([N("Clip", ["x", "lo", "hi"], ["a"]), N("Concat", ["a", "x"], ["y"], axis=1)],
                                (3,), {"lo": np.float32(-0.5), "hi": np.float32(0.3)}),
    "flatten_axis_2": ([N("Flatten", ["x"], ["y"], axis=2)], (2, 3, 4), {}),
    "resize_sizes_nearest_round": ([N("Resize", ["x", "", "", "sizes"], ["y"], mode="nearest",
                                      coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil")],
                                   (1, 5, 4), {"sizes": i64(1, 1, 8, 9)}),
    "resize_scales_linear_align": ([N("Resize", ["x", "", "sc"], ["y"], mode="linear",
                                      coordinate_transformation_mode="align_corners")],
                                   (2, 3, 4), {"sc": np.array([1, 1, 2, 1.5], np.float32)}),
    # what tf2onnx writes for a Keras CNN: channels-last input transposed in and out, 'same'
    # windows as auto_pad, a Dense layer as MatMul + Add after a Reshape with -1 for the batch
    "keras_style_nhwc": ([N("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
                          N("Conv", ["t", "w", "b"], ["c"], auto_pad="SAME_UPPER", kernel_shape=[3, 3]),
                          N("Relu", ["c"], ["r"]), N("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
                          N("Transpose", ["p"], ["pt"], perm=[0, 2, 3, 1]), N("Reshape", ["pt", "shape"], ["f"]),
                          N("MatMul", ["f", "dense"], ["d"]), N("Add", ["d", "dense_bias"], ["l"]),
                          N("Softmax", ["l"], ["y"], axis=-1)],
                         (6, 6, 2), {"w": f32((4, 2, 3, 3)), "b": f32((4,)), "shape": i64(-1, 36),
                                     "dense": f32((36, 3)), "dense_bias": f32((3,))}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_operator_matches_onnxruntime(case, tmp_path):
    nodes, shape, inits = CASES[case]
    path = graph_file(tmp_path, nodes, shape, inits)
    n = 1 if case.startswith("resize_sizes") else 2  # the sizes fix the batch there
    x = randn((n,) + shape, seed=3)
    np.testing.assert_allclose(run_glassnet(load(path), x), run_onnxruntime(path, x), rtol=1e-5, atol=1e-6)


def test_softmax_before_opset_13_over_the_last_axis(tmp_path):
    path = graph_file(tmp_path, [N("LogSoftmax", ["x"], ["y"], axis=1)], (5,), opset=11)
    x = randn((3, 5))
    np.testing.assert_allclose(run_glassnet(load(path), x), run_onnxruntime(path, x), rtol=1e-5, atol=1e-6)
    path = graph_file(tmp_path, [N("Softmax", ["x"], ["y"], axis=1)], (2, 5), opset=11)
    with pytest.raises(gn.onnx.OnnxError, match=r"before opset 13 softmax runs over all dimensions from axis 1"):
        load(path)


def test_constant_initializers_between_layers_are_trainable(tmp_path):
    """A float initializer an Add reads becomes a Parameter of the model, and gets a gradient."""
    path = graph_file(tmp_path, [N("Add", ["x", "shift"], ["y"])], (3,), {"shift": f32((3,))})
    model = load(path)
    (name, p), = model.named_parameters()
    assert name == "shift"
    model(gn.tensor(randn((4, 3)))).sum().backward()
    np.testing.assert_array_equal(p.grad, np.full(3, 4.0, np.float32))
