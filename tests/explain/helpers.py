"""Shared test helpers: reference convolutions (PyTorch, and glassnet's engine when present)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF

from glassnet.kernels.sizes import resolve_padding


def torch_conv(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", flip=False):
    """Reference N-D convolution of one sample x (C, *n) with w (O, C/g, *k) -> (O, *out), float64."""
    nd = w.ndim - 2
    k = w.shape[2:]
    stride_t = (stride,) * nd if isinstance(stride, int) else tuple(stride)
    dil_t = (dilation,) * nd if isinstance(dilation, int) else tuple(dilation)
    pads = resolve_padding(padding, k, stride_t, dil_t, x.shape[1:])
    xt = torch.tensor(np.asarray(x, dtype=np.float64))[None]
    # torch's F.pad lists pairs from the last dimension backwards
    flat = [v for pair in reversed(pads) for v in pair]
    mode = {"zeros": "constant"}.get(padding_mode, padding_mode)
    xt = TF.pad(xt, flat, mode=mode) if any(flat) else xt
    wt = torch.tensor(np.asarray(w, dtype=np.float64))
    if flip:
        wt = torch.flip(wt, dims=tuple(range(2, 2 + nd)))
    bt = None if bias is None else torch.tensor(np.asarray(bias, dtype=np.float64))
    conv = {1: TF.conv1d, 2: TF.conv2d, 3: TF.conv3d}[nd]
    return conv(xt, wt, bt, stride=stride_t, dilation=dil_t, groups=groups)[0].numpy()


def engine_conv():
    """glassnet.kernels.conv.conv_forward, or None while the engine is not there."""
    try:
        from glassnet.kernels.conv import conv_forward
    except ImportError:
        return None
    return conv_forward
