"""Dropout kernel: distribution and scaling of the mask, backward = mask * scale."""

import numpy as np
import pytest
import torch

from glassnet.kernels.dropout import dropout_backward, dropout_forward, dropout_mask
from glassnet.testing import check_gradients


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_keep_fraction_and_scaling(p):
    n = 200_000
    x = np.random.default_rng(0).uniform(1, 2, n).astype(np.float32)
    y, keep = dropout_forward(x, p, np.random.default_rng(1))
    kept = keep.mean()
    # Binomial(n, 1 - p): 5 standard deviations is a false alarm once in ~3.5 million runs
    assert abs(kept - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y[~keep], 0)
    np.testing.assert_allclose(y[keep], x[keep] / (1 - p), rtol=1e-6)
    # inverted dropout keeps the expectation: mean(y) ~ mean(x)
    assert abs(y.mean() - x.mean()) < 0.02 * x.mean() / (1 - p)


def test_mask_is_deterministic_for_a_seeded_generator():
    a = dropout_mask((50, 40), 0.3, np.random.default_rng(7))
    b = dropout_mask((50, 40), 0.3, np.random.default_rng(7))
    c = dropout_mask((50, 40), 0.3, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


@pytest.mark.parametrize("p", [0.2, 0.6])
def test_backward_is_mask_times_scale_and_matches_torch(p):
    x = np.random.default_rng(2).standard_normal((6, 7)).astype(np.float32)
    dy = np.random.default_rng(3).standard_normal((6, 7)).astype(np.float32)
    y, keep = dropout_forward(x, p, np.random.default_rng(4))
    dx = dropout_backward(dy, keep, p)
    np.testing.assert_allclose(dx, dy * keep / np.float32(1 - p), rtol=1e-6)
    # PyTorch's own dropout backward, given the same mask and scale
    expected = torch.ops.aten.native_dropout_backward(torch.tensor(dy), torch.tensor(keep), 1 / (1 - p))
    np.testing.assert_allclose(dx, expected.numpy(), rtol=1e-6)
    # and its forward with the same mask: x * mask * scale
    np.testing.assert_allclose(y, (torch.tensor(x) * torch.tensor(keep) / (1 - p)).numpy(), rtol=1e-6)


def test_backward_matches_finite_differences_for_a_fixed_mask():
    x = np.random.default_rng(5).standard_normal((4, 5))

    def f(x):  # a fresh generator with the same seed: the same mask on every call
        return dropout_forward(x, 0.4, np.random.default_rng(6))[0]

    check_gradients(f, lambda dy, x: (dropout_backward(dy, dropout_forward(x, 0.4, np.random.default_rng(6))[1], 0.4),),
                    [x])


def test_p_zero_and_one():
    x = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    dy = np.ones_like(x)
    y, keep = dropout_forward(x, 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(dropout_backward(dy, keep, 0.0), dy)
    y, keep = dropout_forward(x, 1.0, np.random.default_rng(0))
    np.testing.assert_array_equal(y, 0)
    np.testing.assert_array_equal(dropout_backward(dy, keep, 1.0), 0)


def test_channel_mask_broadcasts_over_spatial_dimensions():
    x = np.random.default_rng(0).uniform(1, 2, (40, 50, 3, 4)).astype(np.float32)
    y, keep = dropout_forward(x, 0.3, np.random.default_rng(1), mask_shape=(40, 50, 1, 1))
    assert keep.shape == (40, 50, 1, 1)
    dropped = (y == 0).reshape(40, 50, -1)
    assert (dropped.all(axis=2) | ~dropped.any(axis=2)).all()  # each map all zero or all kept
    assert abs(keep.mean() - 0.7) < 5 * np.sqrt(0.21 / 2000)
    dy = np.ones_like(x)
    np.testing.assert_allclose(dropout_backward(dy, keep, 0.3), np.broadcast_to(keep / np.float32(0.7), x.shape),
                               rtol=1e-6)
