"""glassnet/functional/local.py: tiled_conv and locally_connected refuse wrong arguments themselves,
naming what they expected and what came, in fast and reference mode alike (the kernels trust them)."""

import numpy as np
import pytest

import glassnet
import glassnet.functional as F


def _z(*shape, dtype=np.float32):
    return glassnet.zeros(*shape, dtype=dtype)


BAD = [
    (lambda: F.locally_connected(_z(1, 2, 5, 5), _z(2, 2, 4, 2, 3, 3)), ValueError,
     r"^locally_connected expected a weight with one kernel per output position, leading dims \(3, 3\) "
     r"for input \(1, 2, 5, 5\), got weight \(2, 2, 4, 2, 3, 3\)$"),
    (lambda: F.locally_connected(_z(1, 2, 5, 5), _z(3, 3, 4, 3, 3, 3)), ValueError,
     r"^locally_connected expected input of shape \(N, 3, \.\.\.\) for weight \(3, 3, 4, 3, 3, 3\) and "
     r"groups=1, got \(1, 2, 5, 5\)$"),
    (lambda: F.locally_connected(_z(1, 2, 5, 5, dtype=np.float64), _z(3, 3, 4, 2, 3, 3)), TypeError,
     r"^locally_connected expected input, weight and bias of one float dtype, got input float64, "
     r"weight float32$"),
    (lambda: F.tiled_conv(_z(1, 2, 5, 5), _z(2, 2, 4, 2, 3, 3), _z(3)), ValueError,
     r"^tiled_conv expected bias of shape \(4,\) or \(2, 2, 4\), got \(3,\)$"),
    (lambda: F.tiled_conv(_z(1, 2, 5), _z(2, 2, 4, 2, 3, 3)), ValueError,
     r"^tiled_conv expected input of shape \(N, C, 2 spatial dims\) for weight \(2, 2, 4, 2, 3, 3\), "
     r"got \(1, 2, 5\)$"),
    (lambda: F.tiled_conv(_z(1, 4, 5, 5), _z(2, 2, 4, 2, 3, 3), groups=0), ValueError,
     r"^tiled_conv expected groups to be a positive int, got 0$"),
    (lambda: F.tiled_conv(_z(1, 4, 5, 5), _z(2, 2, 3, 2, 3, 3), groups=2), ValueError,
     r"^tiled_conv expected input of shape \(N, 4, \.\.\.\) for weight \(2, 2, 3, 2, 3, 3\) and groups=2, "
     r"got \(1, 4, 5, 5\)$"),
    (lambda: F.tiled_conv(_z(1, 2, 5, 5), _z(2, 4, 2, 3, 3)), ValueError,
     r"^tiled_conv expected a weight of shape \(\*grid, O, C/groups, \*k\) with 1, 2 or 3 spatial dims "
     r"\(4, 6 or 8 dims\), got \(2, 4, 2, 3, 3\)$"),
]


@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("call, error, message", BAD)
def test_bad_arguments_are_refused_by_the_function_called(call, error, message, reference):
    with glassnet.reference_mode(reference), pytest.raises(error, match=message):
        call()


def test_good_arguments_pass_the_same_checks():
    assert F.locally_connected(_z(1, 2, 5, 5), _z(3, 3, 4, 2, 3, 3), _z(3, 3, 4)).shape == (1, 4, 3, 3)
    assert F.tiled_conv(_z(1, 4, 5, 5), _z(2, 2, 4, 2, 3, 3), _z(4), groups=2).shape == (1, 4, 3, 3)
