"""Winograd's F(2x2, 3x3) and F(4x4, 3x3) (kernels/fast/winograd.py, winograd_f2.py,
winograd_f4.py): the forward, the input gradient and the weight gradient conv.py takes them for,
against PyTorch and a float64 reference."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from glassnet.kernels import conv
from glassnet.kernels.fast import winograd, winograd_f2, winograd_f4

TOL = dict(rtol=1e-4, atol=1e-4)  # the parity tests' tolerance (tests/kernels/test_conv.py)
# float32 error against float64, relative to the largest value (or 1): F(2x2)'s transforms only add
# and halve, about that of the direct sums (measured up to 4e-7); F(4x4)'s multiply by up to 5 and 8
# (measured up to 6e-6 on these shapes)
ERROR = {winograd_f2: 2e-6, winograd_f4: 1.5e-5}  # (the weight gradient always takes F(2x2))


def _data(n, c, h, w, o, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    k = (rng.standard_normal((o, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    return rng, x, k, b


def _torch(x, w, b, dy, padding, padding_mode, dtype):
    tx, tw, tb = (torch.tensor(a, dtype=dtype, requires_grad=True) for a in (x, w, b))
    if padding_mode == "zeros":
        ty = TF.conv2d(tx, tw, tb, 1, padding)
    else:
        ty = TF.conv2d(TF.pad(tx, (padding,) * 4, mode=padding_mode), tw, tb)
    ty.backward(torch.tensor(dy, dtype=dtype))
    return [a.detach().numpy() for a in (ty, tx.grad, tw.grad, tb.grad)]


@pytest.fixture(params=[winograd_f2, winograd_f4], ids=["F2", "F4"])
def tiles(request, monkeypatch):
    """Each tile size in turn, for every layer winograd.py takes."""
    monkeypatch.setattr(winograd, "tiles_for", lambda c_in, c_out: request.param)
    return request.param


@pytest.fixture
def taken(monkeypatch):
    """Which Winograd functions conv.py called; small problems count as large enough (MIN_POSITIONS 0)."""
    monkeypatch.setattr(winograd, "MIN_POSITIONS", 0)
    calls = []
    for name in ("correlate", "input_grad", "weight_grad"):
        def spy(*args, _f=getattr(winograd, name), _name=name, **kw):
            calls.append(_name)
            return _f(*args, **kw)
        monkeypatch.setattr(winograd, name, spy)
    return calls


# every shape class conv.py sends here: even and odd sizes, non-square, batch 1, each padding
# mode, paddings 0-2 (the input gradient of the input's own positions) and 3 (of the whole
# padded input, then the padding's adjoint), more channels in than out and the reverse
SHAPES = [
    (2, 64, 8, 8, 64, 1, "zeros"),
    (3, 64, 9, 7, 72, 1, "zeros"),
    (1, 80, 11, 6, 64, 0, "zeros"),
    (2, 64, 7, 10, 65, 2, "zeros"),
    (2, 64, 6, 6, 64, 3, "zeros"),
    (2, 64, 8, 9, 64, 1, "reflect"),
    (2, 64, 7, 7, 64, 1, "replicate"),
    (2, 64, 5, 8, 64, 2, "circular"),
    (1, 64, 17, 17, 64, 1, "zeros"),
]


@pytest.mark.parametrize("n, c, h, w, o, padding, padding_mode", SHAPES)
def test_forward_and_both_gradients_match_torch_and_float64(tiles, taken, n, c, h, w, o, padding, padding_mode):
    rng, x, k, b = _data(n, c, h, w, o)
    y = conv.conv_forward(x, k, b, 1, padding, padding_mode=padding_mode)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    got = [y, *conv.conv_backward(dy, x, k, 1, padding, padding_mode=padding_mode)]
    assert [name for name in taken if name != "correlate"] == ["input_grad", "weight_grad"]  # input_grad calls correlate
    for ours, want in zip(got, _torch(x, k, b, dy, padding, padding_mode, torch.float32)):
        np.testing.assert_allclose(ours, want, **TOL)
    bounds = [ERROR[tiles], ERROR[tiles], ERROR[winograd_f2], ERROR[winograd_f2]]  # y and dx by `tiles`, dw by F(2x2)
    for ours, exact, bound in zip(got, _torch(x, k, b, dy, padding, padding_mode, torch.float64), bounds):
        assert ours.dtype == np.float32
        assert np.abs(ours - exact).max() <= bound * max(np.abs(exact).max(), 1.0)


@pytest.mark.parametrize("c, o, expected", [(16, 64, ["correlate", "weight_grad"]), (64, 16, ["input_grad", "correlate"])])
def test_each_direction_is_chosen_by_its_own_channel_counts(tiles, taken, monkeypatch, c, o, expected):
    """The forward and the weight gradient are products from C_in to C_out channels, the input
    gradient from C_out to C_in."""
    monkeypatch.setattr(winograd, "MIN_IN", 16)
    monkeypatch.setattr(winograd, "MIN_OUT", 32)
    rng, x, k, b = _data(2, c, 8, 8, o)
    y = conv.conv_forward(x, k, b, 1, 1)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    got = [y, *conv.conv_backward(dy, x, k, 1, 1)]
    assert taken == expected
    for ours, want in zip(got, _torch(x, k, b, dy, 1, "zeros", torch.float32)):
        np.testing.assert_allclose(ours, want, **TOL)


@pytest.mark.parametrize("n, expected", [(2, True), (1, False)])
def test_only_large_enough_problems_take_it(n, expected):
    """64 channels in and out at 32x32: 2048 input positions at batch 2, half that at 1."""
    x_shape, w_shape = (n, 64, 32, 32), (64, 64, 3, 3)
    assert winograd.worthwhile(x_shape, w_shape, (1, 1), (1, 1), 1, np.float32) is expected


def test_weight_grad_matches_torch_and_float64():
    """The Winograd weight gradient alone (F(2x2) for every layer), on odd sizes (a last tile half outside dY)."""
    rng, x, k, b = _data(2, 32, 9, 7, 40)
    dy = rng.standard_normal((2, 40, 9, 7)).astype(np.float32)
    xp = np.ascontiguousarray(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))).transpose(0, 2, 3, 1))
    dw = winograd.weight_grad(xp, np.ascontiguousarray(dy.transpose(0, 2, 3, 1)))
    want32, want64 = (_torch(x, k, b, dy, 1, "zeros", t)[2] for t in (torch.float32, torch.float64))
    np.testing.assert_allclose(dw, want32, **TOL)
    assert np.abs(dw - want64).max() <= ERROR[winograd_f2] * np.abs(want64).max()


def test_an_empty_batch_gives_a_zero_weight_gradient(tiles, taken):
    x, w = np.zeros((0, 32, 8, 8), np.float32), np.ones((32, 32, 3, 3), np.float32)
    dx, dw, db = conv.conv_backward(np.zeros((0, 32, 8, 8), np.float32), x, w, 1, 1)
    assert "weight_grad" in taken and dx.shape == x.shape
    assert dw.shape == w.shape and not dw.any() and not db.any()


@pytest.mark.parametrize("module, size", [(winograd_f2, 4), (winograd_f4, 6)])
def test_the_kernel_transform_is_g_g_g_transposed(module, size):
    """U[k] = (G g G^T)[k], k = size a + b, against the module's G matrix (37 output channels:
    F(4x4)'s blocks of 16 and a shorter last one)."""
    g = np.random.default_rng(1).standard_normal((37, 4, 3, 3))
    want = np.einsum("ai,ocij,bj->abco", module.G, g, module.G).reshape(size * size, 4, 37)
    np.testing.assert_allclose(module.kernel_transform(g), want, rtol=1e-12, atol=1e-14)


def test_the_weight_transform_is_the_adjoint():
    """G^T dU G (the weight gradient's, always F(2x2)): <G g G^T, dU> = <g, G^T dU G> for every g and dU."""
    rng = np.random.default_rng(1)
    g = rng.standard_normal((5, 4, 3, 3))
    du = rng.standard_normal((16, 4, 5))
    lhs = np.sum(winograd_f2.kernel_transform(g) * du)
    rhs = np.sum(g * winograd_f2.kernel_transform_adjoint(du))
    assert np.isclose(lhs, rhs, rtol=1e-12)


@pytest.mark.parametrize("c_in, c_out, expected", [(64, 64, winograd_f4), (32, 64, winograd_f4), (128, 16, winograd_f4),
                                                   (32, 32, winograd_f2), (16, 64, winograd_f2)])
def test_the_tile_size_follows_the_channel_pairs(c_in, c_out, expected):
    """F(4x4, 3x3) from F4_MIN_CHANNEL_PAIRS = C_in x C_out, for all three sums of a layer."""
    assert winograd.tiles_for(c_in, c_out) is expected
    assert winograd.tiles_for(c_out, c_in) is expected


@pytest.mark.parametrize("x_shape, w_shape, kw, dtype", [
    ((2, 8, 8, 8), (64, 8, 3, 3), {}, np.float32),  # too few channels in, for the forward and dW ...
    ((2, 8, 8, 8), (8, 8, 3, 3), {}, np.float32),  # ... and out, for the input gradient too
    ((2, 64, 8, 8), (64, 64, 3, 3), {}, np.float64),  # float64 stays on the direct sums
    ((2, 64, 8, 8), (64, 64, 3, 3), {"stride": 2}, np.float32),
    ((2, 64, 8, 8), (64, 64, 3, 3), {"dilation": 2}, np.float32),
    ((2, 64, 8, 8), (64, 32, 3, 3), {"groups": 2}, np.float32),
    ((2, 64, 8, 8), (64, 64, 5, 5), {}, np.float32),
    ((2, 64, 6, 6, 6), (64, 64, 3, 3, 3), {}, np.float32),
])
def test_other_convolutions_stay_with_im2col(taken, x_shape, w_shape, kw, dtype):
    rng = np.random.default_rng(0)
    x, w = (rng.standard_normal(s).astype(dtype) for s in (x_shape, w_shape))
    y = conv.conv_forward(x, w, padding=1, **kw)
    conv.conv_backward(np.ones_like(y), x, w, padding=1, **kw)
    assert taken == []
