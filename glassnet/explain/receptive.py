"""Receptive fields: which input units a unit deep in the network sees (seed 004, "what at the
next layer?").

Along each spatial dimension a stack of window layers maps unit i of layer l to the input
interval [start_l + i * jump_l, start_l + i * jump_l + size_l - 1]. With kernel k, stride s,
dilation d and low padding p of layer l + 1 (effective kernel d(k - 1) + 1):

    jump_{l+1}  = jump_l * s
    size_{l+1}  = size_l + d (k - 1) * jump_l
    start_{l+1} = start_l - p * jump_l

starting from the input itself (size 1, jump 1, start 0). A negative start, or an end past the
input, means the field hangs over into the padding. Pointwise layers change nothing; after a
flatten or a fully connected layer every unit sees the whole input.

The field is the span a unit can see: near the borders its ends may fall on positions that are
padding in some middle layer, and with a stride larger than the kernel it has holes. Inside the
input and away from the borders its ends are exactly the first and last input the unit depends on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layers import as_layers


@dataclass(frozen=True)
class FieldRow:
    """Receptive field of the units of one layer's output, per spatial dimension."""
    name: str
    size: tuple[int, ...]
    jump: tuple[int, ...]
    start: tuple[int, ...]
    output_shape: tuple[int, ...] | None
    whole_input: bool = False

    def region(self, unit, input_spatial=None, clip: bool = True) -> tuple[tuple[int, int], ...]:
        """(first, last) input index per dimension seen by output unit `unit` (a spatial index);
        clipped to the input when input_spatial is known and clip is True."""
        unit = (unit,) if isinstance(unit, (int, np.integer)) else tuple(unit)
        if self.whole_input:
            if input_spatial is None:
                raise ValueError("after a flatten or linear layer every unit sees the whole input; "
                                 "pass input_shape to get its extent")
            return tuple((0, n - 1) for n in input_spatial)
        if len(unit) != len(self.size):
            raise ValueError(f"expected a unit index with {len(self.size)} spatial coordinates, got {unit}")
        if self.output_shape is not None:
            for u, n in zip(unit, self.output_shape[1:]):
                if not 0 <= u < n:
                    raise IndexError(f"unit {unit} is outside the layer's output of spatial shape "
                                     f"{self.output_shape[1:]}")
        out = []
        for i, (u, size, jump, start) in enumerate(zip(unit, self.size, self.jump, self.start)):
            lo, hi = start + u * jump, start + u * jump + size - 1
            if clip and input_spatial is not None:
                lo, hi = max(lo, 0), min(hi, input_spatial[i] - 1)
            out.append((lo, hi))
        return tuple(out)


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive fields after every layer of a model; rows[0] is the input itself."""
    rows: tuple[FieldRow, ...]
    input_shape: tuple[int, ...] | None

    @property
    def size(self):
        return self.rows[-1].size

    @property
    def jump(self):
        return self.rows[-1].jump

    @property
    def start(self):
        return self.rows[-1].start

    def region(self, unit, layer: int = -1, clip: bool = True):
        spatial = None if self.input_shape is None else self.input_shape[1:]
        return self.rows[layer].region(unit, spatial, clip)

    def __str__(self) -> str:
        head = ("layer", "output shape", "size", "jump", "start")
        rows = [head] + [(r.name, "-" if r.output_shape is None else str(r.output_shape),
                          "whole input" if r.whole_input else _short(r.size),
                          "-" if r.whole_input else _short(r.jump), "-" if r.whole_input else _short(r.start))
                         for r in self.rows]
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "-" * max(len(line) for line in lines))
        return "\n".join(lines)


def _short(t) -> str:
    return str(t[0]) if len(set(t)) == 1 else str(t)


def receptive_field(model, input_shape=None, ndim: int | None = None) -> ReceptiveField:
    """Receptive field size, jump (distance in input units between neighbouring units) and start
    after each layer of a model (glassnet.nn module or Sequential, Layer, or list of them).

    input_shape (C, *spatial), optional, gives output shapes, resolves padding='same' and lets
    `region` clip to the input. Seed 004's stack of 1-D convolutions, kernel 3, stride 1:

    >>> from glassnet.explain.layers import conv
    >>> rf = receptive_field([conv(1, 4, 3, ndim=1), conv(4, 4, 3, ndim=1)])
    >>> rf.size, rf.jump, rf.start
    ((5,), (1,), (0,))
    """
    layers = as_layers(model)
    window = [layer for layer in layers if layer.is_window]
    if ndim is None:
        if input_shape is not None:
            ndim = len(input_shape) - 1
        elif window:
            ndim = window[0].ndim
        else:
            raise ValueError("receptive_field needs input_shape or a layer with a kernel to know the number "
                             "of spatial dimensions")
    shape = None if input_shape is None else tuple(int(v) for v in input_shape)
    size, jump, start = (1,) * ndim, (1,) * ndim, (0,) * ndim
    rows = [FieldRow("input", size, jump, start, shape)]
    whole = False
    for layer in layers:
        spatial = None if shape is None or whole else shape[1:]
        if layer.is_window and not whole:
            if layer.ndim != ndim:
                raise ValueError(f"{layer.label()} has {layer.ndim} spatial dimensions, the model's input {ndim}")
            pads = layer.pads(spatial)
            size = tuple(r + d * (k - 1) * j for r, k, d, j in zip(size, layer.kernel_size, layer.dilation, jump))
            start = tuple(st - p[0] * j for st, p, j in zip(start, pads, jump))
            jump = tuple(j * s for j, s in zip(jump, layer.stride))
        elif layer.kind in ("flatten", "linear"):
            whole = True
        shape = None if shape is None else layer.output_shape(shape)
        rows.append(FieldRow(layer.label(), size, jump, start, shape, whole))
    return ReceptiveField(tuple(rows), None if input_shape is None else tuple(int(v) for v in input_shape))
