"""The padding layers against torch.nn's: values, input gradient, repr and bad arguments."""

import numpy as np
import pytest
import torch

import glassnet
from glassnet import nn
from glassnet.testing import gradcheck

LAYERS = [  # (name, args, input shape)
    ("ReflectionPad1d", (2,), (2, 3, 5)), ("ReflectionPad1d", ((1, 3),), (3, 5)),
    ("ReflectionPad2d", (1,), (2, 2, 4, 5)), ("ReflectionPad2d", ((1, 0, 2, 3),), (2, 4, 5)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 3, 4)),
    ("ReplicationPad1d", ((3, 1),), (2, 3, 4)), ("ReplicationPad2d", (2,), (2, 2, 3, 3)),
    ("ReplicationPad3d", ((1, 2, 0, 1, 2, 0),), (2, 2, 2, 3, 3)),
    ("CircularPad1d", (2,), (2, 3, 4)), ("CircularPad2d", ((1, 2, 0, 3),), (2, 2, 3, 4)),
    ("CircularPad3d", (1,), (1, 2, 2, 3, 3)),
    ("ZeroPad1d", ((2, 0),), (2, 3, 4)), ("ZeroPad2d", (1,), (2, 2, 3, 3)), ("ZeroPad2d", ((1, 2, -1, 0),), (2, 3, 3)),
    ("ZeroPad3d", (1,), (1, 2, 2, 2, 2)),
    ("ConstantPad1d", (2, 3.5), (2, 4)), ("ConstantPad2d", ((1, 0, 2, 1), -1.0), (2, 2, 3, 3)),
    ("ConstantPad3d", (1, 0.5), (2, 1, 2, 2, 2)), ("ConstantPad2d", (1, 2.0), (2, 2, 2, 3, 3)),
]


@pytest.mark.parametrize("name, args, shape", LAYERS, ids=[f"{l[0]}-{i}" for i, l in enumerate(LAYERS)])
def test_matches_torch(name, args, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    gx, tx = glassnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gy, ty = ours(gx), theirs(tx)
    np.testing.assert_array_equal(gy.data, ty.detach().numpy())
    dy = rng.standard_normal(gy.shape).astype(np.float32)
    gy.backward(dy)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(gx.grad, tx.grad.numpy(), rtol=1e-6, atol=1e-6)
    assert repr(ours) == repr(theirs)
    assert ours.padding == theirs.padding and ours.state_dict() == {}


@pytest.mark.parametrize("name, args, shape", LAYERS[::3], ids=[l[0] for l in LAYERS[::3]])
def test_finite_differences(name, args, shape):
    x = glassnet.tensor(np.random.default_rng(1).standard_normal(shape), dtype=np.float64, requires_grad=True)
    assert gradcheck(getattr(nn, name)(*args), [x])


@pytest.mark.parametrize("make, message", [
    (lambda: nn.ReflectionPad2d((1, 2)), r"ReflectionPad2d expected padding as an int or a tuple of 4 ints, got \(1, 2\)"),
    (lambda: nn.ZeroPad1d(1.5), "ZeroPad1d expected padding as an int or a tuple of 2 ints, got 1.5"),
    (lambda: nn.ConstantPad3d((1, 1), 0.0), "tuple of 6 ints"),
])
def test_bad_padding(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("layer, shape, message", [
    (nn.ReflectionPad2d(1), (2, 3), r"ReflectionPad2d expected a 3-D \(unbatched\) or 4-D \(batched\) input, got shape \(2, 3\)"),
    (nn.ReplicationPad1d(1), (1, 2, 3, 4), r"4-D input|3-D \(batched\) input, got shape \(1, 2, 3, 4\)"),
    (nn.ReflectionPad1d(4), (2, 3, 4), r"ReflectionPad1d: 'reflect' padding needs each padding amount less than"),
    (nn.ConstantPad3d(1, 0.0), (2, 3), r"ConstantPad3d expected an input with at least 3 dimensions, got shape \(2, 3\)"),
])
def test_bad_input(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(glassnet.zeros(*shape))
