"""Differentiable tensor arithmetic: elementwise math, matmul, reductions, shape changes.

Each operation is a Function whose forward and backward sit side by side (micrograd's habit),
followed by its lowercase wrapper. The neural-network operations (convolution, pooling,
activations, losses) live in glassnet.functional, on top of glassnet.kernels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .autograd import Function, TensorBase


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a gradient over the dimensions that broadcasting added or stretched, back to `shape`.

    If y = a + b with a of shape (3, 1) and b of shape (4,), y has shape (3, 4); every a[i, 0]
    was used 4 times, so its gradient is the sum over the stretched axis.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def _shape(x) -> tuple[int, ...]:
    return np.shape(x)


# ---- elementwise arithmetic -----------------------------------------------------------------

class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        return np.add(a, b)

    @staticmethod
    def backward(ctx, dy):
        sa, sb = ctx.shapes
        return unbroadcast(dy, sa), unbroadcast(dy, sb)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = _shape(a), _shape(b)
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, dy):
        sa, sb = ctx.shapes
        return unbroadcast(dy, sa), unbroadcast(-dy, sb)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved
        da = unbroadcast(dy * b, _shape(a)) if ctx.needs_input_grad[0] else None
        db = unbroadcast(dy * a, _shape(b)) if ctx.needs_input_grad[1] else None
        return da, db


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.divide(a, b)

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved
        da = unbroadcast(dy / b, _shape(a)) if ctx.needs_input_grad[0] else None
        db = unbroadcast(-dy * a / (b * b), _shape(b)) if ctx.needs_input_grad[1] else None
        return da, db


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, dy):
        return (-dy,)


class Pow(Function):
    """y = a ** p. dy/da = p a^(p-1); dy/dp = a^p ln(a), for a tensor exponent p."""

    @staticmethod
    def forward(ctx, a, p):
        y = np.power(a, p)
        ctx.save_for_backward(a, p, y)
        return y

    @staticmethod
    def backward(ctx, dy):
        a, p, y = ctx.saved
        da = dp = None
        if ctx.needs_input_grad[0]:
            # where p == 0 the gradient is 0, also at a = 0 where p a^(p-1) would be 0 * inf
            with np.errstate(divide="ignore", invalid="ignore"):
                g = dy * p * np.power(a, p - 1)
            da = unbroadcast(np.where(p == 0, np.zeros((), dy.dtype), g), _shape(a))
        if ctx.needs_input_grad[1]:
            # PyTorch's convention: 0 where a == 0 and p >= 0 (the limit of a^p ln a as a -> 0+)
            with np.errstate(divide="ignore", invalid="ignore"):
                g = dy * y * np.log(a)
            dp = unbroadcast(np.where((a == 0) & (p >= 0), np.zeros((), dy.dtype), g), _shape(p))
        return da, dp


class Maximum(Function):
    """Elementwise max(a, b) (torch.maximum, and torch.max(a, b)). Where a == b the gradient
    is split in half between them, as PyTorch does; NaN propagates and takes the gradient."""

    @staticmethod
    def forward(ctx, a, b, largest=True):
        y = np.maximum(a, b) if largest else np.minimum(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, dy):
        a, b, y = ctx.saved
        from_a = (a == y) | np.isnan(a)
        from_b = (b == y) | np.isnan(b)
        share = np.where(from_a & from_b, np.asarray(0.5, dy.dtype), np.asarray(1.0, dy.dtype))
        da = unbroadcast(dy * share * from_a, _shape(a)) if ctx.needs_input_grad[0] else None
        db = unbroadcast(dy * share * from_b, _shape(b)) if ctx.needs_input_grad[1] else None
        return da, db


class Sin(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, dy):
        (a,) = ctx.saved
        return (dy * np.cos(a),)


class Cos(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cos(a)

    @staticmethod
    def backward(ctx, dy):
        (a,) = ctx.saved
        return (-dy * np.sin(a),)


class Sinh(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sinh(a)

    @staticmethod
    def backward(ctx, dy):
        (a,) = ctx.saved
        return (dy * np.cosh(a),)


class Cosh(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.cosh(a)

    @staticmethod
    def backward(ctx, dy):
        (a,) = ctx.saved
        return (dy * np.sinh(a),)


class Log1p(Function):
    """log(1 + a), exact for small a where 1 + a would round to 1."""
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log1p(a)

    @staticmethod
    def backward(ctx, dy):
        (a,) = ctx.saved
        return (dy / (1 + a),)


class DivRounded(Function):
    """a / b rounded toward zero ('trunc') or down ('floor'), as torch.div(rounding_mode=).
    The result is piecewise constant, so its gradient is zero (PyTorch's too)."""

    @staticmethod
    def forward(ctx, a, b, rounding_mode="trunc"):
        ctx.shapes = _shape(a), _shape(b)
        if np.result_type(a, b).kind in "iub":  # integers stay integers, as in PyTorch
            q = np.floor_divide(a, b)
            if rounding_mode == "trunc":  # floor and trunc differ where the signs differ and b doesn't divide a
                q = q + ((q < 0) & (q * b != a))
            return q
        q = np.divide(a, b)
        return np.trunc(q) if rounding_mode == "trunc" else np.floor(q)

    @staticmethod
    def backward(ctx, dy):
        sa, sb = ctx.shapes
        return np.zeros(sa, dy.dtype), np.zeros(sb, dy.dtype)


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        y = np.exp(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved
        return (dy * y,)


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, dy):
        (a,) = ctx.saved
        return (dy / a,)


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        y = np.sqrt(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved
        return (dy / (2 * y),)


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, dy):
        (a,) = ctx.saved
        return (dy * np.sign(a).astype(dy.dtype),)


class Clamp(Function):
    """min(max(a, lo), hi). The gradient passes where lo <= a <= hi (PyTorch's convention at
    the boundary). Bounds may be numbers or arrays broadcasting with a; they are constants here
    (tensor bounds that need gradients go through Maximum)."""

    @staticmethod
    def forward(ctx, a, min=None, max=None):
        ctx.save_for_backward(a)
        ctx.bounds = min, max  # (read by the ONNX exporter too)
        y = a if min is None else np.maximum(a, min)
        return y if max is None else np.minimum(y, max)

    @staticmethod
    def backward(ctx, dy):
        (a,) = ctx.saved
        lo, hi = ctx.bounds
        mask = np.ones(a.shape, dtype=bool)
        if lo is not None:
            mask = mask & (a >= lo)
        if hi is not None:
            mask = mask & (a <= hi)
        return (dy * mask,)


class Clone(Function):
    """A copy that stays in the graph (the gradient passes through unchanged)."""

    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, dy):
        return (dy,)


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        ctx.dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, dy):
        return dy.astype(ctx.dtype), None


# ---- matrix product -------------------------------------------------------------------------

class MatMul(Function):
    """a @ b with NumPy's rules: 1-D operands are promoted, leading dimensions broadcast."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            return np.matmul(a, b)
        except ValueError:
            raise ValueError(f"matmul expected shapes (..., n, k) @ (..., k, m) with matching k and "
                             f"broadcastable batch dimensions, got {np.shape(a)} @ {np.shape(b)}") from None

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved
        # promote 1-D operands to matrices so one formula serves every case
        a2 = a[None, :] if a.ndim == 1 else a  # (1, k) for a vector on the left
        b2 = b[:, None] if b.ndim == 1 else b  # (k, 1) for a vector on the right
        dy2 = dy
        # restore the dimensions matmul removed; the right vector's first, so that a 1-D @ 1-D
        # scalar () becomes (1,) and then (1, 1)
        if b.ndim == 1:
            dy2 = np.expand_dims(dy2, -1)
        if a.ndim == 1:
            dy2 = np.expand_dims(dy2, -2)
        da = db = None
        if ctx.needs_input_grad[0]:
            da = unbroadcast(dy2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            db = unbroadcast(np.swapaxes(a2, -1, -2) @ dy2, b2.shape).reshape(b.shape)
        return da, db


# ---- reductions -----------------------------------------------------------------------------

def normalize_dim(dim: int, ndim: int) -> int:
    """A dim in [-ndim, ndim) as an index in [0, ndim), as in PyTorch (a 0-d tensor takes 0 and -1).

    Plain `dim % ndim` would silently turn an out-of-range dim into a valid, wrong one.
    """
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _axes(dim, ndim: int) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if not dims:  # dim=() reduces over everything, as in PyTorch
        return tuple(range(ndim))
    axes = tuple(normalize_dim(d, ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise ValueError(f"dim {dim} names a dimension more than once")
    return axes if ndim else ()


def _restore_dims(g: np.ndarray, axes: tuple[int, ...], keepdim: bool) -> np.ndarray:
    """Re-insert reduced axes as size 1 so the gradient broadcasts over the input."""
    return g if keepdim else np.expand_dims(g, axes)


class Sum(Function):
    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, _axes(dim, a.ndim), keepdim
        return np.sum(a, axis=ctx.axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, dy):
        return (np.broadcast_to(_restore_dims(dy, ctx.axes, ctx.keepdim), ctx.shape).copy(),)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = a.shape, _axes(dim, a.ndim), keepdim
        ctx.count = int(np.prod([a.shape[i] for i in ctx.axes]))
        return np.mean(a, axis=ctx.axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, dy):
        g = _restore_dims(dy, ctx.axes, ctx.keepdim) / np.asarray(ctx.count, dy.dtype)
        return (np.broadcast_to(g, ctx.shape).copy(),)


class Var(Function):
    """Variance with Bessel's correction `correction` (1: unbiased, as torch.var's default)."""

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False, correction=1):
        axes = _axes(dim, a.ndim)
        count = int(np.prod([a.shape[i] for i in axes]))
        centred = a - a.mean(axis=axes, keepdims=True)
        ctx.save_for_backward(centred)
        ctx.axes, ctx.keepdim, ctx.denom = axes, keepdim, max(count - correction, 0)
        return np.sum(centred * centred, axis=axes, keepdims=keepdim) / np.asarray(ctx.denom, a.dtype)

    @staticmethod
    def backward(ctx, dy):
        (centred,) = ctx.saved
        g = _restore_dims(dy, ctx.axes, ctx.keepdim)
        return (2 * g * centred / np.asarray(ctx.denom, dy.dtype),)


class MaxMin(Function):
    """max or min. Over one dim (PyTorch's max(dim)), the gradient goes to the element whose
    index is returned: the first extreme one. Over all elements (PyTorch's max()), it is shared
    evenly among tied extremes, as PyTorch does."""

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False, largest=True):
        find = np.argmax if largest else np.argmin
        ctx.mark_non_differentiable(1)
        if dim is None or a.ndim == 0:  # a 0-d tensor takes dim 0 or -1, as in PyTorch
            if dim is not None:
                normalize_dim(dim, 0)
            flat = a.reshape(-1)
            idx = find(flat)
            ctx.shape, ctx.dim = a.shape, None
            out = flat[idx].reshape((1,) * a.ndim if keepdim else ())
            # every element equal to the extreme shares its gradient (NaN, the extreme if present, ties with NaN)
            ctx.save_for_backward((a == flat[idx]) | (np.isnan(a) & np.isnan(flat[idx])))
            return out, np.asarray(idx, dtype=np.int64)
        d = normalize_dim(dim, a.ndim)
        idx = np.expand_dims(find(a, axis=d), d)  # (..., 1, ...) at d
        out = np.take_along_axis(a, idx, axis=d)
        ctx.save_for_backward(idx)
        ctx.shape, ctx.dim, ctx.keepdim = a.shape, d, keepdim
        if not keepdim:
            out, idx = out.squeeze(d), idx.squeeze(d)
        return out, idx.astype(np.int64)

    @staticmethod
    def backward(ctx, dy, _):
        g = np.zeros(ctx.shape, dy.dtype)
        if ctx.dim is None:
            (ties,) = ctx.saved
            g[ties] = dy.reshape(()) / np.count_nonzero(ties)
        else:
            up = dy if ctx.keepdim else np.expand_dims(dy, ctx.dim)
            (index,) = ctx.saved
            np.put_along_axis(g, index, up, axis=ctx.dim)
        return (g,)


# ---- shape changes --------------------------------------------------------------------------

class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        try:
            return a.reshape(shape)
        except (ValueError, TypeError):
            raise ValueError(f"shape {tuple(shape)} is invalid for an input of shape {a.shape} "
                             f"({a.size} elements)") from None

    @staticmethod
    def backward(ctx, dy):
        return dy.reshape(ctx.shape), None


class Permute(Function):
    @staticmethod
    def forward(ctx, a, dims):
        if len(dims) != a.ndim:
            raise ValueError(f"permute needs {a.ndim} dims for a tensor of shape {a.shape}, got {dims}")
        ctx.dims = tuple(normalize_dim(d, a.ndim) for d in dims)
        return np.transpose(a, ctx.dims)

    @staticmethod
    def backward(ctx, dy):
        return np.transpose(dy, np.argsort(ctx.dims)), None


class Expand(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        try:
            return np.broadcast_to(a, shape)
        except ValueError:
            raise ValueError(f"expand: a tensor of shape {a.shape} can only stretch dimensions of size 1 "
                             f"(and gain leading ones), got target shape {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, dy):
        return unbroadcast(dy, ctx.shape), None


def _is_basic_index(index) -> bool:
    """Basic indices (ints, slices, None, ...) select each element at most once."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice, type(None), type(Ellipsis))) for i in items)


class GetItem(Function):
    @staticmethod
    def forward(ctx, a, index):
        ctx.shape, ctx.dtype = a.shape, a.dtype
        ctx.save_for_backward(index)  # index arrays can be large: saved, so backward frees them
        return a[index]

    @staticmethod
    def backward(ctx, dy):
        g = np.zeros(ctx.shape, ctx.dtype)
        (index,) = ctx.saved
        if _is_basic_index(index):
            g[index] = dy
        else:  # advanced indexing may pick an element twice: accumulate, don't overwrite
            np.add.at(g, index, dy)
        return g, None


class Gather(Function):
    """y[..., i, ...] = a[..., index[..., i, ...], ...] along dim (torch.gather); backward adds
    each dy back where it was read from (an element read twice gets both)."""

    @staticmethod
    def forward(ctx, a, index, dim=0):
        ctx.shape, ctx.dim = a.shape, dim
        ctx.save_for_backward(index)
        return np.take_along_axis(a, index, axis=dim)

    @staticmethod
    def backward(ctx, dy):
        (index,) = ctx.saved
        where = list(np.ix_(*[np.arange(n) for n in index.shape]))  # open grids over index's shape
        where[ctx.dim] = index
        g = np.zeros(ctx.shape, dy.dtype)
        np.add.at(g, tuple(where), dy)
        return g, None


class Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.dim = normalize_dim(dim, arrays[0].ndim)
        ctx.splits = np.cumsum([a.shape[ctx.dim] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=ctx.dim)

    @staticmethod
    def backward(ctx, dy):
        return tuple(np.split(dy, ctx.splits, axis=ctx.dim))


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.dim = normalize_dim(dim, arrays[0].ndim + 1)
        return np.stack(arrays, axis=ctx.dim)

    @staticmethod
    def backward(ctx, dy):
        return tuple(np.moveaxis(dy, ctx.dim, 0))


class Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        ctx.shapes = _shape(a), _shape(b)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, dy):
        sa, sb = ctx.shapes
        zero = np.zeros((), dy.dtype)
        (condition,) = ctx.saved
        return (None, unbroadcast(np.where(condition, dy, zero), sa),
                unbroadcast(np.where(condition, zero, dy), sb))


def _is_tensor(x) -> bool:
    return isinstance(x, TensorBase)  # glassnet.Tensor (tensor.py imports this module, not the reverse)


def _same_float_dtype(name: str, items) -> None:
    """Refuse to mix float32 and float64 tensors (NumPy would silently give float64)."""
    dtypes = sorted({str(x.dtype) for x in items if _is_tensor(x) and x.dtype.kind == "f"})
    if len(dtypes) > 1:
        raise TypeError(f"{name} got tensors of dtypes {' and '.join(dtypes)}; convert them to one "
                        "dtype with .float() or .double() (glassnet never upcasts silently)")


def _sequence(name: str, tensors) -> tuple:
    if isinstance(tensors, np.ndarray) or not isinstance(tensors, Sequence) or len(tensors) == 0:
        raise TypeError(f"{name} expected a non-empty list or tuple of tensors, got {type(tensors).__name__}"
                        + (f" of length {len(tensors)}" if isinstance(tensors, Sequence) else ""))
    _same_float_dtype(name, tensors)
    return tuple(tensors)


def cat(tensors: Sequence, dim: int = 0):
    """Concatenate along an existing dimension: shapes must agree except in `dim`."""
    tensors = _sequence("cat", tensors)
    for i, t in enumerate(tensors):
        if not _is_tensor(t):
            raise TypeError(f"cat expected a sequence of Tensors, got {type(t).__name__} at position {i}")
        if t.ndim == 0:
            raise ValueError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    # PyTorch's legacy rule: empty 1-D tensors, of shape (0,), are skipped next to others
    if any(t.shape != (0,) for t in tensors):
        tensors = tuple(t for t in tensors if t.shape != (0,))
    first = tensors[0].shape
    d = normalize_dim(dim, len(first))
    for i, t in enumerate(tensors[1:], 1):
        if t.ndim != len(first) or t.shape[:d] + t.shape[d + 1:] != first[:d] + first[d + 1:]:
            raise ValueError(f"cat expected tensors of matching sizes except in dimension {dim}: tensor 0 "
                             f"has shape {tuple(first)}, tensor {i} has shape {tuple(t.shape)}")
    return Cat.apply(*tensors, dim=d)


def stack(tensors: Sequence, dim: int = 0):
    """Join equal-shaped tensors along a new dimension `dim`."""
    return Stack.apply(*_sequence("stack", tensors), dim=dim)


def where(condition, input, other):
    """input where condition is true, other elsewhere (all three broadcast together)."""
    _same_float_dtype("where", (input, other))
    # a number or array next to a float tensor takes the tensor's dtype, as in Tensor's operators
    dtype = next((t.dtype for t in (input, other) if _is_tensor(t) and t.dtype.kind == "f"), None)
    if dtype is not None:
        input, other = (t if _is_tensor(t) else np.asarray(t, dtype=dtype) for t in (input, other))
    cond = condition.data if _is_tensor(condition) else np.asarray(condition)
    return Where.apply(cond.astype(bool), input, other)
