"""glassnet/functional/_checks.py: each convolution-family entry refuses a wrong argument itself,
naming the function, what it expected and what came (the kernels below check nothing)."""

import numpy as np
import pytest

import glassnet
import glassnet.functional as F
from glassnet.functional._checks import shape_text


def _z(*shape):
    return glassnet.zeros(*shape)


CALLS = {
    "conv2d": lambda mode: F.conv2d(_z(1, 2, 6, 6), _z(3, 2, 3, 3), padding=1, padding_mode=mode),
    "conv": lambda mode: F.conv(_z(1, 2, 6), _z(3, 2, 3), padding=1, padding_mode=mode),
    "conv_map": lambda mode: F.conv_map(_z(1, 2, 6, 6), _z(2, 3, 3), table=np.eye(2, dtype=bool), padding=1,
                                        padding_mode=mode),
    "p4_lift_conv2d": lambda mode: F.p4_lift_conv2d(_z(1, 2, 6, 6), _z(3, 2, 3, 3), padding=1, padding_mode=mode),
    "p4_conv2d": lambda mode: F.p4_conv2d(_z(1, 2, 4, 6, 6), _z(3, 2, 4, 3, 3), padding=1, padding_mode=mode),
    "tiled_conv": lambda mode: F.tiled_conv(_z(1, 2, 6, 6), _z(2, 2, 3, 2, 3, 3), padding=1, padding_mode=mode),
    "locally_connected": lambda mode: F.locally_connected(_z(1, 2, 4, 4), _z(4, 4, 3, 2, 3, 3), padding=1,
                                                          padding_mode=mode),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_unknown_padding_mode_is_refused_by_the_function_called(name):
    assert CALLS[name]("circular").shape[0] == 1  # the call itself is valid with a known mode
    with pytest.raises(ValueError, match=rf"^{name}: padding_mode must be one of \('zeros', 'reflect', "
                                         r"'replicate', 'circular'\), got 'mirror'$"):
        CALLS[name]("mirror")


def test_conv_map_refuses_mismatched_dtypes_before_the_kernels():
    x = glassnet.zeros(1, 2, 6, 6, dtype=np.float64)
    with pytest.raises(TypeError, match=r"conv_map got input of dtype float64 and weight of dtype float32"):
        F.conv_map(x, _z(2, 3, 3), table=np.eye(2, dtype=bool))


@pytest.mark.parametrize("nd, channels, batched, expected", [
    (1, "C", True, "(N, C, L)"), (2, 3, True, "(N, 3, H, W)"), (2, "C", False, "(C, H, W)"),
    (3, 16, False, "(16, D, H, W)"), (4, "C", True, "(N, C, d1, d2, d3, d4)")])
def test_shape_text(nd, channels, batched, expected):
    assert shape_text(nd, channels, batched) == expected
