"""Figures for the lectures (matplotlib, drawn headless with the Agg canvas).

    plot_filters(model_or_weight, path)       grid of a model's first-layer filters       (grids.py)
    plot_feature_maps(layers, path)           feature maps of every layer                 (grids.py)
    plot_trace(trace, index, path)            one worked output element, window outlined  (trace.py)
    plot_edges(image, maps, path, pooled)     an image and its classic-kernel responses   (edges.py)
    grid(maps, titles), save_png(fig, path)   the building blocks                         (grids.py, io.py)
"""

from .edges import plot_edges, save_map_png
from .grids import grid, plot_feature_maps, plot_filters
from .io import new_figure, save_png
from .trace import plot_trace

__all__ = ["plot_filters", "plot_feature_maps", "plot_trace", "plot_edges", "save_map_png", "grid",
           "new_figure", "save_png"]
