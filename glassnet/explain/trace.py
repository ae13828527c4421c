"""Worked-example traces (seed 002): every output element written as its sum of products.

    1×1 + 1×1 + 3×1 + 2×0 + 3×0 + 2×0 + 3×(-1) + 2×(-1) + 1×(-1) = 5 - 6 = -1

For a convolution the window of the (padded) input under the kernel is multiplied entry by entry
with the kernel and summed, channel by channel; with several channels each channel's sum is shown
and then their total (seed 002: "= -1 + 8 + 36 = 43"), plus the bias if there is one. Pooling
windows are written as max(...) or (a + b + ...)/n.

The windows come from the engine's own padding and `sliding_windows` view, so a trace shows what
the convolution computes, not a second implementation of it. Term order inside a window follows
`order`: "C" row by row, "F" column by column (the order seed 002 writes its sums in).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels.sizes import check_window_fits, output_shape, pool_output_size, positive_tuple, resolve_padding
from ..kernels.windows import pad, sliding_windows
from .vec import _check_order

OPS = ("conv", "max", "avg")


def fmt(v) -> str:
    """A number as a student writes it: 3, -1.5, 0.3333; negatives in parentheses are added by the
    caller where they follow an operator. A Step's text and the trace figures of
    glassnet.viz.trace print every number this way.

    Examples:
        >>> from glassnet.explain.trace import fmt
        >>> fmt(3.0), fmt(-1.5), fmt(1 / 3), fmt(-0.0), fmt(12345.678)
        ('3', '-1.5', '0.3333', '0', '1.235e+04')
    """
    v = float(v)
    if v == 0:
        return "0"
    if v.is_integer():
        return str(int(v))
    return f"{v:.4g}"


def _paren(v) -> str:
    text = fmt(v)
    return f"({text})" if text.startswith("-") else text


@dataclass(frozen=True)
class Step:
    """One output element: where its window is and how its value is made.

    index: `(filter or channel, *output position)`. start: first padded-input position of the
    window per spatial dimension (window taps at `start + j * dilation`). inputs, weights: the window
    values and kernel values, each (C/groups, *k) for conv (the input channels of the filter's
    group); for pooling weights is None. inside: same shape as inputs, False where a tap falls in
    the padding. channels: the input channels the window reads. value: the output element.
    expression: the sum of products (or max, or mean) written out; str() puts the output element
    in front: y[index] for conv, max_pool[index] or avg_pool[index].

    Examples:
        >>> from glassnet.explain import trace
        >>> step = trace([1, 2, 4, 7], [1, -1]).step(1)       # the second output of a 2-tap kernel
        >>> step.index, step.start, step.inputs.tolist(), step.weights.tolist(), step.value
        ((0, 1), (1,), [[2.0, 4.0]], [[1.0, -1.0]], -2.0)
        >>> print(step)
        y[0, 1] = 2×1 + 4×(-1) = 2 - 4 = -2
    """
    op: str
    index: tuple[int, ...]
    start: tuple[int, ...]
    inputs: np.ndarray
    weights: np.ndarray | None
    inside: np.ndarray
    bias: float | None
    value: float
    order: str
    include_pad: bool = True  # average pooling divides by the whole window (torch's count_include_pad)
    channels: tuple[int, ...] = (0,)

    def _flat(self, a: np.ndarray) -> np.ndarray:
        return a.reshape(-1, order=self.order)  # window entries in the chosen reading order

    @property
    def expression(self) -> str:
        """The computation written out, ending in '= value'."""
        if self.op == "max":
            vals = self._flat(self.inputs[0])[self._flat(self.inside[0])]
            return f"max({', '.join(fmt(v) for v in vals)}) = {fmt(self.value)}"
        if self.op == "avg":
            inside = self._flat(self.inside[0])
            vals = self._flat(self.inputs[0])
            count = int(self._count)
            shown = " + ".join(_paren(v) for v in vals[inside | self._count_pad])
            return f"({shown})/{count} = {fmt(vals.sum())}/{count} = {fmt(self.value)}"
        lines, sums = [], []
        for c in range(self.inputs.shape[0]):
            xs, ws = self._flat(self.inputs[c]), self._flat(self.weights[c])
            lines.append(" + ".join(f"{_paren(a)}×{_paren(b)}" for a, b in zip(xs, ws)))
            sums.append(float(np.sum(xs.astype(np.float64) * ws)))
        if len(lines) == 1 and self.bias is None:
            products = self._flat(self.inputs[0]).astype(np.float64) * self._flat(self.weights[0])
            pos, neg = products[products > 0].sum(), -products[products < 0].sum()
            middle = f"{fmt(pos)} - {fmt(neg)} = " if pos and neg else ""
            return f"{lines[0]} = {middle}{fmt(self.value)}"
        parts = [fmt(s) if i == 0 else (f"- {fmt(-s)}" if s < 0 else f"+ {fmt(s)}") for i, s in enumerate(sums)]
        if self.bias is not None:
            parts.append(f"- {fmt(-self.bias)} (bias)" if self.bias < 0 else f"+ {fmt(self.bias)} (bias)")
        body = "\n+ ".join(lines)
        return f"{body}\n= {' '.join(parts)} = {fmt(self.value)}"

    @property
    def _count(self) -> int:
        return int(self.inside[0].sum() + self._count_pad.sum())

    @property
    def _count_pad(self) -> np.ndarray:
        return ~self._flat(self.inside[0]) if self.include_pad else np.zeros(self.inside[0].size, bool)

    def __str__(self) -> str:
        name = "y" if self.op == "conv" else self.op + "_pool"
        return f"{name}[{', '.join(str(i) for i in self.index)}] = {self.expression}"


@dataclass(frozen=True)
class Trace:
    """The output of a traced convolution or pooling and the way to every element of it.

    output: (O, *out) for conv, (C, *out) for pooling. padded: the padded input (C, *padded),
    the grid the windows slide over. weight: (O, C/groups, *k). steps are built on demand:
    trace.step(0, 1, 2) or iter(trace).

    What `trace` returns; str() is every step, one line each.

    Examples:
        >>> from glassnet.explain import trace
        >>> t = trace([1, 2, 4, 7], [1, -1])
        >>> t.output.tolist()
        [[-1.0, -2.0, -3.0]]
        >>> print(t)
        y[0, 0] = 1×1 + 2×(-1) = 1 - 2 = -1
        y[0, 1] = 2×1 + 4×(-1) = 2 - 4 = -2
        y[0, 2] = 4×1 + 7×(-1) = 4 - 7 = -3
        >>> print(trace([[1, 5], [3, 2]], op="max", kernel_size=2).step(0, 0))
        max_pool[0, 0, 0] = max(1, 5, 3, 2) = 5
    """
    op: str
    x: np.ndarray
    padded: np.ndarray
    inside: np.ndarray
    weight: np.ndarray | None
    bias: np.ndarray | None
    output: np.ndarray
    pads: tuple[tuple[int, int], ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    order: str
    count_include_pad: bool = True
    groups: int = 1

    def channels(self, o: int) -> tuple[int, ...]:
        """Input channels output channel o reads: its group's, (C/groups) of them, for a
        convolution; channel o itself for pooling."""
        if self.op != "conv":
            return (o,)
        per_group = self.padded.shape[0] // self.groups
        g = o // (self.output.shape[0] // self.groups)
        return tuple(range(g * per_group, (g + 1) * per_group))

    def step(self, *index) -> Step:
        """Step for output element index = `(filter, *position)`, or just `(*position)` with one filter."""
        if len(index) == 1 and isinstance(index[0], tuple):
            index = index[0]
        nd = len(self.kernel_size)
        if len(index) == nd and self.output.shape[0] == 1:
            index = (0,) + tuple(index)
        if len(index) != nd + 1 or any(not 0 <= i < n for i, n in zip(index, self.output.shape)):
            raise IndexError(f"trace output has shape {self.output.shape}; got index {tuple(index)}")
        o, pos = index[0], index[1:]
        start = tuple(p * s for p, s in zip(pos, self.stride))
        taps = tuple(st + np.arange(k) * d for st, k, d in zip(start, self.kernel_size, self.dilation))
        grid = np.ix_(*taps)
        channels = self.channels(o)
        if self.op == "conv":
            group = slice(channels[0], channels[-1] + 1)
            inputs = self.padded[(group,) + grid]  # (C/groups, *k)
            inside = self.inside[(group,) + grid]
            weights = self.weight[o]
            bias = None if self.bias is None else float(self.bias[o])
        else:
            inputs = self.padded[(slice(o, o + 1),) + grid]  # (1, *k): pooling is per channel
            inside = self.inside[(slice(o, o + 1),) + grid]
            weights, bias = None, None
        return Step(self.op, tuple(int(i) for i in index), start, inputs, weights, inside, bias,
                    float(self.output[tuple(index)]), self.order, self.count_include_pad, channels)

    def __iter__(self):
        for index in np.ndindex(*self.output.shape):
            yield self.step(*index)

    def lines(self) -> list[str]:
        return [str(step) for step in self]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _as_array(a):
    return None if a is None else np.asarray(a)


def trace(x, weight=None, bias=None, stride=None, padding=0, dilation=1, groups: int = 1, op: str = "conv",
          kernel_size=None, padding_mode: str = "zeros", order: str = "C", flip: bool = False,
          count_include_pad: bool = True) -> Trace:
    """Trace a convolution (op="conv") or a max/average pooling (op="max"/"avg") of one sample.

    Convolution: x `(C, *n)` with weight `(O, C/groups, *k)`, or `(C, *k)` for a single filter, or
    a bare `(*n)` input with a bare `(*k)` kernel; bias (O,) or None; stride defaults to 1; flip=True is
    the true convolution (kernel rotated by 180 degrees). With groups g the C input channels and
    the O filters are split into g groups, and output channel o sums over the C/g input channels
    of its group, o // (O/g), only (g = C is a depthwise convolution). Pooling: kernel_size (int or tuple); an int
    kernel_size means x is (*n) for a 1-D or 2-D x and (C, H, W) for a 3-D x; stride defaults to
    kernel_size; max pooling pads with -inf, average pooling with zeros (count_include_pad as in
    torch). order: "C" or "F" term order inside a window.

    >>> t = trace([[1, 2, 3], [1, 3, 2], [3, 2, 1]], [[1, 0, -1]] * 3, order="F")
    >>> print(t.step(0, 0).expression)
    1×1 + 1×1 + 3×1 + 2×0 + 3×0 + 2×0 + 3×(-1) + 2×(-1) + 1×(-1) = 5 - 6 = -1
    """
    _check_order(order)
    if op not in OPS:
        raise ValueError(f"op must be one of {OPS}, got {op!r}")
    x = _as_array(x)
    if x.dtype.kind not in "f":
        x = x.astype(np.float64)
    if op == "conv":
        return _trace_conv(x, weight, bias, stride, padding, dilation, groups, padding_mode, order, flip)
    x, k = _pool_input(x, op, kernel_size, groups)
    trace_pool = _trace_max_pool if op == "max" else _trace_avg_pool
    return trace_pool(x, k, k if stride is None else stride, padding, dilation, order, count_include_pad)


def _geometry(spatial, k, stride, padding, dilation):
    """(stride, dilation, pads) as tuples, after checking that the window fits the padded input."""
    s = positive_tuple(stride, len(k), "stride")
    d = positive_tuple(dilation, len(k), "dilation")
    pads = resolve_padding(padding, k, s, d, spatial)
    check_window_fits(spatial, k, pads, d)
    return s, d, pads


def _real_inputs(x, pads) -> np.ndarray:
    """(C, *padded) bool: True on the input's own entries, False in the padding around them."""
    return pad(np.ones(x.shape, dtype=bool)[None], pads, "constant", value=False)[0]


def _conv_operands(x, weight, groups, flip):
    """x as (C, *n) and weight as (O, C/groups, *k) (kernel rotated with flip), from the shapes
    trace accepts, with errors that name the shapes expected."""
    if weight is None:
        raise ValueError("trace(op='conv') needs a weight")
    w = _as_array(weight).astype(x.dtype)
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    if w.ndim == x.ndim and groups == 1:
        # Either a bare kernel on a bare input, or one (C, *k) filter on a (C, *n) input. 1-D and
        # 2-D arrays are read as a bare signal or image (pass w[None] for one multi-channel 1-D
        # filter); 3-D ones as (C, *k) when the channel counts agree.
        if x.ndim <= 2 or x.shape[0] != w.shape[0]:
            x, w = x[None], w[None, None]  # (1, *n), (1, 1, *k)
        else:
            w = w[None]  # (1, C, *k)
    if x.shape[0] % groups:
        raise ValueError(f"trace: the input's {x.shape[0]} channels (input shape {x.shape}) are not "
                         f"divisible by groups={groups}")
    if w.ndim != x.ndim + 1 or w.shape[1] * groups != x.shape[0]:
        per_group = "" if groups == 1 else f" (C/groups = {x.shape[0]}/{groups})"
        raise ValueError(f"trace expected a weight of shape (O, {x.shape[0] // groups}, *k){per_group} for an "
                         f"input of shape {x.shape}, got {w.shape}")
    if w.shape[0] % groups:
        raise ValueError(f"trace: the weight's {w.shape[0]} filters (weight shape {w.shape}) are not "
                         f"divisible by groups={groups}")
    if flip:
        w = w[(Ellipsis,) + (slice(None, None, -1),) * (w.ndim - 2)]
    return x, w


def _trace_conv(x, weight, bias, stride, padding, dilation, groups, padding_mode, order, flip) -> Trace:
    """y[o, *i] = sum over the group's channels c and taps j of w[o, c, *j] x_padded[c, *(i s + j d)] + b[o]."""
    x, w = _conv_operands(x, weight, groups, flip)
    k = tuple(w.shape[2:])
    nd = len(k)
    s, d, pads = _geometry(x.shape[1:], k, 1 if stride is None else stride, padding, dilation)
    inside = _real_inputs(x, pads)
    padded = pad(x[None], pads, padding_mode)[0]
    if padding_mode != "zeros":
        inside = np.ones(padded.shape, dtype=bool)  # copied border values are real inputs
    windows = sliding_windows(padded[None], k, s, d, output_shape(x.shape[1:], k, s, pads, d))[0]  # (C, *out, *k)
    # sum over the group's (C/groups, *k) of window * kernel, for every filter of the group
    per_in, per_out = x.shape[0] // groups, w.shape[0] // groups
    y = np.concatenate([np.tensordot(w[g * per_out:(g + 1) * per_out], windows[g * per_in:(g + 1) * per_in],
                                     axes=([1] + list(range(2, 2 + nd)), [0] + list(range(1 + nd, 1 + 2 * nd))))
                        for g in range(groups)])  # (O, *out)
    b = None if bias is None else _as_array(bias).astype(x.dtype).reshape(-1)  # (O,)
    if b is not None:
        if b.shape != (w.shape[0],):
            raise ValueError(f"trace expected a bias of shape ({w.shape[0]},), got {b.shape}")
        y = y + b.reshape((-1,) + (1,) * nd)  # (O, 1, ..., 1) against (O, *out)
    return Trace("conv", x, padded, inside, w, b, y, pads, k, s, d, order, True, groups)


def _pool_input(x, op, kernel_size, groups):
    """x as (C, *n) and kernel_size as a tuple; an int kernel_size means x is (*n) for a 1-D or
    2-D x and (C, H, W) for a 3-D x."""
    if kernel_size is None:
        raise ValueError(f"trace(op={op!r}) needs a kernel_size")
    if groups != 1:
        raise ValueError(f"groups is an option of a convolution, not of op={op!r} pooling")
    if isinstance(kernel_size, (tuple, list)):
        nd = len(kernel_size)
    else:
        nd = x.ndim - 1 if x.ndim == 3 else x.ndim
    if x.ndim == nd:
        x = x[None]  # (1, *n)
    return x, positive_tuple(kernel_size, nd, "kernel_size")


def _pool_windows(padded, spatial, k, s, d, pads) -> np.ndarray:
    """(C, *out, *k): the pooling windows of every channel."""
    out = tuple(pool_output_size(n, kk, ss, p, dd) for n, kk, ss, p, dd in zip(spatial, k, s, pads, d))
    return sliding_windows(padded[None], k, s, d, out)[0]


def _trace_max_pool(x, k, stride, padding, dilation, order, count_include_pad) -> Trace:
    """y[c, *i] = max over taps j of x_padded[c, *(i s + j d)], the padding being -inf."""
    s, d, pads = _geometry(x.shape[1:], k, stride, padding, dilation)
    padded = pad(x[None], pads, "constant", value=-np.inf)[0]
    windows = _pool_windows(padded, x.shape[1:], k, s, d, pads)  # (C, *out, *k)
    y = windows.max(axis=tuple(range(1 + len(k), 1 + 2 * len(k))))  # (C, *out)
    return Trace("max", x, padded, _real_inputs(x, pads), None, None, y, pads, k, s, d, order, count_include_pad)


def _trace_avg_pool(x, k, stride, padding, dilation, order, count_include_pad) -> Trace:
    """y[c, *i] = (sum over taps j of x_padded[c, *(i s + j d)]) / prod(k), or / the number of
    taps on real inputs without count_include_pad."""
    s, d, pads = _geometry(x.shape[1:], k, stride, padding, dilation)
    inside = _real_inputs(x, pads)
    padded = pad(x[None], pads, "zeros")[0]
    axes_k = tuple(range(1 + len(k), 1 + 2 * len(k)))
    windows = _pool_windows(padded, x.shape[1:], k, s, d, pads)  # (C, *out, *k)
    divisor = np.prod(k) if count_include_pad else _pool_windows(inside, x.shape[1:], k, s, d, pads).sum(axis=axes_k)
    if np.any(divisor == 0):  # a dilated window can fall on the padding alone: its mean would be 0/0
        where = tuple(int(i) for i in np.argwhere(divisor == 0)[0])
        raise ValueError(f"average pooling with count_include_pad=False: the window of output {list(where)} "
                         f"covers no input, only padding (input {x.shape[1:]}, kernel {k}, stride {s}, "
                         f"padding {pads}, dilation {d}), so its mean would be 0/0")
    y = windows.sum(axis=axes_k) / divisor  # (C, *out)
    return Trace("avg", x, padded, inside, None, None, y, pads, k, s, d, order, count_include_pad)
