"""Padding, its adjoint, and the sliding-window view (glassnet/kernels/windows.py) against
torch.nn.functional.pad (forward and autograd), Tensor.unfold and F.unfold."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from glassnet.kernels.sizes import output_shape
from glassnet.kernels.windows import pad, pad_backward, sliding_windows
from glassnet.testing import check_gradients

TORCH_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}

# (spatial shape, (low, high) per dimension): symmetric, asymmetric, one side only, zero in a dim
PAD_CASES = [
    ((7,), ((2, 2),)), ((7,), ((0, 3),)), ((5,), ((4, 1),)),
    ((5, 6), ((1, 1), (2, 2))), ((5, 6), ((0, 2), (3, 1))), ((4, 5), ((3, 0), (0, 0))),
    ((3, 4, 5), ((1, 1), (1, 1), (1, 1))), ((3, 4, 5), ((0, 2), (1, 0), (2, 3))), ((4, 3, 4), ((2, 1), (0, 0), (1, 3))),
]
MODES = ["zeros", "reflect", "replicate", "circular"]


def torch_pads(pads):
    """F.pad lists (low, high) from the LAST dimension backwards."""
    return tuple(v for lo_hi in reversed(pads) for v in lo_hi)


def data(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("case", PAD_CASES, ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_pad_matches_torch(mode, case):
    spatial, pads = case
    x = data((2, 3) + spatial)
    y = pad(x, pads, mode)
    expected = F.pad(torch.from_numpy(x), torch_pads(pads), mode=TORCH_MODE[mode])
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, expected.numpy())


@pytest.mark.parametrize("case", PAD_CASES, ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_pad_backward_matches_torch_autograd(mode, case):
    spatial, pads = case
    x = torch.from_numpy(data((2, 3) + spatial)).requires_grad_()
    y = F.pad(x, torch_pads(pads), mode=TORCH_MODE[mode])
    dy = data(tuple(y.shape), seed=1)
    y.backward(torch.from_numpy(dy))
    dx = pad_backward(dy, pads, mode)
    assert dx.shape == tuple(x.shape) and dx.dtype == np.float32
    np.testing.assert_allclose(dx, x.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", [PAD_CASES[1], PAD_CASES[4], PAD_CASES[7]], ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_pad_backward_against_finite_differences(mode, case):
    spatial, pads = case
    x = data((1, 2) + spatial, dtype=np.float64)
    check_gradients(lambda a: pad(a, pads, mode), lambda dy, a: (pad_backward(dy, pads, mode),), [x])


def test_constant_padding_with_a_value():
    x = data((1, 2, 4, 3))
    y = pad(x, ((1, 0), (2, 1)), "constant", value=-np.inf)
    np.testing.assert_array_equal(y, F.pad(torch.from_numpy(x), (2, 1, 1, 0), value=-np.inf).numpy())


def test_pad_keeps_float64_and_leading_dimensions():
    x = data((5,), dtype=np.float64)
    y = pad(x, ((1, 2),), "reflect")
    assert y.dtype == np.float64 and y.shape == (8,)
    np.testing.assert_array_equal(y, np.pad(x, (1, 2), mode="reflect"))


def test_zero_padding_returns_the_input_itself():
    x = data((1, 1, 3))
    assert pad(x, ((0, 0),), "reflect") is x
    assert pad_backward(x, ((0, 0),), "circular") is x


@pytest.mark.parametrize("mode, pads, match", [
    ("reflect", ((3, 0),), r"less than the size of its dimension \(<= 2\); got \(3, 0\) for dimension -1 of size 3"),
    ("reflect", ((0, 5),), r"\(<= 2\); got \(0, 5\)"),
    ("circular", ((4, 0),), r"at most the size of its dimension \(<= 3\); got \(4, 0\) for dimension -1 of size 3"),
])
def test_pad_too_large_for_the_mode_is_refused_as_in_torch(mode, pads, match):
    x = data((1, 1, 3))
    with pytest.raises(ValueError, match=match):
        pad(x, pads, mode)
    with pytest.raises(RuntimeError):
        F.pad(torch.from_numpy(x), torch_pads(pads), mode=mode)


def test_replicate_padding_may_exceed_the_input_as_in_torch():
    x = data((1, 2, 3))
    y = pad(x, ((7, 5),), "replicate")
    np.testing.assert_array_equal(y, F.pad(torch.from_numpy(x), (7, 5), mode="replicate").numpy())
    xt = torch.from_numpy(x).requires_grad_()
    F.pad(xt, (7, 5), mode="replicate").sum().backward()
    np.testing.assert_array_equal(pad_backward(np.ones(y.shape, np.float32), ((7, 5),), "replicate"), xt.grad.numpy())


def test_more_pad_pairs_than_dimensions_is_refused():
    with pytest.raises(ValueError, match=r"3 \(low, high\) pairs for an input of shape \(4, 4\)"):
        pad(data((4, 4)), ((1, 1),) * 3)


# ---- sliding_windows ------------------------------------------------------------------------

def torch_windows(x, kernel_size, stride, dilation):
    """(N, C, *out, *k) through Tensor.unfold, one dimension at a time; a dilated window is the
    undilated span d(k-1)+1 taken with step d."""
    t = torch.from_numpy(x)
    nd = len(kernel_size)
    for i, (k, s, d) in enumerate(zip(kernel_size, stride, dilation)):
        t = t.unfold(2 + i, d * (k - 1) + 1, s)  # appends the window as the last dimension
        t = t[..., ::d]
    return t.numpy()  # unfold already orders dims (N, C, *out, *k)


WINDOW_CASES = [
    ((9,), (3,), (1,), (1,)), ((10,), (3,), (2,), (1,)), ((11,), (2,), (3,), (2,)), ((8,), (8,), (1,), (1,)),
    ((6, 7), (3, 2), (1, 1), (1, 1)), ((9, 8), (3, 3), (2, 3), (2, 1)), ((5, 9), (1, 4), (2, 2), (1, 2)),
    ((5, 6, 7), (2, 3, 2), (1, 2, 3), (1, 1, 2)), ((4, 4, 4), (2, 2, 2), (2, 2, 2), (1, 1, 1)),
]


@pytest.mark.parametrize("case", WINDOW_CASES, ids=str)
def test_sliding_windows_match_torch_unfold(case):
    spatial, k, s, d = case
    x = data((2, 3) + spatial)
    out = output_shape(spatial, k, s, ((0, 0),) * len(k), d)
    w = sliding_windows(x, k, s, d, out)
    assert w.shape == (2, 3) + out + k
    np.testing.assert_array_equal(w, torch_windows(x, k, s, d))


@pytest.mark.parametrize("case", [c for c in WINDOW_CASES if len(c[0]) == 2], ids=str)
def test_sliding_windows_2d_match_im2col(case):
    spatial, k, s, d = case
    x = data((2, 3) + spatial)
    out = output_shape(spatial, k, s, ((0, 0),) * 2, d)
    w = sliding_windows(x, k, s, d, out)  # (N, C, o1, o2, k1, k2)
    cols = w.transpose(0, 1, 4, 5, 2, 3).reshape(2, 3 * k[0] * k[1], out[0] * out[1])  # F.unfold's layout
    np.testing.assert_array_equal(cols, F.unfold(torch.from_numpy(x), k, dilation=d, stride=s).numpy())


def test_sliding_windows_is_a_read_only_view():
    x = data((1, 2, 6, 6))
    w = sliding_windows(x, (3, 3), (1, 1), (1, 1), (4, 4))
    assert np.shares_memory(w, x)
    assert not w.flags.writeable
    with pytest.raises(ValueError):
        w[0, 0, 0, 0, 0, 0] = 1.0


def test_sliding_windows_of_a_padded_non_contiguous_input():
    # a transposed input has unusual strides: the view must follow them
    x = data((1, 2, 7, 5)).transpose(0, 1, 3, 2)  # (1, 2, 5, 7)
    w = sliding_windows(x, (2, 3), (1, 2), (2, 1), (3, 3))
    np.testing.assert_array_equal(w, torch_windows(np.ascontiguousarray(x), (2, 3), (1, 2), (2, 1)))


@pytest.mark.parametrize("out", [(5,), (-1,)])
def test_sliding_windows_refuse_windows_past_the_end(out):
    with pytest.raises(ValueError, match=r"do not fit in the padded input of spatial shape \(10,\)"):
        sliding_windows(data((1, 1, 10)), (3,), (2,), (1,), out)
