"""p4 group convolution: exact rotation equivariance, PyTorch parity (the same layer composed
from torch.rot90, torch.roll and conv2d, with torch autograd), finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from glassnet.kernels.p4 import (group_filters, group_filters_backward, lift_filters, lift_filters_backward,
                                 p4_conv_backward, p4_conv_forward, p4_lift_backward, p4_lift_forward,
                                 p4_pool_backward, p4_pool_forward, rotate, rotate_p4)
from glassnet.testing import check_gradients


def integer_valued(rng, shape):
    """Small integers as float64: every sum is exact, so equivariance can be checked with ==."""
    return rng.integers(-3, 4, shape).astype(np.float64)


@pytest.mark.parametrize("k,padding", [(3, 1), (3, 0), (4, 0), (5, 2), (2, "valid")])
@pytest.mark.parametrize("r", [1, 2, 3])
def test_rotating_the_input_rotates_and_cycles_the_output_exactly(k, padding, r):
    rng = np.random.default_rng(r)
    x = integer_valued(rng, (2, 3, 9, 9))
    w1, b1 = integer_valued(rng, (4, 3, k, k)), integer_valued(rng, (4,))
    w2, b2 = integer_valued(rng, (2, 4, 4, k, k)), integer_valued(rng, (2,))
    xr = np.ascontiguousarray(rotate(x, r))
    y, yr = p4_lift_forward(x, w1, b1, padding=padding), p4_lift_forward(xr, w1, b1, padding=padding)
    np.testing.assert_array_equal(yr, rotate_p4(y, r))
    z, zr = p4_conv_forward(y, w2, b2, padding=padding), p4_conv_forward(yr, w2, b2, padding=padding)
    np.testing.assert_array_equal(zr, rotate_p4(z, r))
    for mode in ("max", "avg"):  # pooling over rotations: an ordinary map that rotates with the input
        np.testing.assert_array_equal(p4_pool_forward(zr, mode)[0], rotate(p4_pool_forward(z, mode)[0], r))


def test_plain_convolution_is_not_equivariant():
    """The check above can fail: an ordinary conv of a rotated image is not the rotated conv."""
    rng = np.random.default_rng(0)
    x, w = integer_valued(rng, (1, 1, 7, 7)), integer_valued(rng, (1, 1, 3, 3))
    y = F.conv2d(torch.tensor(x), torch.tensor(w)).numpy()
    yr = F.conv2d(torch.tensor(np.ascontiguousarray(rotate(x, 1))), torch.tensor(w)).numpy()
    assert not np.array_equal(yr, rotate(y, 1))


def torch_lift(x, w, b, stride, padding, dilation):
    o = w.shape[0]
    bank = torch.stack([torch.rot90(w, r, dims=(-2, -1)) for r in range(4)], dim=1)  # (O, 4, C, k, k)
    y = F.conv2d(x, bank.reshape((o * 4,) + w.shape[1:]), None, stride, padding, dilation)
    return y.reshape((x.shape[0], o, 4) + y.shape[2:]) + b.reshape(1, -1, 1, 1, 1)


def torch_group(x, w, b, stride, padding, dilation):
    o, c, k = w.shape[0], w.shape[1], w.shape[-1]
    bank = torch.stack([torch.rot90(torch.roll(w, r, dims=2), r, dims=(-2, -1)) for r in range(4)], dim=1)
    y = F.conv2d(x.reshape((x.shape[0], c * 4) + x.shape[3:]), bank.reshape(o * 4, c * 4, k, k), None,
                 stride, padding, dilation)
    return y.reshape((x.shape[0], o, 4) + y.shape[2:]) + b.reshape(1, -1, 1, 1, 1)


@pytest.mark.parametrize("stride,padding,dilation", [(1, 0, 1), (2, 1, 1), (1, 2, 2)])
@pytest.mark.parametrize("layer", ["lift", "group"])
def test_matches_torch_composition(stride, padding, dilation, layer):
    rng = np.random.default_rng(1)
    if layer == "lift":
        x, w = rng.standard_normal((2, 3, 10, 9)), rng.standard_normal((5, 3, 3, 3))
        fwd, bwd, ref = p4_lift_forward, p4_lift_backward, torch_lift
    else:
        x, w = rng.standard_normal((2, 3, 4, 10, 9)), rng.standard_normal((5, 3, 4, 3, 3))
        fwd, bwd, ref = p4_conv_forward, p4_conv_backward, torch_group
    x, w, b = x.astype(np.float32), w.astype(np.float32), rng.standard_normal(5).astype(np.float32)
    y = fwd(x, w, b, stride, padding, dilation)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = ref(xt, wt, bt, stride, padding, dilation)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    yt.backward(torch.tensor(dy))
    for mine, theirs in zip(bwd(dy, x, w, stride, padding, dilation), (xt, wt, bt)):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("layer", ["lift", "group"])
def test_finite_differences(layer):
    rng = np.random.default_rng(2)
    if layer == "lift":
        x, w = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((2, 2, 3, 3))
        fwd, bwd = p4_lift_forward, p4_lift_backward
    else:
        x, w = rng.standard_normal((1, 2, 4, 5, 5)), rng.standard_normal((2, 2, 4, 3, 3))
        fwd, bwd = p4_conv_forward, p4_conv_backward
    b = rng.standard_normal(2)
    check_gradients(lambda x, w, b: fwd(x, w, b, 1, 1), lambda dy, x, w, b: bwd(dy, x, w, 1, 1), [x, w, b])


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_finite_differences(mode):
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 3, 3))  # distinct values: max is differentiable
    check_gradients(lambda x: p4_pool_forward(x, mode)[0],
                    lambda dy, x: (p4_pool_backward(dy, p4_pool_forward(x, mode)[1], mode),), [x])


def test_filter_banks_and_their_adjoints():
    rng = np.random.default_rng(4)
    w1, w2 = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal((3, 2, 4, 3, 3))
    g1, g2 = rng.standard_normal((3, 4, 2, 3, 3)), rng.standard_normal((3, 4, 2, 4, 3, 3))
    assert np.isclose(np.vdot(lift_filters(w1), g1), np.vdot(w1, lift_filters_backward(g1)))
    assert np.isclose(np.vdot(group_filters(w2), g2), np.vdot(w2, group_filters_backward(g2)))
    bank = group_filters(w2)
    np.testing.assert_array_equal(bank[:, 1, :, 2], np.rot90(w2[:, :, 1], 1, axes=(-2, -1)))  # s - r = 1
    np.testing.assert_array_equal(bank[:, 3, :, 0], np.rot90(w2[:, :, 1], 3, axes=(-2, -1)))  # (0 - 3) mod 4 = 1
