"""Counting: output sizes with the formula filled in, parameters, connections, multiply-adds.

The output size of a window of size k, dilation d, stride s over n inputs with padding p on each
side (seed 001's formula, with dilation) is

    out = floor((n + 2p - d(k - 1) - 1) / s) + 1

`output_size` returns that number together with the formula written out with the numbers in it,
for a student to compare with their own working. The arithmetic itself is glassnet.kernels.sizes,
the same code the engine runs.

Per layer, `count` reports (per sample, bias included in parameters):
- parameters: weights and biases to learn;
- output units: prod(output shape);
- connections: lines in the network diagram, one per (output unit, input unit) pair a weight
  or a pooling window links; positions in the zero padding are not units, so they do not count;
- multiply-adds: what a direct implementation computes, padding included: for a convolution
  output_units * (C/groups) * prod(k); for LeNet's subsampling one per output unit (its
  coefficient); 0 for pooling, flatten and pointwise layers;
- dense parameters: a fully connected layer between the same input and output units (with a
  bias per output when the layer has one), for comparison; 0 for flatten and pointwise layers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..kernels.sizes import (conv_output_size, dilated_extent, ntuple, pool_output_size, positive_tuple,
                             resolve_padding, tap_positions)
from ._hooks import is_module, leaf_modules, run_with_hooks
from .layers import Layer, as_layer, as_layers


def _fmt_pad(lo: int, hi: int) -> str:
    return f"2*{lo}" if lo == hi else f"{lo} + {hi}"


@dataclass(frozen=True)
class OutputSize:
    """Output size per spatial dimension and, for each, the formula with the numbers filled in.

    What `output_size` returns. It compares equal to the size (a tuple, a list, or an int for one
    dimension); int() gives the size of a 1-D one; str() is the formulas, one line per dimension.

    Attributes:
        size: the output size per spatial dimension.
        formulas: per dimension, out = floor((n + 2p - d(k-1) - 1)/s) + 1 with the numbers in.

    Examples:
        >>> from glassnet.explain import output_size
        >>> o = output_size((28, 28), 5, padding=2)
        >>> o.size, o == (28, 28)
        ((28, 28), True)
        >>> int(output_size(32, 5))                  # LeNet-5's C1: 32x32 -> 28x28
        28
    """
    size: tuple[int, ...]
    formulas: tuple[str, ...]

    def __str__(self) -> str:
        return "\n".join(self.formulas)

    def __int__(self) -> int:
        if len(self.size) != 1:
            raise TypeError(f"int() of a {len(self.size)}-D output size {self.size}; use .size")
        return self.size[0]

    def __eq__(self, other):
        if isinstance(other, OutputSize):
            return self.size == other.size
        if isinstance(other, int):
            return self.size == (other,)
        return self.size == tuple(other) if isinstance(other, (tuple, list)) else NotImplemented

    __hash__ = None


def output_size(input_size, kernel_size, stride=1, padding=0, dilation=1, ceil_mode: bool = False) -> OutputSize:
    """Output size of a convolution (or pooling with ceil_mode) per spatial dimension, explained.

    input_size, kernel_size, stride, dilation: int or one int per dimension; padding: as in
    glassnet.kernels.sizes.resolve_padding (int, tuple, (low, high) pairs, 'valid', 'same', 'full').

    Examples:
        >>> print(output_size(5, 3, stride=2, padding=1))
        floor((n + 2p - d(k-1) - 1)/s) + 1 = floor((5 + 2*1 - 1*(3-1) - 1)/2) + 1 = floor(4/2) + 1 = 3
        >>> output_size((32, 32), 3).size
        (30, 30)
    """
    nd = len(input_size) if isinstance(input_size, (tuple, list)) else (
        len(kernel_size) if isinstance(kernel_size, (tuple, list)) else 1)
    n = ntuple(input_size, nd, "input_size")
    k = positive_tuple(kernel_size, nd, "kernel_size")
    s = positive_tuple(stride, nd, "stride")
    d = positive_tuple(dilation, nd, "dilation")
    pads = resolve_padding(padding, k, s, d, n)
    sizes, lines = [], []
    for ni, ki, si, (lo, hi), di in zip(n, k, s, pads, d):
        value = pool_output_size(ni, ki, si, (lo, hi), di, ceil_mode) if ceil_mode else \
            conv_output_size(ni, ki, si, (lo, hi), di)
        span = ni + lo + hi - dilated_extent(ki, di)  # the numerator the formula's text shows
        general = "floor((n + 2p - d(k-1) - 1)/s) + 1" if lo == hi else "floor((n + p_lo + p_hi - d(k-1) - 1)/s) + 1"
        rounding = "ceil" if ceil_mode else "floor"
        general = general.replace("floor", rounding)
        line = (f"{general} = {rounding}(({ni} + {_fmt_pad(lo, hi)} - {di}*({ki}-1) - 1)/{si}) + 1 "
                f"= {rounding}({span}/{si}) + 1 = {value}")
        if ceil_mode and value != -(-span // si) + 1:
            line += " (the last window would start in the right padding, so it is dropped)"
        if value < 1:
            line += "  -> empty: the window is larger than the padded input"
        sizes.append(value)
        lines.append(line)
    return OutputSize(tuple(sizes), tuple(lines))


def _inside_taps(n: int, k: int, s: int, pad: tuple[int, int], d: int, out: int) -> int:
    """How many (output position, kernel tap) pairs of one dimension land on a real input."""
    positions = tap_positions(out, k, s, d, pad[0])  # (out, k)
    return int(((positions >= 0) & (positions < n)).sum())


@dataclass(frozen=True)
class LayerCount:
    """The counts of one layer for one sample (the module docstring defines each), a row of Counts.

    Attributes:
        name: the layer, as the table shows it.
        input_shape: the per-sample input shape (C, *spatial).
        output_shape: the per-sample output shape (C', *spatial').
        parameters: weights and biases to learn.
        connections: (output unit, input unit) pairs a weight or a window links.
        multiply_adds: what a direct implementation computes, padding included.
        dense_parameters: a fully connected layer between the same units, for comparison.
        output_units: prod(output_shape).

    Examples:
        LeNet-5's C1: six 5x5 filters on a 32x32 image:

        >>> from glassnet.explain import count
        >>> from glassnet.explain.layers import conv
        >>> c1 = count(conv(1, 6, 5), (1, 32, 32))[0]
        >>> c1.output_shape, c1.parameters, c1.output_units, c1.connections   # 6 * 25 + 6; 4,704 * 25
        ((6, 28, 28), 156, 4704, 117600)
    """
    name: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    parameters: int
    connections: int
    multiply_adds: int
    dense_parameters: int

    @property
    def output_units(self) -> int:
        return int(np.prod(self.output_shape))


@dataclass(frozen=True)
class Counts:
    """Per-layer counts of a model and their totals. str() is a table.

    What `count` returns: a sequence of LayerCount (c[0], len(c), iteration), with the totals
    parameters, connections, multiply_adds and dense_parameters, and the last layer's
    output_shape and output_units.

    Examples:
        >>> from glassnet import nn
        >>> from glassnet.explain import count
        >>> c = count(nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2)), (1, 32, 32))
        >>> print(c)
        layer                             output shape  parameters  connections  multiply-adds  dense parameters
        --------------------------------------------------------------------------------------------------------
        0: Conv2d(1 -> 6, k=5, s=1, p=0)  (6, 28, 28)          156      117,600        117,600         4,821,600
        1: ReLU                           (6, 28, 28)            0        4,704              0                 0
        2: MaxPool2d(k=2, s=2)            (6, 14, 14)            0        4,704              0         5,531,904
        --------------------------------------------------------------------------------------------------------
        total                             (6, 14, 14)          156      127,008        117,600        10,353,504
        >>> len(c), c.parameters, c.output_shape
        (3, 156, (6, 14, 14))
    """
    layers: tuple[LayerCount, ...]

    @property
    def parameters(self) -> int:
        return sum(c.parameters for c in self.layers)

    @property
    def connections(self) -> int:
        return sum(c.connections for c in self.layers)

    @property
    def multiply_adds(self) -> int:
        return sum(c.multiply_adds for c in self.layers)

    @property
    def dense_parameters(self) -> int:
        return sum(c.dense_parameters for c in self.layers)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layers[-1].output_shape

    @property
    def output_units(self) -> int:
        return self.layers[-1].output_units

    def __getitem__(self, i) -> LayerCount:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __str__(self) -> str:
        head = ("layer", "output shape", "parameters", "connections", "multiply-adds", "dense parameters")
        rows = [head] + [(c.name, str(c.output_shape), f"{c.parameters:,}", f"{c.connections:,}",
                          f"{c.multiply_adds:,}", f"{c.dense_parameters:,}") for c in self.layers]
        rows.append(("total", str(self.output_shape), f"{self.parameters:,}", f"{self.connections:,}",
                     f"{self.multiply_adds:,}", f"{self.dense_parameters:,}"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
                 for r in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.insert(len(lines) - 1, "-" * len(lines[0]))
        return "\n".join(lines)


def count_layer(layer: Layer, input_shape, output_shape=None) -> LayerCount:
    """Counts of one Layer for a per-sample input shape (C, *spatial).

    output_shape, when known from running the layer, is used for layers whose geometry glassnet
    does not describe (adaptive pooling and other shape-changing modules): for those, each input
    unit counts as one connection.

    Examples:
        >>> from glassnet.explain.counting import count_layer
        >>> from glassnet.explain.layers import conv
        >>> c = count_layer(conv(3, 8, 5, stride=2), (3, 32, 32))
        >>> c.output_shape, c.parameters, c.multiply_adds          # 8 * 3 * 25 + 8; 14 * 14 * 8 * 3 * 25
        ((8, 14, 14), 608, 117600)
    """
    input_shape = tuple(int(v) for v in input_shape)
    if layer.kind == "pointwise" and output_shape is not None and tuple(output_shape) != input_shape:
        out_shape = tuple(int(v) for v in output_shape)
        return LayerCount(layer.label(), input_shape, out_shape, layer.parameters, int(np.prod(input_shape)), 0, 0)
    out_shape = layer.output_shape(input_shape)
    if output_shape is not None and tuple(output_shape) != out_shape:
        raise ValueError(f"{layer.label()}: computed output shape {out_shape} for input {input_shape}, but the "
                         f"layer produced {tuple(output_shape)}")
    in_units, out_units = int(np.prod(input_shape)), int(np.prod(out_shape))
    dense = in_units * out_units + (out_units if layer.kind in ("conv", "linear") and layer.bias else 0)
    if layer.kind == "conv":
        # (filter, input channel) pairs linked: C/groups per filter, fewer with a connection table
        pairs = layer.channel_links or layer.out_channels * (layer.in_channels // layer.groups)
        # a module's own count wins: locally connected and tiled layers keep weights per position
        params = layer.parameters or pairs * int(np.prod(layer.kernel_size)) + (layer.out_channels if layer.bias else 0)
        pads = layer.pads(input_shape[1:])
        if layer.padding_mode == "zeros":
            inside = int(np.prod([_inside_taps(n, k, s, p, d, o) for n, k, s, p, d, o in zip(
                input_shape[1:], layer.kernel_size, layer.stride, pads, layer.dilation, out_shape[1:])]))
        else:  # the other modes copy real inputs into the border: every tap reaches a unit
            inside = int(np.prod(out_shape[1:])) * int(np.prod(layer.kernel_size))
        connections = pairs * inside
        macs = int(np.prod(out_shape[1:])) * pairs * int(np.prod(layer.kernel_size))
        return LayerCount(layer.label(), input_shape, out_shape, params, connections, macs, dense)
    if layer.kind in ("max_pool", "avg_pool"):
        pads = layer.pads(input_shape[1:])
        inside = int(np.prod([_inside_taps(n, k, s, p, d, o) for n, k, s, p, d, o in zip(
            input_shape[1:], layer.kernel_size, layer.stride, pads, layer.dilation, out_shape[1:])]))
        # a subsampling layer (a pooling with a trained coefficient) multiplies each window sum once
        macs = int(np.prod(out_shape)) if layer.parameters else 0
        return LayerCount(layer.label(), input_shape, out_shape, layer.parameters, input_shape[0] * inside, macs,
                          dense)
    if layer.kind == "linear":
        params = layer.in_channels * layer.out_channels + (layer.out_channels if layer.bias else 0)
        return LayerCount(layer.label(), input_shape, out_shape, params, in_units * out_units,
                          in_units * out_units, dense)
    # flatten and pointwise: each output unit is tied to one input unit; no weight matrix to compare
    return LayerCount(layer.label(), input_shape, out_shape, layer.parameters, out_units, 0, 0)


def count(model, input_shape) -> Counts:
    """Parameters, output shape, connections, multiply-adds and the dense comparison for every layer
    of a model (a glassnet.nn module or Sequential, a Layer, or a list of them), for one sample of
    shape input_shape = (C, *spatial).

    A glassnet.nn model is run once on zeros and every call of a leaf module is counted with the
    shapes it saw, so models with branches and skip connections are counted too.

    Seed 000: a 10x10 image and twenty 5x5 filters (no bias):

    >>> from glassnet.explain.layers import conv
    >>> c = count(conv(1, 20, 5, bias=False), (1, 10, 10))
    >>> c.parameters, c.output_shape, c.output_units
    (500, (20, 6, 6), 720)
    """
    shape = tuple(int(v) for v in input_shape)
    if is_module(model):
        return _count_by_running(model, shape)
    rows = []
    for layer in as_layers(model):
        row = count_layer(layer, shape)
        rows.append(row)
        shape = row.output_shape
    if not rows:
        raise ValueError("count needs at least one layer, got an empty model")
    return Counts(tuple(rows))


def _count_by_running(model, input_shape) -> Counts:
    """Count a glassnet.nn model of any architecture (branches, skip connections): run it once on
    zeros with forward hooks on its leaf modules, and count each call with the shapes it saw.
    A module called twice (a shared ReLU) is listed twice, its parameters counted once."""
    from .. import tensor
    leaves = leaf_modules(model)
    if not leaves:
        raise ValueError("count needs at least one layer, got an empty model")
    rows, seen = [], set()

    def record(name, module, args, output):
        first = args[0] if args else None
        if first is None or not hasattr(first, "shape") or not hasattr(output, "shape"):
            return
        layer = as_layer(module)
        if id(module) in seen and layer.kind == "pointwise":
            layer = replace(layer, parameters=0)
        row = count_layer(layer, tuple(first.shape[1:]), tuple(output.shape[1:]))
        if id(module) in seen and layer.kind in ("conv", "linear"):
            row = replace(row, parameters=0)  # shared weights are counted at their first use
        seen.add(id(module))
        rows.append(replace(row, name=f"{name}: {row.name}" if name else row.name))

    hooks = [(module, lambda module, args, output, name=name: record(name, module, args, output))
             for name, module in leaves]
    run_with_hooks(model, tensor(np.zeros((1,) + tuple(input_shape), dtype=np.float32)), hooks)
    return Counts(tuple(rows))
