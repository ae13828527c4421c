"""Equivariance and invariance, measured (seed 001, seed 004; Goodfellow et al. fig. 9.8).

f is equivariant to a transformation T when f(T x) = T' f(x), with T' the matching transformation
of the output. A convolution is equivariant to translations: shift the input by t and the output
shifts by t / (total stride), exactly, away from the borders (where zero padding and the
entering zeros differ). Pooling makes the output approximately *invariant* to small shifts: most
pooled values do not change at all (fig. 9.8: "only half of the values in the top row have
changed"). Neither is equivariant to rotation or scaling (seed 004): f(rot x) != rot f(x) unless
the kernels happen to be symmetric.

`equivariance(f, x, ...)` applies T to x, runs f on both, and reports how far f(T x) is from
T' f(x) (equivariance) and from f(x) (invariance), over the output units not affected by the
borders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .layers import as_layers
from .receptive import receptive_field

TRANSFORMS = ("translate", "rotate", "scale")


def _as_function(f):
    """A callable on ndarrays (N, C, *spatial) -> ndarray for a glassnet module or any callable.

    glassnet modules are run on a float32 Tensor without recording gradients.
    """
    try:
        from ..nn import Module
    except ImportError:  # the nn package is optional for plain functions
        Module = ()
    if Module and isinstance(f, Module):
        from .. import no_grad, tensor

        def run(x):
            with no_grad():
                return np.asarray(f(tensor(np.asarray(x, dtype=np.float32))).data)
        return run
    if not callable(f):
        raise TypeError(f"equivariance expected a glassnet module or a function of an array, got {type(f).__name__}")
    return lambda x: _data(f(x))


def _data(y):
    return np.asarray(y)  # a glassnet Tensor converts itself (__array__)


def shift(a: np.ndarray, t: int, axis: int) -> np.ndarray:
    """Translate a by t positions along axis (towards higher indices for t > 0), filling with zeros:
    the shift T of f(T x) = T' f(x) in equivariance, with zeros entering.

    Examples:
        >>> import numpy as np
        >>> from glassnet.explain.equivariance import shift
        >>> a = np.array([1, 2, 3, 4, 5])
        >>> shift(a, 2, axis=0), shift(a, -1, axis=0)
        (array([0, 0, 1, 2, 3]), array([2, 3, 4, 5, 0]))
        >>> shift(np.arange(6).reshape(2, 3), 1, axis=1)   # along each row
        array([[0, 0, 1],
               [0, 3, 4]])
    """
    out = np.zeros_like(a)
    n = a.shape[axis]
    src = [slice(None)] * a.ndim
    dst = [slice(None)] * a.ndim
    if t >= 0:
        src[axis], dst[axis] = slice(0, max(n - t, 0)), slice(t, n)
    else:
        src[axis], dst[axis] = slice(-t, n), slice(0, max(n + t, 0))
    out[tuple(dst)] = a[tuple(src)]
    return out


def _upscale(a: np.ndarray, factor: int, nd: int) -> np.ndarray:
    for axis in range(a.ndim - nd, a.ndim):
        a = np.repeat(a, factor, axis=axis)  # nearest-neighbour enlargement
    return a


@dataclass(frozen=True)
class Equivariance:
    """How f reacts to a transformation T of its input.

    error: max |f(T x) - T' f(x)| over the compared units (0 for an equivariant f);
    relative_error: ||f(T x) - T' f(x)|| / ||T' f(x)||;
    invariance_error: max |f(T x) - f(x)| (translation only; 0 for an invariant f);
    changed_fraction: fraction of compared output units whose value changed under T
    (translation only; fig. 9.8 counts these);
    input_changed_fraction: the same fraction for the input units;
    output_shift: the shift T' applied to the output (input shift / total stride);
    aligned: False when the input shift is not a multiple of the total stride, so no exact
    output shift exists and the error is not expected to be 0.
    transformed_output, output_transformed: the two arrays compared, f(T x) and T' f(x), cut to
    the compared region (both of one shape).
    equivariant: aligned and relative_error < 1e-5. str(): a one-line summary.

    What `equivariance` returns.

    Examples:
        >>> import numpy as np
        >>> from glassnet import nn
        >>> from glassnet.explain import equivariance
        >>> x = np.random.default_rng(0).normal(size=(1, 1, 16, 16)).astype(np.float32)
        >>> r = equivariance(nn.Conv2d(1, 2, 3), x, shift_by=1)
        >>> r.equivariant, r.aligned, r.output_shift, r.changed_fraction   # shifted, so every unit changed
        (True, True, 1, 1.0)
        >>> r.transformed_output.shape == r.output_transformed.shape
        True
        >>> print(equivariance(lambda a: np.maximum(a, 0), x, transform="rotate"))
        rotate: max |f(Tx) - T'f(x)| = 0 (relative 0)
    """
    transform: str
    error: float
    relative_error: float
    invariance_error: float | None
    changed_fraction: float | None
    input_changed_fraction: float | None
    output_shift: int | None
    aligned: bool
    transformed_output: np.ndarray  # f(T x), compared region
    output_transformed: np.ndarray  # T' f(x), compared region

    @property
    def equivariant(self) -> bool:
        return self.aligned and self.relative_error < 1e-5

    def __str__(self) -> str:
        text = f"{self.transform}: max |f(Tx) - T'f(x)| = {self.error:.4g} (relative {self.relative_error:.3g})"
        if self.transform == "translate":
            text += (f"; output shift {self.output_shift}{'' if self.aligned else ' (not aligned with the stride)'}"
                     f"; max |f(Tx) - f(x)| = {self.invariance_error:.4g}; {100 * self.changed_fraction:.0f}% of "
                     f"output units changed ({100 * self.input_changed_fraction:.0f}% of input units)")
        return text


def _model_geometry(f, nd):
    """Total stride (jump) and receptive field size per dimension of a glassnet model, if known."""
    try:
        layers = as_layers(f)
    except Exception:
        return None
    if not any(layer.is_window for layer in layers) or any(layer.kind in ("linear", "flatten") for layer in layers):
        return None
    rf = receptive_field(layers, ndim=nd)
    return rf.jump, rf.size


def equivariance(f, x, transform: str = "translate", shift_by: int = 1, axis: int = -1, margin=None,
                 stride=None, turns: int = 1, factor: int = 2) -> Equivariance:
    """Measure equivariance (and invariance) of f to a transformation of x.

    f: a glassnet module (Conv2d, MaxPool2d, Sequential, ...) or a function of an array
    (N, C, *spatial) -> (N, C', *spatial'). x: (N, C, *spatial) array.
    transform="translate": shift x by shift_by along spatial axis `axis` (zeros enter); the output
    is expected to shift by shift_by / stride, where stride is the model's total stride (read off
    a glassnet model, else given, default 1). margin: output units ignored at both ends of that
    axis (default for a model: its receptive field in output units plus the output shift; for a
    plain function: the output shift).
    transform="rotate": rotate the last two spatial axes by turns quarter turns.
    transform="scale": enlarge every spatial axis by an integer factor (nearest neighbour); both
    outputs are cropped to their common shape.

    Examples:
        A convolution is equivariant to shifts; after a stride-2 pooling a 1-pixel shift has no
        exact output shift, so the error is not 0 (seed 001, seed 004):

        >>> import numpy as np
        >>> from glassnet import nn
        >>> from glassnet.explain import equivariance
        >>> x = np.random.default_rng(0).normal(size=(1, 1, 16, 16)).astype(np.float32)
        >>> r = equivariance(nn.Conv2d(1, 4, 3), x, shift_by=2)
        >>> r.error < 1e-5, r.output_shift
        (True, 2)
        >>> r = equivariance(nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2)), x, shift_by=1)
        >>> r.aligned, r.error > 0.1
        (False, True)
    """
    if transform not in TRANSFORMS:
        raise ValueError(f"transform must be one of {TRANSFORMS}, got {transform!r}")
    x = np.asarray(x)
    if x.ndim < 3:
        raise ValueError(f"equivariance expected a batch x of shape (N, C, *spatial), got {x.shape}")
    nd = x.ndim - 2
    run = _as_function(f)
    y = run(x)
    if transform == "rotate":
        if nd < 2:
            raise ValueError(f"rotation needs 2 spatial dimensions, x has shape {x.shape}")
        yt = run(np.rot90(x, turns, axes=(-2, -1)).copy())
        ty = np.rot90(y, turns, axes=(-2, -1))
        if yt.shape != ty.shape:
            raise ValueError(f"f(rotated x) has shape {yt.shape} but rotated f(x) has {ty.shape}; use a square input")
        return _report("rotate", yt, ty, None, None, None, None, True)
    if transform == "scale":
        if not isinstance(factor, int) or factor < 2:
            raise ValueError(f"scale factor must be an int >= 2, got {factor!r}")
        yt = run(_upscale(x, factor, nd))
        ty = _upscale(y, factor, nd)
        common = tuple(min(a, b) for a, b in zip(yt.shape, ty.shape))
        crop = tuple(slice(0, c) for c in common)
        return _report("scale", yt[crop], ty[crop], None, None, None, None, True)

    spatial_axis = axis % nd
    array_axis = 2 + spatial_axis
    geometry = _model_geometry(f, nd)
    if stride is None:
        stride = geometry[0][spatial_axis] if geometry else 1
    aligned = shift_by % stride == 0
    out_shift = shift_by // stride if aligned else int(round(shift_by / stride))
    if margin is None:
        field = math.ceil(geometry[1][spatial_axis] / stride) if geometry else 0
        margin = field + abs(out_shift)
    xt = shift(x, shift_by, array_axis)
    yt = run(xt)
    ty = shift(y, out_shift, array_axis)
    n_out = y.shape[array_axis]
    if 2 * margin >= n_out:
        raise ValueError(f"margin {margin} leaves no output units to compare along axis {axis} "
                         f"(output size {n_out}); use a larger input or a smaller margin")
    keep = [slice(None)] * y.ndim
    keep[array_axis] = slice(margin, n_out - margin)
    keep = tuple(keep)
    n_in = x.shape[array_axis]
    in_keep = [slice(None)] * x.ndim
    in_keep[array_axis] = slice(abs(shift_by), n_in - abs(shift_by))
    in_changed = float(np.mean(xt[tuple(in_keep)] != x[tuple(in_keep)]))
    changed = float(np.mean(~np.isclose(yt[keep], y[keep], rtol=1e-5, atol=1e-6)))
    invariance = float(np.max(np.abs(yt[keep] - y[keep])))
    return _report("translate", yt[keep], ty[keep], invariance, changed, in_changed, out_shift, aligned)


def _report(transform, yt, ty, invariance, changed, in_changed, out_shift, aligned) -> Equivariance:
    diff = yt.astype(np.float64) - ty
    error = float(np.max(np.abs(diff))) if diff.size else 0.0
    norm = float(np.linalg.norm(ty))
    relative = float(np.linalg.norm(diff) / norm) if norm else (0.0 if error == 0 else math.inf)
    return Equivariance(transform, error, relative, invariance, changed, in_changed, out_shift, aligned, yt, ty)
