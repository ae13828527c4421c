"""l1_loss, smooth_l1_loss and huber_loss against torch.nn.functional (loss, input and target
gradients, every reduction, both dtypes) and finite differences."""

import numpy as np
import pytest
import torch.nn.functional as TF

import glassnet
import glassnet.functional as F

from .parity import assert_finite_differences, assert_matches_torch

LOSSES = [("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", dict(beta=0.3)),
          ("smooth_l1_loss", dict(beta=0.0)), ("huber_loss", {}), ("huber_loss", dict(delta=0.4))]


def _pair(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape), rng.standard_normal(shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, kwargs", LOSSES, ids=[f"{n}-{k}" for n, k in LOSSES])
def test_matches_torch(name, kwargs, reduction, dtype):
    x, t = _pair((4, 5))
    assert_matches_torch(lambda x, t: getattr(F, name)(x, t, reduction=reduction, **kwargs),
                         lambda x, t: getattr(TF, name)(x, t, reduction=reduction, **kwargs), [x, t], dtype)


@pytest.mark.parametrize("name, kwargs", LOSSES, ids=[f"{n}-{k}" for n, k in LOSSES])
def test_finite_differences(name, kwargs):
    x, t = _pair((3, 4), seed=1)
    assert_finite_differences(lambda x, t: getattr(F, name)(x, t, **kwargs), [x, t])


def test_legacy_reduction_arguments():
    x, t = _pair((5,), seed=2)
    gx, gt = glassnet.tensor(x), glassnet.tensor(t)
    np.testing.assert_allclose(F.l1_loss(gx, gt, size_average=False).item(), np.abs(x - t).sum(), rtol=1e-5)
    assert F.smooth_l1_loss(gx, gt, reduce=False).shape == (5,)


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.l1_loss(glassnet.zeros(3), glassnet.zeros(4)), ValueError, r"target of the input's shape \(3,\), got \(4,\)"),
    (lambda: F.smooth_l1_loss(glassnet.zeros(3), glassnet.zeros(3), beta=-1.0), ValueError, "beta >= 0, got -1.0"),
    (lambda: F.huber_loss(glassnet.zeros(3), glassnet.zeros(3), delta=0.0), ValueError, "delta > 0, got 0.0"),
    (lambda: F.huber_loss(glassnet.zeros(3), glassnet.zeros(3), reduction="avg"), ValueError, "reduction in"),
    (lambda: F.l1_loss(glassnet.zeros(3), glassnet.zeros(3, dtype=np.float64)), TypeError, "dtype float32, got float64"),
    (lambda: F.l1_loss(glassnet.zeros(3), glassnet.zeros(3), weight=glassnet.ones(3)), NotImplementedError, "weight"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
