"""Each supported ONNX operator as a glassnet layer or a tensor operation (see graph_module.py).

A converter is convert(b, node, attrs) -> Step: b the GraphBuilder below (constants, ranks, module
registration), node the onnx NodeProto, attrs its attributes as Python values. Layers carry
their weights from the file's initializers; operators whose semantics glassnet cannot reproduce
exactly (a SAME_LOWER window with no input size, MaxPool's Indices, Softmax over flattened
dimensions before opset 13, ...) are refused with an error naming the node.
"""

from __future__ import annotations

import math
import re

import numpy as np

from .. import nn
from ..ops import cat
from ..tensor import Tensor
from .errors import OnnxError
from .graph_module import OnnxModel, Step, pad

# ---- helpers -----------------------------------------------------------------------------------


def _np(v):
    return v.data if isinstance(v, Tensor) else np.asarray(v)


def _ints(v) -> list[int]:
    return [int(i) for i in np.asarray(_np(v)).reshape(-1)]


def _pairs(pads: list[int], nd: int) -> tuple[tuple[int, int], ...]:
    """ONNX pads (begins of every axis, then ends) -> one (low, high) pair per axis."""
    return tuple((pads[i], pads[i + nd]) for i in range(nd))


def _padding(pairs):
    """glassnet's padding argument: ints when every side is the same, (low, high) pairs otherwise."""
    return tuple(lo for lo, _ in pairs) if all(lo == hi for lo, hi in pairs) else pairs


def _by_rank(classes: dict, rank: int, b, node):
    if rank not in classes:
        raise b.error(node, f"expected an input of rank {sorted(classes)}, got rank {rank}")
    return classes[rank]


CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
CONV_TRANSPOSE = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
MAX_POOL = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
AVG_POOL = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}
GLOBAL_AVG = {3: nn.AdaptiveAvgPool1d, 4: nn.AdaptiveAvgPool2d, 5: nn.AdaptiveAvgPool3d}
GLOBAL_MAX = {3: nn.AdaptiveMaxPool1d, 4: nn.AdaptiveMaxPool2d, 5: nn.AdaptiveMaxPool3d}
BATCH_NORM = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}
PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


class GraphBuilder:
    """What the converters need while the graph is read: constant values, ranks from shape
    inference, fused Pad nodes, and the registered layers and steps."""

    def __init__(self, opset: int, constants: dict, ranks: dict, shapes: dict, nodes, graph_outputs):
        self.opset, self.constants, self.ranks, self.shapes = opset, constants, ranks, shapes
        self.graph_outputs = set(graph_outputs)
        self.modules: dict[str, object] = {}
        self.consumers: dict[str, list] = {}
        for node in nodes:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.fused_pads: dict[str, tuple] = {}  # output of a Pad folded into its Conv -> (input, pairs, mode)

    def error(self, node, message: str) -> OnnxError:
        return OnnxError(f"ONNX node {node.name!r} ({node.op_type}): {message}")

    def const(self, node, name: str, what: str, required: bool = True):
        if not name:
            if required:
                raise self.error(node, f"needs its {what}")
            return None
        if name not in self.constants:
            if required:
                raise self.error(node, f"its {what} {name!r} is computed in the graph; glassnet needs it as "
                                       f"an initializer or a Constant")
            return None
        return self.constants[name]

    def rank(self, node, name: str) -> int:
        if name not in self.ranks:
            raise self.error(node, f"the rank of its input {name!r} is unknown (shape inference could not "
                                   f"find it)")
        return self.ranks[name]

    def module_name(self, node) -> str:
        """A readable, unique attribute name: '/features/features.0/Conv' -> 'features_0'."""
        parts = [p for p in re.split(r"/", node.name) if p]
        base = parts[-2] if len(parts) >= 2 else parts[0] if parts else node.op_type.lower()
        base = re.sub(r"\W", "_", base).strip("_") or node.op_type.lower()
        name, i = base, 1
        while name in self.modules or hasattr(OnnxModel, name):  # not "forward", "eval", ...
            i += 1
            name = f"{base}_{i}"
        return name

    def layer(self, node, module, x: str | None = None) -> Step:
        name = self.module_name(node)
        self.modules[name] = module
        return Step(node.name, node.op_type, [x or node.input[0]], [node.output[0]], module=name)

    def fn(self, node, function, inputs=None, outputs=None) -> Step:
        return Step(node.name, node.op_type, list(node.input if inputs is None else inputs),
                    list(node.output[:1] if outputs is None else outputs), fn=function)

    def unused(self, node, index: int) -> bool:
        return len(node.output) <= index or not node.output[index] or not self.consumers.get(node.output[index])

    def window_pads(self, node, attrs, nd, kernel, strides, dilations, x) -> tuple[tuple[int, int], ...]:
        """auto_pad and pads as (low, high) pairs; SAME_* need the input's spatial size."""
        auto = attrs.get("auto_pad", "NOTSET")
        if auto in ("NOTSET", "VALID"):
            pads = attrs.get("pads", [0] * 2 * nd) if auto == "NOTSET" else [0] * 2 * nd
            if len(pads) != 2 * nd or min(pads) < 0:
                raise self.error(node, f"expected {2 * nd} non-negative pads, got {pads}")
            return _pairs(list(pads), nd)
        if auto not in ("SAME_UPPER", "SAME_LOWER"):
            raise self.error(node, f"unknown auto_pad {auto!r}")
        spatial = self.shapes.get(x, (None,))[2:]
        if len(spatial) != nd or None in spatial:
            raise self.error(node, f"auto_pad={auto} needs the input's spatial size, which shape inference "
                                   f"could not find")
        pairs = []
        for n, k, s, d in zip(spatial, kernel, strides, dilations):
            total = max((math.ceil(n / s) - 1) * s + d * (k - 1) + 1 - n, 0)
            small, large = total // 2, total - total // 2
            pairs.append((small, large) if auto == "SAME_UPPER" else (large, small))
        return tuple(pairs)


# ---- layers ------------------------------------------------------------------------------------

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
    module = CONV[nd](w.shape[1] * group, w.shape[0], kernel, tuple(strides), _padding(pairs), tuple(dilations),
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
    module = CONV_TRANSPOSE[nd](w.shape[0], w.shape[1] * group, w.shape[2:], tuple(strides), _padding(pairs),
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
        return b.layer(node, _by_rank(classes, b.rank(node, node.input[0]), b, node)(1))
    return convert


def batch_norm(b, node, attrs):
    if attrs.get("training_mode", 0) or not all(b.unused(node, i) for i in (1, 2)):
        raise b.error(node, "training mode (batch statistics as outputs) is not supported; export in eval mode")
    scale, shift, mean, var = (b.const(node, name, what) for name, what in
                               zip(node.input[1:5], ("scale", "bias", "mean", "variance")))
    cls = _by_rank(BATCH_NORM, b.rank(node, node.input[0]), b, node)
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
    if w is not None and not trans_a and w.ndim == 2 and (not c_name or (c is not None and c.size in (1, w.shape[0 if trans_b else 1]))):
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


# ---- operations between layers ----------------------------------------------------------------

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
    return b.fn(node, lambda x, p: x ** _np(p) if isinstance(x, Tensor) else np.power(x, _np(p)))


def identity(b, node, attrs):
    if node.op_type == "Dropout" and not b.unused(node, 1):
        raise b.error(node, "its mask output is used; glassnet imports Dropout as the identity (evaluation)")
    return b.fn(node, lambda x, *rest: x, inputs=node.input[:1])


def reshape(b, node, attrs):
    allow_zero = int(attrs.get("allowzero", 0))

    def run(x, shape):
        shape = _ints(shape)
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
        return np.concatenate([_np(x) for x in xs], axis=axis) if _both_static(*xs) else cat(list(xs), dim=axis)
    return b.fn(node, run)


def _axes(b, node, attrs, index: int):
    """Axes as an attribute (before opset 13, 18 for some) or as a constant input."""
    if "axes" in attrs:
        return list(attrs["axes"])
    if len(node.input) > index and node.input[index]:
        return _ints(b.const(node, node.input[index], "axes"))
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
        pads = _ints(b.const(node, node.input[1], "pads"))
        v = b.const(node, node.input[2] if len(node.input) > 2 else "", "constant_value", required=False)
        value = 0.0 if v is None else float(np.asarray(v).reshape(-1)[0]) if np.size(v) else 0.0
        a = b.const(node, node.input[3] if len(node.input) > 3 else "", "axes", required=False)
        axes = None if a is None else _ints(a)
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
        starts, ends = _ints(starts), _ints(ends)
        axes = list(range(len(starts))) if axes is None else _ints(axes)
        steps = [1] * len(starts) if steps is None else _ints(steps)
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
        shape = _ints(shape)
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
        return np.take(np.asarray(data), np.asarray(_np(indices)), axis=axis)
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
    sizes = None if sizes is None else _ints(sizes)
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
    "Slice": slice_op, "ConstantOfShape": constant_of_shape, "ReduceMax": reduce, "ReduceMean": reduce, "ReduceSum": reduce, "Shape": shape_op, "Gather": gather, "Cast": cast,
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


def attributes(node) -> dict:
    """A node's attributes as Python values (strings decoded, repeated fields as lists)."""
    from onnx import helper
    values = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        values[a.name] = v.decode() if isinstance(v, bytes) else list(v) if isinstance(v, (list, tuple)) else v
    return values

