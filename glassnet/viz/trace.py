"""Worked-example figures (seed 002): the padded input with the window of one output element
outlined, the kernel, and the output with that element outlined; the sum of products as caption.
"""

from __future__ import annotations

import textwrap

import numpy as np
from matplotlib.patches import Rectangle

from ..explain.trace import Trace, fmt
from .io import new_figure, save_png

_WINDOW = "#d62728"


def _as_2d(a: np.ndarray) -> np.ndarray:
    return a[None] if a.ndim == 1 else a  # a 1-D row drawn as a 1 x n grid


def _numbers(ax, a, title: str, cells=(), inside=None) -> None:
    """Grid of numbers; cells (list of (i, j)) outlined; inside=False cells (padding) hatched."""
    a = _as_2d(np.asarray(a, dtype=np.float64))
    finite = np.where(np.isfinite(a), a, 0)
    bound = float(np.abs(finite).max()) or 1.0
    ax.imshow(finite, cmap="RdBu_r", vmin=-2 * bound, vmax=2 * bound, interpolation="nearest")
    for (i, j), v in np.ndenumerate(a):
        ax.text(j, i, "" if not np.isfinite(v) else fmt(v), ha="center", va="center", fontsize=9)
    if inside is not None:
        for (i, j), real in np.ndenumerate(_as_2d(inside)):
            if not real:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=True, facecolor="0.85", edgecolor="0.6",
                                       hatch="//", linewidth=0.5, zorder=0.5))
    for i, j in cells:
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=_WINDOW, linewidth=2.2))
    ax.set_xticks(range(a.shape[1]))
    ax.set_yticks(range(a.shape[0]))
    ax.tick_params(labelsize=7, length=0)
    ax.set_title(title, fontsize=9)


def plot_trace(tr: Trace, index=None, path=None):
    """Figure of one output element of a glassnet.explain.trace Trace (index = (filter, *position);
    default the first element). 1-D and 2-D traces; writes a PNG when path is given."""
    nd = len(tr.kernel_size)
    if nd > 2:
        raise ValueError(f"plot_trace draws 1-D and 2-D traces, this one has {nd} spatial dimensions")
    index = (0,) * (nd + 1) if index is None else tuple(index)
    step = tr.step(*index)
    taps = [tuple(st + j * d for st, j, d in zip(step.start, jj, tr.dilation))
            for jj in np.ndindex(*tr.kernel_size)]
    cells = [t if nd == 2 else (0, t[0]) for t in taps]
    channels = list(step.channels)  # a convolution reads its group's channels, pooling one channel
    ncols = 2 + (1 if tr.op == "conv" else 0)
    fig = new_figure(3.2 * ncols, 2.6 * len(channels) + 1.2)
    axes = fig.subplots(len(channels), ncols, squeeze=False)
    for row, c in zip(axes, channels):
        label = f" (channel {c})" if tr.padded.shape[0] > 1 else ""
        _numbers(row[0], tr.padded[c], "padded input" + label if any(p != (0, 0) for p in tr.pads)
                 else "input" + label, cells, tr.inside[c])
        if tr.op == "conv":
            _numbers(row[1], tr.weight[step.index[0], c - channels[0]], f"kernel{label}")
    out_ax = axes[0, -1]
    pos = step.index[1:]
    out_cells = [tuple(pos) if nd == 2 else (0, pos[0])]
    name = {"conv": "output", "max": "max pooled", "avg": "average pooled"}[tr.op]
    _numbers(out_ax, tr.output[step.index[0]], f"{name}, element {tuple(pos)}", out_cells)
    for ax in axes[1:, -1]:
        ax.set_axis_off()
    caption = "\n".join(textwrap.fill(line, 110) for line in step.expression.split("\n"))
    fig.suptitle(caption, fontsize=8, family="monospace")
    if path is not None:
        save_png(fig, path)
    return fig
