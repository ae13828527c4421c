"""glassnet.functional.linear through the Tensor API, against torch.nn.functional.linear."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet
import glassnet.functional as F


@pytest.mark.parametrize("x_shape", [(64, 84), (1, 84), (2, 5, 84), (84,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(x_shape, bias):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = (rng.standard_normal((10, 84)) * 0.1).astype(np.float32)
    b = rng.standard_normal(10).astype(np.float32)
    gx, gw = glassnet.tensor(x, requires_grad=True), glassnet.tensor(w, requires_grad=True)
    gb = glassnet.tensor(b, requires_grad=True) if bias else None
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True) if bias else None
    gy, ty = F.linear(gx, gw, gb), TF.linear(tx, tw, tb)
    dy = rng.standard_normal(ty.shape).astype(np.float32)
    gy.backward(dy)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(gy.data, ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gx.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gw.grad, tw.grad.numpy(), rtol=1e-4, atol=1e-5)
    if bias:
        np.testing.assert_allclose(gb.grad, tb.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_only_the_weight_requires_grad():
    x = glassnet.randn(3, 4)
    w = glassnet.randn(2, 4, requires_grad=True)
    F.linear(x, w).sum().backward()
    np.testing.assert_allclose(w.grad, np.broadcast_to(x.numpy().sum(0), (2, 4)), rtol=1e-6)
    assert x.grad is None


def test_wrong_in_features():
    with pytest.raises(ValueError, match=r"linear expected input \(\.\.\., 120\), got \(64, 84\)"):
        F.linear(glassnet.randn(64, 84), glassnet.randn(10, 120))


def test_wrong_weight_and_bias_shapes():
    with pytest.raises(ValueError, match=r"weight of shape \(out_features, in_features\), got \(120,\)"):
        F.linear(glassnet.randn(2, 120), glassnet.randn(120))
    with pytest.raises(ValueError, match=r"bias of shape \(10,\), got \(12,\)"):
        F.linear(glassnet.randn(2, 120), glassnet.randn(10, 120), glassnet.randn(12))


@pytest.mark.parametrize("x_dtype", [np.int64, np.float64])
def test_dtype_mismatch_is_refused(x_dtype):
    x = glassnet.tensor(np.ones((2, 4)), dtype=x_dtype)
    with pytest.raises(TypeError, match=rf"got {np.dtype(x_dtype)}, float32"):
        F.linear(x, glassnet.randn(3, 4))


def test_float64_everywhere_is_accepted():
    x = glassnet.tensor(np.ones((2, 4)), dtype=np.float64)
    w = glassnet.tensor(np.ones((3, 4)), dtype=np.float64, requires_grad=True)
    y = F.linear(x, w)
    y.sum().backward()
    assert y.dtype == np.float64 and w.grad.dtype == np.float64


def test_small_network_trains_like_torch():
    """linear -> batch_norm -> relu -> linear -> cross_entropy, 15 plain SGD steps from the same
    initial weights on the same batches: the loss trajectories must agree (float32)."""
    rng = np.random.default_rng(0)
    shapes = {"w1": (16, 8), "b1": (16,), "g": (16,), "beta": (16,), "w2": (3, 16), "b2": (3,)}
    init = {k: (rng.standard_normal(s) * 0.4).astype(np.float32) for k, s in shapes.items()}
    xs = rng.standard_normal((15, 32, 8)).astype(np.float32)
    ys = rng.integers(0, 3, (15, 32))
    gp = {k: glassnet.tensor(v, requires_grad=True) for k, v in init.items()}
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in init.items()}
    g_rm, g_rv = glassnet.zeros(16), glassnet.ones(16)
    t_rm, t_rv = torch.zeros(16), torch.ones(16)
    g_losses, t_losses = [], []
    for x, y in zip(xs, ys):
        h = F.relu(F.batch_norm(F.linear(glassnet.tensor(x), gp["w1"], gp["b1"]), g_rm, g_rv, gp["g"], gp["beta"],
                                training=True))
        loss = F.cross_entropy(F.linear(h, gp["w2"], gp["b2"]), glassnet.tensor(y), label_smoothing=0.1)
        loss.backward()
        th = TF.relu(TF.batch_norm(TF.linear(torch.tensor(x), tp["w1"], tp["b1"]), t_rm, t_rv, tp["g"], tp["beta"],
                                   training=True))
        tloss = TF.cross_entropy(TF.linear(th, tp["w2"], tp["b2"]), torch.tensor(y), label_smoothing=0.1)
        tloss.backward()
        with torch.no_grad():
            for k in shapes:
                gp[k].data -= 0.5 * gp[k].grad
                gp[k].grad = None
                tp[k] -= 0.5 * tp[k].grad
                tp[k].grad = None
        g_losses.append(loss.item())
        t_losses.append(tloss.item())
    np.testing.assert_allclose(g_losses, t_losses, rtol=1e-4)
    np.testing.assert_allclose(g_rv.numpy(), t_rv.numpy(), rtol=1e-4)
    assert g_losses[-1] < g_losses[0]  # it did learn something
