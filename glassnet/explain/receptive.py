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

Where branches meet (an addition, a concatenation of channels) a unit sees what either branch
sees: the union, start = min of the starts, end = max of the ends. When the branches have the
same jump (they always do when they keep the same resolution, as in a residual block) the union
is again a size/jump/start field; when they do not, size, jump and start depend on the unit and
are shown as "varies".

When the input shape is known the tools also follow every unit exactly, per dimension: the
first and last input index each unit depends on (`region`). Near the borders these differ from
the span above: taps that fall in a layer's zero padding see nothing, and reflect, replicate and
circular padding read real inputs from the other side. Inside the input and away from the
borders the two agree. The field of a unit at a spatial position is the union over its channels
(with groups or concatenations a single channel may see less).

Any glassnet.nn model is handled: it is run once on zeros with forward hooks on its modules, and
the field of each tensor is worked out along the recorded autograd graph, window layers by their
modules' geometry, the operations between modules by what they do to positions: element-wise
operations and concatenations of channels take the union (a broadcast gate of one unit, as in
squeeze-and-excite, adds its field to every unit), slices crop and stride, a concatenation
along a spatial dimension joins the units, a transpose of the positions swaps the dimensions
units move along, a reduction or softmax over a spatial dimension lets every unit see all of
it. A tensor that keeps no spatial dimensions (a flatten, a mean over all positions) is a
vector: each of its units is taken to see everything the vector's input saw. Windows computed
outside modules (a functional max_pool2d in a forward) are refused with an error, as are
indices other than slices of the positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..kernels.sizes import dilated_extent, tap_positions
from ._hooks import CONTAINERS, is_module, run_with_hooks
from .layers import Layer, as_layer, as_layers

_NONE = np.iinfo(np.int64).max // 2  # 'lo' of a unit that sees no input (its window lies in padding)

# Autograd Functions that combine their inputs position by position (after broadcasting): a unit of
# the output sees what the units at the same position of the inputs see.
_POINTWISE = {"Add", "Sub", "Mul", "Div", "Neg", "Pow", "Exp", "Log", "Sqrt", "Abs", "Clamp", "Clone", "Cast",
              "Where", "Expand", "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Dropout", "BatchNorm"}
# Reductions: a dimension they keep (same size) keeps its field, a dimension reduced to 1 sees all of it.
_REDUCTIONS = {"Sum", "Mean", "Var", "MaxMin"}


@dataclass(frozen=True)
class _Field:
    """What the units of one tensor see, per spatial dimension.

    affine: (start, jump, size) per dimension, None where it depends on the unit (branches with
    different jumps met). lo, hi: per dimension an int array over the units along it, the first
    and last input index the unit depends on (None when the input size is unknown). whole: the
    tensor has no spatial positions (after a flatten or a linear layer): lo and hi have one entry,
    shared by every unit. All of these are listed per spatial axis of the tensor; dims[a] is the
    input dimension axis a runs along (None: axis a runs along input dimension a; a transpose of
    the positions swaps them).
    """
    affine: tuple
    lo: tuple | None
    hi: tuple | None
    whole: bool = False
    dims: tuple | None = None


def _identity(ndim: int, spatial) -> _Field:
    lo = None if spatial is None else tuple(np.arange(n, dtype=np.int64) for n in spatial)
    return _Field(((0, 1, 1),) * ndim, lo, lo)


def _source_index(n_in: int, n_out: int, k: int, s: int, d: int, pad: tuple[int, int], mode: str):
    """(n_out, k) input index read by each tap of each output unit along one dimension, -1 where the
    tap falls in zero padding; other padding modes read the real input they copy."""
    taps = tap_positions(n_out, k, s, d, pad[0])  # (n_out, k), unpadded coords
    if mode == "zeros":
        return np.where((taps >= 0) & (taps < n_in), taps, -1)
    # pad the index vector itself the way the layer pads its input; ceil_mode windows never use this
    reach = max(int(taps.max()) + 1 - n_in, 0)
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    padded = np.pad(np.arange(n_in), (pad[0], max(pad[1], reach)), mode=np_mode)
    return padded[taps + pad[0]]


def _window(f: _Field, layer: Layer, spatial_in, spatial_out) -> _Field:
    """A conv or pooling layer: the recurrences for size/jump/start, the taps for lo/hi."""
    pads = layer.pads(spatial_in)
    mode = layer.padding_mode if layer.kind == "conv" else "zeros"  # pooling pads with -inf or zeros
    # (start, jump, size): the module docstring's recurrences, d (k - 1) + 1 being the window's extent
    affine = tuple(None if a is None else
                   (a[0] - p[0] * a[1], a[1] * s, a[2] + (dilated_extent(k, d) - 1) * a[1])
                   for a, k, s, d, p in zip(f.affine, layer.kernel_size, layer.stride, layer.dilation, pads))
    if f.lo is None or spatial_out is None:
        return _Field(affine, None, None, dims=f.dims)
    los, his = [], []
    for lo, hi, n_in, n_out, k, s, d, p in zip(f.lo, f.hi, spatial_in, spatial_out, layer.kernel_size,
                                               layer.stride, layer.dilation, pads):
        src = _source_index(n_in, n_out, k, s, d, p, mode)  # (n_out, k)
        inside = src >= 0
        los.append(np.where(inside, lo[src], _NONE).min(axis=1))
        his.append(np.where(inside, hi[src], -1).max(axis=1))
    return _Field(affine, tuple(los), tuple(his), dims=f.dims)


def _adaptive(f: _Field, spatial_in, spatial_out) -> _Field:
    """Adaptive pooling: output i of n_out pools inputs floor(i n/n_out) .. ceil((i+1) n/n_out) - 1
    (as in torch); one window sliding with one stride only when n_out divides n."""
    affine, los, his = [], [], []
    for a, lo, hi, n, m in zip(f.affine, f.lo, f.hi, spatial_in, spatial_out):
        if a is not None and n % m == 0:
            k = n // m
            affine.append((a[0], a[1] * k, a[2] + (k - 1) * a[1]))
        else:
            affine.append(None)
        first = (np.arange(m) * n) // m
        last = -((-(np.arange(m) + 1) * n) // m)  # ceil((i + 1) n / m), exclusive
        los.append(np.array([lo[i:j].min() for i, j in zip(first, last)], dtype=np.int64))
        his.append(np.array([hi[i:j].max() for i, j in zip(first, last)], dtype=np.int64))
    return _Field(tuple(affine), tuple(los), tuple(his), dims=f.dims)


def _envelope(f: _Field, dims=None) -> _Field:
    """Every unit sees all that the units along `dims` (default: all, the tensor loses its
    positions) see together."""
    whole = f.whole or dims is None
    dims = range(len(f.affine)) if dims is None else dims
    affine, los, his = list(f.affine), None if f.lo is None else list(f.lo), None if f.hi is None else list(f.hi)
    for i in dims:
        if los is None:
            affine[i] = None
            continue
        lo, hi = int(los[i].min()), int(his[i].max())
        los[i], his[i] = np.array([lo], np.int64), np.array([hi], np.int64)
        affine[i] = (lo, 0, hi - lo + 1)
    if whole and f.dims is not None:
        # a vector's units have no axes: list its extents in the input's order of dimensions
        order = [f.dims.index(i) for i in range(len(f.dims))]
        affine = [affine[a] for a in order]
        los, his = (None, None) if los is None else ([los[a] for a in order], [his[a] for a in order])
        return _Field(tuple(affine), None if los is None else tuple(los), None if his is None else tuple(his), True)
    return _Field(tuple(affine), None if los is None else tuple(los), None if his is None else tuple(his), whole,
                  f.dims)


def _at(f: _Field, spatial_out) -> _Field:
    """f as seen from a tensor of spatial shape spatial_out: dimensions of size 1 broadcast (every
    unit along them sees what the one unit sees: jump 0)."""
    if f.whole or f.lo is None:
        return f
    affine, los, his = [], [], []
    for a, lo, hi, n in zip(f.affine, f.lo, f.hi, spatial_out):
        if len(lo) == n:
            affine.append(a)
        elif len(lo) == 1:
            affine.append(None if a is None else (a[0], 0, a[2]))
            lo, hi = np.repeat(lo, n), np.repeat(hi, n)
        else:
            raise ValueError(f"receptive_field: cannot combine units along a dimension of {len(lo)} with one of {n}")
        los.append(lo)
        his.append(hi)
    return _Field(tuple(affine), tuple(los), tuple(his), dims=f.dims)


def _constant(f: _Field) -> bool:
    """Every unit sees the same (a vector, or a map of one unit along every axis)."""
    return f.whole or f.lo is not None and all(len(lo) == 1 for lo in f.lo)


def _oriented(f: _Field, dims) -> _Field:
    """f with its axes running along the input dimensions `dims`; only a constant field, whose
    units all see the same, can be turned."""
    if f.dims == dims:
        return f
    if not _constant(f):
        raise ValueError("receptive_field: positions and transposed positions are combined (a map added to its "
                         "transpose); the units' fields are not boxes with one extent per dimension")
    ndim = len(f.affine)
    have = tuple(range(ndim)) if f.dims is None else f.dims
    want = tuple(range(ndim)) if dims is None else dims
    order = [have.index(i) for i in want]  # axis a of the result holds input dimension want[a]
    lo = None if f.lo is None else tuple(f.lo[a] for a in order)
    hi = None if f.hi is None else tuple(f.hi[a] for a in order)
    return _Field(tuple(f.affine[a] for a in order), lo, hi, f.whole, dims)


def _union(fields, spatial_out=None) -> _Field | None:
    """Units that add or concatenate (channels of) units of several tensors see what any of them sees."""
    fields = [f for f in fields if f is not None]
    if not fields:
        return None
    dims = next((f.dims for f in fields if not _constant(f)), fields[0].dims)
    fields = [_oriented(f, dims) for f in fields]  # a broadcast gate takes the orientation of the map it scales
    fields = [f if spatial_out is None else _at(f, spatial_out) for f in fields]
    if len(fields) == 1:
        return fields[0]
    affine = []
    for parts in zip(*(f.affine for f in fields)):
        if any(a is None for a in parts) or len({a[1] for a in parts}) != 1:
            affine.append(None)  # different jumps: the union is not one window sliding with one stride
            continue
        start = min(a[0] for a in parts)
        affine.append((start, parts[0][1], max(a[0] + a[2] for a in parts) - start))
    if any(f.lo is None for f in fields):
        return _Field(tuple(affine), None, None, all(f.whole for f in fields), dims)
    lo = tuple(np.minimum.reduce(list(x)) for x in zip(*(f.lo for f in fields)))
    hi = tuple(np.maximum.reduce(list(x)) for x in zip(*(f.hi for f in fields)))
    return _Field(tuple(affine), lo, hi, all(f.whole for f in fields), dims)


def _positions(shape, ndim: int):
    """The spatial sizes of a per-sample shape: its last ndim sizes, after the channels (and any
    axis in between, like the rotations of a p4 feature map); None for a vector."""
    return None if shape is None or len(shape) < ndim + 1 else tuple(int(v) for v in shape[len(shape) - ndim:])


def _layer(f: _Field | None, layer: Layer, in_shape, out_shape, ndim: int) -> _Field | None:
    """The field after one layer; in_shape, out_shape per sample, or None when unknown."""
    if f is None:
        return None  # the layer's input depends on no input unit (a constant)
    spatial_in = None if f.whole else _positions(in_shape, ndim)
    spatial_out = _positions(out_shape, ndim)
    if layer.is_window and not f.whole:
        if layer.ndim != ndim:
            raise ValueError(f"{layer.label()} has {layer.ndim} spatial dimensions, the model's input {ndim}")
        return _window(f, layer, spatial_in, spatial_out)
    if layer.kind in ("flatten", "linear") or f.whole:
        if layer.kind == "linear" and not f.whole:
            # a linear layer on a (C, *spatial) tensor mixes only the last dimension
            return _at(_envelope(f, [ndim - 1]), spatial_out) if spatial_out else _envelope(f, [ndim - 1])
        return _envelope(f)
    # a pointwise layer; one that changes the spatial shape must be an adaptive pooling
    if in_shape is None or out_shape is None or spatial_in == spatial_out:
        return f
    module = layer.module
    if module is not None and "Adaptive" in type(module).__name__ and "Pool" in type(module).__name__ \
            and spatial_out is not None:
        return _adaptive(f, spatial_in, spatial_out)
    if spatial_out is None:
        return _envelope(f)  # positions are gone: every unit may see everything
    raise ValueError(f"receptive_field: {layer.label()} changes the shape {tuple(in_shape)} -> {tuple(out_shape)} "
                     f"in a way the explain tools do not describe")


@dataclass(frozen=True)
class FieldRow:
    """Receptive field of the units of one layer's output, per spatial dimension.

    size, jump, start: the span of unit i is `[start + i * jump, start + i * jump + size - 1]` (None in
    a dimension where it depends on the unit). lo, hi: when the input shape is known, per
    dimension the exact first and last input index of every unit (arrays over the units).
    All are listed per input dimension i, and move along output axis i, or axes[i] when the
    model transposes positions.

    A row of ReceptiveField (rf.row(layer)); region(unit) gives the first and last input index
    per dimension a unit sees.

    Examples:
        >>> from glassnet import nn
        >>> from glassnet.explain import receptive_field
        >>> rf = receptive_field(nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2)), (1, 10, 10))
        >>> row = rf.row(-1)                           # after the pooling (row 0 is the input)
        >>> row.size, row.jump, row.start, row.output_shape
        ((4, 4), (2, 2), (0, 0), (4, 4, 4))
        >>> row.region((1, 0))                         # unit (1, 0): rows 2..5, columns 0..3
        ((2, 5), (0, 3))
    """
    name: str
    size: tuple
    jump: tuple
    start: tuple
    output_shape: tuple[int, ...] | None
    whole_input: bool = False
    lo: tuple | None = None
    hi: tuple | None = None
    axes: tuple | None = None

    def region(self, unit, input_spatial=None, clip: bool = True) -> tuple[tuple[int, int], ...] | None:
        """(first, last) input index per dimension seen by output unit `unit` (a spatial index).

        With clip (default) and a known input size: exactly the first and last input the unit
        depends on (None if it depends on none: a window entirely in padding). clip=False gives the
        span size/jump/start describe, which may hang over into the padding.
        """
        unit = (unit,) if isinstance(unit, (int, np.integer)) else tuple(unit)
        if self.whole_input:
            if self.lo is not None:
                return tuple((int(lo[0]), int(hi[0])) for lo, hi in zip(self.lo, self.hi))
            if input_spatial is None:
                raise ValueError("after a flatten or linear layer every unit sees the whole input; "
                                 "pass input_shape to get its extent")
            return tuple((0, n - 1) for n in input_spatial)
        if len(unit) != len(self.size):
            raise ValueError(f"expected a unit index with {len(self.size)} spatial coordinates, got {unit}")
        if self.output_shape is not None:
            spatial = self.output_shape[len(self.output_shape) - len(self.size):]
            for u, n in zip(unit, spatial):
                if not 0 <= u < n:
                    raise IndexError(f"unit {unit} is outside the layer's output of spatial shape {spatial}")
        if self.axes is not None:
            unit = tuple(unit[a] for a in self.axes)  # the unit's coordinate along the axis of each input dimension
        if clip and self.lo is not None:
            out = tuple((int(lo[u]), int(hi[u])) for u, lo, hi in zip(unit, self.lo, self.hi))
            return None if any(lo > hi for lo, hi in out) else out
        if any(v is None for v in self.size):
            raise ValueError(f"{self.name}: branches with different jumps meet here, so the span depends on the "
                             f"unit; use clip=True with a known input shape")
        out = []
        for i, (u, size, jump, start) in enumerate(zip(unit, self.size, self.jump, self.start)):
            lo, hi = start + u * jump, start + u * jump + size - 1
            if clip and input_spatial is not None:
                lo, hi = max(lo, 0), min(hi, input_spatial[i] - 1)
            out.append((lo, hi))
        return tuple(out)


def _row(name: str, f: _Field, shape) -> FieldRow:
    """A row lists everything per input dimension; axes[i] is the output axis along which the units'
    extent in input dimension i moves (after a transpose of the positions it is another one)."""
    axes = None if f.dims is None else tuple(f.dims.index(i) for i in range(len(f.dims)))
    order = range(len(f.affine)) if axes is None else axes
    affine = [f.affine[a] for a in order]
    lo = None if f.lo is None else tuple(f.lo[a] for a in order)
    hi = None if f.hi is None else tuple(f.hi[a] for a in order)
    pick = [tuple(None if a is None else a[j] for a in affine) for j in (2, 1, 0)]  # size, jump, start
    return FieldRow(name, pick[0], pick[1], pick[2], None if shape is None else tuple(int(v) for v in shape),
                    f.whole, lo, hi, axes)


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive fields after every layer of a model; rows[0] is the input itself. A row is
    picked by position or by name (a glassnet.nn module's name, e.g. "layers.1"); a Sequential's
    name picks the row of its last module (aliases).

    size, jump, start: the last row's (per spatial dimension). region(unit, layer=-1): the
    first and last input index per dimension that a unit of that layer sees. str() is a table.
    What `receptive_field` returns.

    Examples:
        >>> from glassnet import nn
        >>> from glassnet.explain import receptive_field
        >>> model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3))
        >>> rf = receptive_field(model, (1, 16, 16))
        >>> rf.size, rf.jump, rf.region((4, 4))       # the last unit sees rows and columns 8..15
        ((8, 8), (2, 2), ((8, 15), (8, 15)))
        >>> print(rf)
        layer                             output shape  size  jump  start
        -----------------------------------------------------------------
        input                             (1, 16, 16)   1     1     0
        0: Conv2d(1 -> 4, k=3, s=1, p=0)  (4, 14, 14)   3     1     0
        1: MaxPool2d(k=2, s=2)            (4, 7, 7)     4     2     0
        2: Conv2d(4 -> 4, k=3, s=1, p=0)  (4, 5, 5)     8     2     0
        >>> rf.row("1").size                          # the row of module "1"
        (4, 4)
    """
    rows: tuple[FieldRow, ...]
    input_shape: tuple[int, ...] | None
    aliases: dict = field(default_factory=dict, compare=False)

    @property
    def size(self):
        return self.rows[-1].size

    @property
    def jump(self):
        return self.rows[-1].jump

    @property
    def start(self):
        return self.rows[-1].start

    def row(self, layer: int | str = -1) -> FieldRow:
        if isinstance(layer, str):
            for r in self.rows:
                if r.name == layer or r.name.startswith(layer + ": "):
                    return r
            if layer in self.aliases:
                return self.rows[self.aliases[layer]]
            raise KeyError(f"no layer named {layer!r}; layers: {', '.join(r.name.split(': ')[0] for r in self.rows)}")
        return self.rows[layer]

    def region(self, unit, layer: int | str = -1, clip: bool = True):
        spatial = None if self.input_shape is None else self.input_shape[1:]
        return self.row(layer).region(unit, spatial, clip)

    def __str__(self) -> str:
        head = ("layer", "output shape", "size", "jump", "start")
        rows = [head] + [(r.name, "-" if r.output_shape is None else str(r.output_shape),
                          _whole(r, self.input_shape) if r.whole_input else _short(r.size),
                          "-" if r.whole_input else _short(r.jump), "-" if r.whole_input else _short(r.start))
                         for r in self.rows]
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "-" * max(len(line) for line in lines))
        return "\n".join(lines)


def _whole(r: FieldRow, input_shape) -> str:
    if r.lo is None or input_shape is None or all(lo[0] == 0 and hi[0] == n - 1
                                                  for lo, hi, n in zip(r.lo, r.hi, input_shape[1:])):
        return "whole input"
    return "input " + " x ".join(f"[{lo[0]}..{hi[0]}]" for lo, hi in zip(r.lo, r.hi))


def _short(t) -> str:
    t = tuple("varies" if v is None else v for v in t)
    return str(t[0]) if len(set(t)) == 1 else str(t).replace("'", "")


def receptive_field(model, input_shape=None, ndim: int | None = None) -> ReceptiveField:
    """Receptive field size, jump (distance in input units between neighbouring units) and start
    after each layer of a model: any glassnet.nn model (branches and skip connections included),
    a Layer, or a list of them.

    input_shape (C, *spatial) gives output shapes, resolves padding='same' and makes `region`
    exact; a glassnet.nn model with a forward of its own (not a Sequential) needs it, as it is
    run once to see how its data flow. Seed 004's stack of 1-D convolutions, kernel 3, stride 1:

    >>> from glassnet.explain.layers import conv
    >>> rf = receptive_field([conv(1, 4, 3, ndim=1), conv(4, 4, 3, ndim=1)])
    >>> rf.size, rf.jump, rf.start
    ((5,), (1,), (0,))
    """
    shape = None if input_shape is None else tuple(int(v) for v in input_shape)
    if shape is not None and len(shape) < 2:
        raise ValueError(f"receptive_field expected a per-sample input_shape (C, *spatial), e.g. (1, 28, 28), "
                         f"got {shape}")
    if is_module(model) and shape is not None:
        return _traced(model, shape)
    if is_module(model) and type(model).__name__ != "Sequential" and list(model.children()):
        raise ValueError(f"receptive_field of a {type(model).__name__} (a model with its own forward) needs "
                         f"input_shape: the model is run once to see how its data flow")
    layers = as_layers(model)
    if ndim is None:
        window = [layer for layer in layers if layer.is_window]
        if shape is not None:
            ndim = len(shape) - 1
        elif window:
            ndim = window[0].ndim
        else:
            raise ValueError("receptive_field needs input_shape or a layer with a kernel to know the number "
                             "of spatial dimensions")
    f = _identity(ndim, None if shape is None else shape[1:])
    rows = [_row("input", f, shape)]
    for layer in layers:
        if layer.is_window and layer.ndim != ndim and not f.whole:
            raise ValueError(f"{layer.label()} has {layer.ndim} spatial dimensions, the model's input {ndim}")
        out = None if shape is None else layer.output_shape(shape)
        f = _layer(f, layer, shape, out, ndim)
        rows.append(_row(layer.label(), f, out))
        shape = out
    return ReceptiveField(tuple(rows), None if input_shape is None else tuple(int(v) for v in input_shape))


def _traced(model, input_shape: tuple[int, ...]) -> ReceptiveField:
    """Run a glassnet.nn model once with hooks on its modules and follow the recorded graph."""
    from .. import tensor
    from ..tensor import Tensor
    ndim = len(input_shape) - 1
    calls = []  # (name, module, input, output) in the order the calls finish; keeps the tensors alive
    hooks = [(module, lambda module, args, output, name=name: calls.append((name, module, args[0] if args else None,
                                                                           output)))
             for name, module in model.named_modules()]
    x = tensor(np.zeros((1,) + input_shape, dtype=np.float32), requires_grad=True)
    # evaluation mode: batch norm with running statistics is a per-channel affine map, no mixing of positions
    run_with_hooks(model, x, hooks, grad=True)

    leaves = {id(out): (module, inp) for _, module, inp, out in calls
              if isinstance(out, Tensor) and isinstance(inp, Tensor) and out is not inp
              and not list(module.children()) and type(module).__name__ not in CONTAINERS}
    memo: dict[int, _Field | None] = {}

    def field_of(t) -> _Field | None:
        key = id(t)
        if key in memo:
            return memo[key]
        if t is x:
            result = _identity(ndim, input_shape[1:])
        elif key in leaves:
            module, inp = leaves[key]
            layer = as_layer(module)
            result = _layer(field_of(inp), layer, tuple(inp.shape[1:]), tuple(t.shape[1:]), ndim)
        elif getattr(t, "grad_fn", None) is None:
            result = None  # a constant or a parameter: it depends on no input unit
        else:
            parents = [p for p in t.grad_fn.inputs if isinstance(p, Tensor)]
            result = _operation(t.grad_fn, t, parents, [field_of(p) for p in parents], ndim, type(model).__name__)
        memo[key] = result
        return result

    rows, aliases, row_of = [_row("input", field_of(x), input_shape)], {}, {id(x): 0}
    for name, module, inp, out in calls:
        if not isinstance(out, Tensor):
            continue
        if type(module).__name__ in CONTAINERS:
            if id(out) in row_of:
                aliases[name] = row_of[id(out)]  # a container's output is its last module's, already listed
            continue
        f = field_of(out)
        if f is None:
            continue
        label = as_layer(module).label() if not list(module.children()) else type(module).__name__
        row_of[id(out)] = len(rows)
        rows.append(_row(f"{name}: {label}" if name else label, f, out.shape[1:]))
    return ReceptiveField(tuple(rows), input_shape, aliases)


def _operation(node, out, parents, fields, ndim: int, model_name: str) -> _Field | None:
    """The field of the output of an autograd operation called between modules (in a forward)."""
    name = node.function.__name__
    if all(f is None for f in fields):
        return None  # computed from constants and parameters only
    spatial = _positions(out.shape[1:], ndim)
    if name == "GetItem":
        return _getitem(fields[0], node, parents[0], out, ndim)
    if spatial is None:  # the positions are gone (a reshape to vectors, a mean over all positions)
        return _envelope(_union([f if f.whole else _envelope(f) for f in fields if f is not None]))
    # vectors brought back to positions (a reshape to (N, C, 1, 1) in a squeeze-and-excite block):
    # one unit along every dimension, seeing the vector's envelope
    fields = [f if f is None or not f.whole else _Field(f.affine, f.lo, f.hi, dims=f.dims) for f in fields]
    lead = out.ndim - ndim  # batch, channels (and a p4 rotation axis) come before the positions
    if name in _POINTWISE:
        return _union(fields, spatial)
    if name in ("Softmax", "LogSoftmax"):
        dim = node.dim % out.ndim
        f = _union(fields, spatial)
        return f if dim < lead else _at(_envelope(f, [dim - lead]), spatial)
    if name == "Cat" and node.dim >= lead:  # side by side along a spatial dimension
        dim = node.dim - lead
        parts = [_at(f, _positions(p.shape[1:], ndim)) if f is not None else None for f, p in zip(fields, parents)]
        if any(f is None for f in parts):
            raise ValueError(f"receptive_field: {model_name}.forward concatenates a constant along a spatial "
                             f"dimension; its units see no input")
        lo = tuple(np.concatenate([f.lo[i] for f in parts]) if i == dim else parts[0].lo[i] for i in range(ndim))
        hi = tuple(np.concatenate([f.hi[i] for f in parts]) if i == dim else parts[0].hi[i] for i in range(ndim))
        same = all(np.array_equal(f.lo[i], parts[0].lo[i]) and np.array_equal(f.hi[i], parts[0].hi[i])
                   for f in parts for i in range(ndim) if i != dim)
        if len({f.dims for f in parts}) > 1 or not same:
            # a unit's extent along the other axes would depend on which side it is on: not one
            # extent per axis any more
            raise ValueError(f"receptive_field: {model_name}.forward puts maps side by side along a spatial "
                             f"dimension whose units see different extents along the other dimensions")
        return _Field(tuple(None if i == dim else parts[0].affine[i] for i in range(ndim)), lo, hi, dims=parts[0].dims)
    if name == "Cat" or name == "Stack" and node.dim < lead:
        return _union(fields, spatial)  # more channels (or samples): the positions are untouched
    if name == "Permute" and sorted(node.dims[lead:]) == list(range(lead, out.ndim)):
        f = fields[0]
        order = [d - lead for d in node.dims[lead:]]  # spatial dimension i of the output is order[i] of the input
        dims = tuple(range(ndim)) if f.dims is None else f.dims
        return _Field(tuple(f.affine[i] for i in order), tuple(f.lo[i] for i in order), tuple(f.hi[i] for i in order),
                      dims=tuple(dims[i] for i in order))
    if name == "Reshape" and all(_positions(p.shape[1:], ndim) == spatial for p in parents):
        return _union(fields, spatial)  # channels regrouped (a channel shuffle), positions untouched
    if name == "Reshape":
        return _at(_envelope(_union(fields)), spatial)
    if name in _REDUCTIONS:
        # a dimension kept keeps its field; one reduced to a single unit sees all of it
        f = _union(fields)
        return _at(_envelope(f, [i for i, n in enumerate(spatial) if len(f.lo[i]) != n]), spatial)
    raise ValueError(f"receptive_field does not know how {name} (called in {model_name}.forward, outside a "
                     f"module) moves units across positions; call it through a glassnet.nn module")


def _getitem(f: _Field | None, node, parent, out, ndim: int) -> _Field | None:
    """Basic slicing of positions, x[:, :, a:b:c, ...] (crops and strides); any basic index of the
    leading axes. Other indices are refused."""
    if f is None or f.whole:
        return f
    (index,) = node.saved
    items = list(index) if isinstance(index, tuple) else [index]
    if Ellipsis in items:
        i = items.index(Ellipsis)
        items[i:i + 1] = [slice(None)] * (parent.ndim - len(items) + 1)
    items += [slice(None)] * (parent.ndim - len(items))
    lead = parent.ndim - ndim
    if not all(isinstance(i, (slice, int, np.integer)) for i in items) or len(items) != parent.ndim or \
            any(not isinstance(i, slice) for i in items[lead:]) or out.ndim < ndim + 2:
        raise ValueError(f"receptive_field follows slices of positions (x[:, :, a:b]), not the index {index!r}")
    affine, lo, hi = list(f.affine), list(f.lo), list(f.hi)
    for i, item in enumerate(items[lead:]):
        first, _, step = item.indices(parent.shape[lead + i])
        lo[i], hi[i] = lo[i][item], hi[i][item]
        if affine[i] is not None:
            start, jump, size = affine[i]
            affine[i] = (start + first * jump, jump * step, size) if step > 0 else None
    return _Field(tuple(affine), tuple(lo), tuple(hi), dims=f.dims)
