"""Upsample, UpsamplingNearest2d, UpsamplingBilinear2d, PixelShuffle, PixelUnshuffle, Unfold and
Fold against torch.nn's: outputs, input gradient, repr and bad arguments."""

import numpy as np
import pytest
import torch

import glassnet
from glassnet import nn
from glassnet.testing import gradcheck

LAYERS = [  # (name, args, kwargs, input shape)
    ("Upsample", (), dict(scale_factor=2), (2, 3, 4, 5)),
    ("Upsample", (), dict(size=(3, 7), mode="bilinear"), (2, 3, 4, 5)),
    ("Upsample", (), dict(scale_factor=1.5, mode="bilinear", align_corners=True), (1, 2, 4, 4)),
    ("Upsample", (), dict(scale_factor=(2, 1, 0.5), mode="trilinear"), (1, 2, 3, 4, 4)),
    ("Upsample", (), dict(size=9, mode="linear"), (2, 2, 4)),
    ("Upsample", (), dict(scale_factor=2, mode="bicubic", align_corners=False), (1, 2, 3, 4)),
    ("Upsample", (), dict(scale_factor=2.5, mode="nearest-exact", recompute_scale_factor=True), (1, 2, 3, 3)),
    ("UpsamplingNearest2d", (), dict(scale_factor=3), (1, 2, 2, 3)),
    ("UpsamplingBilinear2d", (), dict(size=(5, 6)), (1, 2, 2, 3)),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 3)),
    ("PixelUnshuffle", (3,), {}, (2, 1, 6, 3)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", LAYERS, ids=[f"{l[0]}-{i}" for i, l in enumerate(LAYERS)])
def test_matches_torch(name, args, kwargs, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    gx, tx = glassnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gy, ty = ours(gx), theirs(tx)
    np.testing.assert_allclose(gy.data, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    dy = rng.standard_normal(gy.shape).astype(np.float32)
    gy.backward(dy)
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(gx.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name, args, kwargs, shape", LAYERS[1::2], ids=[l[0] for l in LAYERS[1::2]])
def test_finite_differences(name, args, kwargs, shape):
    x = glassnet.tensor(np.random.default_rng(1).standard_normal(shape), dtype=np.float64, requires_grad=True)
    assert gradcheck(getattr(nn, name)(*args, **kwargs), [x])


@pytest.mark.parametrize("layer, shape, error, message", [
    (nn.Upsample(scale_factor=2, mode="bilinear"), (1, 2, 3), ValueError, r"Upsample: interpolate with mode='bilinear' expected a 4-D input"),
    (nn.Upsample(), (1, 2, 3), ValueError, "Upsample: interpolate: either size or scale_factor"),
    (nn.PixelShuffle(2), (1, 3, 2, 2), ValueError, "PixelShuffle: pixel_shuffle expected the channel dimension"),
])
def test_bad_input(layer, shape, error, message):
    with pytest.raises(error, match=message):
        layer(glassnet.zeros(*shape))


def test_bad_factor():
    with pytest.raises(ValueError, match="upscale_factor must be a positive int, got 0"):
        nn.PixelShuffle(0)


def test_fold_and_unfold_modules_match_torch():
    x = np.random.default_rng(3).standard_normal((2, 3, 5, 5)).astype(np.float32)
    for ours, theirs, data in ((nn.Unfold(3, padding=1), torch.nn.Unfold(3, padding=1), x),
                               (nn.Fold((5, 5), 3, padding=1), torch.nn.Fold((5, 5), 3, padding=1),
                                torch.nn.Unfold(3, padding=1)(torch.tensor(x)).numpy())):
        np.testing.assert_allclose(ours(glassnet.tensor(data)).numpy(), theirs(torch.tensor(data)).numpy(), rtol=1e-6)
        assert repr(ours) == repr(theirs)
