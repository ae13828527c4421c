"""glassnet.functional.pad against torch.nn.functional.pad and finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import glassnet
import glassnet.functional as F

from .parity import assert_finite_differences, assert_matches_torch

CASES = [  # (input shape, pad, mode)
    ((2, 3, 7), (2, 3), "reflect"),
    ((3, 7), (6, 1), "reflect"),
    ((2, 3, 5, 6), (1, 2, 3, 4), "reflect"),
    ((2, 2, 3, 4, 5), (1, 2, 2, 1, 1, 2), "reflect"),
    ((2, 3, 4), (5, 2), "replicate"),
    ((2, 2, 3, 4), (0, 3, 4, 1), "replicate"),
    ((2, 4, 3, 4), (1, 1, 2, 2, 3, 1), "replicate"),
    ((2, 3, 4), (4, 2), "circular"),
    ((2, 2, 3, 4), (1, 4, 3, 0), "circular"),
    ((1, 2, 3, 3, 4), (2, 1, 3, 1, 1, 3), "circular"),
    ((2, 3, 5), (-1, 2), "reflect"),
    ((2, 3, 5), (2, -2), "replicate"),
    ((2, 3, 5, 4), (-1, 2, 1, -2), "circular"),
    ((5,), (2, 3), "constant"),
    ((2, 3, 4, 5), (1, 2), "constant"),
    ((2, 3, 4, 5), (1, 2, 0, 3, 2, 1, 1, 1), "constant"),
    ((2, 3, 4, 5), (-1, 2, 3, -2), "constant"),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, pad, mode", CASES, ids=[f"{c[2]}-{c[1]}" for c in CASES])
def test_matches_torch(shape, pad, mode, dtype):
    x = np.random.default_rng(0).standard_normal(shape)
    assert_matches_torch(lambda t: F.pad(t, pad, mode), lambda t: TF.pad(t, pad, mode), [x], dtype)


@pytest.mark.parametrize("value", [None, 0.0, -2.5])
def test_constant_value_like_torch(value):
    x = np.random.default_rng(1).standard_normal((2, 3, 3)).astype(np.float32)
    ours = F.pad(glassnet.tensor(x), (1, 2, 2, 0), value=value)
    theirs = TF.pad(torch.tensor(x), (1, 2, 2, 0), value=value)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("shape, pad, mode", [c for c in CASES if np.prod(c[0]) <= 80],
                         ids=[f"{c[2]}-{c[1]}" for c in CASES if np.prod(c[0]) <= 80])
def test_finite_differences(shape, pad, mode):
    x = np.random.default_rng(2).standard_normal(shape)
    assert_finite_differences(lambda t: F.pad(t, pad, mode), [x])


@pytest.mark.parametrize("shape, pad, mode, error, message", [
    ((2, 3, 4), (1,), "constant", ValueError, r"even length .* got \(1,\) of length 1"),
    ((2, 3, 4), 1, "constant", TypeError, "tuple of ints, got 1"),
    ((2, 3, 4), (1.5, 1), "constant", TypeError, r"tuple of ints, got \(1.5, 1\)"),
    ((3, 4), (1, 1, 1, 1, 1, 1), "constant", ValueError, "3 .low, high. pairs for an input with 2 dimensions"),
    ((2, 3, 4, 5), (1, 1), "reflect", ValueError, "padding of length 2 for a 4-D input"),
    ((5,), (1, 1), "replicate", ValueError, "padding of length 2 for a 1-D input"),
    ((2, 3, 4), (4, 0), "reflect", ValueError, r"less than the size .* got \(4, 0\) for dimension -1 of size 4"),
    ((2, 3, 4), (0, 5), "circular", ValueError, r"at most the size .* got \(0, 5\) for dimension -1 of size 4"),
    ((2, 3, 4), (-3, -2), "constant", ValueError, r"crop dimension 2 of size 4 by \(-3, -2\)"),
    ((2, 3, 4), (1, 1), "mirror", ValueError, "mode in .*'constant'.* got 'mirror'"),
])
def test_bad_arguments(shape, pad, mode, error, message):
    with pytest.raises(error, match=message):
        F.pad(glassnet.zeros(*shape), pad, mode)


def test_value_with_a_copying_mode_is_refused():
    with pytest.raises(ValueError, match="mode='reflect' takes no value"):
        F.pad(glassnet.zeros(2, 3, 4), (1, 1), "reflect", value=1.0)


def test_integer_input_is_refused():
    with pytest.raises(TypeError, match="floating-point input .* got dtype int64"):
        F.pad(glassnet.tensor([[1, 2], [3, 4]]), (1, 1))
