"""Grids of small images: a layer's filters, the feature maps of every layer, filtered images.

Maps are drawn with a diverging colour map centred on zero when they have both signs (edge
responses, learned filters: the sign matters) and in grey otherwise.
"""

from __future__ import annotations

import math

import numpy as np

from .io import new_figure, save_png


def _draw(ax, a: np.ndarray, title: str = "", values: bool = False) -> None:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a[None]  # a 1-D map as one row
    if a.ndim == 3 and a.shape[-1] == 3:
        lo, hi = a.min(), a.max()
        ax.imshow((a - lo) / (hi - lo) if hi > lo else np.zeros_like(a), interpolation="nearest")
    else:
        bound = float(np.abs(a).max()) or 1.0
        if a.min() < 0:
            ax.imshow(a, cmap="RdBu_r", vmin=-bound, vmax=bound, interpolation="nearest")
        else:
            ax.imshow(a, cmap="gray", vmin=0, vmax=bound, interpolation="nearest")
        if values and a.size <= 64:
            for (i, j), v in np.ndenumerate(a):
                ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=8,
                        color="black" if abs(v) < 0.6 * bound else "white")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def grid(maps, titles=None, ncols: int | None = None, values: bool = False, suptitle: str = "",
         cell: float = 1.6):
    """A Figure with one panel per 2-D map (a list or an array (K, H, W)); values=True writes the
    numbers into small maps."""
    maps = list(maps)
    if not maps:
        raise ValueError("grid needs at least one map")
    titles = list(titles) if titles is not None else [""] * len(maps)
    ncols = ncols or min(len(maps), 8)
    nrows = math.ceil(len(maps) / ncols)
    fig = new_figure(cell * ncols, cell * nrows + (0.4 if suptitle else 0))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat[len(maps):]:
        ax.set_axis_off()
    for ax, m, t in zip(axes.flat, maps, titles):
        _draw(ax, m, t, values)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return fig


def _weight_of(model_or_weight) -> np.ndarray:
    """First convolution weight of a model, or the array itself."""
    if hasattr(model_or_weight, "modules"):
        for module in model_or_weight.modules():
            if hasattr(module, "weight") and hasattr(module, "kernel_size") and module.weight is not None:
                return np.asarray(module.weight.data)
        raise ValueError(f"{type(model_or_weight).__name__} has no convolution layer to take filters from")
    return np.asarray(model_or_weight)


def plot_filters(model_or_weight, path=None, values: bool | None = None, max_filters: int = 64):
    """The filters of a model's first convolution (or of a weight array (O, C, *k)) as a grid.

    3-channel filters are drawn as colour images (each filter scaled to [0, 1]); other filters one
    panel per (filter, channel) for up to 4 channels, else the channel mean. 1-D kernels are rows.
    Writes a PNG when path is given; returns the Figure.
    """
    w = _weight_of(model_or_weight)
    if w.ndim < 3:
        raise ValueError(f"expected a filter bank of shape (O, C, *kernel_size), got {w.shape}")
    if w.ndim == 5:
        w = w[:, :, w.shape[2] // 2]  # 3-D filters: their middle slice
    w = w[:max_filters]
    out_channels, channels = w.shape[:2]
    values = (w[0, 0].size <= 25) if values is None else values
    if channels == 3 and w.ndim == 4:
        maps = list(np.moveaxis(w, 1, -1))  # (kh, kw, 3) colour filters
        titles = [f"filter {o}" for o in range(out_channels)]
        fig = grid(maps, titles, values=False, suptitle=f"{out_channels} filters (RGB)")
    elif channels <= 4:
        maps = [w[o, c] for o in range(out_channels) for c in range(channels)]
        titles = [f"f{o}" + (f" c{c}" if channels > 1 else "") for o in range(out_channels) for c in range(channels)]
        ncols = channels if channels > 1 else min(out_channels, 8)
        fig = grid(maps, titles, ncols=ncols if channels > 1 else None, values=values,
                   suptitle=f"{out_channels} filters x {channels} channel(s)")
    else:
        fig = grid(list(w.mean(axis=1)), [f"f{o} (mean over {channels} ch)" for o in range(out_channels)],
                   values=values, suptitle=f"{out_channels} filters")
    if path is not None:
        save_png(fig, path)
    return fig


def plot_feature_maps(layers, path=None, max_maps: int = 8):
    """Feature maps of every layer: layers is [(name, array (C, *spatial) or (features,))], as
    glassnet.explain.features.feature_maps returns. One row per layer, up to max_maps channels;
    flat outputs are drawn as a single row of values."""
    layers = list(layers)
    if not layers:
        raise ValueError("plot_feature_maps needs at least one layer output")
    ncols = max(min(max_maps, a.shape[0]) if a.ndim >= 2 else 1 for _, a in layers)
    fig = new_figure(1.5 * ncols + 0.5, 1.5 * len(layers))
    axes = fig.subplots(len(layers), ncols, squeeze=False)
    for row, (name, a) in zip(axes, layers):
        for ax in row:
            ax.set_axis_off()
        if a.ndim == 1:
            row[0].set_axis_on()
            _draw(row[0], a, f"{name} {a.shape}")
            continue
        if a.ndim == 4:
            a = a[:, a.shape[1] // 2]  # 3-D maps: the middle slice
        for c, ax in enumerate(row[:min(max_maps, a.shape[0])]):
            ax.set_axis_on()
            _draw(ax, a[c], f"{name} [{c}]" if c == 0 else f"[{c}]")
    if path is not None:
        save_png(fig, path)
    return fig
