"""binary_cross_entropy against torch.nn.functional (loss, input and target gradients, weights,
reductions, the clamped ends) and finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet
import glassnet.functional as F

from .parity import assert_finite_differences, assert_matches_torch


def _probabilities(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape, weight_shape", [((6,), None), ((4, 3), (3,)), ((2, 3, 4), (2, 3, 4)),
                                                 ((), None), ((3, 2), (3, 1))])
def test_matches_torch(shape, weight_shape, reduction, dtype):
    x, t = _probabilities(shape)
    if weight_shape is None:
        assert_matches_torch(lambda x, t: F.binary_cross_entropy(x, t, reduction=reduction),
                             lambda x, t: TF.binary_cross_entropy(x, t, reduction=reduction), [x, t], dtype)
    else:
        w = np.random.default_rng(1).uniform(0.5, 2, weight_shape).astype(dtype)
        assert_matches_torch(lambda x, t: F.binary_cross_entropy(x, t, glassnet.tensor(w, dtype=dtype), reduction=reduction),
                             lambda x, t: TF.binary_cross_entropy(x, t, torch.tensor(w), reduction=reduction),
                             [x, t], dtype)


def test_saturated_probabilities_like_torch():
    """At x = 0 and 1 the logs are clamped at -100 and the input gradient divides by 1e-12."""
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-30, 0.5])
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.5])
    assert_matches_torch(lambda x, t: F.binary_cross_entropy(x, t, reduction="none"),
                         lambda x, t: TF.binary_cross_entropy(x, t, reduction="none"), [x[:4], t[:4]],
                         np.float64)
    gx = glassnet.tensor(x, dtype=np.float64, requires_grad=True)
    loss = F.binary_cross_entropy(gx, glassnet.tensor(t, dtype=np.float64), reduction="none")
    tl = TF.binary_cross_entropy(torch.tensor(x), torch.tensor(t), reduction="none")
    np.testing.assert_allclose(loss.data, tl.numpy(), rtol=1e-12)


def test_legacy_size_average_and_reduce_like_torch():
    x, t = _probabilities((5,))
    for size_average, reduce in ((False, None), (None, False), (True, True)):
        ours = F.binary_cross_entropy(glassnet.tensor(x), glassnet.tensor(t), size_average=size_average, reduce=reduce)
        theirs = TF.binary_cross_entropy(torch.tensor(x, dtype=torch.float32), torch.tensor(t, dtype=torch.float32),
                                         size_average=size_average, reduce=reduce)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_finite_differences_for_input_and_target():
    x, t = _probabilities((3, 4), seed=2)
    w = glassnet.tensor(np.random.default_rng(3).uniform(0.5, 2, (4,)), dtype=np.float64)
    assert_finite_differences(lambda x, t: F.binary_cross_entropy(x, t, w), [x, t])
    assert_finite_differences(lambda x, t: F.binary_cross_entropy(x, t, reduction="none"), [x, t])


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.binary_cross_entropy(glassnet.tensor([0.5, 1.5]), glassnet.tensor([1.0, 0.0])), ValueError,
     r"every element of input in \[0, 1\] .* got values from 0.5 to 1.5"),
    (lambda: F.binary_cross_entropy(glassnet.tensor([0.5, np.nan]), glassnet.tensor([1.0, 0.0])), ValueError,
     r"in \[0, 1\]"),
    (lambda: F.binary_cross_entropy(glassnet.tensor([0.5, 0.5]), glassnet.tensor([1.0])), ValueError,
     r"target of the input's shape \(2,\), got \(1,\)"),
    (lambda: F.binary_cross_entropy(glassnet.tensor([[0.5, 0.5]]), glassnet.tensor([[1.0, 0.0]]), glassnet.ones(3)),
     ValueError, r"weight broadcastable to the input's shape \(1, 2\), got \(3,\)"),
    (lambda: F.binary_cross_entropy(glassnet.tensor([0.5]), glassnet.tensor([1.0]), reduction="avg"), ValueError,
     "reduction in"),
    (lambda: F.binary_cross_entropy(glassnet.tensor([0.5]), glassnet.tensor([1.0], dtype=np.float64)), TypeError,
     "target of the input's dtype float32, got float64"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
