"""Linear kernel y = x W^T + b: forward and every gradient against PyTorch and finite differences."""

import numpy as np
import pytest
import torch

from glassnet.kernels.linear import linear_backward, linear_forward
from glassnet.testing import check_gradients


@pytest.mark.parametrize("x_shape", [(5,), (4, 5), (2, 3, 5), (2, 1, 3, 5), (1, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(x_shape, bias):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal((3, 5)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32) if bias else None
    y = linear_forward(x, w, b)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, dw, db = linear_backward(dy, x, w, has_bias=bias)

    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True) if bias else None
    ty = torch.nn.functional.linear(tx, tw, tb)
    ty.backward(torch.tensor(dy))
    assert y.shape == ty.shape and y.dtype == np.float32
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-5, atol=1e-5)
    if bias:
        np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-5, atol=1e-5)
    else:
        assert db is None


@pytest.mark.parametrize("x_shape", [(4, 5), (2, 3, 5)])
def test_linear_backward_matches_finite_differences(x_shape):
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((3, 5)), rng.standard_normal(3)
    check_gradients(linear_forward, lambda dy, x, w, b: linear_backward(dy, x, w), [x, w, b])


def test_linear_backward_skips_unneeded_gradients():
    x, w = np.ones((2, 3), np.float32), np.ones((4, 3), np.float32)
    dx, dw, db = linear_backward(np.ones((2, 4), np.float32), x, w, needs=(False, True, False))
    assert dx is None and db is None and dw.shape == (4, 3)


@pytest.mark.parametrize("needs", [(True, True, True), (True, False, False), (False, True, True)])
def test_the_backward_products_side_by_side_give_the_same_bytes(at_threads, split_sizes, monkeypatch, needs):
    """dx and dW in two threads (threads.run_both, from SIDE_BY_SIDE_MACS multiply-adds; here from
    any size) give the bytes of one thread; with one of them not needed nothing is shared."""
    from glassnet.kernels import linear

    rng = np.random.default_rng(0)
    x, w, dy = (rng.standard_normal(s).astype(np.float32) for s in ((2, 16, 40), (24, 40), (2, 16, 24)))
    at_threads(1)
    one = linear_backward(dy, x, w, needs=needs)
    monkeypatch.setattr(linear, "SIDE_BY_SIDE_MACS", 0)
    at_threads(2)
    two = linear_backward(dy, x, w, needs=needs)
    assert split_sizes == ([2] if needs[:2] == (True, True) else [])
    for a, b in zip(one, two):
        assert (a is None and b is None) or a.tobytes() == b.tobytes()
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    torch.nn.functional.linear(tx, tw).backward(torch.tensor(dy))
    for ours, theirs, needed in zip(two, (tx.grad, tw.grad), needs):
        if needed:
            np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5, atol=1e-5)
