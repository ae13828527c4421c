"""The direct engine (kernels/fast/direct.py): its three sums against the float64 reference of
glassnet/reference/conv.py and against PyTorch for every shape class conv.py sends it, and
when conv.py takes it."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from numba import njit

from glassnet.kernels import conv
from glassnet.kernels.fast import direct
from glassnet.reference import conv as ref

TOL = dict(rtol=1e-4, atol=1e-4)  # the parity tests' tolerance (tests/kernels/test_conv.py)


def _cl(a):
    """(N, C, *S) -> contiguous channels-last (N, *S, C)."""
    return np.ascontiguousarray(np.moveaxis(a, 1, -1))


# (x shape, w shape, stride, dilation): runs (k_last x C values) shorter than, longer than and a
# multiple of the 16 lanes of the forward's and dW's blocks and of the 32 of dX's (30, 12, 32,
# 48, 5, 28, 12, 18); output channels fewer than, equal to and more than 16 (two tiles, padded
# columns); strides and dilations, 1-D and 3-D, a batch of one, an empty batch
SHAPES = [
    ((3, 6, 14, 13), (16, 6, 5, 5), (1, 1), (1, 1)),
    ((2, 4, 9, 9), (6, 4, 3, 3), (1, 1), (1, 1)),
    ((2, 8, 10, 12), (20, 8, 4, 4), (2, 1), (1, 1)),
    ((2, 16, 7, 9), (32, 16, 3, 3), (1, 2), (1, 1)),
    ((2, 5, 11, 10), (7, 5, 3, 3), (1, 1), (2, 2)),
    ((1, 6, 12, 12), (16, 6, 5, 5), (1, 1), (1, 1)),
    ((3, 4, 30), (9, 4, 7), (3,), (1,)),
    ((2, 4, 6, 5, 7), (5, 4, 3, 2, 3), (1, 1, 1), (1, 1, 1)),
    ((0, 6, 9, 9), (16, 6, 3, 3), (1, 1), (1, 1)),
]


def _sizes(x_shape, w_shape, stride, dilation):
    return tuple((n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip(x_shape[2:], w_shape[2:], stride, dilation))


@pytest.mark.parametrize("x_shape, w_shape, stride, dilation", SHAPES)
def test_the_three_sums_are_the_float64_reference_sums(x_shape, w_shape, stride, dilation):
    rng = np.random.default_rng(0)
    xp = rng.standard_normal(x_shape)  # already padded
    w, b = rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    out = _sizes(x_shape, w_shape, stride, dilation)
    want = ref.correlate(xp, w, stride, dilation, out) + b.reshape((-1,) + (1,) * len(out))
    dz = rng.standard_normal(want.shape)
    f32 = lambda a: a.astype(np.float32)  # noqa: E731

    y = direct.conv_forward(_cl(f32(xp)), f32(w), f32(b), stride, dilation, out)  # (N, *out, C_out)
    dw, db = direct.conv_weight_grad(_cl(f32(xp)), _cl(f32(dz)), w_shape[2:], stride, dilation)
    dxp = direct.conv_input_grad(_cl(f32(dz)), f32(w), stride, dilation, x_shape[2:])  # (N, *padded, C_in)

    np.testing.assert_allclose(np.moveaxis(y, -1, 1), want, **TOL)
    np.testing.assert_allclose(dw, ref.weight_grad(dz, xp, w_shape[2:], stride, dilation), **TOL)
    np.testing.assert_allclose(db, dz.sum(axis=(0,) + tuple(range(2, dz.ndim))), **TOL)
    np.testing.assert_allclose(np.moveaxis(dxp, -1, 1),
                               ref.full_correlation_rot180(dz, w, stride, dilation, 1, x_shape[2:]), **TOL)
    assert y.dtype == dw.dtype == db.dtype == dxp.dtype == np.float32
    assert y.shape == (x_shape[0],) + out + (w_shape[0],) and dw.shape == w_shape and dxp.shape == _cl(xp).shape


# what conv.py sends here, end to end against PyTorch: LeNet-5's second layer, padding modes,
# strides, more outputs than one tile
LAYERS = [
    ((8, 6, 14, 14), (16, 6, 5, 5), dict()),
    ((4, 8, 12, 11), (24, 8, 3, 3), dict(padding=1, padding_mode="reflect")),
    ((3, 16, 13, 13), (32, 16, 3, 3), dict(stride=2, padding=1)),
    ((2, 4, 10, 9), (6, 4, 3, 5), dict(padding=2, dilation=(2, 1), padding_mode="circular")),
    ((1, 16, 9, 9), (8, 16, 3, 3), dict(padding="same", padding_mode="replicate")),
]


def _through_direct(monkeypatch, forward, backward, x_shape, w_shape, bias_size, kw, seed):
    """[y, dx, dw, db] of forward/backward (conv.py's) on random float32 data, having seen all
    three direct sums called; and the data (x, w, b, dy)."""
    calls = []
    for name in ("conv_forward", "conv_weight_grad", "conv_input_grad"):
        monkeypatch.setattr(direct, name, lambda *a, _f=getattr(direct, name), _n=name, **k: calls.append(_n) or _f(*a, **k))
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(x_shape).astype(np.float32), rng.standard_normal(w_shape).astype(np.float32)
    b = rng.standard_normal(bias_size).astype(np.float32)
    y = forward(x, w, b, **kw)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    assert calls == (["conv_input_grad"] if forward is conv.conv_transpose_forward else ["conv_forward"])
    got = [y, *backward(dy, x, w, **kw)]
    assert sorted(calls) == ["conv_forward", "conv_input_grad", "conv_weight_grad"]
    return got, (x, w, b, dy)


def _assert_matches(got, ty, tensors):
    for a, want in zip(got, (ty, *(t.grad for t in tensors))):
        np.testing.assert_allclose(a, want.detach().numpy(), **TOL)


@pytest.mark.parametrize("x_shape, w_shape, kw", LAYERS)
def test_conv_through_the_direct_engine_matches_pytorch(monkeypatch, x_shape, w_shape, kw):
    got, (x, w, b, dy) = _through_direct(monkeypatch, conv.conv_forward, conv.conv_backward, x_shape, w_shape,
                                         w_shape[0], kw, seed=1)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    mode, padding = kw.get("padding_mode", "zeros"), kw.get("padding", 0)
    if mode != "zeros":  # PyTorch's functional conv pads with zeros only: pad first, as nn.Conv2d does
        p = (w_shape[2] - 1) * kw.get("dilation", 1) // 2 if padding == "same" else padding
        ty = TF.conv2d(TF.pad(tx, (p,) * 4, mode=mode), tw, tb, kw.get("stride", 1), 0, kw.get("dilation", 1))
    else:
        ty = TF.conv2d(tx, tw, tb, kw.get("stride", 1), padding, kw.get("dilation", 1))
    ty.backward(torch.tensor(dy))
    _assert_matches(got, ty, (tx, tw, tb))


@pytest.mark.parametrize("x_shape, w_shape, kw", [
    ((4, 16, 7, 8), (16, 6, 5, 5), dict()),
    ((3, 8, 6, 6), (8, 12, 4, 4), dict(stride=2, padding=1)),
    ((2, 12, 9, 9), (12, 8, 3, 3), dict(stride=2, padding=1, output_padding=1)),
])
def test_transposed_convolution_through_the_direct_engine_matches_pytorch(monkeypatch, x_shape, w_shape, kw):
    """The transposed convolution's forward is the input-gradient sum, its dx the forward sum and
    its dW the weight-gradient sum with input and output swapping roles."""
    got, (x, w, b, dy) = _through_direct(monkeypatch, conv.conv_transpose_forward, conv.conv_transpose_backward,
                                         x_shape, w_shape, w_shape[1], kw, seed=3)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = TF.conv_transpose2d(tx, tw, tb, **kw)
    ty.backward(torch.tensor(dy))
    _assert_matches(got, ty, (tx, tw, tb))


def test_conv_takes_the_direct_engine_for_few_float32_channels():
    assert direct.worthwhile(6, 16, 1, np.float32) and direct.worthwhile(16, 32, 1, np.float32)
    assert direct.worthwhile(4, 6, 1, np.float32)
    assert not direct.worthwhile(6, 16, 1, np.float64)  # float32 accumulators
    assert not direct.worthwhile(6, 16, 2, np.float32)  # one group
    assert not direct.worthwhile(3, 16, 1, np.float32)  # runs too short for the blocks
    assert not direct.worthwhile(32, 32, 1, np.float32) and not direct.worthwhile(16, 64, 1, np.float32)
    # the input gradient also wants runs (k_last x C_in entries) that fill its 32-entry tiles
    # to 0.6, and samples of at least 32 output positions
    assert direct.input_grad_worthwhile((16, 6, 5, 5), 1, (1, 1), np.float32, 100)  # 30 of 32
    assert direct.input_grad_worthwhile((16, 4, 5, 5), 1, (1, 1), np.float32, 100)  # 20 of 32
    assert direct.input_grad_worthwhile((16, 16, 3, 3), 1, (1, 1), np.float32, 100)  # 48 of 64
    assert not direct.input_grad_worthwhile((6, 4, 3, 3), 1, (1, 1), np.float32, 100)  # 12 of 32
    assert not direct.input_grad_worthwhile((6, 4, 3, 3), 1, (1, 2), np.float32, 100)  # dilated: runs of 4
    assert not direct.input_grad_worthwhile((16, 6, 5, 5), 1, (1, 1), np.float32, 25)
    assert not direct.input_grad_worthwhile((16, 6, 5, 5), 1, (1, 1), np.float64, 100)


def test_nan_and_inf_reach_the_gradients_as_in_a_dense_product():
    """The input gradient's last tile of a run overlaps the one before with zero weights (runs of
    5 x 8 = 40 entries: tiles at 0 and 8): a NaN in dY must still give NaN, not a 0 * NaN
    dropped or a NaN leaked to other samples."""
    rng = np.random.default_rng(2)
    dz = rng.standard_normal((2, 16, 6, 6)).astype(np.float32)
    w = rng.standard_normal((16, 8, 5, 5)).astype(np.float32)
    dz[0, 3, 2, 2] = np.nan
    dxp = np.moveaxis(direct.conv_input_grad(_cl(dz), w, (1, 1), (1, 1), (10, 10)), -1, 1)
    want = ref.full_correlation_rot180(dz.astype(np.float64), w.astype(np.float64), (1, 1), (1, 1), 1, (10, 10))
    np.testing.assert_array_equal(np.isnan(dxp), np.isnan(want))
    assert np.isnan(dxp[0]).any() and not np.isnan(dxp[1]).any()


def _has_avx512() -> bool:
    try:
        import llvmlite.binding as llvm
        return bool(llvm.get_host_cpu_features().get("avx512f"))
    except Exception:  # not x86, or features unreadable
        return False


@pytest.mark.skipif(not _has_avx512(), reason="512-bit vectors need an AVX-512 CPU")
def test_the_forward_blocks_use_512_bit_vectors():
    """registers.prefer_wide_vectors reaches the machine code: the direct engine's three sums and
    the single-channel forward use zmm registers, while a vectorised loop that does not ask for
    them (ReLU's) keeps to LLVM's 256-bit ymm registers on these CPUs."""
    from glassnet.kernels.fast import relu, single_channel
    rng = np.random.default_rng(0)
    xp = rng.standard_normal((1, 6, 6, 4)).astype(np.float32)
    direct.conv_forward(xp, rng.standard_normal((16, 4, 3, 3)).astype(np.float32), None, (1, 1), (1, 1), (4, 4))
    single_channel.conv_forward(xp[..., :1].copy(), rng.standard_normal((6, 1, 3, 3)).astype(np.float32), None,
                                (1, 1), (4, 4))
    dy = rng.standard_normal((1, 4, 4, 16)).astype(np.float32)
    direct.conv_input_grad(dy, rng.standard_normal((16, 4, 3, 3)).astype(np.float32), (1, 1), (1, 1), (6, 6))
    direct.conv_weight_grad(xp, dy, (3, 3), (1, 1), (1, 1))
    def machine_code(kernel):  # compiled afresh: numba does not show the code it loaded from its cache
        fresh = njit(nogil=True, error_model="numpy", fastmath={"contract"})(kernel.py_func)
        for sig in kernel.signatures:
            fresh.compile(sig)
        return "".join(fresh.inspect_asm(sig) for sig in kernel.signatures)

    assert "zmm" in machine_code(direct._forward)
    assert "zmm" in machine_code(direct._input_grad)
    assert "zmm" in machine_code(direct._weight_grad)
    assert "zmm" in machine_code(single_channel._correlate)
    relu.relu_into(np.ones(64, np.float32), np.empty(64, np.float32))
    plain = machine_code(relu._relu)
    assert "ymm" in plain and "zmm" not in plain
