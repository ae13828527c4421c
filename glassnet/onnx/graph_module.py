"""OnnxModel: an imported ONNX graph as a glassnet nn.Module.

The graph's layers (Conv, pooling, BatchNormalization, Gemm, activations, ...) are glassnet.nn
modules registered under names taken from the ONNX node names, so summaries, state_dict, optimisers,
forward hooks and the explain tools see ordinary layers. The operations between layers (a
residual Add, Reshape, Concat, Transpose, ...) run as glassnet tensor operations, recorded on
the autograd tape like those of a hand-written forward. Shape arithmetic that ONNX files carry
(Shape -> Gather -> Concat -> Reshape, as torch.onnx writes x.view(x.size(0), -1)) runs on
small int64 NumPy arrays.

Weights the layers do not absorb (an initializer added or multiplied between layers) are
Parameters of the OnnxModel itself; values of Constant nodes are buffers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..autograd import Function
from ..kernels.windows import pad as pad_array, pad_backward
from ..nn.module import Module
from ..tensor import Tensor


@dataclass
class Step:
    """One ONNX node: a registered layer (`module`, called on the first input) or a function of
    the inputs (`fn`), writing the values named `outputs`."""
    node: str
    op_type: str
    inputs: list[str]
    outputs: list[str]
    module: str | None = None
    fn: object = None


class OnnxModel(Module):
    """forward(*inputs) runs the imported graph; one output is returned as a Tensor, several as a tuple.

    input_shapes: the declared shape of each input, None for a dynamic dimension; the first (the
    batch) is always None, so a file written for one batch size still runs others.
    """

    def __init__(self, input_names, input_shapes, output_names, steps, constants):
        super().__init__()
        self.input_names, self.input_shapes = list(input_names), [tuple(s) for s in input_shapes]
        self.output_names, self.steps = list(output_names), list(steps)
        self.constants = dict(constants)  # ONNX value name -> ndarray (shapes, axes, Constant nodes)
        self.value_names: dict[str, str] = {}  # ONNX initializer name -> attribute of a parameter

    def forward(self, *inputs):
        if len(inputs) != len(self.input_names):
            raise ValueError(f"this ONNX model takes {len(self.input_names)} input(s) {self.input_names}, "
                             f"got {len(inputs)}")
        env = dict(self.constants)
        for onnx_name, attr in self.value_names.items():
            env[onnx_name] = getattr(self, attr)
        for name, shape, x in zip(self.input_names, self.input_shapes, inputs):
            env[name] = self._check_input(name, shape, x)
        for step in self.steps:
            args = [env[n] if n else None for n in step.inputs]
            try:
                out = self._modules[step.module](args[0]) if step.module else step.fn(*args)
            except (ValueError, TypeError) as error:
                raise type(error)(f"ONNX node {step.node!r} ({step.op_type}): {error}") from None
            for name, value in zip(step.outputs, out if isinstance(out, tuple) else (out,)):
                env[name] = value
        outputs = tuple(env[n] for n in self.output_names)
        return outputs[0] if len(outputs) == 1 else outputs

    @staticmethod
    def _check_input(name, shape, x):
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(x), dtype=np.asarray(x).dtype)
        fits = x.ndim == len(shape) and all(s is None or s == n for s, n in zip(shape, x.shape))
        if not fits:
            expected = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"ONNX input {name!r} expected shape {expected}, got {tuple(x.shape)}")
        if x.dtype.kind != "f":
            raise TypeError(f"ONNX input {name!r} expected float32, got {x.dtype}")
        return x

    def extra_repr(self) -> str:
        return f"inputs={self.input_names}, outputs={self.output_names}, nodes={len(self.steps)}"


# ---- operations between layers that glassnet.nn has no module for ---------------------------------

class Pad(Function):
    """Constant, reflect, edge or wrap padding of the trailing dimensions (ONNX Pad), with the
    adjoint of glassnet.kernels.windows.pad as its gradient."""

    @staticmethod
    def forward(ctx, x, pads=(), mode="zeros", value=0.0):
        ctx.pads, ctx.mode = pads, mode
        return pad_array(x, pads, mode, value)

    @staticmethod
    def backward(ctx, dy):
        return (pad_backward(dy, ctx.pads, ctx.mode),)


def pad(x, pads, mode: str, value: float = 0.0):
    """pads: one (low, high) pair per trailing dimension; mode 'constant', 'reflect', 'replicate',
    'circular' (glassnet's names for ONNX's constant, reflect, edge, wrap)."""
    return Pad.apply(x, pads=tuple(pads), mode=mode, value=value)
