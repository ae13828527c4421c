"""Each glassnet layer, and each autograd Function called between layers, as ONNX operators.

A layer converter is convert(g, module, name, x, xt, yt) -> the name of its output: g the
GraphBuilder, name the module's path ("features.0"), x the name of its input, xt and yt the
traced input and output tensors (their shapes fix padding='same', adaptive windows, ...).

glassnet's own layers use standard operators only:
    ConvMapNd       a Conv whose dense weight has zeros where the connection table has none
    SubsamplingNd   AveragePool (count_include_pad) x (coefficient x window size) + bias
    P4LiftConv2d    a Conv with the stack of the 4 rotated filters, reshaped to (N, O, 4, H, W)
    P4Conv2d        (N, C, 4, H, W) -> (N, 4C, H, W), a Conv with the rotated and cycled filter
                    stack, reshaped back
    P4Pool          ReduceMax / ReduceMean over the rotation axis
    LocallyConnectedNd, TiledConvNd
                    the window matrix by a Conv with one-hot kernels (im2col as a convolution),
                    then one MatMul per position batched over positions, with the weight of
                    each position (tile p mod t)
"""

from __future__ import annotations

import math

import numpy as np

from .. import nn
from ..functional.convmap import _dense_bank
from ..kernels.p4 import group_filters, lift_filters
from ..kernels.sizes import ntuple, resolve_padding, transposed_full_size
from ..nn.activation import _softmax_dim
from ..nn.local import _UnsharedConvNd
from .errors import OnnxError

_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _cant(name: str, module, why: str) -> OnnxError:
    return OnnxError(f"cannot export layer {name!r} ({type(module).__name__}): {why}")


# ---- shared pieces ------------------------------------------------------------------------------

def _padded(g, x: str, rank: int, pads, padding_mode: str, name: str, module) -> tuple[str, list[int]]:
    """Zero padding goes into the operator's pads; reflect/replicate/circular become a Pad node
    first (as torch.onnx writes them). Returns (input name, the operator's pads: begins, ends)."""
    if padding_mode == "zeros" or all(p == (0, 0) for p in pads):
        return x, [lo for lo, _ in pads] + [hi for _, hi in pads]
    if padding_mode == "circular" and g.opset < 19:
        raise _cant(name, module, f"padding_mode='circular' is Pad mode 'wrap', which needs opset_version >= 19, "
                                  f"got {g.opset}")
    lead = [0] * (rank - len(pads))
    onnx_pads = lead + [lo for lo, _ in pads] + lead + [hi for _, hi in pads]
    out = g.node("Pad", [x, g.ints(onnx_pads, f"{name}_pads")], f"{name}/Pad", mode=_PAD_MODES[padding_mode])
    return out, [0] * (2 * len(pads))


def _conv(g, x, input_shape, weight, bias, stride, padding, dilation, groups, padding_mode, name, module,
          weight_name="weight") -> str:
    """A Conv node on x of shape input_shape (N, C, *spatial): weight (O, C/groups, *k) and bias
    (O,) as initializers named after the layer."""
    nd = weight.ndim - 2
    k = weight.shape[2:]
    stride, dilation = ntuple(stride, nd, "stride"), ntuple(dilation, nd, "dilation")
    pads = resolve_padding(padding, k, stride, dilation, input_shape[2:])
    x, onnx_pads = _padded(g, x, len(input_shape), pads, padding_mode, name, module)
    inputs = [x, g.constant(weight, f"{name}.{weight_name}")]
    if bias is not None:
        inputs.append(g.constant(bias, f"{name}.bias"))
    return g.node("Conv", inputs, f"{name}/Conv", kernel_shape=list(k), strides=list(stride),
                  dilations=list(dilation), pads=onnx_pads, group=int(groups))


def _data(t):
    return None if t is None else t.data


def _channel_shape(values, ndim: int) -> np.ndarray:
    """(C,) -> (1, C, 1, ..., 1), to broadcast over (N, C, *spatial)."""
    return np.asarray(values).reshape((1, -1) + (1,) * (ndim - 2))


# ---- torch's layers ----------------------------------------------------------------------------

def conv(g, m, name, x, xt, yt):
    w = m.weight.data
    if m.flip:  # a true convolution is a cross-correlation with the kernel rotated by 180 degrees
        w = np.ascontiguousarray(np.flip(w, axis=tuple(range(2, w.ndim))))
    return _conv(g, x, xt.shape, w, _data(m.bias), m.stride, m.padding, m.dilation, m.groups, m.padding_mode, name, m,
                 "weight_flipped" if m.flip else "weight")


def conv_transpose(g, m, name, x, xt, yt):
    n = m.num_spatial_dims
    pads = resolve_padding(m.padding, m.kernel_size, m.stride, m.dilation)
    inputs = [x, g.constant(m.weight.data, f"{name}.weight")]
    if m.bias is not None:
        inputs.append(g.constant(m.bias.data, f"{name}.bias"))
    # the traced output size decides output_padding, as forward(output_size=...) may have
    smallest = [transposed_full_size(xt.shape[2 + i], m.kernel_size[i], m.stride[i], m.dilation[i]) - lo - hi
                for i, (lo, hi) in enumerate(pads)]
    output_padding = [yt.shape[2 + i] - smallest[i] for i in range(n)]
    return g.node("ConvTranspose", inputs, f"{name}/ConvTranspose", kernel_shape=list(m.kernel_size),
                  strides=list(m.stride), dilations=list(m.dilation), group=int(m.groups),
                  pads=[lo for lo, _ in pads] + [hi for _, hi in pads], output_padding=output_padding)


def _pool_window(m):
    n = m.num_spatial_dims
    k = ntuple(m.kernel_size, n, "kernel_size")
    s = ntuple(m.stride, n, "stride")
    p = ntuple(m.padding, n, "padding")
    return n, k, s, list(p) + list(p)


def max_pool(g, m, name, x, xt, yt):
    if m.return_indices:
        raise _cant(name, m, "return_indices=True: ONNX MaxPool's indices count differently from torch's")
    n, k, s, pads = _pool_window(m)
    return g.node("MaxPool", [x], f"{name}/MaxPool", kernel_shape=list(k), strides=list(s), pads=pads,
                  dilations=list(ntuple(m.dilation, n, "dilation")), ceil_mode=int(m.ceil_mode))


def avg_pool(g, m, name, x, xt, yt):
    n, k, s, pads = _pool_window(m)
    divisor = getattr(m, "divisor_override", None)
    if divisor is not None and (m.ceil_mode or not m.count_include_pad):
        raise _cant(name, m, "divisor_override with ceil_mode or count_include_pad=False has windows of "
                             "different sizes; ONNX AveragePool cannot divide them all by one number")
    y = g.node("AveragePool", [x], f"{name}/AveragePool", kernel_shape=list(k), strides=list(s), pads=pads,
               ceil_mode=int(m.ceil_mode), count_include_pad=int(m.count_include_pad))
    if divisor is None:
        return y
    scale = g.constant(np.float32(math.prod(k) / divisor), f"{name}.divisor_scale")  # mean -> sum / divisor
    return g.node("Mul", [y, scale], f"{name}/Mul")


def adaptive_pool(g, m, name, x, xt, yt):
    kind = "Max" if isinstance(m, nn.pooling._AdaptiveMaxPoolNd) else "Average"
    if getattr(m, "return_indices", False):
        raise _cant(name, m, "return_indices=True has no ONNX counterpart")
    spatial_in, spatial_out = xt.shape[2:], yt.shape[2:]
    if all(o == 1 for o in spatial_out):
        return g.node(f"Global{kind}Pool", [x], f"{name}/Global{kind}Pool")
    if any(i % o for i, o in zip(spatial_in, spatial_out)):
        raise _cant(name, m, f"output size {spatial_out} does not divide the input size {spatial_in}, so its "
                             f"windows differ in size; ONNX pooling has one window size")
    k = [i // o for i, o in zip(spatial_in, spatial_out)]  # equal windows side by side: an ordinary pooling
    return g.node(f"{kind}Pool", [x], f"{name}/{kind}Pool", kernel_shape=k, strides=k)


def batch_norm(g, m, name, x, xt, yt):
    if m.running_mean is None:
        raise _cant(name, m, "track_running_stats=False normalises with each batch's statistics even in "
                             "evaluation; ONNX BatchNormalization (inference) needs running statistics")
    c = m.num_features
    scale = m.weight.data if m.weight is not None else np.ones(c, np.float32)
    shift = m.bias.data if m.bias is not None else np.zeros(c, np.float32)
    inputs = [x, g.constant(scale, f"{name}.weight"), g.constant(shift, f"{name}.bias"),
              g.constant(m.running_mean.data, f"{name}.running_mean"),
              g.constant(m.running_var.data, f"{name}.running_var")]
    return g.node("BatchNormalization", inputs, f"{name}/BatchNormalization", epsilon=float(m.eps))


def linear(g, m, name, x, xt, yt):
    if xt.ndim == 2:
        inputs = [x, g.constant(m.weight.data, f"{name}.weight")]
        if m.bias is not None:
            inputs.append(g.constant(m.bias.data, f"{name}.bias"))
        return g.node("Gemm", inputs, f"{name}/Gemm", transB=1)
    y = g.node("MatMul", [x, g.constant(m.weight.data.T, f"{name}.weight_t")], f"{name}/MatMul")  # (*, out)
    if m.bias is None:
        return y
    return g.node("Add", [y, g.constant(m.bias.data, f"{name}.bias")], f"{name}/Add")


def flatten(g, m, name, x, xt, yt):
    start = m.start_dim % xt.ndim
    if start == 1 and m.end_dim % xt.ndim == xt.ndim - 1:
        return g.node("Flatten", [x], f"{name}/Flatten", axis=1)
    return g.reshape(x, yt.shape, xt.shape, f"{name}/Reshape")


def unflatten(g, m, name, x, xt, yt):
    return g.reshape(x, yt.shape, xt.shape, f"{name}/Reshape")


def _activation(op, **attrs):
    def convert(g, m, name, x, xt, yt):
        values = {k: float(getattr(m, v)) for k, v in attrs.items()}
        return g.node(op, [x], f"{name}/{op}", **values)
    return convert


def softmax(g, m, name, x, xt, yt):
    op = "LogSoftmax" if isinstance(m, nn.LogSoftmax) else "Softmax"
    return g.node(op, [x], f"{name}/{op}", axis=int(_softmax_dim(m.dim, xt)) % xt.ndim)


# ---- glassnet's own layers ---------------------------------------------------------------------

def conv_map(g, m, name, x, xt, yt):
    dense = _dense_bank(m.weight.data, m.table.data.astype(bool))  # (O, C, *k), zeros where not connected
    return _conv(g, x, xt.shape, dense, _data(m.bias), m.stride, m.padding, m.dilation, 1, m.padding_mode, name, m,
                 "weight_dense")


def subsampling(g, m, name, x, xt, yt):
    n = m.num_spatial_dims
    p = ntuple(m.padding, n, "padding")
    y = g.node("AveragePool", [x], f"{name}/AveragePool", kernel_shape=list(m.kernel_size),
               strides=list(m.stride), pads=list(p) + list(p), count_include_pad=1)
    # window sum x coefficient = window mean x (coefficient x window size)
    coef = _channel_shape(m.weight.data * np.float32(math.prod(m.kernel_size)), xt.ndim)
    y = g.node("Mul", [y, g.constant(coef, f"{name}.weight_times_window")], f"{name}/Mul")
    if m.bias is None:
        return y
    return g.node("Add", [y, g.constant(_channel_shape(m.bias.data, xt.ndim), f"{name}.bias")], f"{name}/Add")


def p4_conv(g, m, name, x, xt, yt):
    w = m.weight.data
    o, c, k = w.shape[0], w.shape[1], w.shape[-1]
    if m.group_input:  # (N, C, 4, H, W) -> (N, 4C, H, W): the rotation planes become channels
        flat_shape = (xt.shape[0], c * 4) + xt.shape[3:]
        x = g.reshape(x, flat_shape, xt.shape, f"{name}/Reshape_in")
        bank = group_filters(w).reshape(o * 4, c * 4, k, k)
    else:
        flat_shape = xt.shape
        bank = lift_filters(w).reshape(o * 4, c, k, k)
    y = _conv(g, x, flat_shape, bank, None, m.stride, m.padding, m.dilation, 1, m.padding_mode, name, m,
              "weight_rotated")
    y = g.reshape(y, yt.shape, flat_shape, f"{name}/Reshape_out")  # (N, 4O, H', W') -> (N, O, 4, H', W')
    if m.bias is None:
        return y
    return g.node("Add", [y, g.constant(_channel_shape(m.bias.data, 5), f"{name}.bias")], f"{name}/Add")


def p4_pool(g, m, name, x, xt, yt):
    op = "ReduceMax" if m.mode == "max" else "ReduceMean"
    return g.reduce(op, x, [2], f"{name}/{op}", keepdims=False)


def _position_weights(m, out) -> np.ndarray:
    """The weight each output position uses, as (P, C K, O): tile p mod t (for the locally
    connected layer the grid is the output, so every position has its own), groups spread into a
    block-diagonal dense weight."""
    w = m.weight.data  # (*grid, O, C/G, *k)
    nd, groups = m.num_spatial_dims, m.groups
    grid, o, cg = w.shape[:nd], w.shape[nd], w.shape[nd + 1]
    og = o // groups
    dense = np.zeros(grid + (o, cg * groups) + w.shape[nd + 2:], w.dtype)  # (*grid, O, C, *k)
    lead = (slice(None),) * nd
    for gi in range(groups):
        rows, cols = slice(gi * og, (gi + 1) * og), slice(gi * cg, (gi + 1) * cg)
        dense[lead + (rows, cols)] = w[lead + (rows,)]
    tile = tuple(i % t for i, t in zip(np.indices(out).reshape(nd, -1), grid))  # nd arrays of P tile indices
    per_position = dense[tile]  # (P, O, C, *k)
    p = per_position.shape[0]
    return per_position.reshape(p, o, -1).transpose(0, 2, 1)  # (P, C K, O)


def _position_bias(m, out) -> np.ndarray | None:
    if m.bias is None:
        return None
    b, nd = m.bias.data, m.num_spatial_dims
    if b.ndim == 1:  # one bias per channel
        return b.reshape((1, -1) + (1,) * nd)
    tile = tuple(i % t for i, t in zip(np.indices(out).reshape(nd, -1), b.shape[:nd]))
    return b[tile].T.reshape((1, -1) + tuple(out))  # (P, O) -> (1, O, *out)


def unshared_conv(g, m, name, x, xt, yt):
    c, o, k = m.in_channels, m.out_channels, m.kernel_size
    kk = math.prod(k)
    out = tuple(yt.shape[2:])
    p = math.prod(out)
    # one-hot kernels: output channel c K + j copies tap j of input channel c -> the window matrix
    onehot = np.zeros((c * kk, 1) + k, np.float32)
    onehot.reshape(c, kk, kk)[:, np.arange(kk), np.arange(kk)] = 1
    cols = _conv(g, x, xt.shape, onehot, None, m.stride, m.padding, m.dilation, c, m.padding_mode, name, m,
                 "window_picker")                                                         # (N, C K, *out)
    cols = g.node("Reshape", [cols, g.ints([0, c * kk, p], f"{name}_cols_shape")], f"{name}/Reshape_cols")
    cols = g.node("Transpose", [cols], f"{name}/Transpose_cols", perm=[2, 0, 1])         # (P, N, C K)
    w = g.constant(_position_weights(m, out), f"{name}.weight_per_position")             # (P, C K, O)
    y = g.node("MatMul", [cols, w], f"{name}/MatMul")                                    # (P, N, O)
    y = g.node("Transpose", [y], f"{name}/Transpose_out", perm=[1, 2, 0])                # (N, O, P)
    y = g.node("Reshape", [y, g.ints([0, o] + list(out), f"{name}_out_shape")], f"{name}/Reshape_out")
    bias = _position_bias(m, out)
    if bias is None:
        return y
    return g.node("Add", [y, g.constant(bias, f"{name}.bias_per_position")], f"{name}/Add")


LAYERS = [  # (class, converter); a subclass finds its base class's converter
    (nn.ConvTransposeNd, conv_transpose), (nn.ConvNd, conv),
    (nn.pooling._MaxPoolNd, max_pool), (nn.pooling._AvgPoolNd, avg_pool),
    (nn.pooling._AdaptivePoolNd, adaptive_pool),
    (nn.batchnorm._BatchNorm, batch_norm), (nn.Linear, linear), (nn.Flatten, flatten), (nn.Unflatten, unflatten),
    (nn.ReLU, _activation("Relu")), (nn.LeakyReLU, _activation("LeakyRelu", alpha="negative_slope")),
    (nn.ELU, _activation("Elu", alpha="alpha")), (nn.Sigmoid, _activation("Sigmoid")),
    (nn.Tanh, _activation("Tanh")), (nn.Softmax, softmax), (nn.LogSoftmax, softmax),
    (nn.ConvMapNd, conv_map), (nn.SubsamplingNd, subsampling),
    (nn.p4._P4ConvBase, p4_conv), (nn.P4Pool, p4_pool), (_UnsharedConvNd, unshared_conv),
]


def layer_converter(module):
    for cls, convert in LAYERS:
        if isinstance(module, cls):
            return convert
    return None


def convert_layer(g, module, name, x, xt, yt) -> str:
    return layer_converter(module)(g, module, name, x, xt, yt)


# ---- autograd Functions called between layers ----------------------------------------------------

_ELEMENTWISE = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow", "MatMul": "MatMul"}
_UNARY = {"Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Abs": "Abs", "Clone": "Identity",
          "ReLU": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh"}
_KNOWN = set(_ELEMENTWISE) | set(_UNARY) | {"Cat", "LeakyReLU", "ELU", "Softmax", "LogSoftmax", "Clamp", "Reshape",
                                            "Permute", "Sum", "Mean"}


def convert_function(g, t, names: dict, owners: dict) -> str:
    """The ONNX node of the autograd Function that made t (a residual +, a reshape, ...)."""
    node = t.grad_fn
    fname = node.function.__name__
    label = f"{owners[id(t)]}/{fname}" if owners.get(id(t)) else fname

    if fname not in _KNOWN:
        where = f"in layer {owners[id(t)]!r}" if id(t) in owners else "in a forward, between layers"
        raise OnnxError(f"cannot export the operation {fname} ({where}): glassnet.onnx writes the layers of "
                        f"glassnet.nn and the tensor operations +, -, *, /, **, @, reshape, flatten, permute, "
                        f"cat, sum, mean, clamp and the activations")

    def operand(a):
        if hasattr(a, "grad_fn") and id(a) in names:
            return names[id(a)]
        value = a.data if hasattr(a, "data") and not isinstance(a, np.ndarray) else np.asarray(a)
        return g.constant(np.asarray(value, dtype=t.dtype), f"{label}_constant")

    if fname in _ELEMENTWISE:
        return g.node(_ELEMENTWISE[fname], [operand(a) for a in node.inputs[:2]], label)
    if fname == "Cat":
        return g.node("Concat", [operand(a) for a in node.inputs], label, axis=int(node.dim))
    x = operand(node.inputs[0])  # the rest take one tensor and options
    if fname in _UNARY:
        return g.node(_UNARY[fname], [x], label)
    if fname == "LeakyReLU":
        return g.node("LeakyRelu", [x], label, alpha=float(node.negative_slope))
    if fname == "ELU":
        return g.node("Elu", [x], label, alpha=float(node.alpha))
    if fname in ("Softmax", "LogSoftmax"):
        return g.node(fname, [x], label, axis=int(node.dim) % t.ndim)
    if fname == "Clamp":
        bounds = ["" if v is None else g.constant(np.asarray(v, t.dtype), f"{label}_bound") for v in node.bounds]
        return g.node("Clip", [x] + bounds, label)
    if fname == "Reshape":
        return g.reshape(x, t.shape, node.inputs[0].shape, label)
    if fname == "Permute":
        return g.node("Transpose", [x], label, perm=list(node.dims))
    if fname in ("Sum", "Mean"):
        op = "ReduceSum" if fname == "Sum" else "ReduceMean"
        return g.reduce(op, x, node.axes, label, keepdims=node.keepdim)
