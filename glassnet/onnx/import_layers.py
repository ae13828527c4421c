"""ONNX operators that become glassnet.nn layers, holding the file's weights: Conv, ConvTranspose,
MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, BatchNormalization, the activations,
Gemm and MatMul with a constant weight (Linear), Flatten. Options glassnet's layers cannot
reproduce exactly (asymmetric pooling pads, MaxPool's Indices output, Softmax over flattened
dimensions before opset 13, ...) are refused with an error naming the node.
"""

from __future__ import annotations

import numpy as np

from .. import nn
from .import_graph import AVG_POOL, BATCH_NORM, CONV, CONV_TRANSPOSE, MAX_POOL, class_for_rank, padding_argument


def _set(parameter, value) -> None:
    parameter.data[...] = np.asarray(value, dtype=parameter.dtype).reshape(parameter.shape)


def _weight_and_bias(b, node):
    """The constant weight (with 1-3 spatial dimensions) and optional bias of Conv and ConvTranspose."""
    w = b.const(node, node.input[1], "weight")
    bias = b.const(node, node.input[2] if len(node.input) > 2 else "", "bias", required=False)
    if w.ndim - 2 not in CONV:
        raise b.error(node, f"expected a weight of rank 3, 4 or 5 (1-3 spatial dimensions), got shape {w.shape}")
    return w, bias, w.ndim - 2


def _filled(module, w, bias):
    _set(module.weight, w)
    if bias is not None:
        _set(module.bias, bias)
    return module


def conv(b, node, attrs):
    w, bias, nd = _weight_and_bias(b, node)
    kernel = tuple(attrs.get("kernel_shape", w.shape[2:]))
    if kernel != w.shape[2:]:
        raise b.error(node, f"kernel_shape {kernel} does not match the weight's shape {w.shape}")
    strides, dilations = attrs.get("strides", [1] * nd), attrs.get("dilations", [1] * nd)
    group = int(attrs.get("group", 1))
    x = node.input[0]
    pairs = b.window_pads(node, attrs, nd, kernel, strides, dilations, x)
    mode = "zeros"
    if x in b.fused_pads:  # a Pad in front (torch's padding_mode='reflect', Keras's ZeroPadding2D)
        x, pad_pairs, mode = b.fused_pads[x]
        pairs = tuple((lo + plo, hi + phi) for (lo, hi), (plo, phi) in zip(pairs, pad_pairs))
    module = CONV[nd](w.shape[1] * group, w.shape[0], kernel, tuple(strides), padding_argument(pairs), tuple(dilations),
                      group, bias is not None, mode)
    return b.layer(node, _filled(module, w, bias), x)


def conv_transpose(b, node, attrs):
    w, bias, nd = _weight_and_bias(b, node)
    if "output_shape" in attrs:
        raise b.error(node, "output_shape is not supported; give pads and output_padding")
    if attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        raise b.error(node, f"auto_pad={attrs['auto_pad']} is not supported for ConvTranspose")
    group = int(attrs.get("group", 1))
    strides, dilations = attrs.get("strides", [1] * nd), attrs.get("dilations", [1] * nd)
    pairs = b.window_pads(node, attrs, nd, w.shape[2:], strides, dilations, node.input[0])
    module = CONV_TRANSPOSE[nd](w.shape[0], w.shape[1] * group, w.shape[2:], tuple(strides), padding_argument(pairs),
                                tuple(attrs.get("output_padding", [0] * nd)), group, bias is not None,
                                tuple(dilations))
    return b.layer(node, _filled(module, w, bias))


def _pool_geometry(b, node, attrs):
    kernel = tuple(attrs["kernel_shape"]) if "kernel_shape" in attrs else None
    if not kernel:
        raise b.error(node, "needs kernel_shape")
    nd = len(kernel)
    strides, dilations = tuple(attrs.get("strides", [1] * nd)), tuple(attrs.get("dilations", [1] * nd))
    pairs = b.window_pads(node, attrs, nd, kernel, strides, dilations, node.input[0])
    if any(lo != hi for lo, hi in pairs):
        raise b.error(node, f"asymmetric pads {pairs}: glassnet's pooling pads both sides equally")
    return nd, kernel, strides, dilations, tuple(lo for lo, _ in pairs)


def max_pool(b, node, attrs):
    if not b.unused(node, 1):
        raise b.error(node, "its Indices output is used; glassnet imports MaxPool's values only")
    nd, kernel, strides, dilations, padding = _pool_geometry(b, node, attrs)
    if nd not in MAX_POOL:
        raise b.error(node, f"{nd} spatial dimensions are not supported (1, 2 or 3)")
    return b.layer(node, MAX_POOL[nd](kernel, strides, padding, dilations, ceil_mode=bool(attrs.get("ceil_mode", 0))))


def avg_pool(b, node, attrs):
    nd, kernel, strides, dilations, padding = _pool_geometry(b, node, attrs)
    if nd not in AVG_POOL or any(d != 1 for d in dilations):
        raise b.error(node, f"supported: 1-3 spatial dimensions without dilation, got kernel {kernel}, "
                            f"dilations {dilations}")
    # ONNX's count_include_pad defaults to 0, torch's to True: always pass it
    return b.layer(node, AVG_POOL[nd](kernel, strides, padding, ceil_mode=bool(attrs.get("ceil_mode", 0)),
                                      count_include_pad=bool(attrs.get("count_include_pad", 0))))


def global_pool(classes):
    def convert(b, node, attrs):
        return b.layer(node, class_for_rank(classes, b.rank(node, node.input[0]), b, node)(1))
    return convert


def batch_norm(b, node, attrs):
    if attrs.get("training_mode", 0) or not all(b.unused(node, i) for i in (1, 2)):
        raise b.error(node, "training mode (batch statistics as outputs) is not supported; export in eval mode")
    scale, shift, mean, var = (b.const(node, name, what) for name, what in
                               zip(node.input[1:5], ("scale", "bias", "mean", "variance")))
    cls = class_for_rank(BATCH_NORM, b.rank(node, node.input[0]), b, node)
    module = cls(scale.shape[0], eps=float(attrs.get("epsilon", 1e-5)),
                 momentum=1.0 - float(attrs.get("momentum", 0.9)))  # ONNX keeps 0.9 of the old, torch 0.1 of the new
    for p, value in ((module.weight, scale), (module.bias, shift), (module.running_mean, mean),
                     (module.running_var, var)):
        _set(p, value)
    return b.layer(node, module)


def activation(cls, **defaults):
    def convert(b, node, attrs):
        return b.layer(node, cls(*(float(attrs.get(k, v)) for k, v in defaults.items())))
    return convert


def softmax(cls):
    def convert(b, node, attrs):
        axis = int(attrs.get("axis", -1 if b.opset >= 13 else 1))
        if b.opset < 13:  # softmax over the flattened dimensions from axis on: one axis only if it is the last
            rank = b.rank(node, node.input[0])
            if axis % rank != rank - 1:
                raise b.error(node, f"before opset 13 softmax runs over all dimensions from axis {axis} on; "
                                    f"glassnet imports it only when that is the last dimension (rank {rank})")
        return b.layer(node, cls(dim=axis))
    return convert


def gemm(b, node, attrs):
    alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
    trans_a, trans_b = int(attrs.get("transA", 0)), int(attrs.get("transB", 0))
    w = b.const(node, node.input[1], "B", required=False)
    c_name = node.input[2] if len(node.input) > 2 else ""
    c = b.const(node, c_name, "C", required=False)
    out_features = None if w is None or w.ndim != 2 else w.shape[0 if trans_b else 1]
    bias_fits = not c_name or (c is not None and c.size in (1, out_features))
    if w is not None and w.ndim == 2 and not trans_a and bias_fits:  # x W^T + b: a Linear layer
        weight = (w if trans_b else w.T) * alpha  # Linear keeps (out_features, in_features)
        module = nn.Linear(weight.shape[1], weight.shape[0], bias=c is not None)
        _set(module.weight, weight)
        if c is not None:
            _set(module.bias, np.broadcast_to(np.asarray(c).reshape(-1) * beta, (weight.shape[0],)))
        return b.layer(node, module)

    def general(a, bm, cm=None):  # a product of two computed values
        a = a.T if trans_a else a
        bm = bm.T if trans_b else bm
        y = (a @ bm) * alpha if alpha != 1 else a @ bm
        return y if cm is None else y + (cm * beta if beta != 1 else cm)
    return b.fn(node, general)


def matmul(b, node, attrs):
    w = b.const(node, node.input[1], "B", required=False)
    if w is not None and w.ndim == 2:
        module = nn.Linear(w.shape[0], w.shape[1], bias=False)
        _set(module.weight, w.T)
        return b.layer(node, module)
    return b.fn(node, lambda x, y: x @ y)


def flatten(b, node, attrs):
    axis = int(attrs.get("axis", 1))
    if axis == 1:
        return b.layer(node, nn.Flatten())

    def run(x):
        a = axis % x.ndim if x.ndim else 0
        return x.reshape((int(np.prod(x.shape[:a], dtype=np.int64)), -1))
    return b.fn(node, run)


