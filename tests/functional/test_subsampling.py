"""glassnet.functional.subsampling refuses a wrong coefficient or bias itself, naming what it
expected and what came (values and gradients are tested in tests/kernels/test_subsampling.py and
tests/nn/test_subsampling.py)."""

import numpy as np
import pytest

import glassnet
import glassnet.functional as F


def _t(shape, dtype=np.float32):
    return glassnet.tensor(np.ones(shape, dtype), dtype=dtype)


@pytest.mark.parametrize("weight, bias, error, message", [
    ((2,), None, ValueError, r"subsampling expected one coefficient and one bias per input map, shapes \(3,\), "
                             r"got weight \(2,\)"),
    ((3,), (4,), ValueError, r"shapes \(3,\), got weight \(3,\), bias \(4,\)"),
    (((3,), np.float64), None, TypeError, "subsampling expected input, weight and bias of one float dtype, "
                                          "got input float32, weight float64"),
])
def test_bad_coefficients_are_refused(weight, bias, error, message):
    w = _t(*weight) if isinstance(weight[0], tuple) else _t(weight)
    b = None if bias is None else _t(bias)
    with pytest.raises(error, match=message):
        F.subsampling(_t((1, 3, 4, 4)), w, b)
    assert F.subsampling(_t((1, 3, 4, 4)), _t((3,)), _t((3,))).shape == (1, 3, 2, 2)  # good arguments run
