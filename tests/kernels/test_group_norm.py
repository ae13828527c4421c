"""The per-sample normalisation kernels in plain NumPy: group norm and layer norm against
float64 finite differences, and the standardisation's defining properties."""

import numpy as np
import pytest

from glassnet.kernels.group_norm import (group_norm_backward, group_norm_forward, layer_norm_backward,
                                         layer_norm_forward, standardize_forward)
from glassnet.testing import check_gradients


def test_standardize_gives_zero_mean_unit_variance_rows():
    rows = np.random.default_rng(0).standard_normal((5, 40)) * 3 + 7
    x_hat, mean, var, inv_std = standardize_forward(rows, eps=0.0)
    np.testing.assert_allclose(x_hat.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(x_hat.var(axis=1), 1, rtol=1e-12)
    np.testing.assert_allclose(mean, rows.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(var, rows.var(axis=1), rtol=1e-12)


@pytest.mark.parametrize("shape, groups", [((2, 4, 3), 2), ((2, 6, 2, 2), 3), ((1, 2, 2, 2, 2), 1)])
def test_group_norm_backward_against_finite_differences(shape, groups):
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal(shape), rng.uniform(0.5, 1.5, shape[1]), rng.standard_normal(shape[1])
    check_gradients(lambda x, w, b: group_norm_forward(x, groups, w, b, 1e-3)[0],
                    lambda dy, x, w, b: group_norm_backward(dy, group_norm_forward(x, groups, w, b, 1e-3)[1]),
                    [x, w, b])


@pytest.mark.parametrize("shape, k", [((3, 5), 1), ((2, 3, 4), 2)])
def test_layer_norm_backward_against_finite_differences(shape, k):
    rng = np.random.default_rng(2)
    block = shape[len(shape) - k:]
    x, w, b = rng.standard_normal(shape), rng.uniform(0.5, 1.5, block), rng.standard_normal(block)
    check_gradients(lambda x, w, b: layer_norm_forward(x, k, w, b, 1e-3)[0],
                    lambda dy, x, w, b: layer_norm_backward(dy, layer_norm_forward(x, k, w, b, 1e-3)[1]),
                    [x, w, b])


def test_only_the_wanted_gradients_are_computed():
    x = np.random.default_rng(3).standard_normal((2, 4, 3))
    _, cache = group_norm_forward(x, 2, np.ones(4), np.zeros(4))
    dx, dw, db = group_norm_backward(np.ones_like(x), cache, needs=(False, True, False))
    assert dx is None and db is None and dw.shape == (4,)
