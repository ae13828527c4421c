"""Subsampling1d/2d/3d: coefficient 1/k and bias 0 is AvgPool, autograd gradients match finite
differences and torch's sum pooling, parameters as in Torch7."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import glassnet as gn
from glassnet.functional.subsampling import subsampling
from glassnet.nn.subsampling import Subsampling1d, Subsampling2d, Subsampling3d
from glassnet.testing import gradcheck

SUB = {1: Subsampling1d, 2: Subsampling2d, 3: Subsampling3d}
AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("k,s,p", [(2, None, 0), (3, 2, 1)])
def test_one_over_k_and_zero_bias_is_average_pooling(nd, k, s, p):
    m = SUB[nd](3, k, s, p)
    m.weight.data[...] = 1 / k ** nd
    m.bias.data[...] = 0
    x = gn.tensor(np.random.default_rng(0).standard_normal((2, 3) + (7,) * nd))
    np.testing.assert_allclose(m(x).data, AVG[nd](torch.tensor(x.data), k, s, p).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_gradcheck(nd):
    rng = np.random.default_rng(1)
    x = gn.tensor(rng.standard_normal((2, 2) + (4,) * nd), dtype=np.float64, requires_grad=True)
    w = gn.tensor(rng.standard_normal(2), dtype=np.float64, requires_grad=True)
    b = gn.tensor(rng.standard_normal(2), dtype=np.float64, requires_grad=True)
    gradcheck(lambda x, w, b: subsampling(x, w, b, 2), [x, w, b])


def test_module_gradients_match_torch():
    gn.manual_seed(2)
    m = Subsampling2d(6, 2)
    x = gn.tensor(np.random.default_rng(2).standard_normal((3, 6, 28, 28)), requires_grad=True)
    y = m(x).tanh()
    y.sum().backward()
    xt, wt, bt = (torch.tensor(a.data, requires_grad=True) for a in (x, m.weight, m.bias))
    yt = torch.tanh(F.avg_pool2d(xt, 2, divisor_override=1) * wt.reshape(1, -1, 1, 1) + bt.reshape(1, -1, 1, 1))
    yt.sum().backward()
    assert y.shape == (3, 6, 14, 14)
    for mine, theirs in ((y.data, yt.detach()), (x.grad, xt.grad), (m.weight.grad, wt.grad), (m.bias.grad, bt.grad)):
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-4, atol=1e-4)


def test_parameters_and_errors():
    m = Subsampling2d(16, 2)
    assert [(k, v.shape) for k, v in m.state_dict().items()] == [("weight", (16,)), ("bias", (16,))]
    assert np.abs(m.weight.data).max() <= 0.5 and m.stride == (2, 2)  # Torch7: U(-1/sqrt(4), 1/sqrt(4))
    assert Subsampling3d(2, 2, bias=False).bias is None
    with pytest.raises(ValueError, match=r"Subsampling2d\(16\) expected input of shape "
                                     r"\(N, 16, H, W\), got \(1, 6, 10, 10\)"):
        m(gn.tensor(np.zeros((1, 6, 10, 10), np.float32)))
    with pytest.raises(TypeError, match="float32 weights but got an input of dtype float64"):
        m(gn.tensor(np.zeros((1, 16, 10, 10)), dtype=np.float64))
