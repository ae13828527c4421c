"""pixel_shuffle / pixel_unshuffle against torch.nn.functional and finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet
import glassnet.functional as F

from .parity import assert_finite_differences, assert_matches_torch

CASES = [((2, 8, 3, 4), 2), ((9, 2, 3), 3), ((2, 2, 4, 2, 2), 2), ((1, 1, 2, 2), 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, r", CASES)
def test_shuffle_and_unshuffle_match_torch(shape, r, dtype):
    x = np.random.default_rng(0).standard_normal(shape)
    assert_matches_torch(lambda t: F.pixel_shuffle(t, r), lambda t: TF.pixel_shuffle(t, r), [x], dtype)
    y = TF.pixel_shuffle(torch.tensor(x), r).numpy()
    assert_matches_torch(lambda t: F.pixel_unshuffle(t, r), lambda t: TF.pixel_unshuffle(t, r), [y], dtype)


def test_unshuffle_inverts_shuffle_and_finite_differences():
    x = np.random.default_rng(1).standard_normal((2, 4, 2, 3))
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(glassnet.tensor(x), 2), 2).numpy(),
                                  x.astype(np.float32))
    assert_finite_differences(lambda t: F.pixel_shuffle(t, 2), [x])
    assert_finite_differences(lambda t: F.pixel_unshuffle(t, 2), [x.reshape(2, 1, 4, 6)])


@pytest.mark.parametrize("call, message", [
    (lambda: F.pixel_shuffle(glassnet.zeros(2, 6, 3, 3), 2), r"channel dimension \(size 6 .* divisible by upscale_factor \*\* 2 = 4"),
    (lambda: F.pixel_shuffle(glassnet.zeros(4, 3), 2), r"at least 3 dimensions, got \(4, 3\)"),
    (lambda: F.pixel_shuffle(glassnet.zeros(1, 4, 3, 3), 0), "upscale_factor as a positive int, got 0"),
    (lambda: F.pixel_unshuffle(glassnet.zeros(1, 1, 4, 5), 2), r"divisible by downscale_factor=2, got input of shape \(1, 1, 4, 5\)"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
