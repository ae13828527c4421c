"""vec: turning a stack of feature maps into one column vector, and back.

Two orders are used in the lectures and both are offered everywhere a vector appears:

- order="C" (row-major, NumPy's and PyTorch's memory order): a (C, H, W) array is read channel
  by channel, each channel row by row. This is `a.reshape(-1)`.
- order="F" (seed 003's vec): "it stacks the columns of the FMs on top of each other, starting
  from the first FM to the last". Channels still come one after the other; inside a channel the
  first spatial index runs fastest (columns are stacked).

For a 1-D signal (C, n) both orders coincide.
"""

from __future__ import annotations

import numpy as np

ORDERS = ("C", "F")


def _check_order(order: str) -> str:
    """order itself when it is 'C' (row-major) or 'F' (columns stacked, as lecture 003 writes
    vec); otherwise a ValueError naming both."""
    if order not in ORDERS:
        raise ValueError(f"order must be 'C' (row-major) or 'F' (stack columns, seed 003), got {order!r}")
    return order


def vec(a, order: str = "C") -> np.ndarray:
    """Flatten a `(C, *spatial)` array into a vector of `C * prod(spatial)` entries.

    order="C": channel after channel, row after row. order="F": channel after channel, inside a
    channel column after column (seed 003). A single map A of shape (H, W) is passed as A[None];
    then vec(A[None], "F") == A.ravel("F").

    Args:
        a: an array (C, *spatial).
        order: 'C' (row-major) or 'F' (columns stacked, as lecture 003 writes vec).

    Examples:
        >>> import numpy as np
        >>> from glassnet.explain import vec
        >>> a = np.array([[[1, 2], [3, 4]]])       # one 2 x 2 map
        >>> vec(a).tolist(), vec(a, "F").tolist()
        ([1, 2, 3, 4], [1, 3, 2, 4])
    """
    a = np.asarray(a)
    _check_order(order)
    if order == "C" or a.ndim <= 2:
        return a.reshape(-1)  # (C * prod(spatial),)
    # Reverse the spatial axes so that the first spatial index runs fastest, channels stay outermost.
    return a.transpose((0,) + tuple(range(a.ndim - 1, 0, -1))).reshape(-1)  # (C * prod(spatial),)


def unvec(v, shape, order: str = "C") -> np.ndarray:
    """Inverse of `vec`: a vector of prod(shape) back to an array of `shape` = (C, *spatial).

    Args:
        v: a vector of prod(shape) entries.
        shape: (C, *spatial).
        order: the order `vec` used, 'C' or 'F'.

    Examples:
        >>> import numpy as np
        >>> from glassnet.explain import unvec, vec
        >>> a = np.arange(12).reshape(2, 2, 3)
        >>> bool((unvec(vec(a, "F"), a.shape, "F") == a).all())
        True
        >>> unvec([1, 3, 2, 4], (1, 2, 2), "F").tolist()
        [[[1, 2], [3, 4]]]
    """
    v = np.asarray(v)
    shape = tuple(shape)
    _check_order(order)
    if v.size != int(np.prod(shape)):
        raise ValueError(f"unvec expected a vector of {int(np.prod(shape))} entries for shape {shape}, "
                         f"got shape {v.shape}")
    if order == "C" or len(shape) <= 1:
        return v.reshape(shape)  # (C, *spatial)
    reversed_shape = (shape[0],) + shape[:0:-1]  # (C, *reversed spatial)
    # (C, *reversed spatial) -> (C, *spatial)
    return v.reshape(reversed_shape).transpose((0,) + tuple(range(len(shape) - 1, 0, -1)))
