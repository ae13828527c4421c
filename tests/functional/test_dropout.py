"""glassnet.functional.dropout through the Tensor API."""

import numpy as np
import pytest

import glassnet
import glassnet.functional as F


def test_seeded_runs_repeat_and_unseeded_calls_differ():
    x = glassnet.ones(30, 40)
    glassnet.manual_seed(123)
    a, b = F.dropout(x, 0.5).numpy(), F.dropout(x, 0.5).numpy()
    glassnet.manual_seed(123)
    c = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, c)
    assert (a != b).any()  # the generator advanced between the two calls


@pytest.mark.parametrize("p", [0.25, 0.5])
def test_gradient_is_mask_times_scale(p):
    glassnet.manual_seed(0)
    x = glassnet.tensor(np.random.default_rng(0).uniform(1, 2, (20, 30)), requires_grad=True)
    y = F.dropout(x, p)
    y.backward(np.full(y.shape, 3.0, np.float32))
    keep = y.data != 0  # x > 0 everywhere, so a zero output means dropped
    np.testing.assert_allclose(x.grad, 3.0 * keep / (1 - p), rtol=1e-6)
    np.testing.assert_allclose(y.data[keep], x.data[keep] / (1 - p), rtol=1e-6)
    assert 0.3 < keep.mean() < 0.9


def test_evaluation_returns_the_input_itself():
    x = glassnet.randn(3, 4, requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x


def test_inplace_flag_leaves_the_input_untouched():
    x = glassnet.ones(100)
    y = F.dropout(x, 0.5, inplace=True)
    np.testing.assert_array_equal(x.numpy(), 1)
    assert (y.numpy() == 0).any()


def test_float64_is_kept():
    x = glassnet.tensor(np.ones(10), dtype=np.float64)
    assert F.dropout(x, 0.3).dtype == np.float64


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", None])
def test_bad_probability(p):
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got"):
        F.dropout(glassnet.ones(3), p)


def test_integer_input_is_refused():
    with pytest.raises(TypeError, match=r"dropout expected a floating-point input .* got dtype int64 of shape \(3,\)"):
        F.dropout(glassnet.tensor([1, 2, 3]), 0.5)
