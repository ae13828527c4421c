"""Every BLAS product a kernel makes runs inside single_threaded_blas (kernels/fast/threads.py).

A product made outside it runs at the user's OpenBLAS thread count, and OpenBLAS's worker then
spins for about 0.1 s on a core that glassnet's own threads need: the (32, 128, 16x16) 3x3
convolution took 59 ms instead of 35 that way, from the Winograd kernel transform alone. The
modules' `np` is replaced by one whose products check that a hold is open.
"""

import numpy as np
import pytest

from glassnet.kernels import local
from glassnet.kernels.fast import threads, winograd_f2, winograd_f4


class _HeldNumpy:
    """numpy, with tensordot, matmul and dot refusing to run outside a BLAS hold."""

    def __getattr__(self, name):
        function = getattr(np, name)
        if name not in ("tensordot", "matmul", "dot"):
            return function

        def checked(*args, **kwargs):
            assert threads._blas_depth > 0, f"np.{name} outside single_threaded_blas"
            return function(*args, **kwargs)
        return checked


@pytest.fixture
def held(monkeypatch):
    # the kernel transforms' numba loops compiled first: numba reads a module's globals (np
    # among them) when it compiles, and remembers a failed compilation for the process
    w = np.ones((4, 3, 3, 3), np.float32)
    winograd_f2.kernel_transform_adjoint(winograd_f2.kernel_transform(w))
    winograd_f4.kernel_transform(w)
    for module in (winograd_f2, winograd_f4, local):
        monkeypatch.setattr(module, "np", _HeldNumpy())


def test_the_check_sees_a_product_outside_a_hold(held):
    with pytest.raises(AssertionError, match="outside single_threaded_blas"):
        winograd_f2.np.tensordot(np.ones((2, 2)), np.ones((2, 2)), axes=1)


def test_winograd_kernel_transforms_make_no_product_outside_a_hold(held):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    u = winograd_f2.kernel_transform(w)  # (16, C_in, C_out)
    assert u.shape == (16, 3, 4)
    assert winograd_f2.kernel_transform_adjoint(u).shape == (4, 3, 3, 3)
    assert winograd_f4.kernel_transform(w).shape == (36, 3, 4)


def test_tiled_and_local_products_hold_the_blas(held):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((2, 2, 4, 3, 3, 3)).astype(np.float32)  # (*tiles, O, C, *k)
    y = local.tiled_forward(x, w, tiles=(2, 2))
    dx, dw, _ = local.tiled_backward(np.ones_like(y), x, w, tiles=(2, 2), needs=(True, True, False))
    assert dx.shape == x.shape and dw.shape == w.shape
