"""Connection tables for ConvMap layers (seed 003's connection matrix C; Torch7's nn.tables).

A table is a boolean array of shape (out_maps, in_maps): table[i, j] is True when input feature
map j feeds output feature map i (seed 003: c_ij = 1). Note the argument order of the builders,
(in, out), as in Torch7, while the array is (out, in) like a conv weight.
"""

from __future__ import annotations

import numpy as np

from .. import random as _random

__all__ = ["lenet5_c3", "full", "one_to_one", "random"]


def lenet5_c3() -> np.ndarray:
    """LeNet-5's S2 -> C3 table (LeCun et al. 1998, Table I): (16, 6).

    C3 maps 0-5 read every contiguous (cyclic) triple of S2 maps, maps 6-11 every contiguous
    quadruple, maps 12-14 the discontinuous quadruples {0,1,3,4}, {1,2,4,5}, {0,2,3,5}, and map 15
    all six: 60 connections, so with 5x5 kernels and one bias per map C3 has 60*25 + 16 = 1,516
    trainable parameters, as the paper states.

    Examples:
        >>> from glassnet.nn import tables
        >>> table = tables.lenet5_c3()
        >>> table.shape, int(table.sum())
        ((16, 6), 60)
        >>> table[0].nonzero()[0].tolist(), bool(table[15].all())    # C3's first and last maps
        ([0, 1, 2], True)
    """
    inputs = ([[(j + i) % 6 for i in range(3)] for j in range(6)]
              + [[(j + i) % 6 for i in range(4)] for j in range(6)]
              + [[0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], list(range(6))])
    table = np.zeros((16, 6), dtype=bool)
    for out_map, maps in enumerate(inputs):
        table[out_map, maps] = True
    return table


def full(in_maps: int, out_maps: int) -> np.ndarray:
    """Every input map feeds every output map: (out_maps, in_maps) of True (ordinary convolution).

    Examples:
        >>> from glassnet.nn import tables
        >>> tables.full(2, 3).astype(int).tolist()       # in_maps=2, out_maps=3: shape (3, 2)
        [[1, 1], [1, 1], [1, 1]]
    """
    return np.ones((out_maps, in_maps), dtype=bool)


def one_to_one(n: int) -> np.ndarray:
    """Output map i reads input map i only: the (n, n) identity (depthwise convolution).

    Examples:
        >>> from glassnet.nn import tables
        >>> tables.one_to_one(3).astype(int).tolist()
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    """
    return np.eye(n, dtype=bool)


def random(in_maps: int, out_maps: int, fan_in: int, seed: int | None = None) -> np.ndarray:
    """Each output map reads `fan_in` distinct input maps chosen at random: (out_maps, in_maps).

    seed: an int for a fixed table; None draws from glassnet's default generator
    (glassnet.manual_seed makes it repeatable).

    Examples:
        >>> from glassnet.nn import tables
        >>> table = tables.random(6, 4, fan_in=2, seed=0)
        >>> table.shape, table.sum(axis=1).tolist()     # every output map reads 2 of the 6
        ((4, 6), [2, 2, 2, 2])
    """
    if not 1 <= fan_in <= in_maps:
        raise ValueError(f"fan_in must be between 1 and in_maps={in_maps}, got {fan_in}")
    rng = _random.default_generator() if seed is None else np.random.default_rng(seed)
    table = np.zeros((out_maps, in_maps), dtype=bool)
    # one random permutation per output map, keep its first fan_in entries
    chosen = np.argsort(rng.random((out_maps, in_maps)), axis=1)[:, :fan_in]  # (out_maps, fan_in)
    np.put_along_axis(table, chosen, True, axis=1)
    return table
