"""A convolution is a matrix multiplication (seed 000, seed 001).

For a fixed input shape, a convolution layer is the linear map vec(y) = M vec(x) with a sparse
matrix M in which the same kernel weights appear again and again (weight sharing) and every
other entry is zero (sparse interactions). Seed 000's first example, kernel [v1, v2] on 3 inputs:

    [h1]   [v1 v2  0] [x1]
    [h2] = [ 0 v1 v2] [x2]
                      [x3]

How M is built: number the input units 0..C*prod(n)-1 in vec order, pad that index array the way
the layer pads its input (zero padding gets index -1: "no input here"), and slide the kernel's
window over it with the same `sliding_windows` view the engine convolves with. Window position
(o, *out) and kernel tap (c, *j) then name the input unit that weight w[o, c, *j] multiplies:
one entry of M. Nothing is re-derived; the layer's own index arithmetic lays out the matrix.

Row and column order follow `order` (see glassnet.explain.vec): "C" row-major, "F" seed 003's
stacked columns. Rows: output channel after output channel; columns: input channel after channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..functional._checks import check_padding_mode
from ..kernels.sizes import (check_window_fits, conv_output_size, dilated_extent, output_shape, positive_tuple,
                             resolve_padding)
from ..kernels.windows import pad, sliding_windows
from .vec import _check_order, unvec


@dataclass(frozen=True)
class Links:
    """Every (output unit, input unit, weight) triple of a convolution: the non-zero pattern of M.

    rows, cols, weight_index: 1-D int arrays of equal length; entry M[rows[i], cols[i]] receives
    weight.ravel()[weight_index[i]] (entries named twice, possible only with circular or reflect
    padding on tiny inputs, add up). shape: (output units, input units), the shape of M.

    What `conv_links` returns; its example shows more.

    Examples:
        A 2-tap kernel over 3 inputs: output 0 reads inputs 0 and 1, output 1 reads 1 and 2.

        >>> from glassnet.explain.matrix import conv_links
        >>> links = conv_links((2,), (3,))
        >>> links.shape, links.rows.tolist(), links.cols.tolist(), links.weight_index.tolist()
        ((2, 3), [0, 0, 1, 1], [0, 1, 1, 2], [0, 1, 0, 1])
    """
    rows: np.ndarray
    cols: np.ndarray
    weight_index: np.ndarray
    weight_shape: tuple[int, ...]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]

    @property
    def shape(self) -> tuple[int, int]:
        return int(np.prod(self.output_shape)), int(np.prod(self.input_shape))


def _as_array(a) -> np.ndarray:
    return np.asarray(a)  # a glassnet Tensor or Parameter converts itself (__array__)


def _read_layer(weight, options: dict):
    """A conv module (has .weight and .kernel_size) -> its weight array and its own options."""
    if hasattr(weight, "weight") and hasattr(weight, "kernel_size"):
        layer = weight
        if getattr(layer, "transposed", False):
            raise ValueError(f"conv_matrix: {type(layer).__name__} is a transposed convolution; its matrix is "
                             f"the transpose of the matching convolution's (conv_matrix(...).T)")
        for key in ("stride", "padding", "dilation", "groups", "padding_mode", "flip"):
            if hasattr(layer, key):
                options[key] = getattr(layer, key)
        return _as_array(layer.weight), options
    return _as_array(weight), options


def _normalise(weight_shape, input_shape):
    """Accept (O, C/g, *k) with (C, *n), or a bare kernel (*k) with a spatial shape (*n)."""
    if isinstance(input_shape, (int, np.integer)):
        input_shape = (int(input_shape),)
    input_shape = tuple(int(v) for v in input_shape)
    weight_shape = tuple(int(v) for v in weight_shape)
    if len(weight_shape) == len(input_shape):
        # A bare kernel: one filter on one channel.
        return (1, 1) + weight_shape, (1,) + input_shape, True
    if len(weight_shape) != len(input_shape) + 1 or len(weight_shape) < 3:
        raise ValueError(f"expected a weight of shape (out_channels, in_channels/groups, *kernel_size) with a "
                         f"per-sample input shape (C, *spatial), or a bare kernel with a spatial shape; got "
                         f"weight {weight_shape} and input {input_shape}")
    return weight_shape, input_shape, False


def conv_links(weight_shape, input_shape, stride=1, padding=0, dilation=1, groups: int = 1,
               padding_mode: str = "zeros", order: str = "C", flip: bool = False) -> Links:
    """The index structure of the convolution matrix, independent of the weight values.

    weight_shape `(O, C/groups, *k)` and input_shape `(C, *n)`, or a bare kernel shape `(*k)` with a
    spatial input shape `(*n)`. Options as torch.nn.functional.convNd; flip=True is the true
    (kernel-flipped) convolution of seed 001 instead of cross-correlation.

    Returns a Links: rows, cols and weight_index, one entry per (output unit, input unit, weight)
    triple (taps in the zero padding left out), with the matrix's shape (output units, input
    units). order: the vectorisation ("C" row-major, or "F", seed 000's column stacking).

    Examples:
        A 2-tap kernel over 3 inputs: M is 2 x 3, w0 on the diagonal and w1 beside it:

        >>> from glassnet.explain import conv_links
        >>> links = conv_links((2,), (3,))
        >>> links.shape, links.rows.tolist(), links.cols.tolist(), links.weight_index.tolist()
        ((2, 3), [0, 0, 1, 1], [0, 1, 1, 2], [0, 1, 0, 1])
    """
    _check_order(order)
    weight_shape, input_shape, _ = _normalise(weight_shape, input_shape)
    out_channels, group_channels, *k = weight_shape
    channels, *n = input_shape
    nd = len(k)
    if channels != group_channels * groups or out_channels % groups:
        raise ValueError(f"weight of shape {tuple(weight_shape)} with groups={groups} expects an input of shape "
                         f"({group_channels * groups}, *spatial) and out_channels divisible by {groups}; "
                         f"got input {tuple(input_shape)}")
    check_padding_mode(padding_mode)
    stride = positive_tuple(stride, nd, "stride")
    dilation = positive_tuple(dilation, nd, "dilation")
    pads = resolve_padding(padding, k, stride, dilation, n)
    check_window_fits(n, k, pads, dilation)
    out = output_shape(n, k, stride, pads, dilation)

    # Input unit numbers in vec order, padded like the input (zero padding: -1 = no unit).
    units = unvec(np.arange(channels * int(np.prod(n))), input_shape, order)  # (C, *n)
    if padding_mode == "zeros":
        padded = pad(units[None], pads, "constant", value=-1)
    else:
        padded = pad(units[None], pads, padding_mode)
    windows = sliding_windows(padded, k, stride, dilation, out)[0]  # (C, *out, *k)
    windows = windows.reshape((groups, group_channels) + tuple(out) + tuple(k))  # (g, C/g, *out, *k)
    group_of = np.arange(out_channels) // (out_channels // groups)
    cols = windows[group_of]  # (O, C/g, *out, *k)

    rows = unvec(np.arange(out_channels * int(np.prod(out))), (out_channels,) + tuple(out), order)  # (O, *out)
    rows = rows.reshape((out_channels, 1) + tuple(out) + (1,) * nd)  # (O, 1, *out, 1...)
    widx = np.arange(int(np.prod(weight_shape))).reshape(weight_shape)  # (O, C/g, *k)
    if flip:
        widx = widx[(Ellipsis,) + (slice(None, None, -1),) * nd]
    widx = widx.reshape((out_channels, group_channels) + (1,) * nd + tuple(k))  # (O, C/g, 1..., *k)

    cols, rows, widx = np.broadcast_arrays(cols, rows, widx)  # each (O, C/g, *out, *k)
    keep = cols >= 0
    return Links(rows[keep], cols[keep], widx[keep], weight_shape, input_shape, (out_channels,) + tuple(out))


def conv_matrix(weight, input_shape, stride=1, padding=0, dilation=1, groups: int = 1,
                padding_mode: str = "zeros", order: str = "C", sparse: bool = False, flip: bool = False):
    """The matrix M with vec(conv(x)) == M @ vec(x) for one sample x of shape input_shape.

    weight: `(O, C/groups, *k)` array, a glassnet conv layer (its weight and options are used), or
    a bare kernel `(*k)` for one channel and one filter (then input_shape is the spatial shape).
    Returns M of shape (O * prod(out), C * prod(n)), dense (ndarray of weight's dtype) or, with
    sparse=True, a scipy.sparse CSR matrix. The bias is not part of M: conv(x) = M vec(x) + b.

    >>> conv_matrix([1.0, 2.0], 3)
    array([[1., 2., 0.],
           [0., 1., 2.]])
    """
    w, options = _read_layer(weight, dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
                                          padding_mode=padding_mode, flip=flip))
    if w.dtype.kind not in "fc":
        w = w.astype(np.float64)
    links = conv_links(w.shape, input_shape, order=order, **options)
    values = w.reshape(-1)[links.weight_index]  # (links,): the weight each entry holds
    if sparse:
        from scipy import sparse as sp
        return sp.csr_matrix((values, (links.rows, links.cols)), shape=links.shape, dtype=w.dtype)
    m = np.zeros(links.shape, dtype=w.dtype)
    np.add.at(m, (links.rows, links.cols), values)
    return m


def conv_matrix_pattern(weight_shape, input_shape, **options) -> np.ndarray:
    """Which weight sits where: an int matrix with 1 + (flat index of the weight) at each entry
    and 0 for a structural zero. For seed 000's kernel [v1, v2] on 3 inputs:

    >>> conv_matrix_pattern((2,), (3,))
    array([[1, 2, 0],
           [0, 1, 2]])
    """
    links = conv_links(weight_shape, input_shape, **options)
    pattern = np.zeros(links.shape, dtype=np.int64)
    flat = links.rows * links.shape[1] + links.cols
    if np.unique(flat).size != flat.size:
        raise ValueError("two weights land on the same entry of M (circular or reflect padding wrapping around "
                         "a small input), so an entry has no single weight; use conv_matrix for the values")
    pattern[links.rows, links.cols] = links.weight_index + 1
    return pattern


@dataclass(frozen=True)
class MatrixCounts:
    """The numbers seed 000 asks for about a convolution matrix M (bias not included).

    parameters: weights to learn (kernel entries). input_units, output_units: columns and rows of M.
    entries: rows * cols, also the parameter count of a fully connected layer of the same size.
    connections: structural non-zero entries of M = lines in the network diagram.
    zeros: entries - connections. shares: for each weight (array shaped like the weight), how many
    entries of M it occupies (weight sharing). dense_parameters: entries.

    What `matrix_counts` returns.

    Examples:
        A 3-tap kernel over 5 inputs: 3 outputs, each weight used once per output:

        >>> from glassnet.explain import matrix_counts
        >>> c = matrix_counts((3,), (5,))
        >>> c.parameters, c.input_units, c.output_units, c.entries, c.connections, c.zeros
        (3, 5, 3, 15, 9, 6)
        >>> c.shares.tolist()
        [3, 3, 3]
    """
    parameters: int
    input_units: int
    output_units: int
    entries: int
    connections: int
    zeros: int
    shares: np.ndarray

    @property
    def dense_parameters(self) -> int:
        return self.entries


def matrix_counts(weight_shape, input_shape, **options) -> MatrixCounts:
    """Parameters, units, connections, zeros and sharing of the convolution matrix.

    Seed 000's exercise: D = 10 inputs, U = 5 outputs, one kernel of size P = D - U + 1 = 6:

    >>> c = matrix_counts((6,), (10,))
    >>> c.parameters, c.output_units, c.connections, c.zeros, c.dense_parameters
    (6, 5, 30, 20, 50)
    """
    links = conv_links(weight_shape, input_shape, **options)
    rows, cols = links.shape
    connections = int(np.unique(links.rows * cols + links.cols).size)
    shares = np.bincount(links.weight_index, minlength=int(np.prod(links.weight_shape)))
    weight_shape = tuple(weight_shape) if len(tuple(weight_shape)) == len(links.weight_shape) \
        else links.weight_shape[2:]
    return MatrixCounts(int(np.prod(links.weight_shape)), cols, rows, rows * cols, connections,
                        rows * cols - connections, shares.reshape(weight_shape))  # (O, C/g, *k)


@dataclass(frozen=True)
class FoundConvolution:
    """A convolution equal to a given matrix: weight (O, C, *k) and the layer options.

    What `find_convolution` returns; matrix(input_shape) rebuilds the matrix, input_shape given as
    find_convolution takes it: `(C, *n)`, the spatial shape `(*n)` alone, or an int for one dimension.

    Examples:
        >>> from glassnet.explain import find_convolution
        >>> found = find_convolution([[1, 2, 0, 0], [0, 1, 2, 0], [0, 0, 1, 2]], 4)
        >>> found.weight.tolist(), found.stride, found.padding, found.dilation
        ([[[1.0, 2.0]]], (1,), (0,), (1,))
        >>> found.matrix((1, 4)).tolist()[0]
        [1.0, 2.0, 0.0, 0.0]
        >>> found.matrix(4).tolist() == found.matrix((1, 4)).tolist()     # as find_convolution took it
        True
    """
    weight: np.ndarray
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]

    def matrix(self, input_shape, order: str = "C") -> np.ndarray:
        if isinstance(input_shape, (int, np.integer)):
            input_shape = (int(input_shape),)
        input_shape = tuple(input_shape)
        if len(input_shape) == self.weight.ndim - 2:  # the spatial shape alone: the weight's channels
            input_shape = (self.weight.shape[1],) + input_shape
        return conv_matrix(self.weight, input_shape, self.stride, self.padding, self.dilation, order=order)


def _dilations(n: int, k: int) -> range:
    """The dilations tried for k taps over n inputs: each whose window fits in the unpadded input,
    and one more (its window fits only with padding). One tap has nothing to dilate."""
    if k == 1:
        return range(1, 2)
    fitting = sum(1 for d in range(1, n + 1) if dilated_extent(k, d) <= n)
    return range(1, fitting + 2)


def _candidates(n: int):
    """(k, s, p, d, out) for one dimension of size n, smallest kernel first; padding at most 'full'."""
    found = []
    for k in range(1, n + 1):
        for d in _dilations(n, k):
            for p in range(dilated_extent(k, d)):  # padding 0 .. d (k - 1), 'full' at most
                # with stride 1 every window position is an output; a larger stride than that
                # number of positions leaves only the first window, as that stride itself does
                positions = conv_output_size(n, k, 1, (p, p), d)
                for s in range(1, positions + 1):
                    found.append((k, s, p, d, conv_output_size(n, k, s, (p, p), d)))
    found.sort(key=lambda c: (c[0], c[1], c[2], c[3]))
    return found


def find_convolution(m, input_shape, out_channels: int = 1, order: str = "C", atol: float = 1e-8):
    """Is the matrix m a convolution (cross-correlation, zero padding, groups=1) of inputs of shape
    input_shape `(C, *n)` or `(*n)`? Returns a FoundConvolution (the smallest kernel that reproduces
    m, then the smallest stride, padding and dilation) or None.

    The kernel is read off m at the entries its structure names, then the whole matrix is
    rebuilt and compared, so a match is exact (within atol).

    >>> find_convolution([[-2, 1, 0], [0, -2, 1]], 3).weight
    array([[[-2.,  1.]]])
    >>> find_convolution([[-1, 2, -3], [4, -5, 6]], 3) is None   # seed 000's fully connected w
    True
    """
    m = np.asarray(m.toarray() if hasattr(m, "toarray") else m, dtype=np.float64)
    if isinstance(input_shape, (int, np.integer)):
        input_shape = (int(input_shape),)
    input_shape = tuple(input_shape)
    spatial = input_shape[1:] if len(input_shape) > 1 else input_shape
    channels = input_shape[0] if len(input_shape) > 1 else 1
    full_shape = (channels,) + tuple(spatial)
    if m.ndim != 2 or m.shape[1] != channels * int(np.prod(spatial)) or m.shape[0] % out_channels:
        raise ValueError(f"expected a matrix with {channels * int(np.prod(spatial))} columns (input {full_shape}) "
                         f"and a multiple of out_channels={out_channels} rows, got shape {m.shape}")
    units = m.shape[0] // out_channels
    per_dim = [_candidates(n) for n in spatial]

    def search(dim, chosen, remaining):
        if dim == len(spatial):
            if remaining == 1:
                yield chosen
            return
        for cand in per_dim[dim]:
            if remaining % cand[4] == 0:
                yield from search(dim + 1, chosen + [cand], remaining // cand[4])

    for chosen in sorted(search(0, [], units), key=lambda c: (int(np.prod([x[0] for x in c])),
                                                              [x[1:4] for x in c])):
        k, s, p, d = (tuple(x[i] for x in chosen) for i in range(4))
        weight_shape = (out_channels, channels) + k
        links = conv_links(weight_shape, full_shape, s, p, d, order=order)
        weight = np.zeros(int(np.prod(weight_shape)))
        # Read each weight at its first entry; a weight that never lands (all padding) stays 0.
        first = np.unique(links.weight_index, return_index=True)
        weight[first[0]] = m[links.rows[first[1]], links.cols[first[1]]]
        rebuilt = np.zeros_like(m)
        np.add.at(rebuilt, (links.rows, links.cols), weight[links.weight_index])
        if np.allclose(rebuilt, m, rtol=0, atol=atol):
            return FoundConvolution(weight.reshape(weight_shape), s, p, d)  # (O, C, *k)
    return None
