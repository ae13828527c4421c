"""The operations an imported graph runs that glassnet.nn has no layer for: Pad (forward and
gradient against PyTorch's F.pad and float64 finite differences) and Resize (against
torch.nn.functional.interpolate, forward and gradient)."""

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.onnx.graph_module import pad
from glassnet.onnx.resize import interpolate
from glassnet.testing import gradcheck

TORCH_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


@pytest.mark.parametrize("mode", sorted(TORCH_MODES))
@pytest.mark.parametrize("pairs", [((1, 2),), ((2, 0), (1, 3))])
def test_pad_matches_pytorch(mode, pairs):
    rng = np.random.default_rng(0)
    shape = (2, 3, 5) if len(pairs) == 1 else (2, 3, 4, 5)
    x = rng.standard_normal(shape).astype(np.float32)
    value = 0.5 if mode == "constant" else 0.0
    gx = gn.tensor(x, requires_grad=True)
    y = pad(gx, pairs, mode, value)
    tx = torch.tensor(x, requires_grad=True)
    flat = [v for lo_hi in reversed(pairs) for v in lo_hi]  # torch lists the last dimension first
    ty = torch.nn.functional.pad(tx, flat, mode=TORCH_MODES[mode], **({"value": value} if mode == "constant" else {}))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-6)
    dy = rng.standard_normal(ty.shape).astype(np.float32)
    y.backward(dy)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(gx.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", sorted(TORCH_MODES))
def test_pad_gradcheck(mode):
    x = gn.tensor(np.random.default_rng(1).standard_normal((1, 2, 4, 3)), dtype=np.float64, requires_grad=True)
    gradcheck(lambda x: pad(x, ((1, 2), (2, 1)), mode), [x])


@pytest.mark.parametrize("mode, transform, size", [
    ("nearest", "asymmetric", (10, 9)),            # torch's mode="nearest": floor of i / scale
    ("linear", "half_pixel", (11, 6)),             # torch's bilinear, align_corners=False
    ("linear", "align_corners", (9, 12)),          # torch's bilinear, align_corners=True
])
def test_resize_matches_pytorch_interpolate(mode, transform, size):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
    gx = gn.tensor(x, requires_grad=True)
    y = interpolate(gx, None, [2, 3, *size], mode, transform, "floor")
    tx = torch.tensor(x, requires_grad=True)
    kwargs = {} if mode == "nearest" else {"align_corners": transform == "align_corners"}
    ty = torch.nn.functional.interpolate(tx, size=size, mode="nearest" if mode == "nearest" else "bilinear", **kwargs)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    dy = rng.standard_normal(ty.shape).astype(np.float32)
    y.backward(dy)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(gx.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_resize_refuses_absurd_sizes():
    with pytest.raises(ValueError, match="empty or too large"):
        interpolate(gn.tensor(np.zeros((1, 1, 4, 4), np.float32)), [1, 1, 1e9, 1e9], None, "nearest",
                    "asymmetric", "floor")
