"""Runs of Winograd tiles along the rows of a channels-last array: what the transforms of
winograd_f2.py and winograd_f4.py both walk.

The tiles of a convolution's output are numbered n tiles_h tiles_w + i tiles_w + j (sample n,
tile row i, tile column j). A transform takes a chunk of them as runs that stay in one tile row
(segment), and reads the input rows such a run covers as flat channels-last segments
(row_segment): a view when the run lies inside the array, a staged copy with zeros where it
reaches past an edge (the zero padding of the convolution, without a padded copy of the input).
"""

from __future__ import annotations

from numba import njit


@njit(nogil=True, cache=True)
def segment(t, t1, tiles_h, tiles_w):
    """(n, tile row, first tile column, tiles) of the run of tiles from t that stays in one tile
    row and ends before t1."""
    n, rest = t // (tiles_h * tiles_w), t % (tiles_h * tiles_w)
    j0 = rest % tiles_w
    return n, rest // tiles_w, j0, min(tiles_w - j0, t1 - t)


@njit(nogil=True, cache=True)
def row_segment(a, n, i, j, width, stage_row):
    """Row i of sample n of the channels-last a (N, H, W, C), columns j to j + width, flat
    (width * C): a view of a when inside it, else stage_row filled with it and zeros outside."""
    h, w, c = a.shape[1], a.shape[2], a.shape[3]
    if 0 <= i < h and j >= 0 and j + width <= w:
        return a[n, i].reshape(w * c)[j * c:(j + width) * c]
    out = stage_row[:width * c]
    c0, c1 = min(max(j, 0), j + width), max(min(j + width, w), j)
    for f in range((c0 - j) * c):
        out[f] = 0
    if 0 <= i < h and c1 > c0:
        src = a[n, i].reshape(w * c)[c0 * c:c1 * c]
        dst = out[(c0 - j) * c:(c1 - j) * c]
        for f in range(src.shape[0]):
            dst[f] = src[f]
    else:
        c1 = c0
    for f in range((c1 - j) * c, width * c):
        out[f] = 0
    return out
