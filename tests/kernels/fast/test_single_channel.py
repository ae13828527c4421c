"""The single-channel engine (kernels/fast/single_channel.py) against the reference sums of
glassnet/reference/conv.py, in float64 and float32, and its choice by kernels/conv.py."""

import numpy as np
import pytest

from glassnet.kernels import conv
from glassnet.kernels.fast import im2col, single_channel
from glassnet.reference import conv as ref


def _cl(a):
    """(N, C, *S) -> contiguous channels-last (N, *S, C)."""
    return np.ascontiguousarray(np.moveaxis(a, 1, -1))


CASES = [((5, 1, 12, 11), (4, 1, 3, 5), (1, 1)), ((3, 1, 9, 9), (6, 1, 3, 3), (2, 1)),
         ((2, 1, 40), (3, 1, 7), (3,)), ((2, 1, 5, 6, 7), (2, 1, 2, 3, 2), (1, 1, 1)), ((0, 1, 8, 8), (3, 1, 3, 3), (1, 1)),
         ((3, 1, 20, 37), (12, 1, 3, 3), (1, 2)), ((1, 1, 6, 16), (8, 1, 2, 1), (1, 1))]
# output lines of 7, 5, 22, 6, 33 and 16 positions: shorter than a block of 16 (the last sample's
# blocks then read a zero-padded copy of the batch's end), longer (the last block moved back),
# exactly one; 2-12 channels (one and two blocks of 8)


@pytest.mark.parametrize("x_shape, w_shape, dilation", CASES)
def test_forward_is_the_reference_sum(x_shape, w_shape, dilation):
    """float32 (the blocks add in float32 registers) against the float64 reference sums."""
    rng = np.random.default_rng(0)
    xp = rng.standard_normal(x_shape)  # already padded
    w, b = rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    k = w_shape[2:]
    out = tuple(n - d * (kk - 1) for n, kk, d in zip(x_shape[2:], k, dilation))
    want = ref.correlate(xp, w, (1,) * len(out), dilation, out) + b.reshape((-1,) + (1,) * len(out))
    got = single_channel.conv_forward(_cl(xp.astype(np.float32)), w.astype(np.float32), b.astype(np.float32),
                                      dilation, out)  # (N, *out, C_out)
    assert got.dtype == np.float32 and got.shape == (x_shape[0],) + out + (w_shape[0],)
    np.testing.assert_allclose(np.moveaxis(got, -1, 1), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("x_shape, w_shape, dilation", CASES)
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_weight_gradient_is_the_reference_sum(x_shape, w_shape, dilation, dtype, tol):
    rng = np.random.default_rng(0)
    xp = rng.standard_normal(x_shape).astype(dtype)  # already padded
    stride, k = (1,) * len(dilation), w_shape[2:]
    out = tuple(n - d * (kk - 1) for n, kk, d in zip(x_shape[2:], k, dilation))
    dz = rng.standard_normal((x_shape[0], w_shape[0]) + out).astype(dtype)
    dw, db = single_channel.conv_weight_grad(_cl(xp), _cl(dz), k, dilation)
    want = ref.weight_grad(dz, xp, k, stride, dilation)  # sums of up to 1782 products, up to 60
    np.testing.assert_allclose(dw, want, rtol=tol, atol=tol * max(np.abs(want).max(initial=0), 1))
    np.testing.assert_allclose(db, dz.sum(axis=(0,) + tuple(range(2, dz.ndim))), rtol=tol, atol=tol)
    assert dw.dtype == db.dtype == dtype
    assert single_channel.conv_weight_grad(None, _cl(dz), k, dilation)[0] is None  # db alone


def test_the_transposed_weight_gradient_is_the_same_sum():
    """conv_transpose_weight_grad adds the same block partials in another fixed order."""
    rng = np.random.default_rng(1)
    dy_full = rng.standard_normal((70, 1, 9, 9))  # many samples: several blocks
    x = rng.standard_normal((70, 4, 7, 7))
    got = single_channel.conv_transpose_weight_grad(_cl(dy_full), _cl(x), (3, 3), (1, 1))
    np.testing.assert_allclose(got, ref.weight_grad(x, dy_full, (3, 3), (1, 1), (1, 1)), rtol=1e-12, atol=1e-12)


def test_conv_takes_this_path_for_one_channel_at_stride_one(monkeypatch):
    calls = []
    for name in ("conv_forward", "conv_weight_grad"):
        original = getattr(single_channel, name)
        monkeypatch.setattr(single_channel, name, lambda *a, _f=original, _n=name, **k: calls.append(_n) or _f(*a, **k))
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 1, 8, 8)).astype(np.float32), rng.standard_normal((3, 1, 3, 3)).astype(np.float32)
    y = conv.conv_forward(x, w, padding=1)
    conv.conv_backward(np.ones_like(y), x, w, padding=1)
    assert calls == ["conv_forward", "conv_weight_grad"]
    calls.clear()
    conv.conv_forward(x, w, padding=1, stride=2)  # other strides: the patch matrix
    assert calls == []
    assert single_channel.worthwhile(1, (1, 1)) and not single_channel.worthwhile(2, (1, 1))
    # the forward sum takes float32 only; float64 goes through im2col (its dW stays here)
    assert single_channel.forward_worthwhile(1, (1, 1), np.float32)
    assert not single_channel.forward_worthwhile(1, (1, 1), np.float64)


def test_single_channel_and_im2col_agree():
    """The two engines evaluate the same sums (float32: to rounding)."""
    rng = np.random.default_rng(3)
    xp = rng.standard_normal((4, 1, 10, 9)).astype(np.float32)
    w = rng.standard_normal((5, 1, 3, 2)).astype(np.float32)
    out = (8, 8)
    a = single_channel.conv_forward(_cl(xp), w, None, (1, 1), out)
    b = im2col.conv_forward(_cl(xp), w, None, (1, 1), (1, 1), 1, out)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
