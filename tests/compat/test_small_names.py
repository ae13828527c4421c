"""Names found missing when public PyTorch programs were run with only their imports changed
(docs/porting.md, "Public programs tried"): each checked against PyTorch."""

import numpy as np
import pytest
import torch

import glassnet
from glassnet import nn


def test_linear_takes_device_and_dtype_positionally_as_torch():
    # a subclass passing torch's full signature on: super().__init__(i, o, bias, device, dtype)
    ours = nn.Linear(4, 3, True, "cpu", glassnet.float64)
    ref = torch.nn.Linear(4, 3, True, "cpu", torch.float64)
    assert ours.weight.dtype == glassnet.float64 and ref.weight.dtype == torch.float64
    assert ours.weight.shape == tuple(ref.weight.shape)
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.Linear(4, 3, device="cuda")


def test_tensor_mm_and_bmm_methods_match_torch():
    a, b = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    ga, gb = glassnet.tensor(a[0], requires_grad=True), glassnet.tensor(b[0].T.copy(), requires_grad=True)
    ta, tb = torch.tensor(a[0], requires_grad=True), torch.tensor(b[0].T.copy(), requires_grad=True)
    out, ref = ga.mm(gb), ta.mm(tb)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward(); ref.sum().backward()
    np.testing.assert_allclose(ga.grad, ta.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gb.grad, tb.grad.numpy(), rtol=1e-5, atol=1e-6)
    bt = np.ascontiguousarray(b.transpose(0, 2, 1))
    np.testing.assert_allclose(glassnet.tensor(a).bmm(glassnet.tensor(bt)).data,
                               torch.tensor(a).bmm(torch.tensor(bt)).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="2-D"):
        glassnet.tensor(a).mm(gb)


def test_zero_dim_tensor_formats_as_its_number_as_torch():
    for spec in ("+.2f", ".3e", "", "8.1f"):
        assert format(glassnet.tensor(-2.345), spec) == format(torch.tensor(-2.345), spec)
    with pytest.raises(TypeError):  # torch refuses a format spec for a tensor with dimensions too
        format(torch.zeros(2), ".2f")
    with pytest.raises(TypeError):
        format(glassnet.zeros(2), ".2f")


@pytest.mark.parametrize("name", ["rand", "randn"])
def test_rand_and_randn_take_size_as_a_keyword_as_torch(name):
    for args, kwargs in (((8, 8), {}), (((8, 8),), {}), ((), {"size": (8, 8)}), ((), {"size": [3]})):
        assert getattr(glassnet, name)(*args, **kwargs).shape == tuple(getattr(torch, name)(*args, **kwargs).shape)
    with pytest.raises(TypeError):
        getattr(torch, name)(2, size=(2,))
    with pytest.raises(TypeError, match="not both"):
        getattr(glassnet, name)(2, size=(2,))


@pytest.mark.parametrize("name", ["sinh", "cosh", "log1p"])
def test_sinh_cosh_log1p_values_and_gradients(name):
    from glassnet.testing import gradcheck
    x = np.random.default_rng(1).uniform(-0.9, 2.0, (3, 4)).astype(np.float32)
    x[0, 0] = 1e-8  # log1p's reason to exist: 1 + x rounds to 1 in float32
    dy = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    for call in (lambda m, t: getattr(m, name)(t), lambda m, t: getattr(t, name)()):
        g, t = glassnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        gy, ty = call(glassnet, g), call(torch, t)
        assert gy.dtype == glassnet.float32
        np.testing.assert_allclose(gy.data, ty.detach().numpy(), rtol=1e-6, atol=1e-7)
        gy.backward(glassnet.tensor(dy)); ty.backward(torch.tensor(dy))
        np.testing.assert_allclose(g.grad, t.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert gradcheck(lambda t: getattr(glassnet, name)(t),
                     [glassnet.tensor(x, dtype=np.float64, requires_grad=True)])
