"""Convolution kernels: forward and every gradient against PyTorch, independent references for
what PyTorch lacks ('same' with stride, 'full', asymmetric pads, flip), finite differences, the
rot180 identity of seed 003, the FFT path, and the bounded im2col memory."""

import tracemalloc

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as TF

from glassnet.kernels.fast import fft_conv, im2col, threads
from glassnet.kernels.conv import (conv_backward, conv_forward, conv_transpose_backward,
                                   conv_transpose_forward)
from glassnet.testing import check_gradients

TORCH_CONV = {1: TF.conv1d, 2: TF.conv2d, 3: TF.conv3d}
TORCH_CONV_T = {1: TF.conv_transpose1d, 2: TF.conv_transpose2d, 3: TF.conv_transpose3d}
TOL = dict(rtol=1e-4, atol=1e-4)


def _data(x_shape, w_shape, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    return rng, x, w


def _torch_reference(x, w, b, dy, pads, padding_mode="zeros", flip=False, **conv_options):
    """Explicit padding with F.pad (any pads, any mode), then PyTorch's unpadded convolution."""
    nd = w.ndim - 2
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True) if b is not None else None
    flat = [v for lo_hi in reversed(pads) for v in lo_hi]  # F.pad wants the last dimension first
    mode = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}[padding_mode]
    xp = TF.pad(tx, flat, mode=mode) if any(flat) else tx
    kernel = torch.flip(tw, dims=tuple(range(2, 2 + nd))) if flip else tw
    ty = TORCH_CONV[nd](xp, kernel, tb, **conv_options)
    ty.backward(torch.tensor(dy))
    return (ty.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy() if b is not None else None)


def _compare(x, w, b, padding, pads, stride=1, dilation=1, groups=1, padding_mode="zeros", flip=False):
    y = conv_forward(x, w, b, stride, padding, dilation, groups, padding_mode, flip)
    rng = np.random.default_rng(1)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, dw, db = conv_backward(dy, x, w, stride, padding, dilation, groups, padding_mode, flip)
    ref = _torch_reference(x, w, b, dy, pads, padding_mode, flip, stride=stride, dilation=dilation, groups=groups)
    assert y.shape == ref[0].shape and y.dtype == np.float32
    np.testing.assert_allclose(y, ref[0], **TOL)
    np.testing.assert_allclose(dx, ref[1], **TOL)
    np.testing.assert_allclose(dw, ref[2], **TOL)
    if b is not None:
        np.testing.assert_allclose(db, ref[3], **TOL)


CASES = [  # (x shape, w shape, groups), rank 1, 2, 3, non-square, batch 1
    ((2, 3, 11), (4, 3, 3), 1),
    ((1, 4, 9), (6, 2, 4), 2),
    ((2, 3, 9, 7), (4, 3, 3, 2), 1),
    ((1, 4, 8, 10), (4, 1, 3, 3), 4),
    ((2, 2, 5, 6, 4), (3, 2, 3, 2, 2), 1),
    ((1, 4, 5, 6, 4), (6, 2, 2, 3, 2), 2),
    ((2, 1, 12), (3, 1, 4), 1),  # one input channel: the patch matrix is stored column by column
    ((2, 1, 9, 8), (4, 1, 3, 2), 1),
    ((1, 1, 5, 6, 4), (2, 1, 2, 3, 2), 1),
    ((2, 1, 12, 11), (6, 1, 5, 5), 1),  # LeNet's first layer: 25 taps, six passes of four and one
]


@pytest.mark.parametrize("x_shape, w_shape, groups", CASES)
@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize("padding", [1, "tuple"])  # 0 and the string forms: tests below
def test_conv_matches_torch(x_shape, w_shape, groups, stride, dilation, padding):
    nd, bias = len(x_shape) - 2, stride == 1  # without a bias in half the cases

    if padding == "tuple":
        padding = tuple(range(1, nd + 1))
    rng, x, w = _data(x_shape, w_shape)
    b = rng.standard_normal(w_shape[0]).astype(np.float32) if bias else None
    y = conv_forward(x, w, b, stride, padding, dilation, groups)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, dw, db = conv_backward(dy, x, w, stride, padding, dilation, groups)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True) if bias else None
    ty = TORCH_CONV[nd](tx, tw, tb, stride, padding, dilation, groups)
    ty.backward(torch.tensor(dy))
    assert y.shape == tuple(ty.shape) and y.dtype == np.float32
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOL)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(dw, tw.grad.numpy(), **TOL)
    if bias:
        np.testing.assert_allclose(db, tb.grad.numpy(), **TOL)


@pytest.mark.parametrize("x_shape, w_shape, pads", [
    ((2, 3, 10), (4, 3, 3), ((2, 0),)),
    ((1, 2, 7, 9), (3, 2, 3, 3), ((0, 2), (1, 3))),
    ((2, 2, 4, 5, 6), (2, 2, 2, 2, 3), ((1, 0), (0, 1), (2, 1))),
])
@pytest.mark.parametrize("stride", [1, 2])
def test_asymmetric_padding_matches_explicit_pad(x_shape, w_shape, pads, stride):
    rng, x, w = _data(x_shape, w_shape)
    _compare(x, w, rng.standard_normal(w_shape[0]).astype(np.float32), pads, pads, stride=stride)


def _same_pads(spatial, k, s, d):
    """Reference for padding='same' written independently of sizes.py: TensorFlow's rule."""
    pads = []
    for n, kk, ss, dd in zip(spatial, k, s, d):
        out = -(-n // ss)
        total = max((out - 1) * ss + (kk - 1) * dd + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


@pytest.mark.parametrize("x_shape, w_shape", [((2, 3, 11), (4, 3, 4)), ((1, 2, 9, 8), (3, 2, 3, 4)),
                                              ((1, 2, 5, 6, 7), (2, 2, 3, 2, 3))])
@pytest.mark.parametrize("stride, dilation", [(1, 1), (2, 1), (3, 1), (1, 2), (2, 2), (3, 3)])
def test_same_padding_with_stride_and_dilation(x_shape, w_shape, stride, dilation):
    nd = len(x_shape) - 2
    rng, x, w = _data(x_shape, w_shape)
    pads = _same_pads(x_shape[2:], w_shape[2:], (stride,) * nd, (dilation,) * nd)
    y = conv_forward(x, w, None, stride, "same", dilation)
    assert y.shape[2:] == tuple(-(-n // stride) for n in x_shape[2:])
    _compare(x, w, None, "same", pads, stride=stride, dilation=dilation)


@pytest.mark.parametrize("x_shape, w_shape", [((2, 3, 6), (2, 3, 3)), ((1, 2, 5, 4), (3, 2, 3, 2)),
                                              ((1, 1, 3, 4, 5), (2, 1, 2, 2, 3))])
@pytest.mark.parametrize("dilation", [1, 2])
def test_full_padding(x_shape, w_shape, dilation):
    rng, x, w = _data(x_shape, w_shape)
    pads = tuple((dilation * (k - 1),) * 2 for k in w_shape[2:])
    y = conv_forward(x, w, None, 1, "full", dilation)
    assert y.shape[2:] == tuple(n + dilation * (k - 1) for n, k in zip(x_shape[2:], w_shape[2:]))
    _compare(x, w, None, "full", pads, dilation=dilation)
    _compare(x, w, None, "valid", ((0, 0),) * len(pads), dilation=dilation)


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("x_shape, w_shape, padding", [((2, 3, 9), (4, 3, 3), 2), ((1, 2, 6, 7), (3, 2, 3, 3), (1, 2)),
                                                       ((1, 2, 4, 5, 6), (2, 2, 3, 3, 2), 1)])
@pytest.mark.parametrize("stride", [1, 2])
def test_padding_modes_match_torch(padding_mode, x_shape, w_shape, padding, stride):
    nd = len(x_shape) - 2
    rng, x, w = _data(x_shape, w_shape)
    pads = tuple((p, p) for p in (padding if isinstance(padding, tuple) else (padding,) * nd))
    _compare(x, w, rng.standard_normal(w_shape[0]).astype(np.float32), padding, pads, stride=stride,
             padding_mode=padding_mode)
    # and against PyTorch's own padding_mode through nn.Conv
    module = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[nd](
        x_shape[1], w_shape[0], w_shape[2:], stride=stride, padding=padding, bias=False, padding_mode=padding_mode)
    with torch.no_grad():
        module.weight.copy_(torch.tensor(w))
        expected = module(torch.tensor(x)).numpy()
    np.testing.assert_allclose(conv_forward(x, w, None, stride, padding, padding_mode=padding_mode), expected, **TOL)


@pytest.mark.parametrize("x_shape, w_shape", [((2, 1, 12), (1, 1, 4)), ((1, 1, 7, 9), (1, 1, 3, 4)),
                                              ((1, 1, 4, 5, 6), (1, 1, 2, 3, 2))])
def test_flip_is_true_convolution(x_shape, w_shape):
    """flip=True with 'full' padding is scipy.signal.convolve(x, w, 'full') (seed 001)."""
    rng, x, w = _data(x_shape, w_shape, dtype=np.float64)
    y = conv_forward(x, w, None, padding="full", flip=True)
    for n in range(x_shape[0]):
        np.testing.assert_allclose(y[n, 0], scipy.signal.convolve(x[n, 0], w[0, 0], mode="full"), rtol=1e-10, atol=1e-10)
    valid = conv_forward(x, w, None, padding="valid", flip=True)
    np.testing.assert_allclose(valid[0, 0], scipy.signal.convolve(x[0, 0], w[0, 0], mode="valid"), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("stride, padding, groups", [(1, 1, 1), (2, ((1, 0), (0, 2)), 2), (1, "same", 1)])
def test_flip_gradients_match_torch(stride, padding, groups):
    rng, x, w = _data((2, 4, 7, 6), (4, 4 // groups, 3, 2))
    pads = {1: ((1, 1), (1, 1)), "same": ((1, 1), (0, 1))}.get(padding, padding)
    _compare(x, w, None, padding, pads, stride=stride, groups=groups, flip=True)


def test_input_gradient_is_full_correlation_with_rot180_kernel():
    """Seed 003: dA^l = sum_h rot180(W^(h,l)) * dZ^h, a 'full' correlation (stride 1)."""
    rng, x, w = _data((2, 3, 8, 7), (5, 3, 3, 2))
    dy = rng.standard_normal((2, 5, 6, 6)).astype(np.float32)
    dx, _, _ = conv_backward(dy, x, w, needs=(True, False, False))
    rot180 = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))  # (C_in, C_out, 3, 2): roles swapped
    np.testing.assert_allclose(dx, conv_forward(dy, rot180, padding="full"), **TOL)


@pytest.mark.parametrize("x_shape, w_shape, groups", [((2, 3, 5), (3, 4, 3), 1), ((1, 4, 5, 6), (4, 3, 3, 2), 2),
                                                      ((2, 2, 3, 4, 3), (2, 2, 2, 3, 2), 1)])
@pytest.mark.parametrize("stride, padding, output_padding, dilation", [
    (1, 0, 0, 1), (2, 1, 1, 1), (3, 0, 2, 1), (2, 1, 1, 2), (1, 1, 1, 2)])
def test_conv_transpose_matches_torch(x_shape, w_shape, groups, stride, padding, output_padding, dilation):
    nd, bias = len(x_shape) - 2, stride != 2  # without a bias in some cases
    rng, x, w = _data(x_shape, w_shape)
    b = rng.standard_normal(w_shape[1] * groups).astype(np.float32) if bias else None
    y = conv_transpose_forward(x, w, b, stride, padding, output_padding, groups, dilation)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, dw, db = conv_transpose_backward(dy, x, w, stride, padding, output_padding, groups, dilation,
                                         needs=(True, True, bias))
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True) if bias else None
    ty = TORCH_CONV_T[nd](tx, tw, tb, stride, padding, output_padding, groups, dilation)
    ty.backward(torch.tensor(dy))
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOL)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(dw, tw.grad.numpy(), **TOL)
    if bias:
        np.testing.assert_allclose(db, tb.grad.numpy(), **TOL)
    else:
        assert db is None


def test_conv_transpose_is_the_conv_input_gradient():
    """The transposed convolution of dY with W equals conv_backward's dx (one shared computation)."""
    rng, x, w = _data((2, 3, 9, 8), (4, 3, 3, 3))
    dy = rng.standard_normal((2, 4, 5, 4)).astype(np.float32)  # output size of the conv below
    dx, _, _ = conv_backward(dy, x, w, stride=2, padding=1, needs=(True, False, False))
    np.testing.assert_allclose(conv_transpose_forward(dy, w, stride=2, padding=1, output_padding=(0, 1)), dx, **TOL)


def test_conv_transpose_string_padding():
    rng, x, w = _data((1, 2, 5, 4), (2, 3, 3, 3))
    assert conv_transpose_forward(x, w, stride=2, padding="same").shape == (1, 3, 10, 8)
    y_valid = conv_transpose_forward(x, w, stride=2, padding="valid")
    np.testing.assert_allclose(y_valid, conv_transpose_forward(x, w, stride=2, padding=0))
    full = conv_transpose_forward(x, w, padding="full")  # crops d(k-1): the adjoint of a 'full' conv
    np.testing.assert_allclose(full, conv_transpose_forward(x, w, padding=2), **TOL)


FD_CASES = [  # small float64 problems covering rank, stride, padding forms, dilation, groups, modes, flip
    ((2, 2, 7), (3, 2, 3), dict(stride=2, padding=1)),
    ((1, 2, 6), (2, 1, 2), dict(padding="same", dilation=2, groups=2, padding_mode="reflect")),
    ((1, 2, 5, 4), (2, 2, 2, 3), dict(padding=((1, 0), (2, 1)), padding_mode="circular", flip=True)),
    ((1, 2, 5, 5), (2, 1, 3, 2), dict(stride=(2, 1), padding="same", groups=2, padding_mode="replicate")),
    ((1, 1, 3, 4, 3), (2, 1, 2, 2, 2), dict(padding="full", dilation=(1, 2, 1))),
]


@pytest.mark.parametrize("x_shape, w_shape, options", FD_CASES)
def test_conv_backward_finite_differences(x_shape, w_shape, options):
    rng, x, w = _data(x_shape, w_shape, dtype=np.float64)
    b = rng.standard_normal(w_shape[0])
    check_gradients(lambda x, w, b: conv_forward(x, w, b, **options),
                    lambda dy, x, w, b: conv_backward(dy, x, w, **options), [x, w, b])


@pytest.mark.parametrize("x_shape, w_shape, options", [
    ((2, 2, 4), (2, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((1, 4, 3, 3), (4, 1, 2, 3), dict(stride=(1, 2), groups=2, dilation=2, padding=(0, 1))),
    ((1, 1, 2, 3, 2), (1, 2, 2, 2, 2), dict(stride=2)),
])
def test_conv_transpose_backward_finite_differences(x_shape, w_shape, options):
    rng, x, w = _data(x_shape, w_shape, dtype=np.float64)
    b = rng.standard_normal(w_shape[1] * options.get("groups", 1))
    check_gradients(lambda x, w, b: conv_transpose_forward(x, w, b, **options),
                    lambda dy, x, w, b: conv_transpose_backward(dy, x, w, **options), [x, w, b])


def test_needs_skips_gradients():
    _, x, w = _data((1, 2, 5), (3, 2, 3))
    dy = np.ones((1, 3, 3), np.float32)
    assert conv_backward(dy, x, w, needs=(False, False, False)) == (None, None, None)
    dx, dw, db = conv_backward(dy, x, w, needs=(False, True, False))
    assert dx is None and db is None and dw.shape == w.shape


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_channels_last_gradient_gives_the_same_gradients(dtype, rtol):
    """dy laid out channels-last (as ReLU and pooling pass a conv output's gradient back) gives
    the gradients of the same dy in NCHW memory; db is then summed as a matrix-vector product."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 9, 8)).astype(dtype)
    w = rng.standard_normal((6, 3, 3, 3)).astype(dtype)
    dy = rng.standard_normal((4, 6, 9, 8)).astype(dtype)
    dy_last = np.moveaxis(np.ascontiguousarray(np.moveaxis(dy, 1, -1)), -1, 1)  # same values, channels-last
    assert not dy_last.flags.c_contiguous
    expected = conv_backward(dy, x, w, padding=1)
    got = conv_backward(dy_last, x, w, padding=1)
    np.testing.assert_allclose(got[2], dy.astype(np.float64).sum(axis=(0, 2, 3)), rtol=rtol, atol=rtol)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol)
        assert g.dtype == dtype


@pytest.mark.parametrize("c_in, groups", [(1, 1), (3, 1), (4, 2)])
def test_chunks_cut_inside_a_sample_match_torch(monkeypatch, c_in, groups):
    """Tiny chunks (several per sample, cut between output rows) give the same forward and
    gradients as PyTorch, with one input channel (patches gathered column by column), three,
    or two groups (each group's columns of dY and Y gathered into a block)."""
    monkeypatch.setattr(im2col, "CHUNK_BYTES", 256)
    monkeypatch.setattr(im2col, "MIN_ROWS", 4)
    _, x, w = _data((3, c_in, 11, 10), (6, c_in // groups, 3, 3))
    y = conv_forward(x, w, None, 1, 1, groups=groups)
    dy = np.random.default_rng(7).standard_normal(y.shape).astype(np.float32)
    dx, dw, _ = conv_backward(dy, x, w, 1, 1, groups=groups, needs=(True, True, False))
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ty = TF.conv2d(tx, tw, None, 1, 1, 1, groups)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOL)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(dw, tw.grad.numpy(), **TOL)


def test_empty_batch():
    _, x, w = _data((0, 2, 6, 5), (3, 2, 3, 3))
    y = conv_forward(x, w, np.ones(3, np.float32), padding=1)
    dx, dw, db = conv_backward(np.ones_like(y), x, w, padding=1)
    assert y.shape == (0, 3, 6, 5) and dx.shape == x.shape
    np.testing.assert_array_equal(dw, 0)
    np.testing.assert_array_equal(db, 0)
    assert conv_transpose_forward(np.zeros((0, 3, 4), np.float32), np.ones((3, 2, 3), np.float32)).shape == (0, 2, 6)


def test_float64_stays_float64_and_float32_stays_float32():
    for dtype in (np.float32, np.float64):
        _, x, w = _data((1, 2, 6, 6), (3, 2, 3, 3), dtype=dtype)
        y = conv_forward(x, w, padding=1)
        dx, dw, db = conv_backward(np.ones_like(y), x, w, padding=1)
        assert y.dtype == dx.dtype == dw.dtype == db.dtype == dtype


@pytest.mark.parametrize("options", [dict(padding=3), dict(padding=0, dilation=2), dict(padding="same")])
def test_fft_path_matches_torch(options):
    """A long kernel at stride 1 takes the FFT path; it must agree with PyTorch's direct sum."""
    x_shape, w_shape = (2, 1, 4000), (4, 1, 129)
    assert fft_conv.worthwhile(x_shape, w_shape, (1,), 1)
    rng, x, w = _data(x_shape, w_shape)
    b = rng.standard_normal(4).astype(np.float32)
    pads = {3: ((3, 3),), 0: ((0, 0),), "same": ((64, 64),)}[options["padding"]]
    y = conv_forward(x, w, b, **options)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, dw, db = conv_backward(dy, x, w, **options)
    ref = _torch_reference(x, w, b, dy, pads, dilation=options.get("dilation", 1))
    for got, want in zip((y, dx, dw, db), ref):
        scale = np.abs(want).max()
        np.testing.assert_allclose(got / scale, want / scale, atol=2e-5)


def test_fft_path_finite_differences():
    rng, x, w = _data((2, 2, 9), (2, 2, 4), dtype=np.float64)
    y = fft_conv.correlate(x, w, (2,), (3,))
    np.testing.assert_allclose(y, conv_forward(x, w, dilation=2), rtol=1e-10, atol=1e-10)  # direct path
    check_gradients(lambda x, w: fft_conv.correlate(x, w, (2,), (3,)),
                    lambda dy, x, w: fft_conv.correlate_backward(dy, x, w, (2,), True, True), [x, w])


def test_large_batch_uses_bounded_memory(two_threads):
    """The full patch matrix would be 25x the input; the chunks keep the extra memory near
    WORKERS x CHUNK_BYTES on top of the padded copy and the output (at two threads, whatever
    the machine's CPU count)."""
    _, x, w = _data((64, 8, 32, 32), (8, 8, 5, 5))
    full_im2col = 64 * 32 * 32 * 8 * 25 * 4  # 52 MB
    conv_forward(x, w, padding=2)  # warm up: thread pool, numba compilation, buffers
    for f in (lambda: conv_forward(x, w, padding=2),
              lambda: conv_backward(np.ones((64, 8, 32, 32), np.float32), x, w, padding=2)):
        tracemalloc.start()
        f()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        bound = 4 * x.nbytes + 2 * threads.get_num_threads() * im2col.CHUNK_BYTES  # padded copy, output, dx, chunks
        assert peak < bound < full_im2col / 2, (peak, bound)


@pytest.mark.parametrize("c_in, groups, padding_mode", [(1, 1, "zeros"), (4, 2, "reflect"), (3, 1, "circular")])
def test_batch_split_between_two_threads_matches_torch(monkeypatch, two_threads, c_in, groups, padding_mode):
    """With the batch shared between two threads (each half running the whole pipeline, the
    weight and bias gradients summed over the halves), convolution and transposed convolution
    still match PyTorch."""
    monkeypatch.setattr(im2col, "SMALL_BYTES", 0)
    rng, x, w = _data((5, c_in, 9, 8), (6, c_in // groups, 3, 3))
    b = rng.standard_normal(6).astype(np.float32)
    y = conv_forward(x, w, b, 2, 1, groups=groups, padding_mode=padding_mode)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    grads = conv_backward(dy, x, w, 2, 1, groups=groups, padding_mode=padding_mode)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    xp = TF.pad(tx, (1, 1, 1, 1), mode=padding_mode) if padding_mode != "zeros" else tx
    ty = TF.conv2d(xp, tw, tb, 2, 0 if padding_mode != "zeros" else 1, 1, groups)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOL)
    for got, want in zip(grads, (tx.grad, tw.grad, tb.grad)):
        np.testing.assert_allclose(got, want.numpy(), **TOL)
    # the transposed convolution (weight (C_in, C_out/G, k)) through the same split
    wt = rng.standard_normal((c_in, 6 // groups, 3, 3)).astype(np.float32)
    yt = conv_transpose_forward(x, wt, None, 2, 1, 1, groups)
    dyt = rng.standard_normal(yt.shape).astype(np.float32)
    dxt, dwt, _ = conv_transpose_backward(dyt, x, wt, 2, 1, 1, groups, needs=(True, True, False))
    tx, tw = (torch.tensor(a, requires_grad=True) for a in (x, wt))
    ref = TF.conv_transpose2d(tx, tw, None, 2, 1, 1, groups)
    ref.backward(torch.tensor(dyt))
    np.testing.assert_allclose(yt, ref.detach().numpy(), **TOL)
    np.testing.assert_allclose(dxt, tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(dwt, tw.grad.numpy(), **TOL)
