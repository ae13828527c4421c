"""Trainable subsampling against PyTorch's sum pooling (avg_pool with divisor_override=1, or
avg_pool1d times the window size) and finite differences; coefficient 1/k and bias 0 is avg_pool."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from glassnet.kernels.subsampling import (subsampling_backward, subsampling_forward, sum_pool_backward,
                                          sum_pool_forward)
from glassnet.testing import check_gradients


def torch_sum_pool(x, k, s, p, nd):
    if nd == 1:
        return F.avg_pool1d(x, k, s, p) * k
    pool = F.avg_pool2d if nd == 2 else F.avg_pool3d
    return pool(x, k, s, p, divisor_override=1)


CASES = [(1, (9,), 2, None, 0), (1, (10,), 3, 2, 1), (2, (8, 8), 2, None, 0), (2, (9, 7), 3, 2, 1),
         (2, (7, 7), 3, 1, 0), (3, (4, 6, 5), 2, None, 0), (3, (5, 5, 6), 3, 2, 1)]


@pytest.mark.parametrize("nd,spatial,k,s,p", CASES)
def test_subsampling_matches_torch(nd, spatial, k, s, p):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3) + spatial).astype(np.float32)
    w, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    y = subsampling_forward(x, w, b, k, s, p)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    shape = (1, 3) + (1,) * nd
    yt = torch_sum_pool(xt, k, s if s is not None else k, p, nd) * wt.reshape(shape) + bt.reshape(shape)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    yt.backward(torch.tensor(dy))
    dx, dw, db = subsampling_backward(dy, x, w, k, s, p)
    for mine, theirs in ((dx, xt), (dw, wt), (db, bt)):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("nd,spatial,k,s,p", [CASES[1], CASES[3], CASES[5]])
def test_finite_differences(nd, spatial, k, s, p):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2) + spatial)
    w, b = rng.standard_normal(2), rng.standard_normal(2)
    check_gradients(lambda x, w, b: subsampling_forward(x, w, b, k, s, p),
                    lambda dy, x, w, b: subsampling_backward(dy, x, w, k, s, p), [x, w, b])


@pytest.mark.parametrize("nd,spatial,k,s,p", CASES)
def test_coefficient_one_over_k_is_average_pooling(nd, spatial, k, s, p):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3) + spatial).astype(np.float32)
    w = np.full(3, 1 / k ** nd, np.float32)
    pool = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[nd]
    expected = pool(torch.tensor(x), k, s, p).numpy()  # count_include_pad=True, as a plain sum / k
    np.testing.assert_allclose(subsampling_forward(x, w, np.zeros(3, np.float32), k, s, p), expected,
                               rtol=1e-5, atol=1e-6)


def test_coefficient_gradient_is_seed_003_formula():
    """dw_c = sum_{n,i,j} dZ_ij * (sum of the window ij): written out with loops for 2x2 windows."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 4, 6))
    dy = rng.standard_normal((1, 2, 2, 3))
    _, dw, _ = subsampling_backward(dy, x, np.ones(2), 2)
    expected = [sum(dy[0, c, i, j] * x[0, c, 2 * i:2 * i + 2, 2 * j:2 * j + 2].sum()
                    for i in range(2) for j in range(3)) for c in range(2)]
    np.testing.assert_allclose(dw, expected)


def test_sum_pool_backward_is_the_adjoint():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 7, 8))
    g = rng.standard_normal(sum_pool_forward(x, 3, 2, 1).shape)
    assert math.isclose(np.vdot(sum_pool_forward(x, 3, 2, 1), g), np.vdot(x, sum_pool_backward(g, x.shape, 3, 2, 1)))


def test_window_larger_than_the_padded_input_is_refused():
    x = np.zeros((1, 3, 4, 4), np.float32)
    with pytest.raises(ValueError, match="larger than the padded input"):
        subsampling_forward(x, np.ones(3, np.float32), None, 5)
