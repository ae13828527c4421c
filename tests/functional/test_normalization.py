"""glassnet.functional.batch_norm through the Tensor API, against torch.nn.functional.batch_norm
and torch's BatchNorm running-statistics rules."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet
import glassnet.functional as F


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("stats_as", ["tensor", "ndarray"])
@pytest.mark.parametrize("shape", [(16, 4), (4, 4, 9), (3, 4, 5, 6), (2, 4, 3, 3, 3)], ids=["2d", "3d", "4d", "5d"])
def test_forward_gradients_and_running_statistics(shape, stats_as, training):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    w, b = rng.uniform(0.5, 2, 4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    rm, rv = rng.standard_normal(4).astype(np.float32), rng.uniform(0.5, 2, 4).astype(np.float32)
    wrap = glassnet.tensor if stats_as == "tensor" else np.copy
    grm, grv = wrap(rm), wrap(rv)
    gx, gw, gb = (glassnet.tensor(a, requires_grad=True) for a in (x, w, b))
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    gy = F.batch_norm(gx, grm, grv, gw, gb, training=training, momentum=0.2, eps=1e-4)
    ty = TF.batch_norm(tx, trm, trv, tw, tb, training=training, momentum=0.2, eps=1e-4)
    dy = rng.standard_normal(shape).astype(np.float32)
    gy.backward(dy)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(gy.data, ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    for g, t in ((gx, tx), (gw, tw), (gb, tb)):
        np.testing.assert_allclose(g.grad, t.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(grm), trm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(grv), trv.numpy(), rtol=1e-5, atol=1e-6)
    if training:
        assert not np.allclose(np.asarray(grm), rm)  # really updated in place


def test_defaults_are_evaluation_mode_without_affine():
    x = glassnet.randn(5, 3)
    y = F.batch_norm(x, glassnet.zeros(3), glassnet.ones(3))
    np.testing.assert_allclose(y.numpy(), x.numpy() / np.sqrt(1 + 1e-5), rtol=1e-6)


def test_momentum_none_is_a_cumulative_average_as_torch():
    """torch.nn.BatchNorm1d(momentum=None) over three batches: running stats are the plain
    averages of the batch statistics."""
    rng = np.random.default_rng(1)
    batches = [(rng.standard_normal((6, 3)) * (i + 1) + i).astype(np.float32) for i in range(3)]
    bn = torch.nn.BatchNorm1d(3, momentum=None, affine=False)
    rm, rv = glassnet.zeros(3), glassnet.ones(3)
    for i, xb in enumerate(batches, start=1):
        bn(torch.tensor(xb))
        F.batch_norm(glassnet.tensor(xb), rm, rv, training=True, momentum=None, num_batches_tracked=i)
    np.testing.assert_allclose(rm.numpy(), bn.running_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(rv.numpy(), bn.running_var.numpy(), rtol=1e-5)
    np.testing.assert_allclose(rm.numpy(), np.mean([xb.mean(0) for xb in batches], 0), rtol=1e-5)


def test_training_without_running_statistics():
    x = glassnet.randn(8, 2, 3, requires_grad=True)
    y = F.batch_norm(x, None, None, training=True)
    np.testing.assert_allclose(y.detach().numpy().mean(axis=(0, 2)), 0, atol=1e-6)


def test_float64_end_to_end():
    x = glassnet.tensor(np.random.default_rng(0).standard_normal((4, 2)), dtype=np.float64, requires_grad=True)
    y = F.batch_norm(x, np.zeros(2), np.ones(2), training=True)
    (y * y).sum().backward()
    assert y.dtype == np.float64 and x.grad.dtype == np.float64


# ---- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3,), (1, 2, 3, 4, 5, 6)])
def test_wrong_rank(shape):
    with pytest.raises(ValueError, match=r"expected input of shape \(N, C\), \(N, C, L\), \(N, C, H, W\) or "
                                         rf"\(N, C, D, H, W\), got {str(shape).replace('(', '[(]').replace(')', '[)]')}"):
        F.batch_norm(glassnet.randn(*shape), None, None, training=True)


def test_wrong_channel_count():
    with pytest.raises(ValueError, match=r"running_mean of shape \(3,\) for input of shape \(8, 3, 4, 4\), got \(16,\)"):
        F.batch_norm(glassnet.randn(8, 3, 4, 4), glassnet.zeros(16), glassnet.ones(16))
    with pytest.raises(ValueError, match=r"weight of shape \(3,\) for input of shape \(8, 3\), got \(4,\)"):
        F.batch_norm(glassnet.randn(8, 3), None, None, glassnet.ones(4), training=True)


def test_one_value_per_channel_in_training():
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training, got input of shape \(1, 3\)"):
        F.batch_norm(glassnet.randn(1, 3), glassnet.zeros(3), glassnet.ones(3), training=True)


def test_evaluation_needs_running_statistics():
    with pytest.raises(ValueError, match="needs running_mean and running_var, got None and None"):
        F.batch_norm(glassnet.randn(4, 3), None, None)


def test_dtype_mismatches():
    with pytest.raises(TypeError, match=r"expected a floating-point input .* got dtype int64 of shape \(4, 3\)"):
        F.batch_norm(glassnet.tensor(np.ones((4, 3), np.int64)), np.zeros(3, np.float32), np.ones(3, np.float32))
    with pytest.raises(TypeError, match="running_mean of the input's dtype float32, got float64"):
        F.batch_norm(glassnet.randn(4, 3), np.zeros(3), np.ones(3))


def test_momentum_none_needs_the_batch_count():
    with pytest.raises(ValueError, match="momentum=None .* needs num_batches_tracked"):
        F.batch_norm(glassnet.randn(4, 3), glassnet.zeros(3), glassnet.ones(3), training=True, momentum=None)
