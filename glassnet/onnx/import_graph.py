"""Reading an ONNX graph into glassnet: what the operator converters share.

A converter is convert(b, node, attrs) -> Step or None: b the GraphBuilder below (constant
values, ranks from shape inference, Pad nodes folded into convolutions, module registration),
node the onnx NodeProto, attrs its attributes as Python values (`attributes`). The converters
are in import_layers.py (ONNX operators that become glassnet.nn layers) and import_ops.py (the
operations between layers, and the table of all of them).
"""

from __future__ import annotations

import re

import numpy as np

from .. import nn
from ..kernels.sizes import resolve_padding
from ..tensor import Tensor
from .errors import OnnxError
from .graph_module import OnnxModel, Step


def as_array(v):
    """The array of a Tensor, or of a constant (a shape, axes) given as a list or ndarray."""
    return v.data if isinstance(v, Tensor) else np.asarray(v)


def int_list(v) -> list[int]:
    return [int(i) for i in np.asarray(as_array(v)).reshape(-1)]


def pairs_from_onnx(pads: list[int], nd: int) -> tuple[tuple[int, int], ...]:
    """ONNX pads (begins of every axis, then ends) -> one (low, high) pair per axis."""
    return tuple((pads[i], pads[i + nd]) for i in range(nd))


def padding_argument(pairs):
    """glassnet's padding argument: ints when every side is the same, (low, high) pairs otherwise."""
    return tuple(lo for lo, _ in pairs) if all(lo == hi for lo, hi in pairs) else pairs


def class_for_rank(classes: dict, rank: int, b, node):
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
            return pairs_from_onnx(list(pads), nd)
        if auto not in ("SAME_UPPER", "SAME_LOWER"):
            raise self.error(node, f"unknown auto_pad {auto!r}")
        spatial = self.shapes.get(x, (None,))[2:]
        if len(spatial) != nd or None in spatial:
            raise self.error(node, f"auto_pad={auto} needs the input's spatial size, which shape inference "
                                   f"could not find")
        # padding='same' puts the odd extra on the high side, as SAME_UPPER does; SAME_LOWER on the low side
        pairs = resolve_padding("same", tuple(kernel), tuple(strides), tuple(dilations), tuple(spatial))
        return pairs if auto == "SAME_UPPER" else tuple((high, low) for low, high in pairs)


def attributes(node) -> dict:
    """A node's attributes as Python values (strings decoded, repeated fields as lists)."""
    from onnx import helper
    values = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        values[a.name] = v.decode() if isinstance(v, bytes) else list(v) if isinstance(v, (list, tuple)) else v
    return values

