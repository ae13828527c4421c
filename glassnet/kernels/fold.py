"""unfold (im2col) and fold (col2im), as torch.nn.functional computes them, in plain NumPy.

unfold writes every (dilated, strided) kernel window of a padded (N, C, H, W) input as one column:

    cols[n, (c, i, j), (p, q)] = x_padded[n, c, p s_h + i d_h, q s_w + j d_w]

giving (N, C kh kw, L) with L = out_h * out_w; the row index runs over c, then i, then j, and the
column index over p, then q (PyTorch's order). A convolution is then W (out, C kh kw) @ cols.
fold is its adjoint: every column entry is added back onto the pixel it came from (overlapping
windows sum), and the padding is cut off. So each is the other's backward.

unfold is glassnet.kernels.windows.sliding_windows reshaped; fold loops over the kh * kw kernel
offsets, each adding one strided slice (the lecture's "patches" loop, not a loop over pixels).
"""

from __future__ import annotations

import numpy as np

from .windows import pad, sliding_windows

__all__ = ["unfold", "fold"]


def unfold(x: np.ndarray, kernel_size, dilation, padding, stride, out_shape) -> np.ndarray:
    """x (N, C, H, W) -> (N, C * kh * kw, out_h * out_w); padding as ((top, bottom), (left, right))."""
    n, c = x.shape[:2]
    windows = sliding_windows(pad(x, padding), kernel_size, stride, dilation, out_shape)  # (N, C, oh, ow, kh, kw)
    cols = windows.transpose(0, 1, 4, 5, 2, 3)  # (N, C, kh, kw, oh, ow)
    return cols.reshape(n, c * int(np.prod(kernel_size)), int(np.prod(out_shape)))  # a copy: the view is strided


def fold(cols: np.ndarray, output_size, kernel_size, dilation, padding, stride, out_shape) -> np.ndarray:
    """cols (N, C * kh * kw, L) -> (N, C, *output_size), summing overlapping windows."""
    n = cols.shape[0]
    (kh, kw), (dh, dw), (sh, sw), (oh, ow) = kernel_size, dilation, stride, out_shape
    c = cols.shape[1] // (kh * kw)
    blocks = cols.reshape(n, c, kh, kw, oh, ow)  # (N, C, kh, kw, oh, ow)
    (top, bottom), (left, right) = padding
    h, w = output_size
    out = np.zeros((n, c, h + top + bottom, w + left + right), cols.dtype)  # padded
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw] += blocks[:, :, i, j]
    return np.ascontiguousarray(out[:, :, top:top + h, left:left + w])
