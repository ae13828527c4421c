"""Edge images: an image next to its responses to the classic kernels (seed 002, seed 003)."""

from __future__ import annotations

import numpy as np

from .grids import _draw, robust_bound
from .io import new_figure, save_png

MIN_PIXELS = 280  # small maps are enlarged (whole pixels repeated) to at least this many pixels a side


def plot_edges(image, maps: dict, path=None, pooled: dict | None = None, title: str = ""):
    """The image and one panel per feature map ({kernel name: map}), each with its colour bar
    (red: the kernel's positive side brighter, blue: the negative side); with pooled, a second
    row of the max-pooled maps (seed 003). The colour scale ends at the 99.5th percentile of
    |map| (see robust_bound), so a few extreme pixels do not wash out the rest. Writes a PNG
    when path is given; returns the Figure."""
    if not maps:
        raise ValueError("plot_edges needs at least one feature map")
    rows = 2 if pooled else 1
    fig = new_figure(2.6 * (len(maps) + 1), 2.4 * rows + (0.4 if title else 0))
    axes = fig.subplots(rows, len(maps) + 1, squeeze=False)
    fig.colorbar(_draw(axes[0, 0], np.asarray(image), "input"), ax=axes[0, 0], shrink=0.8)
    for ax, (name, m) in zip(axes[0, 1:], maps.items()):
        fig.colorbar(_draw(ax, m, name, diverging=True), ax=ax, shrink=0.8)
    if pooled:
        axes[1, 0].set_axis_off()
        for ax, (name, m) in zip(axes[1, 1:], pooled.items()):
            fig.colorbar(_draw(ax, m, f"{name}, max pooled", diverging=True), ax=ax, shrink=0.8)
    if title:
        fig.suptitle(title, fontsize=10)
    if path is not None:
        save_png(fig, path)
    return fig


def save_map_png(a, path) -> str:
    """One feature map as a plain image file: |map| in grey levels (edges of either sign bright),
    0 black and the 99.5th percentile of |map| white (robust_bound: a few extreme pixels do not
    wash out the rest), enlarged by repeating pixels to at least MIN_PIXELS a side."""
    import os

    from matplotlib.image import imsave
    a = np.abs(np.asarray(a, dtype=np.float64))
    factor = max(1, -(-MIN_PIXELS // min(a.shape)))  # ceil(MIN_PIXELS / shortest side)
    a = np.repeat(np.repeat(a, factor, axis=0), factor, axis=1)  # (H * factor, W * factor)
    folder = os.path.dirname(os.fspath(path))
    if folder:
        os.makedirs(folder, exist_ok=True)
    imsave(path, np.clip(a / robust_bound(a), 0, 1), cmap="gray", vmin=0, vmax=1, format="png")
    return str(path)
