"""Batch-norm kernel: forward, every gradient and the running statistics against PyTorch; the
backward against float64 finite differences in training and evaluation."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from glassnet.kernels.normalization import batch_norm_backward, batch_norm_forward
from glassnet.testing import check_gradients

SHAPES = [(8, 3), (4, 3, 7), (2, 3, 5, 4), (2, 3, 2, 3, 4)]
IDS = ["2d", "3d", "4d", "5d"]


def _case(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = (rng.standard_normal(shape) * 2 + rng.standard_normal((1, c) + (1,) * (len(shape) - 2))).astype(dtype)
    w, b = rng.uniform(0.5, 1.5, c).astype(dtype), rng.standard_normal(c).astype(dtype)
    rm, rv = rng.standard_normal(c).astype(dtype), rng.uniform(0.5, 2, c).astype(dtype)
    return x, w, b, rm, rv


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_matches_torch(shape, affine, training):
    x, w, b, rm, rv = _case(shape, np.float32)
    if not affine:
        w = b = None
    dy = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True) if affine else None
    tb = torch.tensor(b, requires_grad=True) if affine else None
    ty = TF.batch_norm(tx, trm, trv, tw, tb, training=training, momentum=0.3, eps=1e-3)
    ty.backward(torch.tensor(dy))

    rm, rv = rm.copy(), rv.copy()
    y, cache = batch_norm_forward(x, rm, rv, w, b, training, 0.3, 1e-3)
    dx, dw, db = batch_norm_backward(dy, x, cache)
    assert y.dtype == dx.dtype == np.float32
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(rm, trm.numpy(), rtol=1e-5, atol=1e-6)  # updated in place (train)
    np.testing.assert_allclose(rv, trv.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    if affine:
        np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-4, atol=1e-4)
    else:
        assert dw is None and db is None


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", [(5, 2), (3, 2, 4), (3, 2, 2, 3), (2, 2, 2, 2, 2)], ids=["2d", "3d", "4d", "5d"])
def test_backward_matches_finite_differences(shape, training):
    x, w, b, rm, rv = _case(shape, np.float64)

    def f(x, w, b):  # copies: the running statistics must not drift between evaluations
        return batch_norm_forward(x, rm.copy(), rv.copy(), w, b, training, 0.1, 1e-5)[0]

    def back(dy, x, w, b):
        return batch_norm_backward(dy, x, batch_norm_forward(x, rm.copy(), rv.copy(), w, b, training, 0.1, 1e-5)[1])

    check_gradients(f, back, [x, w, b], rtol=1e-5, atol=1e-6)


def test_training_output_is_normalised_and_running_var_unbiased():
    x, _, _, _, _ = _case((50, 4, 3), np.float64)
    rm, rv = np.zeros(4), np.ones(4)
    y, _ = batch_norm_forward(x, rm, rv, training=True, momentum=1.0, eps=0.0)
    np.testing.assert_allclose(y.mean(axis=(0, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2)), 1, rtol=1e-10)
    # momentum 1: the running statistics become exactly this batch's (unbiased variance)
    np.testing.assert_allclose(rm, x.mean(axis=(0, 2)), rtol=1e-12)
    np.testing.assert_allclose(rv, x.var(axis=(0, 2), ddof=1), rtol=1e-12)


def test_without_running_statistics_training_still_normalises():
    x, w, b, _, _ = _case((6, 3, 4), np.float32)
    y, _ = batch_norm_forward(x, None, None, w, b, training=True)
    expected = TF.batch_norm(torch.tensor(x), None, None, torch.tensor(w), torch.tensor(b), training=True)
    np.testing.assert_allclose(y, expected.numpy(), rtol=1e-4, atol=1e-5)


def test_backward_skips_unneeded_gradients():
    x, w, b, rm, rv = _case((4, 3), np.float32)
    _, cache = batch_norm_forward(x, rm, rv, w, b, training=True)
    dx, dw, db = batch_norm_backward(np.ones_like(x), x, cache, needs=(False, True, False))
    assert dx is None and db is None and dw.shape == (3,)
