"""ReLU's two passes as compiled loops: one read and one write per element.

NumPy's np.maximum(x, 0) checks every element for NaN on its way and the backward's mask took
three passes (compare, subtract, multiply); for LeNet-5's (64, 6, 28, 28) map, one thread,
np.maximum took 65 us and the three-pass backward 174 us, where these loops take 50 and 115 us
(the arrays no longer fit in one core's cache, so that is mostly memory traffic). The formulas
are kernels/activation.py's:

    y  = max(x, 0)                   written x if not x <= 0 else 0: a NaN passes (NaN <= 0 is false)
    dx = dy where y > 0, else 0      written dy if not y <= 0 else 0: a chosen value, not dy * mask,
                                     so that a blocked dy of inf or NaN gives 0, as in PyTorch

The loops run on the flat float32 or float64 pieces kernels/fast/elementwise.py cuts when the
arrays are laid out alike (any batch size); other pieces (arrays laid out differently, float16)
take the same formulas in NumPy.
"""

from __future__ import annotations

import numpy as np
from numba import carray, njit

from .handoff import pointer

_OPTIONS = dict(nogil=True, cache=True, error_model="numpy")


def _flat(*pieces: np.ndarray) -> bool:
    """Whether the compiled loops take these pieces: 1-D, all float32 or all float64."""
    kind = pieces[0].dtype.char
    if pieces[0].ndim != 1 or kind not in "fd":
        return False
    for p in pieces:
        if p.dtype.char != kind:
            return False
    return True


@njit(**_OPTIONS)
def _relu(x, y):
    for i in range(x.shape[0]):
        v = x[i]
        y[i] = v if not v <= 0 else 0


@njit(**_OPTIONS)
def _relu_grad(dy, y, dx):
    for i in range(dy.shape[0]):
        dx[i] = dy[i] if not y[i] <= 0 else 0


# The same loops as parts of a split (threads.split_compiled, compiled by handoff.compiled_part):
# the block is [lo, hi, the address of each flat array], and the part runs the loop on lo:hi.

def _relu_part32(block):
    b = carray(pointer(block, np.int64), 4)
    _relu(carray(pointer(b[2], np.float32), b[1])[b[0]:], carray(pointer(b[3], np.float32), b[1])[b[0]:])


def _relu_part64(block):
    b = carray(pointer(block, np.int64), 4)
    _relu(carray(pointer(b[2], np.float64), b[1])[b[0]:], carray(pointer(b[3], np.float64), b[1])[b[0]:])


def _relu_grad_part32(block):
    b = carray(pointer(block, np.int64), 5)
    _relu_grad(carray(pointer(b[2], np.float32), b[1])[b[0]:], carray(pointer(b[3], np.float32), b[1])[b[0]:],
               carray(pointer(b[4], np.float32), b[1])[b[0]:])


def _relu_grad_part64(block):
    b = carray(pointer(block, np.int64), 5)
    _relu_grad(carray(pointer(b[2], np.float64), b[1])[b[0]:], carray(pointer(b[3], np.float64), b[1])[b[0]:],
               carray(pointer(b[4], np.float64), b[1])[b[0]:])


RELU_PARTS = {"f": _relu_part32, "d": _relu_part64}  # by dtype.char, for elementwise()
RELU_GRAD_PARTS = {"f": _relu_grad_part32, "d": _relu_grad_part64}


def relu_into(x: np.ndarray, y: np.ndarray) -> None:
    """y = max(x, 0) for pieces x, y of one shape."""
    if _flat(x, y):
        _relu(x, y)
    else:
        np.maximum(x, np.zeros((), x.dtype), out=y)


def relu_grad_into(dy: np.ndarray, y: np.ndarray, dx: np.ndarray) -> None:
    """dx = dy where y > 0 (or y is NaN), else 0, for pieces of one shape."""
    if _flat(dy, y, dx):
        _relu_grad(dy, y, dx)
    else:
        np.copyto(dx, np.where(y <= 0, np.zeros((), dy.dtype), dy))
