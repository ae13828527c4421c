"""affine_grid and grid_sample (the spatial transformer's sampler) against torch.nn.functional
(values and the gradients of input, grid and theta, float32 and float64) and finite
differences."""

import numpy as np
import pytest
import torch.nn.functional as TF

import glassnet
import glassnet.functional as F

from .parity import assert_finite_differences, assert_matches_torch


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 1, 3), (2, 1, 3, 2, 4)])
def test_affine_grid_matches_torch(size, align_corners, dtype):
    d = len(size) - 2
    theta = np.random.default_rng(0).standard_normal((size[0], d, d + 1))
    assert_matches_torch(lambda t: F.affine_grid(t, size, align_corners),
                         lambda t: TF.affine_grid(t, size, align_corners), [theta], dtype)


def _points(shape, spread, seed):
    """Grid points, some outside [-1, 1] to reach the padding rules, none on a pixel boundary."""
    return np.random.default_rng(seed).uniform(-spread, spread, shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_matches_torch(mode, padding_mode, align_corners, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5, 6))
    grid = _points((2, 4, 7, 2), 1.6, 2)
    assert_matches_torch(
        lambda x, g: F.grid_sample(x, g, mode, padding_mode, align_corners),
        lambda x, g: TF.grid_sample(x, g, mode, padding_mode, align_corners), [x, grid], dtype)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_finite_differences(padding_mode, align_corners):
    x = np.random.default_rng(3).standard_normal((1, 2, 4, 3))
    grid = _points((1, 3, 2, 2), 1.4, 4)
    assert_finite_differences(lambda x, g: F.grid_sample(x, g, "bilinear", padding_mode, align_corners), [x, grid])


def test_spatial_transformer_step_matches_torch():
    """The tutorial's use: theta from a network, affine_grid, then grid_sample; gradients reach theta."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 1, 8, 8))
    # near a rotation and zoom; the noise keeps the sampled points off exact pixel coordinates, where
    # bilinear sampling has kinks that finite differences cannot see through
    theta = np.array([[[0.9, 0.1, 0.05], [-0.2, 1.1, 0.0]]] * 2) + rng.normal(0, 0.01, (2, 2, 3))

    def ours(x, t):
        return F.grid_sample(x, F.affine_grid(t, (2, 1, 8, 8), align_corners=False), align_corners=False)

    def theirs(x, t):
        return TF.grid_sample(x, TF.affine_grid(t, (2, 1, 8, 8), align_corners=False), align_corners=False)

    assert_matches_torch(ours, theirs, [x, theta])
    assert_finite_differences(ours, [x[:, :, :4, :4], theta])


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.affine_grid(glassnet.zeros(2, 2, 3), (2, 1, 4)), ValueError, r"size \(N, C, H, W\) or \(N, C, D, H, W\)"),
    (lambda: F.affine_grid(glassnet.zeros(2, 3, 4), (2, 1, 4, 4)), ValueError,
     r"theta of shape \(2, 2, 3\) for size \(2, 1, 4, 4\), got \(2, 3, 4\)"),
    (lambda: F.grid_sample(glassnet.zeros(1, 1, 3, 3), glassnet.zeros(1, 2, 2, 3)), ValueError,
     r"grid of shape \(1, H_out, W_out, 2\) for input of shape \(1, 1, 3, 3\), got \(1, 2, 2, 3\)"),
    (lambda: F.grid_sample(glassnet.zeros(1, 3, 3), glassnet.zeros(1, 2, 2, 2)), ValueError, r"input of shape \(N, C, H, W\)"),
    (lambda: F.grid_sample(glassnet.zeros(1, 1, 3, 3), glassnet.zeros(1, 2, 2, 2), mode="cubic"), ValueError, "mode in"),
    (lambda: F.grid_sample(glassnet.zeros(1, 1, 3, 3), glassnet.zeros(1, 2, 2, 2), padding_mode="wrap"), ValueError,
     "padding_mode in"),
    (lambda: F.grid_sample(glassnet.zeros(1, 1, 3, 3), glassnet.zeros(1, 2, 2, 2, dtype=np.float64)), TypeError,
     "grid of the input's dtype float32, got float64"),
    (lambda: F.grid_sample(glassnet.zeros(1, 1, 3, 3), glassnet.zeros(1, 2, 2, 2), mode="bicubic"), NotImplementedError,
     "bicubic"),
    (lambda: F.grid_sample(glassnet.zeros(1, 1, 2, 3, 3), glassnet.zeros(1, 2, 2, 2, 3)), NotImplementedError, "5-D"),
])
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
