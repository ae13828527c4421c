"""The resampling kernel in plain NumPy: the backward is the adjoint of the forward
(<A x, y> = <x, A^T y>), the source indices follow PyTorch's rules on small cases worked by
hand from the formulas, and finite differences."""

import numpy as np
import pytest

from glassnet.kernels.interpolate import interpolate_backward, interpolate_forward, source_indices
from glassnet.testing import check_gradients

CASES = [((2, 3, 7), (3,)), ((2, 3, 4), (11,)), ((1, 2, 5, 3), (2, 8)), ((1, 1, 3, 4, 2), (6, 2, 5))]


@pytest.mark.parametrize("mode, align_corners", [("nearest", False), ("nearest-exact", False), ("linear", False),
                                                 ("linear", True), ("cubic", False), ("cubic", True)])
@pytest.mark.parametrize("shape, size", CASES)
def test_backward_is_the_adjoint(shape, size, mode, align_corners):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    y, cache = interpolate_forward(x, size, mode, align_corners)
    dy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(np.vdot(y, dy), np.vdot(x, interpolate_backward(dy, cache)), rtol=1e-12)


@pytest.mark.parametrize("shape, size", CASES[:3])
def test_linear_backward_against_finite_differences(shape, size):
    x = np.random.default_rng(1).standard_normal(shape)
    check_gradients(lambda x: interpolate_forward(x, size, "linear")[0],
                    lambda dy, x: (interpolate_backward(dy, interpolate_forward(x, size, "linear")[1]),), [x])


def test_cubic_weights_sum_to_one_and_interpolate():
    """Keys' kernel is a partition of unity and passes through the samples: with corners aligned
    and 2n - 1 outputs, every even output sits on an input sample."""
    taps = source_indices(10, 19, "cubic", True, None, np.float64)
    np.testing.assert_allclose(sum(w for _, w in taps), 1, rtol=1e-12)
    samples = np.random.default_rng(2).standard_normal(10)
    y = sum(samples[i] * w for i, w in taps)
    np.testing.assert_allclose(y[::2], samples, rtol=1e-12)


def test_source_indices_by_hand():
    # 4 -> 8, half-pixel centres: src = (o + 1/2) / 2 - 1/2, clamped at 0; past the last input
    # (o = 7: src = 3.25) both taps are the last input
    (i0, w0), (i1, w1) = source_indices(4, 8, "linear", False, None, np.float64)
    np.testing.assert_array_equal(i0, [0, 0, 0, 1, 1, 2, 2, 3])
    np.testing.assert_array_equal(i1, [1, 1, 1, 2, 2, 3, 3, 3])
    np.testing.assert_allclose(w1, [0, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75, 0.25])
    np.testing.assert_allclose(w0 + w1, 1)
    # 3 -> 5 with corners aligned: src = o * 2 / 4
    (i0, _), (i1, w1) = source_indices(3, 5, "linear", True, None, np.float64)
    np.testing.assert_array_equal(i0, [0, 0, 1, 1, 2])
    np.testing.assert_allclose(w1, [0, 0.5, 0, 0.5, 0])
    # nearest 5 -> 3: floor(o * 5/3); nearest-exact: floor((o + 1/2) * 5/3)
    np.testing.assert_array_equal(source_indices(5, 3, "nearest", False, None, np.float32)[0][0], [0, 1, 3])
    np.testing.assert_array_equal(source_indices(5, 3, "nearest-exact", False, None, np.float32)[0][0], [0, 2, 4])
    # a given scale factor is used as given: 1 / 2.5 = 0.4 per output step
    np.testing.assert_array_equal(source_indices(2, 5, "nearest", False, 2.5, np.float32)[0][0], [0, 0, 0, 1, 1])
