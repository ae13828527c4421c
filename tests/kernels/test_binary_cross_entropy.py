"""The binary cross-entropy kernel in plain NumPy: the formula, the clamp at the ends, and the
backward against float64 finite differences."""

import numpy as np
import pytest

from glassnet.kernels.binary_cross_entropy import binary_cross_entropy_backward, binary_cross_entropy_forward
from glassnet.testing import check_gradients


def test_formula_and_clamp():
    x, t = np.array([0.2, 0.0, 1.0]), np.array([1.0, 1.0, 1.0])
    loss, _ = binary_cross_entropy_forward(x, t, reduction="none")
    np.testing.assert_allclose(loss, [-np.log(0.2), 100.0, 0.0])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_backward_against_finite_differences(reduction):
    rng = np.random.default_rng(0)
    x, t, w = rng.uniform(0.1, 0.9, (3, 4)), rng.uniform(0, 1, (3, 4)), rng.uniform(0.5, 2, (4,))
    check_gradients(lambda x, t: binary_cross_entropy_forward(x, t, w, reduction)[0],
                    lambda dy, x, t: binary_cross_entropy_backward(
                        dy, binary_cross_entropy_forward(x, t, w, reduction)[1], needs_target_grad=True),
                    [x, t])
