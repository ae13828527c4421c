"""Figures without a display: every glassnet figure is a matplotlib Figure drawn by the Agg
canvas, never through pyplot's global state, so it works headless (CI, servers) and in threads."""

from __future__ import annotations

import os

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, path, dpi: int = 100) -> str:
    """Write fig as a PNG at path (folders created as needed); returns the path."""
    path = os.fspath(path)
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    fig.savefig(path, format="png", dpi=dpi)
    return path
