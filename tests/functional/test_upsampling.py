"""interpolate against torch.nn.functional.interpolate (values and input gradient, float32 and
float64) and finite differences, for every mode (nearest, nearest-exact, linear, bilinear,
bicubic, trilinear, area), align_corners, size and scale_factor."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet
import glassnet.functional as F

from .parity import assert_finite_differences, assert_matches_torch

CASES = [  # (input shape, keyword arguments)
    ((2, 3, 5), dict(scale_factor=2)),
    ((2, 3, 5), dict(size=12)),
    ((2, 3, 7), dict(size=3)),
    ((2, 3, 4, 5), dict(scale_factor=2)),
    ((2, 3, 4, 5), dict(scale_factor=(1.5, 0.7))),
    ((2, 3, 4, 5), dict(size=(7, 3))),
    ((1, 2, 6, 6), dict(scale_factor=1 / 3)),
    ((1, 2, 3, 4, 5), dict(scale_factor=(2, 1.5, 0.5))),
    ((1, 2, 3, 4, 2), dict(size=(5, 2, 7))),
    ((2, 3, 4, 5), dict(scale_factor=1.7, recompute_scale_factor=True)),
]
LINEAR = {3: "linear", 4: "bilinear", 5: "trilinear"}


def _modes(shape):
    yield "nearest", None
    yield "nearest-exact", None
    yield LINEAR[len(shape)], False
    yield LINEAR[len(shape)], True
    if len(shape) == 4:
        yield "bicubic", False
        yield "bicubic", True


PARAMS = [(shape, kwargs, mode, ac) for shape, kwargs in CASES for mode, ac in _modes(shape)]
IDS = [f"{m}-ac{ac}-{s}-{'-'.join(f'{k}{v}' for k, v in kw.items())}" for s, kw, m, ac in PARAMS]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, kwargs, mode, align_corners", PARAMS, ids=IDS)
def test_matches_torch(shape, kwargs, mode, align_corners, dtype):
    x = np.random.default_rng(0).standard_normal(shape)
    assert_matches_torch(lambda t: F.interpolate(t, mode=mode, align_corners=align_corners, **kwargs),
                         lambda t: TF.interpolate(t, mode=mode, align_corners=align_corners, **kwargs), [x], dtype)


@pytest.mark.parametrize("shape, size", [((2, 3, 7), 3), ((2, 2, 6, 5), (3, 2)), ((1, 2, 4, 4, 6), (2, 3, 2)),
                                         ((2, 2, 5, 5), (7, 8))])
def test_area_matches_torch(shape, size):
    x = np.random.default_rng(1).standard_normal(shape)
    assert_matches_torch(lambda t: F.interpolate(t, size=size, mode="area"),
                         lambda t: TF.interpolate(t, size=size, mode="area"), [x])


@pytest.mark.parametrize("shape, kwargs, mode, align_corners", PARAMS[::3], ids=IDS[::3])
def test_finite_differences(shape, kwargs, mode, align_corners):
    x = np.random.default_rng(2).standard_normal(shape)
    assert_finite_differences(lambda t: F.interpolate(t, mode=mode, align_corners=align_corners, **kwargs), [x])


def test_large_upsampling_gradient_matches_torch():
    """Many outputs per input position: the segmented sums of the backward."""
    x = np.random.default_rng(3).standard_normal((2, 3, 9, 11))
    for mode, ac in (("nearest", None), ("bilinear", False), ("bilinear", True), ("bicubic", False)):
        assert_matches_torch(lambda t: F.interpolate(t, size=(40, 57), mode=mode, align_corners=ac),
                             lambda t: TF.interpolate(t, size=(40, 57), mode=mode, align_corners=ac), [x])


def test_deprecated_names_like_torch():
    x = np.random.default_rng(4).standard_normal((1, 2, 3, 4)).astype(np.float32)
    for ours, theirs in ((F.upsample_bilinear, TF.upsample_bilinear), (F.upsample_nearest, TF.upsample_nearest)):
        np.testing.assert_allclose(ours(glassnet.tensor(x), scale_factor=2).numpy(),
                                   theirs(torch.tensor(x), scale_factor=2).numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape, kwargs, error, message", [
    ((1, 2, 3, 3), dict(size=4, scale_factor=2), ValueError, "only one of size or scale_factor"),
    ((1, 2, 3, 3), dict(), ValueError, "either size or scale_factor should be defined"),
    ((1, 2, 3, 3), dict(size=(4, 4, 4)), ValueError, r"one value per spatial dimension \(2 for input of shape \(1, 2, 3, 3\)\), got \(4, 4, 4\)"),
    ((1, 2, 3, 3), dict(scale_factor=(2,)), ValueError, r"scale_factor with one value per spatial dimension"),
    ((1, 2, 3, 3), dict(size=4, mode="nearest", align_corners=True), ValueError, "align_corners can only be set"),
    ((1, 2, 3, 3), dict(size=4, mode="linear"), ValueError, r"mode='linear' expected a 3-D input .* got shape \(1, 2, 3, 3\)"),
    ((1, 2, 3), dict(size=4, mode="bilinear"), ValueError, r"mode='bilinear' expected a 4-D input"),
    ((2, 3), dict(size=4), ValueError, r"expected a 3-D, 4-D or 5-D input .* got shape \(2, 3\)"),
    ((1, 2, 3, 3), dict(size=4, mode="cubic"), ValueError, "expected mode in .* got 'cubic'"),
    ((1, 2, 3, 3), dict(size=4, mode="lanczos"), NotImplementedError, "lanczos"),
    ((1, 2, 3), dict(size=4, mode="bicubic"), ValueError, r"mode='bicubic' expected a 4-D input"),
    ((1, 2, 3, 3), dict(size=4, mode="bilinear", antialias=True), NotImplementedError, "antialias"),
    ((1, 2, 3, 3), dict(size=(4, 0)), ValueError, r"size as positive ints, got \(4, 0\)"),
    ((1, 2, 3, 3), dict(scale_factor=-1), ValueError, "scale_factor as positive numbers, got -1"),
    ((1, 2, 3, 3), dict(size=4, recompute_scale_factor=True), ValueError, "not meaningful with an explicit size"),
])
def test_bad_arguments(shape, kwargs, error, message):
    with pytest.raises(error, match=message):
        F.interpolate(glassnet.zeros(*shape), **kwargs)
