"""The edges PyTorch's OpInfo samples reach in the functional ops: 0-d inputs, empty inputs,
non-finite values, one-element size tuples, and PyTorch's refusals. Each compared with PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet
import glassnet.functional as F


def _both(call, arrays, targets=()):
    """call(F, *inputs, *targets) on glassnet and torch, then backward with ones; returns
    (glassnet output, torch output, glassnet input grads, torch input grads)."""
    g_in = [glassnet.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    g_t = [glassnet.tensor(t) for t in targets]
    t_t = [torch.tensor(t) for t in targets]
    gy, ty = call(F, *g_in, *g_t), call(TF, *t_in, *t_t)
    gy.backward(np.ones(gy.shape, gy.dtype))
    ty.backward(torch.ones_like(ty))
    return gy, ty, [g.grad for g in g_in], [t.grad.numpy() for t in t_in]


def _check(call, arrays, targets=()):
    gy, ty, gg, tg = _both(call, arrays, targets)
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    for a, b in zip(gg, tg):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "elu", "leaky_relu"])
def test_zero_d_activations(name):
    _check(lambda m, x: getattr(m, name)(x), [np.array(-0.7, np.float32)])


def test_zero_d_binary_cross_entropy_with_logits():
    _check(lambda m, x, t: m.binary_cross_entropy_with_logits(x, t), [np.array(0.3, np.float32)],
           [np.array(1.0, np.float32)])


def test_elu_gradient_at_infinities_nan_and_far_below_zero():
    x = np.array([np.inf, -np.inf, np.nan, -14.0, -20.0, -40.0, 0.0, 3.0], np.float32)
    _, _, gg, tg = _both(lambda m, a: m.elu(a, alpha=1.3), [x])
    np.testing.assert_allclose(gg[0], tg[0], rtol=1e-6, atol=0)  # relative: exact below -14 too


def test_relu_passes_the_gradient_of_nan_as_torch():
    x = np.array([np.nan, -1.0, 0.0, 2.0, np.inf, -np.inf], np.float32)
    _, _, gg, tg = _both(lambda m, a: m.relu(a), [x])
    np.testing.assert_array_equal(gg[0], tg[0])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_every_target_ignored_gives_zero_gradients(name, reduction):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    gy, ty, gg, tg = _both(lambda m, a, t: getattr(m, name)(a, t, reduction=reduction), [x],
                           [np.array([-100, -100, -100])])
    np.testing.assert_array_equal(np.isnan(gy.detach().numpy()), np.isnan(ty.detach().numpy()))
    np.testing.assert_array_equal(gg[0], tg[0])
    assert not np.isnan(gg[0]).any()


def test_mse_against_an_integer_target_stays_float32():
    x = np.random.default_rng(0).standard_normal(4).astype(np.float32)
    gy, ty, gg, tg = _both(lambda m, a, t: m.mse_loss(a, t), [x], [np.array([1, 0, 2, 1])])
    assert gy.dtype == np.float32 and ty.dtype == torch.float32
    np.testing.assert_allclose(gy.detach().numpy(), ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(gg[0], tg[0], rtol=1e-6)


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4), (0, 2, 3, 3)])
def test_batch_norm_of_an_empty_batch(shape):
    for training in (True, False):
        g_rm, t_rm = glassnet.zeros(shape[1]), torch.zeros(shape[1])
        g_rv, t_rv = glassnet.ones(shape[1]), torch.ones(shape[1])
        gy = F.batch_norm(glassnet.zeros(shape), g_rm, g_rv, training=training)
        ty = TF.batch_norm(torch.zeros(shape), t_rm, t_rv, training=training)
        assert tuple(gy.shape) == tuple(ty.shape)
        np.testing.assert_array_equal(g_rm.numpy(), t_rm.numpy())
        np.testing.assert_array_equal(g_rv.numpy(), t_rv.numpy())


@pytest.mark.parametrize("eps", [0.0, -1e-5])
def test_batch_norm_refuses_eps_at_most_zero_in_training(eps):
    with pytest.raises(ValueError, match="eps must be positive"):
        TF.batch_norm(torch.randn(4, 3), None, None, training=True, eps=eps)
    with pytest.raises(ValueError, match="eps must be positive"):
        F.batch_norm(glassnet.randn(4, 3), None, None, training=True, eps=eps)
    with pytest.raises(ValueError, match="eps must be positive"):
        glassnet.nn.BatchNorm1d(3, eps=eps)(glassnet.randn(4, 3))


_RNG = np.random.default_rng(1)
X4 = _RNG.standard_normal((1, 2, 5, 5)).astype(np.float32)
X5 = _RNG.standard_normal((1, 2, 4, 4, 4)).astype(np.float32)
W4 = _RNG.standard_normal((3, 2, 3, 3)).astype(np.float32)


@pytest.mark.parametrize("call", [
    lambda m, x4, x5, w4: m.max_pool2d(x4, 2, stride=(2,), padding=(1,)),
    lambda m, x4, x5, w4: m.avg_pool2d(x4, (2,), stride=(1,)),
    lambda m, x4, x5, w4: m.max_pool3d(x5, (2,), dilation=(1,)),
    lambda m, x4, x5, w4: m.conv2d(x4, w4, stride=(2,), padding=(1,), dilation=(1,)),
])
def test_one_element_size_tuples_broadcast_as_torch(call):
    g = call(F, *(glassnet.tensor(a) for a in (X4, X5, W4)))
    t = call(TF, *(torch.tensor(a) for a in (X4, X5, W4)))
    np.testing.assert_allclose(g.numpy(), t.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name, shape", [("max_pool1d", (0, 10)), ("max_pool3d", (0, 1, 2, 10)),
                                         ("max_pool2d", (1, 0, 4, 4)), ("avg_pool2d", (0, 4, 4))])
def test_pooling_of_empty_channels_or_sizes_is_refused_as_torch(name, shape):
    k = 2 if "3d" not in name else 1
    with pytest.raises(RuntimeError):
        getattr(TF, name)(torch.zeros(shape), k)
    with pytest.raises(ValueError, match=r"sizes > 0 \(only N may be 0\)"):
        getattr(F, name)(glassnet.zeros(shape), k)


@pytest.mark.parametrize("name, shape", [("max_pool2d", (0, 2, 4, 4)), ("avg_pool1d", (0, 2, 6)),
                                         ("max_pool3d", (0, 1, 2, 2, 2))])
def test_pooling_of_an_empty_batch_gives_an_empty_batch_as_torch(name, shape):
    g = getattr(F, name)(glassnet.zeros(shape), 2)
    assert tuple(g.shape) == tuple(getattr(TF, name)(torch.zeros(shape), 2).shape)
