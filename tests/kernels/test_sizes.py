"""Index arithmetic (glassnet/kernels/sizes.py) against PyTorch's output sizes and against
brute-force references written here."""

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from glassnet.kernels.sizes import (check_window_fits, conv_output_size, ntuple, output_shape, pool_output_size,
                                    positive_tuple, resolve_padding, spatial_names, windows_span)

# ---- spatial_names -------------------------------------------------------------------------


@pytest.mark.parametrize("n, expected", [(1, ("L",)), (2, ("H", "W")), (3, ("D", "H", "W")),
                                         (4, ("d1", "d2", "d3", "d4"))])
def test_spatial_names_as_pytorch_writes_shapes(n, expected):
    assert spatial_names(n) == expected


# ---- ntuple / positive_tuple ----------------------------------------------------------------


@pytest.mark.parametrize("value, n, expected", [
    (3, 2, (3, 3)), ((1, 2), 2, (1, 2)), ([4, 5, 6], 3, (4, 5, 6)), (np.int64(2), 3, (2, 2, 2)),
    ((np.int32(1), 2), 2, (1, 2)), (0, 1, (0,)), ((3,), 2, (3, 3)), ([np.int64(2)], 3, (2, 2, 2)),
])
def test_ntuple(value, n, expected):
    out = ntuple(value, n, "kernel_size")
    assert out == expected and all(type(v) is int for v in out)


@pytest.mark.parametrize("value, error", [
    (True, TypeError), (1.5, TypeError), ("3", TypeError), (None, TypeError), ((1, 2, 3), ValueError),
    ((1.5,), ValueError), ((1, 2.0), ValueError), ((1, True), ValueError),
])
def test_ntuple_refuses_with_the_name_and_value(value, error):
    with pytest.raises(error, match=r"stride must be an int or a tuple of 2 ints, got"):
        ntuple(value, 2, "stride")


@pytest.mark.parametrize("value", [0, -1, (1, 0)])
def test_positive_tuple_refuses_values_below_one(value):
    with pytest.raises(ValueError, match=r"dilation must be >= 1 in every dimension, got"):
        positive_tuple(value, 2, "dilation")


# ---- resolve_padding ------------------------------------------------------------------------

@pytest.mark.parametrize("padding, expected", [
    (0, ((0, 0), (0, 0))), (2, ((2, 2), (2, 2))), ((1, 3), ((1, 1), (3, 3))),
    (((0, 1), (2, 3)), ((0, 1), (2, 3))), ([[1, 0], [0, 2]], ((1, 0), (0, 2))),
    ("valid", ((0, 0), (0, 0))), ("full", ((2, 2), (4, 4))),
])
def test_resolve_padding_forms(padding, expected):
    # kernel (3, 3), dilation (1, 2): 'full' pads d(k - 1) on both sides
    assert resolve_padding(padding, (3, 3), (1, 1), (1, 2)) == expected


def same_reference(n, k, s, d):
    """The smallest total padding that gives ceil(n / s) outputs, odd extra on the high side."""
    target = math.ceil(n / s)
    for total in itertools.count():
        out = (n + total - d * (k - 1) - 1) // s + 1
        if out >= target:
            assert out == target
            return total // 2, total - total // 2


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("s", [1, 2, 3, 4])
def test_same_padding_against_brute_force(s, d):
    for n, k in itertools.product(range(1, 17), range(1, 6)):
        pads = resolve_padding("same", (k,), (s,), (d,), (n,))
        assert pads == (same_reference(n, k, s, d),), (n, k, s, d)
        assert conv_output_size(n, k, s, pads[0], d) == math.ceil(n / s)


def test_same_padding_in_several_dimensions_at_once():
    pads = resolve_padding("same", (3, 4, 5), (2, 1, 3), (1, 2, 1), (7, 8, 10))
    assert pads == tuple(same_reference(n, k, s, d) for n, k, s, d in ((7, 3, 2, 1), (8, 4, 1, 2), (10, 5, 3, 1)))


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("k, d", [(1, 1), (2, 1), (3, 1), (4, 1), (4, 2), (5, 3), (2, 3)])
def test_same_with_stride_one_matches_torch(k, d):
    # PyTorch accepts 'same' with stride 1: its output equals our explicit (low, high) padding's
    rng = np.random.default_rng(k * 10 + d)
    x = torch.tensor(rng.standard_normal((1, 2, 9)), dtype=torch.float32)
    w = torch.tensor(rng.standard_normal((3, 2, k)), dtype=torch.float32)
    ((lo, hi),) = resolve_padding("same", (k,), (1,), (d,))  # no input size needed at stride 1
    expected = F.conv1d(x, w, padding="same", dilation=d)
    np.testing.assert_allclose(F.conv1d(F.pad(x, (lo, hi)), w, dilation=d).numpy(), expected.numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("padding, match", [
    (-1, "padding must be >= 0"), ((1, -2), "padding must be >= 0"), (((0, -1), (0, 0)), "padding must be >= 0"),
    ("SAME", "one of"), ("causal", "one of"), (1.5, "padding must be an int"), ((1, 2, 3), "tuple of 2 ints"),
    (((0, 1), (2,)), "2 \\(low, high\\) int pairs"), (((0, 1), (2, 1.0)), "int pairs"), (True, "padding"),
])
def test_resolve_padding_refuses_bad_values(padding, match):
    with pytest.raises((ValueError, TypeError), match=match):
        resolve_padding(padding, (3, 3), (1, 1), (1, 1))


def test_same_with_stride_needs_the_input_size():
    with pytest.raises(ValueError, match="stride > 1 needs the input size"):
        resolve_padding("same", (3,), (2,), (1,))


def test_resolve_padding_refuses_mismatched_lengths():
    with pytest.raises(ValueError, match=r"kernel_size \(3, 3\), stride \(1,\)"):
        resolve_padding(0, (3, 3), (1,), (1, 1))
    with pytest.raises(ValueError, match=r"spatial shape \(5,\)"):
        resolve_padding("same", (3, 3), (2, 2), (1, 1), (5,))


# ---- output sizes ---------------------------------------------------------------------------

def test_conv_output_size_matches_torch():
    x = torch.zeros(1, 1, 1)
    for n, k, s, lo, hi, d in itertools.product(range(1, 11), (1, 2, 3, 5), (1, 2, 3), (0, 1, 3), (0, 2), (1, 2)):
        if d * (k - 1) + 1 > n + lo + hi:
            continue
        expected = F.conv1d(F.pad(x.expand(1, 1, n), (lo, hi)), torch.zeros(1, 1, k), stride=s, dilation=d).shape[-1]
        assert conv_output_size(n, k, s, (lo, hi), d) == expected, (n, k, s, lo, hi, d)


def test_output_shape_per_dimension():
    assert output_shape((28, 28), (5, 5), (1, 1), ((2, 2), (2, 2)), (1, 1)) == (28, 28)
    assert output_shape((7, 9, 11), (3, 2, 1), (2, 1, 3), ((0, 1), (0, 0), (2, 2)), (1, 2, 1)) == (3, 7, 5)


@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_output_size_matches_torch_max_pool1d(ceil_mode, dilation):
    checked = 0
    for n, k, s, p in itertools.product(range(1, 14), range(1, 5), range(1, 5), range(0, 3)):
        if p > k // 2 or dilation * (k - 1) + 1 > n + 2 * p:
            continue  # torch refuses these; our callers check the same before sizing
        x = torch.zeros(1, 1, n)
        expected = F.max_pool1d(x, k, s, p, dilation=dilation, ceil_mode=ceil_mode).shape[-1]
        assert pool_output_size(n, k, s, (p, p), dilation, ceil_mode) == expected, (n, k, s, p)
        checked += 1
    assert checked > 300


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_output_size_matches_torch_avg_pool1d(ceil_mode):
    for n, k, s, p in itertools.product(range(1, 12), range(1, 5), range(1, 4), range(0, 3)):
        if p > k // 2 or k > n + 2 * p:
            continue
        expected = F.avg_pool1d(torch.zeros(1, 1, n), k, s, p, ceil_mode=ceil_mode).shape[-1]
        assert pool_output_size(n, k, s, (p, p), 1, ceil_mode) == expected, (n, k, s, p)


def test_ceil_mode_last_window_must_start_inside_the_input_or_left_padding():
    # n=5, k=2, s=2, p=1: windows start at -1, 1, 3 and a fourth would start at 5, past the input
    assert pool_output_size(5, 2, 2, (1, 1), 1, ceil_mode=True) == 3
    assert pool_output_size(6, 2, 2, (0, 0), 1, ceil_mode=True) == 3
    assert pool_output_size(7, 2, 2, (0, 0), 1, ceil_mode=True) == 4
    assert pool_output_size(7, 2, 2, (0, 0), 1, ceil_mode=False) == 3


@pytest.mark.parametrize("out, k, s, d", list(itertools.product([1, 2, 5], [1, 2, 3], [1, 2, 3], [1, 2, 3])))
def test_windows_span_against_brute_force(out, k, s, d):
    # the input positions the windows touch, listed one by one: window o's tap j reads o s + j d
    touched = [o * s + j * d for o in range(out) for j in range(k)]
    assert windows_span(out, k, s, d) == max(touched) - min(touched) + 1
    # and it is the shortest input on which the convolution formula gives `out` windows
    shortest = next(n for n in itertools.count(1) if conv_output_size(n, k, s, (0, 0), d) >= out)
    assert windows_span(out, k, s, d) == shortest


def test_check_window_fits():
    check_window_fits((5, 5), (5, 3), ((0, 0), (0, 0)), (1, 2))  # exactly fits
    with pytest.raises(ValueError, match=r"kernel of size \(3, 8\).*padded input of spatial size \(5, 7\).*dimension 1"):
        check_window_fits((5, 5), (3, 8), ((0, 0), (1, 1)), (1, 1))
    with pytest.raises(ValueError, match=r"pooling window .*dilation \(1, 3\)"):
        check_window_fits((5, 5), (2, 3), ((0, 0), (0, 0)), (1, 3), what="pooling window")


@pytest.mark.parametrize("n, k, s, d, p, op", [(5, 3, 2, 1, 1, 1), (4, 2, 3, 2, 0, 2), (7, 5, 1, 3, 2, 0), (1, 1, 1, 1, 0, 0)])
def test_transposed_sizes_are_pytorchs(n, k, s, d, p, op):
    import torch
    from glassnet.kernels.sizes import dilated_extent, transpose_geometry, transposed_full_size
    y = torch.nn.functional.conv_transpose1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p,
                                             output_padding=op, dilation=d)
    assert transposed_full_size(n, k, s, d, op) - 2 * p == y.shape[-1]
    assert transpose_geometry((n,), (k,), s, p, op, d)[4] == (y.shape[-1],)
    assert dilated_extent(k, d) == len(range(0, d * (k - 1) + 1))


def test_transpose_geometry_refuses_what_pytorch_refuses():
    from glassnet.kernels.sizes import transpose_geometry
    with pytest.raises(ValueError, match="output_padding must be >= 0 and smaller than stride or dilation"):
        transpose_geometry((4,), (3,), 2, 0, 2, 1)
    with pytest.raises(ValueError, match="the padding crops everything"):
        transpose_geometry((1,), (1,), 1, 1, 0, 1)
