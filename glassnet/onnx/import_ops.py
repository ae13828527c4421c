"""The operations an imported graph runs between its layers, as glassnet tensor operations (or
NumPy, for the shape arithmetic ONNX files carry), and OPS: every supported operator and its
converter (see import_graph.py).
"""

from __future__ import annotations

import math

import numpy as np

from .. import nn
from ..ops import cat
from ..tensor import Tensor
from .graph_module import pad
from .import_graph import GLOBAL_AVG, GLOBAL_MAX, PAD_MODES, as_array, attributes, int_list
from .import_layers import (activation, avg_pool, batch_norm, conv, conv_transpose, flatten, gemm, global_pool, matmul,
                            max_pool, softmax)


def _both_static(*values) -> bool:
    return not any(isinstance(v, Tensor) for v in values)


def elementwise(b, node, attrs):
    op = node.op_type

    def run(x, y):
        if op == "Div" and _both_static(x, y) and np.asarray(x).dtype.kind in "iu":
            return np.asarray(np.trunc(np.asarray(x) / np.asarray(y)), dtype=np.asarray(x).dtype)
        return {"Add": lambda: x + y, "Sub": lambda: x - y, "Mul": lambda: x * y, "Div": lambda: x / y}[op]()
    return b.fn(node, run)


def power(b, node, attrs):
    return b.fn(node, lambda x, p: x ** as_array(p) if isinstance(x, Tensor) else np.power(x, as_array(p)))


def identity(b, node, attrs):
    if node.op_type == "Dropout" and not b.unused(node, 1):
        raise b.error(node, "its mask output is used; glassnet imports Dropout as the identity (evaluation)")
    return b.fn(node, lambda x, *rest: x, inputs=node.input[:1])


def reshape(b, node, attrs):
    allow_zero = int(attrs.get("allowzero", 0))

    def run(x, shape):
        shape = int_list(shape)
        if not allow_zero:  # 0 copies the input's size in that dimension
            shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
        return x.reshape(tuple(shape))
    return b.fn(node, run)


def transpose(b, node, attrs):
    perm = attrs.get("perm")

    def run(x):
        order = tuple(perm) if perm is not None else tuple(reversed(range(x.ndim)))
        return x.permute(order) if isinstance(x, Tensor) else np.transpose(x, order)
    return b.fn(node, run)


def concat(b, node, attrs):
    axis = int(attrs["axis"]) if "axis" in attrs else None
    if axis is None:
        raise b.error(node, "needs an axis")

    def run(*xs):
        xs = [x for x in xs if x is not None]
        return np.concatenate([as_array(x) for x in xs], axis=axis) if _both_static(*xs) else cat(list(xs), dim=axis)
    return b.fn(node, run)


def _axes(b, node, attrs, index: int):
    """Axes as an attribute (before opset 13, 18 for some) or as a constant input."""
    if "axes" in attrs:
        return list(attrs["axes"])
    if len(node.input) > index and node.input[index]:
        return int_list(b.const(node, node.input[index], "axes"))
    return None


def squeeze(b, node, attrs):
    axes = _axes(b, node, attrs, 1)

    def run(x, *rest):
        shape = list(x.shape)
        drop = [i for i, n in enumerate(shape) if n == 1] if axes is None else [a % len(shape) for a in axes]
        if any(shape[i] != 1 for i in drop):
            raise ValueError(f"cannot squeeze axes {axes} of shape {tuple(shape)}")
        return x.reshape(tuple(n for i, n in enumerate(shape) if i not in drop))
    return b.fn(node, run)


def unsqueeze(b, node, attrs):
    axes = _axes(b, node, attrs, 1)
    if axes is None:
        raise b.error(node, "needs axes")

    def run(x, *rest):
        rank = np.ndim(x) + len(axes)
        shape, it = [], iter(np.shape(x))
        added = {a % rank for a in axes}
        for i in range(rank):
            shape.append(1 if i in added else next(it))
        return x.reshape(tuple(shape))
    return b.fn(node, run)


def reduce(b, node, attrs):
    op, keep = node.op_type, bool(attrs.get("keepdims", 1))
    axes = _axes(b, node, attrs, 1)
    if not axes and attrs.get("noop_with_empty_axes", 0):
        return b.fn(node, lambda x, *rest: x, inputs=node.input[:1])

    def run(x, *rest):
        dims = tuple(range(x.ndim)) if not axes else tuple(sorted((a % x.ndim for a in axes), reverse=True))
        if op == "ReduceMean":
            return x.mean(dim=dims, keepdim=keep)
        if op == "ReduceSum":
            return x.sum(dim=dims, keepdim=keep)
        for d in dims:  # from the last axis, so the earlier ones keep their numbers
            x = x.max(dim=d, keepdim=keep).values
        return x
    return b.fn(node, run, inputs=node.input[:1])


def clip(b, node, attrs):
    if b.opset < 11:
        lo, hi = attrs.get("min"), attrs.get("max")
    else:
        lo, hi = (b.const(node, node.input[i] if len(node.input) > i else "", what, required=False)
                  for i, what in ((1, "min"), (2, "max")))
        for i, value in ((1, lo), (2, hi)):
            if value is None and len(node.input) > i and node.input[i]:
                raise b.error(node, "its bounds must be constants")
    lo = None if lo is None else float(np.asarray(lo))
    hi = None if hi is None else float(np.asarray(hi))
    if lo == 0 and hi is None:
        return b.layer(node, nn.ReLU())
    return b.fn(node, lambda x, *rest: x.clamp(lo, hi), inputs=node.input[:1])


def pad_op(b, node, attrs):
    mode = attrs.get("mode", "constant")
    if mode not in PAD_MODES:
        raise b.error(node, f"unknown mode {mode!r}")
    pads, value, axes = _pad_arguments(b, node, attrs)
    if _fold_into_conv(b, node, attrs, pads, value, axes):
        return None

    def run(x, *rest):
        rank = x.ndim
        axis_list = list(range(rank)) if axes is None else [a % rank for a in axes]
        if len(pads) != 2 * len(axis_list):
            raise ValueError(f"{len(pads)} pads for {len(axis_list)} axes of an input of shape {tuple(x.shape)}")
        pairs = [(0, 0)] * rank
        for i, a in enumerate(axis_list):
            pairs[a] = (pads[i], pads[i + len(axis_list)])
        first = next((i for i, p in enumerate(pairs) if p != (0, 0)), rank)
        return pad(x, pairs[first:], PAD_MODES[mode], value)  # kernels.windows.pad pads trailing dimensions
    return b.fn(node, run, inputs=node.input[:1])


def _pad_arguments(b, node, attrs):
    if b.opset < 11:
        pads, value, axes = list(attrs.get("pads", [])), float(attrs.get("value", 0.0)), None
    else:
        pads = int_list(b.const(node, node.input[1], "pads"))
        v = b.const(node, node.input[2] if len(node.input) > 2 else "", "constant_value", required=False)
        value = 0.0 if v is None else float(np.asarray(v).reshape(-1)[0]) if np.size(v) else 0.0
        a = b.const(node, node.input[3] if len(node.input) > 3 else "", "axes", required=False)
        axes = None if a is None else int_list(a)
    if min(pads, default=0) < 0:
        raise b.error(node, f"negative pads (cropping) are not supported, got {pads}")
    return pads, value, axes


def slice_op(b, node, attrs):
    if b.opset < 10:
        fixed = [attrs.get("starts"), attrs.get("ends"), attrs.get("axes"), None]
    else:
        fixed = None

    def run(x, *args):
        starts, ends, axes, steps = fixed if fixed is not None else (list(args) + [None] * 4)[:4]
        starts, ends = int_list(starts), int_list(ends)
        axes = list(range(len(starts))) if axes is None else int_list(axes)
        steps = [1] * len(starts) if steps is None else int_list(steps)
        index = [slice(None)] * np.ndim(x)
        for a, lo, hi, st in zip(axes, starts, ends, steps):
            if st == 0:
                raise ValueError("Slice with step 0")
            index[a % np.ndim(x)] = slice(lo, hi, st)  # Python clamps out-of-range bounds as ONNX does
        return x[tuple(index)]
    return b.fn(node, run)


def constant_of_shape(b, node, attrs):
    from .load import MAX_ELEMENTS, read_tensor
    value = attrs.get("value")
    fill = np.zeros(1, np.float32) if value is None else read_tensor(value, None, f"ONNX node {node.name!r} value")
    if fill.size != 1:
        raise b.error(node, f"value must hold one element, got shape {fill.shape}")

    def run(shape):
        shape = int_list(shape)
        if min(shape, default=0) < 0 or math.prod(shape) > MAX_ELEMENTS:
            raise ValueError(f"ConstantOfShape of absurd shape {tuple(shape)}")
        return np.full(shape, np.asarray(fill).reshape(-1)[0], dtype=np.asarray(fill).dtype)
    return b.fn(node, run)


def constant(b, node, attrs):
    return None  # its value was read with the initializers (load.py)


def shape_op(b, node, attrs):
    start, end = attrs.get("start", 0), attrs.get("end")
    return b.fn(node, lambda x: np.asarray(x.shape[start:end], dtype=np.int64))


def gather(b, node, attrs):
    axis = int(attrs.get("axis", 0))

    def run(data, indices):
        if isinstance(data, Tensor):
            raise ValueError("Gather of computed tensors is not supported (only of shapes and constants)")
        return np.take(np.asarray(data), np.asarray(as_array(indices)), axis=axis)
    return b.fn(node, run)


def cast(b, node, attrs):
    to = int(attrs.get("to", 1))

    def run(x):
        if isinstance(x, Tensor):
            if to != 1:
                raise ValueError("Cast of a float tensor to a non-float type is not supported")
            return x
        return np.asarray(x, dtype=np.float32 if to == 1 else np.int64)
    return b.fn(node, run)


def resize(b, node, attrs):
    from .resize import interpolate
    mode = attrs.get("mode", "nearest")
    if mode not in ("nearest", "linear"):
        raise b.error(node, f"mode {mode!r} is not supported (nearest, linear)")
    if int(attrs.get("antialias", 0)) or attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch":
        raise b.error(node, "antialias and keep_aspect_ratio_policy are not supported")
    transform = attrs.get("coordinate_transformation_mode", "half_pixel" if b.opset >= 11 else "asymmetric")
    if transform == "tf_crop_and_resize":
        raise b.error(node, "coordinate_transformation_mode 'tf_crop_and_resize' is not supported")
    nearest = attrs.get("nearest_mode", "round_prefer_floor")
    scales_at, sizes_at = (1, None) if b.opset < 11 else (2, 3)
    scales = b.const(node, node.input[scales_at] if len(node.input) > scales_at else "", "scales", required=False)
    sizes = None if sizes_at is None else \
        b.const(node, node.input[sizes_at] if len(node.input) > sizes_at else "", "sizes", required=False)
    if (scales is None or np.size(scales) == 0) and sizes is None:
        raise b.error(node, "needs constant scales or sizes")
    scales = None if scales is None or np.size(scales) == 0 else np.asarray(scales, np.float64).reshape(-1)
    sizes = None if sizes is None else int_list(sizes)
    return b.fn(node, lambda x, *rest: interpolate(x, scales, sizes, mode, transform, nearest),
                inputs=node.input[:1])


OPS = {
    "Conv": conv, "ConvTranspose": conv_transpose, "MaxPool": max_pool, "AveragePool": avg_pool,
    "GlobalAveragePool": global_pool(GLOBAL_AVG), "GlobalMaxPool": global_pool(GLOBAL_MAX),
    "BatchNormalization": batch_norm,
    "Relu": activation(nn.ReLU), "LeakyRelu": activation(nn.LeakyReLU, alpha=0.01),
    "Elu": activation(nn.ELU, alpha=1.0), "Sigmoid": activation(nn.Sigmoid), "Tanh": activation(nn.Tanh),
    "Softmax": softmax(nn.Softmax), "LogSoftmax": softmax(nn.LogSoftmax),
    "Gemm": gemm, "MatMul": matmul, "Add": elementwise, "Sub": elementwise, "Mul": elementwise,
    "Div": elementwise, "Pow": power, "Flatten": flatten, "Reshape": reshape, "Transpose": transpose,
    "Concat": concat, "Pad": pad_op, "Dropout": identity, "Identity": identity, "Constant": constant,
    "Clip": clip, "Squeeze": squeeze, "Unsqueeze": unsqueeze, "Resize": resize, "Upsample": resize,
    "ReduceMax": reduce, "ReduceMean": reduce, "ReduceSum": reduce, "Slice": slice_op,
    "ConstantOfShape": constant_of_shape, "Shape": shape_op, "Gather": gather, "Cast": cast,
}


def _fold_into_conv(b, node, attrs, pads, value, axes) -> bool:
    """A Pad whose only reader is a Conv becomes that Conv's padding (and padding_mode), as a
    model with padding_mode='reflect' was before torch.onnx split it in two."""
    readers = b.consumers.get(node.output[0], [])
    if node.output[0] in b.graph_outputs or len(readers) != 1 or readers[0].op_type != "Conv" or \
            readers[0].input[0] != node.output[0] or node.input[0] not in b.ranks:
        return False
    mode, conv_attrs = attrs.get("mode", "constant"), attributes(readers[0])
    rank = b.ranks[node.input[0]]
    axis_list = list(range(rank)) if axes is None else [a % rank for a in axes]
    pairs = [(0, 0)] * rank
    for i, a in enumerate(axis_list):
        pairs[a] = (pads[i], pads[i + len(axis_list)])
    conv_pads = any(conv_attrs.get("pads", [])) or conv_attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID")
    if any(p != (0, 0) for p in pairs[:2]) or (mode == "constant" and value != 0) or (mode != "constant" and conv_pads):
        return False
    b.fused_pads[node.output[0]] = (node.input[0], tuple(pairs[2:]), "zeros" if mode == "constant" else PAD_MODES[mode])
    return True


