"""glassnet.functional p4_lift_conv2d, p4_conv2d and p4_pool refuse wrong arguments themselves,
naming the function, what it expected and what came (values and gradients are tested in
tests/kernels/test_p4.py and tests/nn/test_p4.py)."""

import numpy as np
import pytest

import glassnet
import glassnet.functional as F


def _t(shape, dtype=np.float32):
    return glassnet.tensor(np.zeros(shape, dtype), dtype=dtype)


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.p4_conv2d(_t((1, 3, 5, 5)), _t((2, 3, 4, 3, 3))), ValueError,
     r"p4_conv2d expected input of 5 dims.*got input \(1, 3, 5, 5\)"),
    (lambda: F.p4_conv2d(_t((1, 2, 4, 5, 5)), _t((2, 3, 4, 3, 3))), ValueError,
     r"p4_conv2d expected input of shape \(N, 3, 4, H, W\).*got input \(1, 2, 4, 5, 5\)"),
    (lambda: F.p4_lift_conv2d(_t((1, 2, 5, 5)), _t((2, 3, 3, 3))), ValueError,
     r"p4_lift_conv2d expected input of shape \(N, 3, H, W\), got \(1, 2, 5, 5\)"),
    (lambda: F.p4_lift_conv2d(_t((1, 3, 5, 5)), _t((2, 3, 3, 5))), ValueError, r"square weight"),
    (lambda: F.p4_lift_conv2d(_t((1, 3, 5, 5)), _t((2, 3, 3, 3), np.float64)), TypeError,
     "p4_lift_conv2d expected input and weight of one float dtype, got input float32, weight float64"),
    (lambda: F.p4_pool(_t((1, 3, 2, 5, 5))), ValueError, r"p4_pool expected input of shape \(N, C, 4, H, W\), "
                                                          r"got \(1, 3, 2, 5, 5\)"),
    (lambda: F.p4_pool(_t((1, 3, 4, 5, 5)), "sum"), ValueError, r"p4_pool mode must be 'max' or 'avg', got 'sum'"),
])
def test_bad_arguments_are_refused_naming_the_function(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_the_same_calls_run_with_good_arguments():
    assert F.p4_conv2d(_t((1, 3, 4, 5, 5)), _t((2, 3, 4, 3, 3))).shape == (1, 2, 4, 3, 3)
    assert F.p4_lift_conv2d(_t((1, 3, 5, 5)), _t((2, 3, 3, 3))).shape == (1, 2, 4, 3, 3)
    assert F.p4_pool(_t((1, 3, 4, 5, 5)), "avg").shape == (1, 3, 5, 5)
