"""Elementwise kernels shared among the threads: the machinery behind kernels/activation.py.

An activation's forward or backward is a few NumPy calls that write one output array (the
formula is in kernels/activation.py, as `into(*inputs, out)`). On large arrays elementwise
runs those calls on pieces of the arrays side by side in glassnet's threads (NumPy's loops
release the GIL). The pieces are cut from the flat memory when the arrays are laid out alike
(so a batch of one is shared too), else by sample. An element's value does not depend on the
piece it was in.
"""

from __future__ import annotations

import numpy as np

from . import allocator
from .handoff import address, compiled_part
from .threads import PARALLEL_BYTES, split_compiled


def elementwise(into, *arrays: np.ndarray, parts: dict | None = None) -> np.ndarray:
    """out = np.empty_like(arrays[0]) (same shape, dtype and layout), with into(*pieces, out_piece)
    called on matching pieces of the arrays (all of one shape) and of out: the whole arrays when
    they are small, else pieces shared among the threads. When every array is laid out alike
    without gaps (any batch size, 1 included) the pieces are ranges of flat memory (1-D views,
    also when the arrays are small), else slices of the first axis. parts: `into`'s parts by
    dtype.char (relu.py's, compiled by handoff.compiled_part), used for flat pieces of one
    dtype: their block is [lo, hi, the address of each flat array, out last]
    (threads.split_compiled)."""
    out = allocator.empty_like(arrays[0])  # from glassnet's pool when large (allocator.py)
    arrays = arrays + (out,)
    flat = out.ndim > 0 and _alike(arrays, out.strides) and (out.flags.c_contiguous or _dense(out))
    if flat:
        arrays = tuple([a.ravel(order="K") for a in arrays])  # views: same layout, no gaps
    if out.ndim == 0 or out.nbytes <= PARALLEL_BYTES:
        into(*arrays)
        return out
    function = parts.get(out.dtype.char) if flat and parts and _one_dtype(arrays, out.dtype) else None
    part = compiled_part(function) if function else 0
    addresses = [address(a) for a in arrays] if part else []
    split_compiled(arrays[-1].shape[0], lambda i0, i1: into(*(a[i0:i1] for a in arrays)), part,
                   lambda i0, i1: np.array([i0, i1, *addresses], dtype=np.int64))
    return out


def _one_dtype(arrays: tuple, dtype) -> bool:
    for a in arrays:
        if a.dtype != dtype:
            return False
    return True


def _alike(arrays: tuple, strides: tuple) -> bool:
    """Whether every array has these strides (a loop: this runs for every activation call)."""
    for a in arrays:
        if a.strides != strides:
            return False
    return True


def _dense(a: np.ndarray) -> bool:
    """Whether a's elements fill its memory span without gaps, in any axis order, all strides positive."""
    span = sum((n - 1) * s for n, s in zip(a.shape, a.strides)) + a.itemsize
    return all(s > 0 for s in a.strides) and span == a.nbytes

