"""glassnet.functional activations through the public Tensor API, against torch.nn.functional."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet
import glassnet.functional as F

CASES = [
    ("relu", lambda m, t: m.relu(t)),
    ("relu_inplace", lambda m, t: m.relu(t, inplace=True)),
    ("leaky_relu", lambda m, t: m.leaky_relu(t)),
    ("leaky_relu_0.3", lambda m, t: m.leaky_relu(t, negative_slope=0.3)),
    ("elu", lambda m, t: m.elu(t)),
    ("elu_alpha", lambda m, t: m.elu(t, alpha=0.5)),
    ("sigmoid", lambda m, t: m.sigmoid(t)),
    ("tanh", lambda m, t: m.tanh(t)),
    ("softmax_1", lambda m, t: m.softmax(t, dim=1)),
    ("softmax_-1", lambda m, t: m.softmax(t, -1)),
    ("log_softmax_1", lambda m, t: m.log_softmax(t, dim=1)),
    ("log_softmax_0", lambda m, t: m.log_softmax(t, 0)),
]


@pytest.mark.parametrize("name,call", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 5, 5)])
def test_forward_and_gradient_match_torch(name, call, shape):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    gx = glassnet.tensor(x, requires_grad=True)
    gy = call(F, gx)
    gy.backward(dy)
    tx = torch.tensor(x, requires_grad=True)
    # torch refuses inplace on a leaf that requires grad; the values are the same anyway
    ty = call(TF, tx * 1) if "inplace" in name else call(TF, tx)
    ty.backward(torch.tensor(dy))
    assert gy.dtype == np.float32 and gy.shape == shape
    np.testing.assert_allclose(gy.data, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gx.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_inplace_flag_leaves_the_input_untouched():
    x = glassnet.tensor([-1.0, 2.0])
    y = F.relu(x, inplace=True)
    np.testing.assert_array_equal(x.numpy(), [-1.0, 2.0])
    np.testing.assert_array_equal(y.numpy(), [0.0, 2.0])


def test_float64_stays_float64():
    x = glassnet.tensor(np.linspace(-2, 2, 5), dtype=np.float64, requires_grad=True)
    y = F.softmax(F.tanh(x), 0)
    (y * y).sum().backward()
    assert y.dtype == np.float64 and x.grad.dtype == np.float64


def test_tensor_methods_use_the_functional_ops():
    x = glassnet.tensor([[-1.0, 0.5, 2.0]], requires_grad=True)
    out = x.relu().sum() + x.sigmoid().sum() + x.tanh().sum() + x.softmax(1)[0, 0] + x.log_softmax(1)[0, 1]
    out.backward()
    t = torch.tensor([[-1.0, 0.5, 2.0]], requires_grad=True)
    (t.relu().sum() + t.sigmoid().sum() + t.tanh().sum() + t.softmax(1)[0, 0]
     + t.log_softmax(1)[0, 1]).backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-5)


def test_relu_grad_fn_name():
    y = F.relu(glassnet.tensor([1.0], requires_grad=True))
    assert y.grad_fn.name == "ReLUBackward"


@pytest.mark.parametrize("fn", [F.relu, F.leaky_relu, F.elu, F.sigmoid, F.tanh])
def test_integer_input_is_refused(fn):
    with pytest.raises(TypeError, match=r"expected a floating-point input .*got dtype int64 of shape \(2, 3\)"):
        fn(glassnet.tensor(np.ones((2, 3), np.int64)))


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_softmax_dim_errors(fn):
    x = glassnet.randn(2, 3)
    with pytest.raises(IndexError, match=r"expected dim in \[-2, 1\] for an input of shape \(2, 3\), got dim=2"):
        fn(x, 2)
    with pytest.raises(TypeError, match="integer dim"):
        fn(x, None)
    with pytest.raises(IndexError, match=r"expected dim in \[-1, 0\]"):
        fn(glassnet.tensor(1.0), 1)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, dim", [((), 0), ((), -1), ((3, 0), 1), ((0, 4), 1), ((2, 3), 0)])
@pytest.mark.parametrize("dtype", [None, "float64"])
def test_softmax_edges_match_torch(name, shape, dim, dtype):
    # a 0-d input, a size-0 axis, and dtype= (the input cast first), values and gradients
    data = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    g = glassnet.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    gy = getattr(F, name)(g, dim, dtype=None if dtype is None else getattr(glassnet, dtype))
    ty = getattr(torch.nn.functional, name)(t, dim, dtype=None if dtype is None else getattr(torch, dtype))
    assert gy.dtype == ty.numpy(force=True).dtype
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-7)
    dy = np.random.default_rng(2).standard_normal(shape)
    gy.backward(dy.astype(gy.dtype))
    ty.backward(torch.tensor(dy, dtype=ty.dtype))
    np.testing.assert_allclose(g.grad, t.grad.numpy(), rtol=1e-5, atol=1e-6)
