"""Grids of small images: a layer's filters, the feature maps of every layer, filtered images.

Maps are drawn with a diverging colour map centred on zero when they have both signs (edge
responses, learned filters: the sign matters) and in grey otherwise.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib import colormaps

from .io import new_figure, save_png


def robust_bound(a: np.ndarray) -> float:
    """The value that maps to the ends of the colour scale: max |a| for small maps (every value
    counts), the 99.5th percentile of |a| for large ones, so that a few extreme pixels (the
    zero-padding edge of a photo, one hot pixel) do not wash out the rest."""
    a = np.abs(np.asarray(a, dtype=np.float64))
    bound = float(a.max()) if a.size <= 256 else float(np.percentile(a, 99.5))
    return bound or float(a.max()) or 1.0


def _draw(ax, a: np.ndarray, title: str = "", values: bool = False, bound: float | None = None,
          diverging: bool = False):
    """One map on ax; returns the image (for a colour bar). Maps with both signs (or when a
    shared bound is given, or diverging=True) use a diverging scale centred on zero, others grey
    from 0."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a[None]  # a 1-D map as one row
    if a.ndim == 3 and a.shape[-1] == 3:
        lo, hi = a.min(), a.max()
        image = ax.imshow((a - lo) / (hi - lo) if hi > lo else np.zeros_like(a), interpolation="nearest")
    else:
        signed = diverging or bound is not None or a.min() < 0
        bound = bound or robust_bound(a)
        # NaN (the padding of a flat output drawn as a square) shows as a neutral grey
        cmap = colormaps["RdBu_r" if signed else "gray"].with_extremes(bad="0.75")
        image = ax.imshow(a, cmap=cmap, vmin=-bound if signed else 0, vmax=bound, interpolation="nearest")
        if values and a.size <= 64:
            for (i, j), v in np.ndenumerate(a):
                ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=8,
                        color="black" if abs(v) < 0.6 * bound else "white")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)
    return image


def grid(maps, titles=None, ncols: int | None = None, values: bool = False, suptitle: str = "",
         cell: float = 1.6, shared: bool = False, colorbar: bool = False, diverging: bool = False):
    """A Figure with one panel per 2-D map (a list or an array (K, H, W)); values=True writes the
    numbers into small maps; shared=True draws every map on one colour scale, centred on zero;
    colorbar=True adds a colour bar (one for the figure when shared, else one per panel);
    diverging=True draws even one-signed maps on a scale centred on zero (weights: 0 is white)."""
    maps = list(maps)
    if not maps:
        raise ValueError("grid needs at least one map")
    titles = list(titles) if titles is not None else [""] * len(maps)
    ncols = ncols or min(len(maps), 8)
    nrows = math.ceil(len(maps) / ncols)
    fig = new_figure(cell * ncols + (0.8 if colorbar else 0), cell * nrows + (0.5 if suptitle else 0))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat[len(maps):]:
        ax.set_axis_off()
    bound = max(robust_bound(m) for m in maps) if shared else None
    for ax, m, t in zip(axes.flat, maps, titles):
        image = _draw(ax, m, t, values, bound, diverging)
        if colorbar and not shared:
            fig.colorbar(image, ax=ax, shrink=0.8)
    if colorbar and shared:
        fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
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


def plot_filters(model_or_weight, path=None, values: bool | None = None, max_filters: int = 64,
                 names=None, title: str = ""):
    """The filters of a model's first convolution (or of a weight array (O, C, *k)) as a grid.

    Learned filters share one colour scale centred on zero, with a colour bar, so that filters
    can be compared; named filters (classic kernels, `names` one per filter) get a scale each,
    since their magnitudes differ by design (Scharr's 10 against the box filter's 1/9). Values
    are written into kernels of at most 3x3 (values=None) -- in larger ones the numbers would
    overlap. 3-channel filters are drawn as colour images (each filter scaled to [0, 1]); other
    filters one panel per (filter, channel) for up to 4 channels, else the channel mean. 1-D
    kernels are rows. Writes a PNG when path is given; returns the Figure.
    """
    w = _weight_of(model_or_weight)
    if w.ndim < 3:
        raise ValueError(f"expected a filter bank of shape (O, C, *kernel_size), got {w.shape}")
    if w.ndim == 5:
        w = w[:, :, w.shape[2] // 2]  # 3-D filters: their middle slice
    w = w[:max_filters]
    out_channels, channels = w.shape[:2]
    values = (w[0, 0].size <= 9) if values is None else values
    labels = list(names)[:out_channels] if names is not None else [f"filter {o}" for o in range(out_channels)]
    heading = (title + "\n" if title else "")
    # numbers in every cell say the values of named kernels; learned ones need the colour bar
    options = dict(values=values, shared=names is None, colorbar=names is None, diverging=True,
                   cell=1.8 if values else 1.4)
    if channels == 3 and w.ndim == 4:
        maps = list(np.moveaxis(w, 1, -1))  # (kh, kw, 3) colour filters
        fig = grid(maps, labels, values=False, suptitle=heading + f"{out_channels} filters (RGB)")
    elif channels <= 4:
        maps = [w[o, c] for o in range(out_channels) for c in range(channels)]
        titles = [labels[o] + (f" c{c}" if channels > 1 else "") for o in range(out_channels) for c in range(channels)]
        ncols = channels if channels > 1 else min(out_channels, 8)
        fig = grid(maps, titles, ncols=ncols if channels > 1 else None, **options,
                   suptitle=heading + f"{out_channels} filters x {channels} channel(s), "
                                      f"{'x'.join(map(str, w.shape[2:]))}")
    else:
        fig = grid(list(w.mean(axis=1)), [f"{t} (mean over {channels} ch)" for t in labels], **options,
                   suptitle=heading + f"{out_channels} filters")
    if path is not None:
        save_png(fig, path)
    return fig


def _square(v: np.ndarray) -> np.ndarray:
    """A long 1-D output (a Flatten of 400 values) as a near-square 2-D block, row by row, padded
    with NaN (drawn blank), so that it reads as a picture instead of a one-pixel strip."""
    side = math.ceil(math.sqrt(v.size))
    out = np.full(side * side, np.nan)
    out[:v.size] = v
    return out.reshape(side, side)  # (side, side)


def plot_feature_maps(layers, path=None, max_maps: int = 8, title: str = ""):
    """Feature maps of every layer: layers is [(name, array (C, *spatial) or (features,))], as
    glassnet.explain.features.feature_maps returns. One row per layer, up to max_maps channels on
    one colour scale per layer (with its colour bar); a layer's flat output of up to 64 values
    (a Linear layer's scores) is drawn as bars, a longer one as a square block of values."""
    layers = list(layers)
    if not layers:
        raise ValueError("plot_feature_maps needs at least one layer output")
    ncols = max(3, max(min(max_maps, a.shape[0]) if np.ndim(a) >= 2 else 1 for _, a in layers))
    fig = new_figure(1.6 * ncols + 1.0, 1.6 * len(layers) + (0.4 if title else 0))
    cells = fig.add_gridspec(len(layers), ncols)
    for r, (name, a) in enumerate(layers):
        a = np.asarray(a, dtype=np.float64)
        label = f"{name} {a.shape}"
        if a.ndim == 1 and a.size <= 64:
            ax = fig.add_subplot(cells[r, :])  # the whole row
            ax.bar(range(a.size), a, color=np.where(a >= 0, "#b2182b", "#2166ac"))
            ax.axhline(0, color="0.5", linewidth=0.5)
            ax.set_xticks(range(a.size))
            ax.tick_params(labelsize=7)
            ax.set_title(label, fontsize=8)
            continue
        if a.ndim == 1:
            a, label = _square(a)[None], label + ", as a square"  # (1, side, side)
        if a.ndim == 4:
            a = a[:, a.shape[1] // 2]  # 3-D maps: the middle slice
        shown = a[:max_maps]
        finite = shown[np.isfinite(shown)]
        signed = bool(finite.size) and finite.min() < 0
        bound = robust_bound(finite) if finite.size else 1.0
        row = [fig.add_subplot(cells[r, c]) for c in range(len(shown))]
        for c, ax in enumerate(row):
            image = _draw(ax, shown[c], "" if c == 0 else f"[{c}]", bound=bound if signed else None)
            if c == 0:
                ax.set_title(label, fontsize=8, loc="left")  # may run on over the next panels, not off the figure
            image.set_clim(-bound if signed else 0, bound)  # one scale for the whole layer
        fig.colorbar(image, ax=row, shrink=0.8, pad=0.01)
    if title:
        fig.suptitle(title, fontsize=10)
    if path is not None:
        save_png(fig, path)
    return fig
