"""Locally connected and tiled convolution kernels against PyTorch compositions and finite differences.

PyTorch has no locally connected layer; the reference is what a user would write: pad, cut the
windows with Tensor.unfold (one spatial dimension at a time, so it works in 1-D, 2-D and 3-D),
and contract with einsum. Tiled weights are expanded to one kernel per position in the test by
plain indexing, an independent route to the same numbers.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import torch
import torch.nn.functional as F

from glassnet.kernels.local import (local_backward, local_forward, local_output_shape, scatter_windows,
                                    tiled_backward, tiled_forward)
from glassnet.kernels.sizes import resolve_padding
from glassnet.kernels.windows import sliding_windows
from glassnet.testing import check_gradients

TORCH_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def torch_windows(x, k, s, pads, d, mode):
    """(N, C, *in) -> (N, C, *out, *k) with torch ops only."""
    flat = [v for lo_hi in reversed(pads) for v in lo_hi]  # F.pad wants the last dimension first
    if any(flat):
        x = F.pad(x, flat, mode=TORCH_MODE[mode])
    for i in range(len(k)):
        x = x.unfold(2 + i, d[i] * (k[i] - 1) + 1, s[i])[..., ::d[i]]
    return x


def torch_local(x, w, b, k, s, pads, d, groups, mode):
    """Locally connected layer by torch unfold + einsum. w (*out, O, C/G, *k)."""
    nd = len(k)
    win = torch_windows(x, k, s, pads, d, mode)  # (N, C, *out, k_1, ..., k_D)
    n, c = win.shape[:2]
    out = tuple(win.shape[2:2 + nd])
    P, K = math.prod(out), math.prod(k)
    win = win.reshape(n, groups, c // groups, P, K)
    o = w.shape[nd]
    wt = w.reshape(P, groups, o // groups, c // groups, K)
    y = torch.einsum("ngcpk,pgock->ngop", win, wt).reshape((n, o) + out)
    if b is not None:
        y = y + (b.reshape((o,) + (1,) * nd) if b.dim() == 1 else b.permute(nd, *range(nd)))
    return y


def expand_tiles(w, out):
    """(*t, ...) -> (*out, ...) with w_full[p] = w[p mod t] (numpy or torch)."""
    nd = len(out)
    idx = np.ix_(*[np.arange(o) % t for o, t in zip(out, w.shape[:nd])])
    return w[idx]


def assert_matches_torch(y, yt, backward, leaves, rng):
    """Our forward y against torch's yt; then our backward(dy) -> (dx, dw, db) against the
    gradients torch leaves in (xt, wt, bt) (None: no bias to compare), all float32."""
    assert y.shape == tuple(yt.shape) and y.dtype == np.float32
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-4, atol=1e-4)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    yt.backward(torch.tensor(dy))
    for ours, leaf in zip(backward(dy), leaves, strict=True):
        if leaf is not None:
            assert ours.dtype == np.float32
            np.testing.assert_allclose(ours, leaf.grad.numpy(), rtol=1e-4, atol=1e-4)


def geometry(nd, k, s, p, d, spatial):
    ks, ss, ds = (k,) * nd, (s,) * nd, (d,) * nd
    pads = resolve_padding(p, ks, ss, ds, spatial)
    return ks, ss, ds, pads


CASES = [  # nd, spatial, kernel, stride, padding, dilation, groups, padding_mode
    (1, (9,), 3, 1, 0, 1, 1, "zeros"),
    (1, (10,), 3, 2, "same", 1, 2, "zeros"),
    (2, (7, 6), 3, 1, 1, 1, 1, "zeros"),
    (2, (8, 7), 2, 2, 0, 1, 2, "zeros"),
    (2, (9, 8), 3, 1, 2, 2, 1, "reflect"),
    (2, (6, 6), 3, 1, "same", 1, 1, "circular"),
    (2, (6, 7), 3, 2, ((1, 0), (0, 2)), 1, 1, "replicate"),
    (3, (5, 4, 6), 2, 1, 1, 1, 1, "zeros"),
    (3, (5, 6, 5), 3, 2, 1, 1, 2, "replicate"),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("bias", ["none", "channel", "position"])
def test_local_matches_torch_unfold_einsum(case, bias):
    nd, spatial, k, s, p, d, groups, mode = case
    rng = np.random.default_rng(1)
    cin, cout = 4, 6
    x = rng.standard_normal((2, cin) + spatial).astype(np.float32)
    ks, ss, ds, pads = geometry(nd, k, s, p, d, spatial)
    out = local_output_shape(spatial, ks, ss, p, ds)
    w = rng.standard_normal(out + (cout, cin // groups) + ks).astype(np.float32)
    b = {"none": None, "channel": rng.standard_normal(cout), "position": rng.standard_normal(out + (cout,))}[bias]
    b = None if b is None else b.astype(np.float32)
    y = local_forward(x, w, b, s, p, d, groups, mode)

    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    bt = None if b is None else torch.tensor(b, requires_grad=True)
    yt = torch_local(xt, wt, bt, ks, ss, pads, ds, groups, mode)
    assert_matches_torch(y, yt, lambda dy: local_backward(dy, x, w, s, p, d, groups, mode,
                                                          None if b is None else b.shape), (xt, wt, bt), rng)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("tiles", [2, 3])
@pytest.mark.parametrize("per_tile_bias", [False, True])
def test_tiled_matches_expanded_locally_connected_in_torch(case, tiles, per_tile_bias):
    nd, spatial, k, s, p, d, groups, mode = case
    rng = np.random.default_rng(2)
    cin, cout = 4, 6
    x = rng.standard_normal((2, cin) + spatial).astype(np.float32)
    ks, ss, ds, pads = geometry(nd, k, s, p, d, spatial)
    out = local_output_shape(spatial, ks, ss, p, ds)
    t = (tiles,) * nd
    w = rng.standard_normal(t + (cout, cin // groups) + ks).astype(np.float32)
    b = rng.standard_normal(t + (cout,) if per_tile_bias else (cout,)).astype(np.float32)
    y = tiled_forward(x, w, b, s, p, d, groups, mode, tiles=tiles)

    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    yt = torch_local(xt, expand_tiles(wt, out), expand_tiles(bt, out) if per_tile_bias else bt,
                     ks, ss, pads, ds, groups, mode)
    assert_matches_torch(y, yt, lambda dy: tiled_backward(dy, x, w, s, p, d, groups, mode, tiles, b.shape),
                         (xt, wt, bt), rng)


@pytest.mark.parametrize("case", [CASES[1], CASES[4], CASES[6], CASES[7]])
@pytest.mark.parametrize("tiles", [None, 2])
def test_finite_differences_float64(case, tiles):
    nd, spatial, k, s, p, d, groups, mode = case
    rng = np.random.default_rng(3)
    # finite differences cost two forward passes per element: keep the inputs small
    spatial = tuple(min(v, 6 if nd < 3 else 3) for v in spatial)
    if mode == "reflect":
        p = 1  # keep the reflected border inside the smaller input
    if nd == 3:
        p = 0  # one kernel per position: padding would multiply the weights to check
    cin, cout = 2, 2
    ks = (k,) * nd
    out = local_output_shape(spatial, ks, s, p, d)
    lead = out if tiles is None else (tiles,) * nd
    x = rng.standard_normal((2, cin) + spatial)
    w = rng.standard_normal(lead + (cout, cin // groups) + ks)
    b = rng.standard_normal(lead + (cout,))

    def f(x, w, b):
        return tiled_forward(x, w, b, s, p, d, groups, mode)

    def back(dy, x, w, b):
        return tiled_backward(dy, x, w, s, p, d, groups, mode, None, b.shape)

    check_gradients(f, back, [x, w, b], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("nd,spatial", [(1, (11,)), (2, (7, 8)), (3, (5, 5, 4))])
@pytest.mark.parametrize("stride,padding,dilation", [(1, 0, 1), (2, 1, 1), (1, "same", 2)])
def test_equal_kernels_and_single_tile_are_convolution(nd, spatial, stride, padding, dilation):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3) + spatial).astype(np.float32)
    kernel = rng.standard_normal((5, 3) + (3,) * nd).astype(np.float32)
    bias = rng.standard_normal(5).astype(np.float32)
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
    expected = conv(torch.tensor(x), torch.tensor(kernel), torch.tensor(bias), stride, padding, dilation).numpy()
    out = local_output_shape(spatial, (3,) * nd, stride, padding, dilation)
    shared = np.broadcast_to(kernel, out + kernel.shape).copy()  # the same kernel at every position
    np.testing.assert_allclose(local_forward(x, shared, bias, stride, padding, dilation), expected,
                               rtol=1e-4, atol=1e-4)
    single = kernel[(None,) * nd]  # tiles = (1, ..., 1)
    np.testing.assert_allclose(tiled_forward(x, single, bias, stride, padding, dilation), expected,
                               rtol=1e-4, atol=1e-4)


def test_tiles_equal_to_output_size_is_locally_connected():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 2, 9, 8))
    out = local_output_shape((9, 8), (3, 3), 2, 1)
    w = rng.standard_normal(out + (4, 2, 3, 3))
    b = rng.standard_normal(out + (4,))
    np.testing.assert_array_equal(tiled_forward(x, w, b, 2, 1, tiles=out), local_forward(x, w, b, 2, 1))
    dy = rng.standard_normal((3, 4) + out)
    for a, c in zip(tiled_backward(dy, x, w, 2, 1, tiles=out, bias_shape=b.shape),
                    local_backward(dy, x, w, 2, 1, bias_shape=b.shape)):
        np.testing.assert_array_equal(a, c)


def test_scatter_windows_is_the_adjoint_of_sliding_windows():
    rng = np.random.default_rng(6)
    xp = rng.standard_normal((2, 3, 9, 10))
    k, s, d, out = (3, 2), (2, 3), (2, 1), (3, 3)
    win = sliding_windows(xp, k, s, d, out)
    g = rng.standard_normal(win.shape)
    # <windows(x), g> == <x, scatter(g)> for every x and g
    assert np.isclose(np.vdot(win, g), np.vdot(xp, scatter_windows(g, xp.shape, k, s, d)))


def test_float32_stays_float32_and_backward_skips_unneeded():
    x = np.ones((1, 2, 5, 5), np.float32)
    w = np.ones((3, 3, 4, 2, 3, 3), np.float32)
    y = local_forward(x, w)
    assert y.dtype == np.float32 and y.shape == (1, 4, 3, 3)
    np.testing.assert_array_equal(y, 18.0)
    dx, dw, db = local_backward(np.ones_like(y), x, w, needs=(False, True, False))
    assert dx is None and db is None and dw.shape == w.shape


def test_what_the_sizes_decide_is_refused_by_the_kernels():
    # the arguments themselves are checked by glassnet.functional.local (tests/functional/test_local.py)
    x = np.zeros((1, 2, 5, 5), np.float32)
    with pytest.raises(ValueError, match="larger than the padded input"):
        tiled_forward(x, np.zeros((1, 1, 4, 2, 7, 7), np.float32))
    with pytest.raises(ValueError, match=r"tile dims \(3, 3\)"):
        tiled_forward(x, np.zeros((2, 2, 4, 2, 3, 3), np.float32), tiles=3)


def naive_tiled(x, w, b, stride, pads, dilation, groups):
    """y[n, o, p] by a loop over output positions: the definition, nothing shared with the kernel."""
    nd = x.ndim - 2
    tiles, (cout, cin_g), k = w.shape[:nd], w.shape[nd:nd + 2], w.shape[nd + 2:]
    xp = np.pad(x, [(0, 0), (0, 0)] + list(pads))
    out = tuple((xp.shape[2 + i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(nd))
    y = np.zeros((x.shape[0], cout) + out)
    og = cout // groups
    for p in np.ndindex(*out):
        window = xp[(slice(None), slice(None)) + tuple(
            slice(p[i] * stride[i], p[i] * stride[i] + dilation[i] * (k[i] - 1) + 1, dilation[i]) for i in range(nd))]
        kernel = w[tuple(pi % t for pi, t in zip(p, tiles))]  # (O, C/G, *k)
        for g in range(groups):
            patch = window[:, g * cin_g:(g + 1) * cin_g]  # (N, C/G, *k)
            y[(slice(None), slice(g * og, (g + 1) * og)) + p] = np.tensordot(
                patch, kernel[g * og:(g + 1) * og], axes=(list(range(1, nd + 2)), list(range(1, nd + 2))))
    if b is not None:
        y += b.reshape((-1,) + (1,) * nd)
    return y


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_random_geometries_match_the_definition(data):
    nd = data.draw(st.integers(1, 2))
    k = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(data.draw(st.integers(1, 2)) for _ in range(nd))
    pads = tuple((data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in range(nd))
    spatial = tuple(d[i] * (k[i] - 1) + 1 + data.draw(st.integers(0, 5)) for i in range(nd))
    tiles = tuple(data.draw(st.integers(1, 4)) for _ in range(nd))
    groups = data.draw(st.sampled_from([1, 2]))
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    x = rng.standard_normal((2, 2 * groups) + spatial)
    w = rng.standard_normal(tiles + (2 * groups, 2) + k)
    b = rng.standard_normal(2 * groups)
    np.testing.assert_allclose(tiled_forward(x, w, b, s, pads, d, groups), naive_tiled(x, w, b, s, pads, d, groups),
                               rtol=1e-10, atol=1e-10)
