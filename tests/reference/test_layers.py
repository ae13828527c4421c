"""The reference kernels of glassnet's own layers (locally connected and tiled convolution,
connection tables, trainable subsampling, p4) and of linear, activations, batch norm and the
losses, as oracles: against finite differences, against PyTorch where it has the operation (or
a composition of PyTorch operations written here), and the fast kernels against them."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import glassnet
from glassnet.functional import conv_map
from glassnet.kernels import activation as fast_act
from glassnet.kernels import linear as fast_linear
from glassnet.kernels import local as fast_local
from glassnet.kernels import loss as fast_loss
from glassnet.kernels import normalization as fast_norm
from glassnet.kernels import p4 as fast_p4
from glassnet.kernels import subsampling as fast_sub
from glassnet.kernels.local import local_output_shape
from glassnet.reference import activation, convmap, linear, local, loss, normalization, p4, subsampling
from glassnet.testing import check_gradients

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


# ---- locally connected and tiled convolution ---------------------------------------------

@settings(max_examples=40, deadline=None)
@given(nd=st.integers(1, 3), data=st.data(), dtype=st.sampled_from([np.float32, np.float64]))
def test_fast_tiled_and_local_match_the_reference(nd, data, dtype):
    groups = data.draw(st.integers(1, 2))
    size = tuple(data.draw(st.integers(3, 6)) for _ in range(nd))
    k = tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(data.draw(st.integers(1, 2)) for _ in range(nd))
    p = data.draw(st.integers(0, 1))
    mode = data.draw(st.sampled_from(["zeros", "reflect", "circular"]))
    out = local_output_shape(size, k, s, p, 1)
    assume(min(out) >= 1)
    unshared = data.draw(st.booleans())
    tiles = out if unshared else tuple(data.draw(st.integers(1, 3)) for _ in range(nd))
    per_tile_bias = data.draw(st.booleans())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2 * groups) + size).astype(dtype)
    w = rng.standard_normal(tiles + (2 * groups, 2) + k).astype(dtype)
    b = rng.standard_normal(tiles + (2 * groups,) if per_tile_bias else (2 * groups,)).astype(dtype)
    opts = (s, p, 1, groups, mode)
    y = fast_local.tiled_forward(x, w, b, *opts)
    np.testing.assert_allclose(y, local.tiled_forward(x, w, b, *opts), **TOL[dtype])
    dy = rng.standard_normal(y.shape).astype(dtype)
    got = fast_local.tiled_backward(dy, x, w, *opts, bias_shape=b.shape)
    for g, r in zip(got, local.tiled_backward(dy, x, w, *opts, bias_shape=b.shape)):
        np.testing.assert_allclose(g, r, **TOL[dtype])


def test_reference_tiled_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 2, 5, 6)), rng.standard_normal((2, 3, 3, 2, 2, 3)), rng.standard_normal((2, 3, 3))
    opts = ((1, 2), 1, 1, 1, "reflect")
    check_gradients(lambda x, w, b: local.tiled_forward(x, w, b, *opts),
                    lambda dy, x, w, b: local.tiled_backward(dy, x, w, *opts, bias_shape=b.shape), [x, w, b])


def test_reference_local_with_one_tile_is_convolution_in_pytorch():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 4, 6, 5)), rng.standard_normal((1, 1, 6, 2, 3, 2)), rng.standard_normal(6)
    y = local.tiled_forward(x, w, b, 1, 1, (2, 1), 2)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w[0, 0], b))
    ty = F.conv2d(tx, tw, tb, 1, 1, (2, 1), 2)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(dy))
    dx, dw, db = local.tiled_backward(dy, x, w, 1, 1, (2, 1), 2)
    for got, t in zip((dx, dw[0, 0], db), (tx, tw, tb)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)


# ---- connection tables ----------------------------------------------------------------------

TABLE = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_conv_map_matches_the_reference(dtype):
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((2, 3, 7, 6), (TABLE.sum(), 3, 2), (4,)))
    tx, tw, tb = (glassnet.tensor(a, dtype=dtype, requires_grad=True) for a in (x, w, b))
    y = conv_map(tx, tw, tb, TABLE, stride=(1, 2), padding=1, padding_mode="replicate")
    np.testing.assert_allclose(y.data, convmap.conv_map_forward(x, w, b, TABLE, (1, 2), 1, 1, "replicate"), **TOL[dtype])
    dy = rng.standard_normal(y.shape).astype(dtype)
    y.backward(dy)
    want = convmap.conv_map_backward(dy, x, w, TABLE, (1, 2), 1, 1, "replicate")
    for got, r in zip((tx.grad, tw.grad, tb.grad), want):
        np.testing.assert_allclose(got, r, **TOL[dtype])


def test_reference_conv_map_is_pytorch_conv_with_the_table_zeros():
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((TABLE.sum(), 3, 3)), rng.standard_normal(4)
    dense = np.zeros((4, 3, 3, 3))
    dense[TABLE.astype(bool)] = w
    tx, tb = torch.tensor(x, requires_grad=True), torch.tensor(b, requires_grad=True)
    tdense = torch.tensor(dense, requires_grad=True)
    ty = F.conv2d(tx, tdense, tb, padding=1)
    y = convmap.conv_map_forward(x, w, b, TABLE, 1, 1)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(dy))
    dx, dw, db = convmap.conv_map_backward(dy, x, w, TABLE, 1, 1)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw, tdense.grad.numpy()[TABLE.astype(bool)], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-10)


# ---- trainable subsampling ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel_size, stride, padding", [(2, None, 0), ((3, 2), (2, 1), (1, 0)), (3, 1, 1)])
def test_fast_subsampling_matches_the_reference(dtype, kernel_size, stride, padding):
    rng = np.random.default_rng(5)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((2, 3, 8, 7), (3,), (3,)))
    y = fast_sub.subsampling_forward(x, w, b, kernel_size, stride, padding)
    np.testing.assert_allclose(y, subsampling.subsampling_forward(x, w, b, kernel_size, stride, padding), **TOL[dtype])
    dy = rng.standard_normal(y.shape).astype(dtype)
    for got, r in zip(fast_sub.subsampling_backward(dy, x, w, kernel_size, stride, padding),
                      subsampling.subsampling_backward(dy, x, w, kernel_size, stride, padding)):
        np.testing.assert_allclose(got, r, **TOL[dtype])


def test_reference_subsampling_is_pytorch_average_pooling_times_a_weight():
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((2, 3, 8, 6)), rng.standard_normal(3), rng.standard_normal(3)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = F.avg_pool2d(tx, 2) * 4 * tw.reshape(-1, 1, 1) + tb.reshape(-1, 1, 1)  # a sum pool, scaled
    y = subsampling.subsampling_forward(x, w, b, 2)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10)
    dy = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(dy))
    for got, t in zip(subsampling.subsampling_backward(dy, x, w, 2), (tx, tw, tb)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    check_gradients(lambda x, w, b: subsampling.subsampling_forward(x, w, b, (3, 2), (2, 1), (1, 0)),
                    lambda dy, x, w, b: subsampling.subsampling_backward(dy, x, w, (3, 2), (2, 1), (1, 0)), [x, w, b])


# ---- p4 group convolution ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_p4_matches_the_reference(dtype):
    rng = np.random.default_rng(7)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((2, 2, 7, 7), (3, 2, 3, 3), (3,)))
    y = fast_p4.p4_lift_forward(x, w, b, 1, 1)
    np.testing.assert_allclose(y, p4.p4_lift_forward(x, w, b, 1, 1), **TOL[dtype])
    dy = rng.standard_normal(y.shape).astype(dtype)
    for got, r in zip(fast_p4.p4_lift_backward(dy, x, w, 1, 1), p4.p4_lift_backward(dy, x, w, 1, 1)):
        np.testing.assert_allclose(got, r, **TOL[dtype])
    x2, w2 = y, rng.standard_normal((2, 3, 4, 3, 3)).astype(dtype)
    y2 = fast_p4.p4_conv_forward(x2, w2, None, 2, 1, 1, "circular")
    np.testing.assert_allclose(y2, p4.p4_conv_forward(x2, w2, None, 2, 1, 1, "circular"), **TOL[dtype])
    dy2 = rng.standard_normal(y2.shape).astype(dtype)
    for got, r in zip(fast_p4.p4_conv_backward(dy2, x2, w2, 2, 1, 1, "circular")[:2],
                      p4.p4_conv_backward(dy2, x2, w2, 2, 1, 1, "circular")[:2]):
        np.testing.assert_allclose(got, r, **TOL[dtype])


def test_reference_p4_against_pytorch_rotations_and_finite_differences():
    """Lifting in PyTorch: each rotation's output is conv2d with torch.rot90 of the filters."""
    rng = np.random.default_rng(8)
    x, w, b = rng.standard_normal((2, 2, 6, 6)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    tx, tw = torch.tensor(x), torch.tensor(w)
    ty = torch.stack([F.conv2d(tx, torch.rot90(tw, r, (2, 3))) for r in range(4)], dim=2) + torch.tensor(b).reshape(1, -1, 1, 1, 1)
    np.testing.assert_allclose(p4.p4_lift_forward(x, w, b), ty.numpy(), rtol=1e-10, atol=1e-12)
    check_gradients(lambda x, w, b: p4.p4_lift_forward(x, w, b, 1, 1),
                    lambda dy, x, w, b: p4.p4_lift_backward(dy, x, w, 1, 1), [x, w, b])
    x2, w2 = rng.standard_normal((1, 2, 4, 5, 5)), rng.standard_normal((2, 2, 4, 3, 3))
    check_gradients(lambda x, w: p4.p4_conv_forward(x, w, None, 1, 1),
                    lambda dy, x, w: p4.p4_conv_backward(dy, x, w, 1, 1)[:2], [x2, w2])


def test_reference_p4_is_equivariant():
    """Rotating the input rotates every output plane and cycles the planes (seed 004)."""
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal((1, 1, 7, 7)), rng.standard_normal((2, 1, 3, 3))
    y = p4.p4_lift_forward(x, w, None, 1, 1)
    y_rot = p4.p4_lift_forward(np.rot90(x, 1, axes=(-2, -1)), w, None, 1, 1)
    np.testing.assert_allclose(y_rot, np.roll(np.rot90(y, 1, axes=(-2, -1)), 1, axis=2), rtol=1e-10, atol=1e-12)


# ---- linear, activations, batch norm, losses --------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_fast_reference_and_pytorch_agree(dtype):
    rng = np.random.default_rng(10)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((5, 3, 4), (6, 4), (6,)))
    y = linear.linear_forward(x, w, b)
    np.testing.assert_allclose(fast_linear.linear_forward(x, w, b), y, **TOL[dtype])
    dy = rng.standard_normal(y.shape).astype(dtype)
    want = linear.linear_backward(dy, x, w)
    for got, r in zip(fast_linear.linear_backward(dy, x, w), want):
        np.testing.assert_allclose(got, r, **TOL[dtype])
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = F.linear(tx, tw, tb)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOL[dtype])
    for got, t in zip(want, (tx, tw, tb)):
        np.testing.assert_allclose(got, t.grad.numpy(), **TOL[dtype])


ACTIVATIONS = [
    ("relu", {}, F.relu, "input"), ("leaky_relu", {"negative_slope": 0.2}, lambda t: F.leaky_relu(t, 0.2), "input"),
    ("elu", {"alpha": 1.5}, lambda t: F.elu(t, 1.5), "input"), ("sigmoid", {}, torch.sigmoid, "output"),
    ("tanh", {}, torch.tanh, "output"), ("softmax", {"dim": 1}, lambda t: F.softmax(t, 1), "output"),
    ("log_softmax", {"dim": 1}, lambda t: F.log_softmax(t, 1), "output")]


@pytest.mark.parametrize("name, kwargs, torch_fn, backward_reads", ACTIVATIONS)
def test_activations_fast_reference_and_pytorch_agree(name, kwargs, torch_fn, backward_reads):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4, 5, 3)) * 3
    forward, backward = getattr(activation, f"{name}_forward"), getattr(activation, f"{name}_backward")
    y = forward(x, **kwargs)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch_fn(tx)
    dy = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    saved = x if backward_reads == "input" else y
    np.testing.assert_allclose(backward(dy, saved, **kwargs), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    check_gradients(lambda x: forward(x, **kwargs),
                    lambda dy, x: (backward(dy, x if backward_reads == "input" else forward(x, **kwargs), **kwargs),),
                    [x + 0.01])  # away from relu's kink at 0
    fast_forward = getattr(fast_act, f"{name}_forward")
    x32 = x.astype(np.float32)
    np.testing.assert_allclose(fast_forward(x32, **kwargs), forward(x32, **kwargs), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_fast_reference_and_pytorch_agree(training):
    rng = np.random.default_rng(12)
    x, gamma, beta = rng.standard_normal((4, 3, 5, 2)) * 2 + 1, rng.standard_normal(3), rng.standard_normal(3)
    running_mean, running_var = rng.standard_normal(3), rng.random(3) + 0.5
    mean, var = normalization.batch_statistics(x) if training else (running_mean, running_var)
    y = normalization.batch_norm_forward(x, mean, var, gamma, beta)
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    ty = F.batch_norm(tx, torch.tensor(running_mean), torch.tensor(running_var), tg, tb, training)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    ty.backward(torch.tensor(dy))
    want = normalization.batch_norm_backward(dy, x, mean, var, gamma, training=training)
    for got, t in zip(want, (tx, tg, tb)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-9, atol=1e-11)
    y_fast, cache = fast_norm.batch_norm_forward(x, running_mean.copy(), running_var.copy(), gamma, beta, training)
    np.testing.assert_allclose(y_fast, y, rtol=1e-10, atol=1e-12)
    for got, r in zip(fast_norm.batch_norm_backward(dy, x, cache), want):
        np.testing.assert_allclose(got, r, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_losses_fast_reference_and_pytorch_agree(reduction, weighted):
    rng = np.random.default_rng(13)
    x, t = rng.standard_normal((6, 4, 3)), rng.integers(0, 4, (6, 3))
    t[0, 0] = -100  # ignored
    weight = rng.random(4) + 0.5 if weighted else None
    tx = torch.tensor(x, requires_grad=True)
    tl = F.cross_entropy(tx, torch.tensor(t), None if weight is None else torch.tensor(weight), reduction=reduction)
    g = rng.standard_normal(tl.shape)
    tl.backward(torch.tensor(g))
    args = (x, t, weight, -100, reduction)
    np.testing.assert_allclose(loss.cross_entropy_forward(*args), tl.detach().numpy(), rtol=1e-10)
    dx = loss.cross_entropy_backward(g, *args)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    value, cache = fast_loss.cross_entropy_forward(*args)
    np.testing.assert_allclose(value, loss.cross_entropy_forward(*args), rtol=1e-10)
    np.testing.assert_allclose(fast_loss.cross_entropy_backward(g, cache)[0], dx, rtol=1e-10, atol=1e-12)
    y = rng.standard_normal(x.shape)
    for name, torch_fn, target in (("mse_loss", F.mse_loss, y),
                                   ("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits, rng.random(x.shape))):
        tx = torch.tensor(x, requires_grad=True)
        tl = torch_fn(tx, torch.tensor(target), reduction=reduction)
        g = rng.standard_normal(tl.shape)
        tl.backward(torch.tensor(g))
        np.testing.assert_allclose(getattr(loss, f"{name}_forward")(x, target, reduction), tl.detach().numpy(), rtol=1e-10)
        grads = getattr(loss, f"{name}_backward")(g, x, target, reduction)
        dx = grads[0] if isinstance(grads, tuple) else grads
        np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
