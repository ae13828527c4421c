"""Activation kernels: forward against PyTorch, hand-written backward against finite differences
(float64) and against PyTorch's autograd (float32)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet.kernels import activation as K
from glassnet.testing import check_gradients


def _away_from_kinks(shape, seed=0, dtype=np.float64):
    """Random values kept 1e-3 away from 0, where ReLU-like derivatives jump (finite
    differences straddling the kink would measure the average of both sides)."""
    x = np.random.default_rng(seed).standard_normal(shape)
    x[np.abs(x) < 1e-3] = 0.5
    return x.astype(dtype)


# (name, glassnet forward, glassnet backward(dy, x, y), torch forward)
ELEMENTWISE = [
    ("relu", K.relu_forward, lambda dy, x, y: K.relu_backward(dy, y), torch.relu),
    ("leaky_relu", lambda x: K.leaky_relu_forward(x, 0.2),
     lambda dy, x, y: K.leaky_relu_backward(dy, x, 0.2),
     lambda t: torch.nn.functional.leaky_relu(t, 0.2)),
    ("elu", lambda x: K.elu_forward(x, 1.3), lambda dy, x, y: K.elu_backward(dy, x, 1.3),
     lambda t: torch.nn.functional.elu(t, 1.3)),
    ("sigmoid", K.sigmoid_forward, lambda dy, x, y: K.sigmoid_backward(dy, y), torch.sigmoid),
    ("tanh", K.tanh_forward, lambda dy, x, y: K.tanh_backward(dy, y), torch.tanh),
]
IDS = [c[0] for c in ELEMENTWISE]


@pytest.mark.parametrize("name,fwd,bwd,tfwd", ELEMENTWISE, ids=IDS)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4, 5)])
def test_elementwise_matches_torch(name, fwd, bwd, tfwd, shape):
    x = _away_from_kinks(shape, dtype=np.float32) * 3
    dy = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    y = fwd(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    dx = bwd(dy, x, y)
    assert dx.dtype == np.float32
    t = torch.tensor(x, requires_grad=True)
    ty = tfwd(t)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, t.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,fwd,bwd,tfwd", ELEMENTWISE, ids=IDS)
def test_elementwise_backward_matches_finite_differences(name, fwd, bwd, tfwd):
    x = _away_from_kinks((3, 4))
    check_gradients(fwd, lambda dy, x: (bwd(dy, x, fwd(x)),), [x])


def test_derivative_at_zero_follows_torch():
    """At x = 0 PyTorch takes relu' = 0, leaky_relu' = slope, elu' = alpha."""
    x = np.zeros(3, np.float32)
    dy = np.ones(3, np.float32)
    np.testing.assert_array_equal(K.relu_backward(dy, K.relu_forward(x)), 0)
    np.testing.assert_allclose(K.leaky_relu_backward(dy, x, 0.1), 0.1)
    np.testing.assert_allclose(K.elu_backward(dy, x, 2.0), 2.0)


def test_sigmoid_and_elu_are_stable_for_huge_inputs():
    x = np.array([-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        y = K.sigmoid_forward(x)
        e = K.elu_forward(x)
    np.testing.assert_allclose(y, torch.sigmoid(torch.tensor(x)).numpy(), rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(e, torch.nn.functional.elu(torch.tensor(x)).numpy(), rtol=1e-6)
    assert y[0] == 0.0 and y[-1] == 1.0


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((4, 7), 1), ((4, 7), 0), ((2, 3, 4, 5), 1),
                                       ((2, 3, 4, 5), -1), ((1, 6), 1)])
def test_softmax_matches_torch(log, shape, dim):
    x = (np.random.default_rng(2).standard_normal(shape) * 4).astype(np.float32)
    dy = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    fwd, bwd = ((K.log_softmax_forward, K.log_softmax_backward) if log
                else (K.softmax_forward, K.softmax_backward))
    y = fwd(x, dim)
    dx = bwd(dy, y, dim)
    t = torch.tensor(x, requires_grad=True)
    ty = torch.log_softmax(t, dim) if log else torch.softmax(t, dim)
    ty.backward(torch.tensor(dy))
    assert y.dtype == dx.dtype == np.float32
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, t.grad.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_softmax_backward_matches_finite_differences(log, dim):
    fwd, bwd = ((K.log_softmax_forward, K.log_softmax_backward) if log
                else (K.softmax_forward, K.softmax_backward))
    x = np.random.default_rng(4).standard_normal((3, 4, 2))
    check_gradients(lambda x: fwd(x, dim), lambda dy, x: (bwd(dy, fwd(x, dim), dim),), [x])


def test_softmax_is_max_subtracted():
    """Logits of 1000 overflow exp() without the max subtraction."""
    x = np.array([[1000.0, 1000.0, 0.0], [-1000.0, -1000.0, -2000.0]], np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = K.softmax_forward(x, 1)
        lp = K.log_softmax_forward(x, 1)
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]], atol=1e-30)
    np.testing.assert_allclose(lp[:, :2], np.log(0.5), rtol=1e-6)
    np.testing.assert_allclose(lp[:, 2], [-1000 - np.log(2)] * 2, rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4), data=st.data(),
       scale=st.sampled_from([0.1, 10.0, 300.0]))
def test_softmax_any_shape_and_dim_matches_torch(shape, data, scale):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    x = (np.random.default_rng(len(shape)).standard_normal(shape) * scale).astype(np.float32)
    dy = np.ones(shape, np.float32)
    for fwd, bwd, tfn in ((K.softmax_forward, K.softmax_backward, torch.softmax),
                          (K.log_softmax_forward, K.log_softmax_backward, torch.log_softmax)):
        y = fwd(x, dim)
        t = torch.tensor(x, requires_grad=True)
        ty = tfn(t, dim)
        ty.backward(torch.tensor(dy))
        np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(bwd(dy, y, dim), t.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layout", ["alike", "different"])
def test_relu_at_nan_inf_and_zero_follows_torch(layout):
    """The compiled loops (arrays laid out alike, any size) and the NumPy formulas (arrays laid
    out differently) give PyTorch's values: NaN passes forward, a blocked gradient is 0 even
    where dy is inf or NaN, and an unblocked NaN or inf gradient passes."""
    x = np.array([[-0.0, np.nan, -1.0, 2.0], [0.0, np.inf, -np.inf, 3.0]], np.float32)
    dy = np.array([[1.0, 1.0, np.nan, np.nan], [np.inf, 1.0, np.nan, np.inf]], np.float32)
    if layout == "different":
        dy = np.asfortranarray(dy)
    y = K.relu_forward(x)
    dx = K.relu_backward(dy, y)
    t = torch.tensor(x, requires_grad=True)
    ty = torch.relu(t)
    ty.backward(torch.tensor(dy))
    np.testing.assert_array_equal(y, ty.detach().numpy())
    np.testing.assert_array_equal(dx, t.grad.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_relu_keeps_dtype_and_layout(dtype):
    """Channels-last memory (what a convolution returns) stays channels-last; float16, which the
    compiled loops do not take, gets the same values from NumPy."""
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 5)).astype(dtype).transpose(0, 3, 1, 2)
    y = K.relu_forward(x)
    assert y.dtype == dtype and y.strides == x.strides
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    dy = np.ones_like(x)
    np.testing.assert_array_equal(K.relu_backward(dy, y), (x > 0).astype(dtype))
