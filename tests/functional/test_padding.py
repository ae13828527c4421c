"""F.pad against torch.nn.functional.pad: every mode, 1 to 3 padded dims, batched and unbatched,
negative pads, values and gradients; float64 finite differences; PyTorch's refusals."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet
import glassnet.functional as F
from glassnet.testing import gradcheck

CASES = [
    ("constant", (2, 3, 4), (1, 2)), ("constant", (2, 3, 4), (1, 0, 2, 1)), ("constant", (2, 3, 4), (0, 1, 1, 0, 2, 1)),
    ("constant", (5,), (-1, 3)), ("constant", (2, 3, 4), (-2, 1, 0, -1)), ("constant", (1, 2, 2, 3, 3), (1, 1, 1, 1)),
    ("reflect", (2, 5), (2, 3)), ("reflect", (2, 3, 5), (4, 1)), ("reflect", (2, 3, 4, 5), (1, 2, 3, 0)),
    ("reflect", (3, 4, 5), (2, 2, 1, 3)), ("reflect", (1, 2, 3, 4, 5), (1, 2, 2, 1, 1, 1)),
    ("replicate", (2, 5), (3, 7)), ("replicate", (2, 3, 4, 5), (1, 2, 3, 0)),
    ("replicate", (2, 3, 4, 5), (-1, 2, 0, 1)), ("replicate", (2, 2, 3, 4), (1, 1, 1, 1, 2, 0)),
    ("circular", (2, 3, 5), (5, 2)), ("circular", (2, 3, 4, 5), (1, 2, 3, 4)),
    ("circular", (2, 3, 4), (-1, 2)), ("circular", (1, 1, 2, 3, 4), (1, 1, 2, 0, 1, 2)),
]


@pytest.mark.parametrize("mode, shape, pad", CASES)
def test_pad_matches_torch_values_and_gradients(mode, shape, pad):
    rng = np.random.default_rng(0)
    data = rng.standard_normal(shape).astype(np.float32)
    g = glassnet.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    value = 1.5 if mode == "constant" else None
    gy = F.pad(g, pad, mode=mode, value=value)
    ty = TF.pad(t, pad, mode=mode, value=value)
    np.testing.assert_array_equal(gy.detach().numpy(), ty.detach().numpy())
    dy = rng.standard_normal(ty.shape).astype(np.float32)
    gy.backward(dy)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(g.grad, t.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode, shape, pad", CASES[::3])
def test_pad_gradient_matches_finite_differences(mode, shape, pad):
    x = glassnet.tensor(np.random.default_rng(1).standard_normal(shape), dtype=np.float64, requires_grad=True)
    assert gradcheck(lambda a: F.pad(a, pad, mode=mode), [x])


def test_pad_of_an_integer_tensor_casts_the_value_as_torch():
    np.testing.assert_array_equal(F.pad(glassnet.tensor([1, 2]), (1, 1), value=2.5).numpy(),
                                  TF.pad(torch.tensor([1, 2]), (1, 1), value=2.5).numpy())


@pytest.mark.parametrize("shape, pad, mode", [
    ((1, 2, 3, 4), (1,), "constant"), ((1, 2, 3, 4), (1,) * 10, "constant"), ((1, 2, 3, 4), (-4, -1), "constant"),
    ((1, 2, 3, 4), (4, 0, 0, 0), "reflect"), ((1, 2, 3, 4), (5, 0, 0, 0), "circular"),
    ((1, 2, 3, 4), (1, 1), "reflect"), ((4,), (1, 1), "reflect"), ((2, 3, 4), (1,) * 6, "replicate"),
    ((1, 2, 3, 4), (1, 1), "wrap"), ((1, 2, 3, 4), (1, 1, 1, 1), "reflect-value"),
])
def test_pad_refuses_what_torch_refuses(shape, pad, mode):
    value = None
    if mode == "reflect-value":
        mode, value = "reflect", 2.0
    with pytest.raises(Exception):
        TF.pad(torch.zeros(shape), pad, mode=mode, value=value)
    with pytest.raises((ValueError, TypeError)):
        F.pad(glassnet.zeros(shape), pad, mode=mode, value=value)
