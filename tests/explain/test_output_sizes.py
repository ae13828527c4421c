"""Every explain tool counts output sizes as glassnet.kernels.sizes does, and as PyTorch does.

output_size, the Layer descriptions (and so count and receptive_field), the convolution matrix,
the reverse search's candidates and trace each size their outputs; here each is checked against
the formula in kernels/sizes.py and against the shape PyTorch's own layer produces, over strides,
paddings, dilations and ceil_mode, in one and two dimensions.
"""

import numpy as np
import pytest
import torch

from glassnet.explain import conv_links, count, output_size, receptive_field, trace
from glassnet.explain.layers import avg_pool, conv, max_pool
from glassnet.explain.matrix import _candidates
from glassnet.kernels.sizes import (conv_output_size, dilated_extent, pool_output_size, resolve_padding,
                                    tap_positions)

# (n, k, s, p, d): one spatial dimension of a convolution
CONV_CASES = [(5, 3, 1, 0, 1), (5, 3, 1, 1, 1), (5, 3, 2, 0, 1), (7, 3, 2, 1, 1), (10, 3, 3, 2, 2),
              (8, 1, 1, 0, 1), (11, 4, 2, 3, 3), (9, 2, 4, 0, 2), (6, 5, 1, 4, 1), (5, 3, 1, 0, 2)]
# (n, k, s, p, d, ceil_mode): one spatial dimension of a pooling; p at most k // 2 as PyTorch asks
POOL_CASES = [(6, 2, 2, 0, 1, False), (7, 2, 2, 0, 1, True), (5, 2, 2, 1, 1, True), (9, 3, 2, 1, 1, False),
              (9, 3, 2, 1, 1, True), (10, 3, 3, 1, 2, True), (8, 4, 3, 2, 1, True), (11, 3, 1, 0, 3, False)]


def _torch_conv_size(n, k, s, p, d) -> int:
    return torch.nn.Conv1d(1, 1, k, s, p, d)(torch.zeros(1, 1, n)).shape[-1]


def _torch_pool_size(kind, n, k, s, p, d, ceil_mode) -> int:
    x = torch.zeros(1, 1, n)
    if kind == "max":
        return torch.nn.MaxPool1d(k, s, p, d, ceil_mode=ceil_mode)(x).shape[-1]
    return torch.nn.AvgPool1d(k, s, p, ceil_mode=ceil_mode)(x).shape[-1]


@pytest.mark.parametrize("n, k, s, p, d", CONV_CASES)
def test_every_tool_sizes_a_convolution_as_sizes_py_and_torch(n, k, s, p, d):
    expected = _torch_conv_size(n, k, s, p, d)
    assert conv_output_size(n, k, s, (p, p), d) == expected
    assert output_size(n, k, s, p, d).size == (expected,)
    layer = conv(1, 2, k, s, p, d, ndim=1)
    assert layer.output_shape((1, n)) == (2, expected)
    assert count(layer, (1, n)).output_shape == (2, expected)
    assert receptive_field(layer, (1, n)).rows[-1].output_shape == (2, expected)
    assert conv_links((2, 1, k), (1, n), s, p, d).output_shape == (2, expected)
    assert trace(np.arange(n, dtype=float), np.ones(k), stride=s, padding=p, dilation=d).output.shape == (1, expected)


@pytest.mark.filterwarnings("ignore:Using padding=.same. with even kernel lengths")
@pytest.mark.parametrize("padding", ["valid", "same", "full"])
@pytest.mark.parametrize("n, k, d", [(5, 3, 1), (8, 4, 1), (9, 3, 2)])
def test_padding_strings_size_as_torch(padding, n, k, d):
    pads = resolve_padding(padding, (k,), (1,), (d,), (n,))
    # torch takes 'valid' and 'same' by name; 'full' is d (k - 1) on each side
    torch_padding = dilated_extent(k, d) - 1 if padding == "full" else padding
    expected = torch.nn.Conv1d(1, 1, k, padding=torch_padding, dilation=d)(torch.zeros(1, 1, n)).shape[-1]
    assert conv_output_size(n, k, 1, pads[0], d) == expected
    assert output_size(n, k, padding=padding, dilation=d).size == (expected,)
    assert conv(1, 1, k, padding=padding, dilation=d, ndim=1).output_shape((1, n)) == (1, expected)
    assert conv_links((1, 1, k), (1, n), padding=padding, dilation=d).output_shape == (1, expected)
    assert trace(np.arange(n, dtype=float), np.ones(k), padding=padding, dilation=d).output.shape == (1, expected)


# average pooling has no dilation, in PyTorch as here
@pytest.mark.parametrize("kind, n, k, s, p, d, ceil_mode", [("max",) + c for c in POOL_CASES] +
                         [("avg",) + c for c in POOL_CASES if c[4] == 1])
def test_every_tool_sizes_a_pooling_as_sizes_py_and_torch(kind, n, k, s, p, d, ceil_mode):
    expected = _torch_pool_size(kind, n, k, s, p, d, ceil_mode)
    assert pool_output_size(n, k, s, (p, p), d, ceil_mode) == expected
    assert output_size(n, k, s, p, d, ceil_mode=ceil_mode).size == (expected,)
    layer = max_pool(k, s, p, d, ceil_mode, ndim=1) if kind == "max" else avg_pool(k, s, p, ceil_mode, ndim=1)
    assert layer.output_shape((3, n)) == (3, expected)
    assert count(layer, (3, n)).output_shape == (3, expected)
    assert receptive_field(layer, (3, n)).rows[-1].output_shape == (3, expected)
    if not ceil_mode:  # trace slides whole windows only
        t = trace(np.arange(n, dtype=float), op=kind, kernel_size=(k,), stride=s, padding=p, dilation=d)
        assert t.output.shape == (1, expected)


def test_two_dimensions_keep_each_dimension_its_own_options():
    n, k, s, p, d = (9, 12), (3, 2), (2, 1), (1, 0), (1, 2)
    expected = tuple(torch.nn.Conv2d(1, 2, k, s, p, d)(torch.zeros(1, 1, *n)).shape[1:])
    assert expected == (2,) + tuple(conv_output_size(*a) for a in zip(n, k, s, ((1, 1), (0, 0)), d))
    assert output_size(n, k, s, p, d).size == expected[1:]
    layer = conv(1, 2, k, s, p, d)
    assert layer.output_shape((1,) + n) == expected
    assert receptive_field(layer, (1,) + n).rows[-1].output_shape == expected
    assert conv_links((2, 1) + k, (1,) + n, s, p, d).output_shape == expected
    x = np.arange(np.prod(n), dtype=float).reshape(n)
    assert trace(x, np.ones(k), stride=s, padding=p, dilation=d).output.shape == (1,) + expected[1:]
    pooled = torch.nn.MaxPool2d(k, s, p, d, ceil_mode=True)(torch.zeros(1, 1, *n)).shape[2:]
    assert max_pool(k, s, p, d, ceil_mode=True).output_shape((1,) + n)[1:] == tuple(pooled)


@pytest.mark.parametrize("n", [1, 4, 7])
def test_find_convolution_candidates_have_the_output_size_of_torch(n):
    candidates = _candidates(n)
    assert candidates, n
    for k, s, p, d, out in candidates:
        assert out == conv_output_size(n, k, s, (p, p), d) == _torch_conv_size(n, k, s, p, d) >= 1
        assert p <= dilated_extent(k, d) - 1  # at most 'full' padding


@pytest.mark.parametrize("n, k, s, p, d", CONV_CASES)
def test_tap_positions_are_the_windows_torch_slides(n, k, s, p, d):
    out = conv_output_size(n, k, s, (p, p), d)
    taps = tap_positions(out, k, s, d, p)  # (out, k)
    # a conv1d of a one-hot input with a one-hot kernel shows which input each tap reads
    for j in range(k):
        w = torch.zeros(1, 1, k)
        w[0, 0, j] = 1
        x = torch.arange(n, dtype=torch.float64)[None, None] + 1  # 0 in the padding, i + 1 at input i
        read = torch.nn.functional.conv1d(x, w.double(), stride=s, padding=p, dilation=d)[0, 0].numpy() - 1
        np.testing.assert_array_equal(np.where((taps[:, j] >= 0) & (taps[:, j] < n), taps[:, j], -1), read)
