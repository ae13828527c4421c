"""BCELoss, L1Loss, SmoothL1Loss, HuberLoss and Softmax2d against torch.nn's."""

import numpy as np
import pytest
import torch

import glassnet
from glassnet import nn
from glassnet.testing import gradcheck


@pytest.mark.parametrize("kwargs", [{}, dict(reduction="sum"), dict(reduction="none"), dict(size_average=False),
                                    dict(weight=[0.5, 2.0, 1.0])])
def test_bce_loss_matches_torch(kwargs):
    rng = np.random.default_rng(0)
    x, t = rng.uniform(0.01, 0.99, (4, 3)).astype(np.float32), rng.integers(0, 2, (4, 3)).astype(np.float32)
    torch_kwargs = {k: (torch.tensor(v) if k == "weight" else v) for k, v in kwargs.items()}
    ours, theirs = nn.BCELoss(**kwargs), torch.nn.BCELoss(**torch_kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) and ours.reduction == theirs.reduction
    gx, tx = glassnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gl, tl = ours(gx, glassnet.tensor(t)), theirs(tx, torch.tensor(t))
    np.testing.assert_allclose(gl.data, tl.detach().numpy(), rtol=1e-5)
    gl.sum().backward()
    tl.sum().backward()
    np.testing.assert_allclose(gx.grad, tx.grad.numpy(), rtol=1e-5)


def test_sigmoid_then_bce_loss_equals_bce_with_logits():
    z = glassnet.randn(5, 2)
    t = glassnet.tensor(np.random.default_rng(1).integers(0, 2, (5, 2)).astype(np.float32))
    np.testing.assert_allclose(nn.BCELoss()(nn.Sigmoid()(z), t).item(), nn.BCEWithLogitsLoss()(z, t).item(), rtol=1e-5)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 2, 2)])
def test_softmax2d_matches_torch(shape):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype(np.float32)
    gx, tx = glassnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gy, ty = nn.Softmax2d()(gx), torch.nn.Softmax2d()(tx)
    np.testing.assert_allclose(gy.data, ty.detach().numpy(), rtol=1e-5, atol=1e-7)
    dy = rng.standard_normal(shape).astype(np.float32)
    gy.backward(dy)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(gx.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert repr(nn.Softmax2d()) == repr(torch.nn.Softmax2d())
    assert gradcheck(nn.Softmax2d(), [glassnet.tensor(x.astype(np.float64), dtype=np.float64, requires_grad=True)])


def test_softmax2d_refuses_other_ranks():
    with pytest.raises(ValueError, match=r"Softmax2d expected input of shape \(N, C, H, W\) or \(C, H, W\), got \(2, 3\)"):
        nn.Softmax2d()(glassnet.zeros(2, 3))


def test_bce_loss_bad_reduction():
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.BCELoss(reduction="avg")


@pytest.mark.parametrize("name, kwargs", [("L1Loss", {}), ("L1Loss", dict(reduction="sum")),
                                          ("SmoothL1Loss", dict(beta=0.5)), ("HuberLoss", dict(delta=0.7)),
                                          ("HuberLoss", dict(reduction="none"))])
def test_regression_loss_modules_match_torch(name, kwargs):
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32)
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    gx, tx = glassnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gl, tl = ours(gx, glassnet.tensor(t)), theirs(tx, torch.tensor(t))
    np.testing.assert_allclose(gl.data, tl.detach().numpy(), rtol=1e-5)
    gl.sum().backward()
    tl.sum().backward()
    np.testing.assert_allclose(gx.grad, tx.grad.numpy(), rtol=1e-5)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("make, message", [(lambda: nn.SmoothL1Loss(beta=-1), "beta >= 0"),
                                           (lambda: nn.HuberLoss(delta=0), "delta > 0")])
def test_regression_loss_bad_options(make, message):
    with pytest.raises(ValueError, match=message):
        make()
