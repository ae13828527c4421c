"""Edge images: an image next to its responses to the classic kernels (seed 002, seed 003)."""

from __future__ import annotations

import numpy as np

from .grids import _draw
from .io import new_figure, save_png


def plot_edges(image, maps: dict, path=None, pooled: dict | None = None):
    """The image and one panel per feature map ({kernel name: map}); with pooled, a second row of
    the max-pooled maps (seed 003). Writes a PNG when path is given; returns the Figure."""
    if not maps:
        raise ValueError("plot_edges needs at least one feature map")
    rows = 2 if pooled else 1
    fig = new_figure(2.0 * (len(maps) + 1), 2.2 * rows)
    axes = fig.subplots(rows, len(maps) + 1, squeeze=False)
    _draw(axes[0, 0], np.asarray(image), "input")
    for ax, (name, m) in zip(axes[0, 1:], maps.items()):
        _draw(ax, m, name)
    if pooled:
        axes[1, 0].set_axis_off()
        for ax, (name, m) in zip(axes[1, 1:], pooled.items()):
            _draw(ax, m, f"{name}, max pooled")
    if path is not None:
        save_png(fig, path)
    return fig


def save_map_png(a, path) -> str:
    """One feature map as a plain image file (grey levels scaled to the map's range; maps with
    both signs are shown as |map|, edges bright)."""
    from matplotlib.image import imsave
    a = np.asarray(a, dtype=np.float64)
    if a.min() < 0:
        a = np.abs(a)
    hi = a.max()
    import os
    folder = os.path.dirname(os.fspath(path))
    if folder:
        os.makedirs(folder, exist_ok=True)
    imsave(path, a / hi if hi > 0 else a, cmap="gray", vmin=0, vmax=1, format="png")
    return str(path)
