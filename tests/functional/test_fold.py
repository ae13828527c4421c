"""unfold (im2col) and fold (col2im) against torch.nn.functional (values and gradients, both
dtypes), finite differences, the convolution they express, and bad arguments."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet
import glassnet.functional as F

from .parity import assert_finite_differences, assert_matches_torch

GEOMETRIES = [  # (input shape, kernel_size, dilation, padding, stride)
    ((2, 3, 5, 6), 2, 1, 0, 1), ((2, 3, 7, 6), (3, 2), (2, 1), (1, 0), (2, 3)), ((1, 2, 4, 4), 3, 1, 1, 1),
    ((3, 5, 6), 2, 1, 1, 2),  # unbatched
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, k, d, p, s", GEOMETRIES)
def test_unfold_and_fold_match_torch(shape, k, d, p, s, dtype):
    x = np.random.default_rng(0).standard_normal(shape)
    assert_matches_torch(lambda t: F.unfold(t, k, d, p, s), lambda t: TF.unfold(t, k, d, p, s), [x], dtype)
    cols = TF.unfold(torch.tensor(x), k, d, p, s).numpy()
    size = shape[-2:]
    assert_matches_torch(lambda t: F.fold(t, size, k, d, p, s), lambda t: TF.fold(t, size, k, d, p, s), [cols], dtype)


@pytest.mark.parametrize("shape, k, d, p, s", GEOMETRIES[1:3])
def test_finite_differences(shape, k, d, p, s):
    x = np.random.default_rng(1).standard_normal(shape)
    assert_finite_differences(lambda t: F.unfold(t, k, d, p, s), [x])
    cols = F.unfold(glassnet.tensor(x, dtype=np.float64), k, d, p, s).numpy()
    assert_finite_differences(lambda t: F.fold(t, shape[-2:], k, d, p, s), [cols])


def test_unfold_then_matmul_is_convolution():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 3, 6, 5)).astype(np.float32), rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    cols = F.unfold(glassnet.tensor(x), 3, padding=1, stride=2)  # (2, 27, L)
    y = (glassnet.tensor(w.reshape(4, -1)) @ cols).reshape(2, 4, 3, 3)
    np.testing.assert_allclose(y.numpy(), TF.conv2d(torch.tensor(x), torch.tensor(w), padding=1, stride=2).numpy(),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("call, message", [
    (lambda: F.unfold(glassnet.zeros(2, 3), 2), r"\(N, C, H, W\) or \(C, H, W\), got \(2, 3\)"),
    (lambda: F.unfold(glassnet.zeros(1, 1, 2, 2), 3), r"finds no window in a spatial size of \(2, 2\)"),
    (lambda: F.unfold(glassnet.zeros(1, 1, 4, 4), 2, padding=-1), "padding >= 0"),
    (lambda: F.fold(glassnet.zeros(1, 5, 4), (3, 3), 2), r"dimension 1 \(5\) to be divisible by the product of kernel_size"),
    (lambda: F.fold(glassnet.zeros(1, 4, 5), (3, 3), 2), r"expected 2 \* 2 = 4 windows .* got input of shape \(1, 4, 5\)"),
    (lambda: F.fold(glassnet.zeros(4, 4, 5, 1), (3, 3), 2), r"\(N, C \* kh \* kw, L\) or \(C \* kh \* kw, L\)"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
