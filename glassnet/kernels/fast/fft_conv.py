"""Convolution through the FFT, for long kernels at stride 1 (chosen by size in kernels/conv.py).

A direct convolution costs about prod(k) multiply-adds per output value; through the Fourier
transform it costs a few transforms of length L plus one complex product per frequency, whatever
the kernel size (the convolution theorem). For a 251-tap kernel over 16000 samples that is the
difference between ~4 GFLOP and a few tens of MFLOP.

With the dilated kernel wd (extent E = d (k - 1) + 1, zeros between taps) and arrays of length
L >= padded input size Sp on every axis, the circular sums below never wrap into the positions
that are kept, so they equal the linear ones (channels-first, o, i, j multi-indices):

    forward     y[n, co, o]  = sum_c sum_j xp[n, c, o + j] wd[co, c, j]
                             = irfft( sum_c X[n, c] conj(Wd[co, c]) )[o],       o < out
    input grad  dxp[n, c, i] = sum_co sum_j dy[n, co, i - j] wd[co, c, j]       (seed 003: full
                             = irfft( sum_co DY[n, co] Wd[co, c] )[i],          correlation of dY
                                                                                with rot180(W))
    weight grad dwd[co, c, j] = sum_n sum_o dy[n, co, o] xp[n, c, o + j]        (seed 003: dZ * V)
                             = irfft( sum_n X[n, c] conj(DY[n, co]) )[j],       j < E; dw = dwd[::d]

Extra memory: the spectra of input, weight and output, about (N C + C_out C + N C_out) L values,
proportional to the arrays themselves (no prod(k)-fold patch matrix).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.fft

from ..sizes import dilated_extent
from ..windows import pad_backward
from .threads import get_num_threads

MIN_TAPS = 64  # short kernels (3x3, 5x5, ...) cost fewer flops directly than three transforms


def worthwhile(x_shape, w_shape, stride, groups: int) -> bool:
    """True when the FFT path is cheaper: stride 1, no groups, a long kernel, and a flop estimate
    (transforms ~ 2.5 L log2 L each, complex products 8 per channel pair and frequency) several
    times below the direct 2 prod(k) multiply-adds per output value."""
    k = math.prod(w_shape[2:])
    if groups != 1 or any(s != 1 for s in stride) or k < MIN_TAPS:
        return False
    n, c, co = x_shape[0], x_shape[1], w_shape[0]
    length = math.prod(x_shape[2:])  # about the transform length (before padding)
    direct = 2.0 * n * co * c * length * k
    fft = 2.5 * length * math.log2(max(length, 2)) * (n * c + co * c + n * co) + 8.0 * n * co * c * length
    return direct > 4 * fft


def _dilated(w: np.ndarray, dilation) -> np.ndarray:
    """wd[..., j * d] = w[..., j], zeros between taps: (C_out, C, *E) with E = d (k - 1) + 1."""
    if all(d == 1 for d in dilation):
        return w
    extent = tuple(dilated_extent(k, d) for k, d in zip(w.shape[2:], dilation))
    wd = np.zeros(w.shape[:2] + extent, dtype=w.dtype)
    wd[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)] = w
    return wd


def _lengths(spatial) -> tuple[int, ...]:
    return tuple(scipy.fft.next_fast_len(n, real=True) for n in spatial)


def _contract(a: np.ndarray, b: np.ndarray, conj_b: bool) -> np.ndarray:
    """sum_c a[n, c, f] b[m, c, f] (b conjugated if asked) -> (n, m, f), a loop over the few channels."""
    out = np.zeros((a.shape[0], b.shape[0]) + a.shape[2:], dtype=a.dtype)
    for c in range(a.shape[1]):
        bc = np.conj(b[:, c]) if conj_b else b[:, c]
        out += a[:, c, None] * bc[None]  # (n, m, *freq)
    return out


def correlate(xp: np.ndarray, w: np.ndarray, dilation, out_shape) -> np.ndarray:
    """Stride-1 correlation of padded xp (N, C, *Sp) with w (C_out, C, *k) -> (N, C_out, *out)."""
    nd = w.ndim - 2
    axes = tuple(range(2, 2 + nd))
    lengths = _lengths(xp.shape[2:])
    xf = scipy.fft.rfftn(xp, lengths, axes=axes, workers=get_num_threads())  # (N, C, *freq)
    wf = scipy.fft.rfftn(_dilated(w, dilation), lengths, axes=axes, workers=get_num_threads())  # (C_out, C, *freq)
    y = scipy.fft.irfftn(_contract(xf, wf, conj_b=True), lengths, axes=axes, workers=get_num_threads())  # (N, C_out, *L)
    return np.ascontiguousarray(y[(Ellipsis,) + tuple(slice(0, o) for o in out_shape)])


def correlate_backward(dy: np.ndarray, xp: np.ndarray | None, w: np.ndarray, dilation,
                       need_dx: bool, need_dw: bool) -> tuple:
    """(dxp, dw) of `correlate` for upstream dy (N, C_out, *out); dxp has xp's padded shape."""
    nd = w.ndim - 2
    axes = tuple(range(2, 2 + nd))
    wd = _dilated(w, dilation)
    padded = tuple(o + e - 1 for o, e in zip(dy.shape[2:], wd.shape[2:]))  # Sp = out + E - 1 at stride 1
    lengths = _lengths(padded)
    dyf = scipy.fft.rfftn(dy, lengths, axes=axes, workers=get_num_threads())  # (N, C_out, *freq)
    dxp = dw = None
    if need_dx:
        wf = scipy.fft.rfftn(wd, lengths, axes=axes, workers=get_num_threads())  # (C_out, C, *freq)
        g = _contract(dyf, wf.swapaxes(0, 1), conj_b=False)  # (N, C, *freq): sum over C_out
        dxp = scipy.fft.irfftn(g, lengths, axes=axes, workers=get_num_threads())
        dxp = np.ascontiguousarray(dxp[(Ellipsis,) + tuple(slice(0, p) for p in padded)])
    if need_dw:
        xf = scipy.fft.rfftn(xp, lengths, axes=axes, workers=get_num_threads())  # (N, C, *freq)
        g = _contract(dyf.swapaxes(0, 1).conj(), xf.swapaxes(0, 1), conj_b=False)  # (C_out, C, *freq): sum over N
        dwd = scipy.fft.irfftn(g, lengths, axes=axes, workers=get_num_threads())
        dw = np.ascontiguousarray(dwd[(Ellipsis,) + tuple(slice(0, e, d) for e, d in zip(wd.shape[2:], dilation))])
    return dxp, dw


def conv_forward(xp: np.ndarray, w: np.ndarray, bias: np.ndarray | None, dilation, out_shape) -> np.ndarray:
    """y (N, C_out, *out) = correlate(xp, w) + bias, for the padded xp (N, C, *Sp) (NCHW)."""
    y = correlate(xp, w, dilation, out_shape)  # (N, C_out, *out)
    if bias is not None:
        y += bias.reshape((-1,) + (1,) * len(out_shape))
    return y


def conv_backward(dy: np.ndarray, xp: np.ndarray | None, w: np.ndarray, pads, padding_mode: str, dilation,
                  need_dx: bool, need_dw: bool) -> tuple:
    """(dx, dw) of conv_forward, dx w.r.t. the unpadded input (the padding's adjoint applied:
    windows.pad_backward); xp is needed for dw only. Both share one transform of dY."""
    dxp, dw = correlate_backward(np.asarray(dy), xp, w, dilation, need_dx, need_dw)
    return (pad_backward(dxp, pads, padding_mode) if need_dx else None), dw
