"""pixel_shuffle / pixel_unshuffle in plain NumPy: the index formula, and each the inverse of
the other."""

import numpy as np

from glassnet.kernels.pixel_shuffle import pixel_shuffle, pixel_unshuffle


def test_index_formula():
    r, c, h, w = 3, 2, 2, 4
    x = np.random.default_rng(0).standard_normal((5, c * r * r, h, w))
    y = pixel_shuffle(x, r)
    assert y.shape == (5, c, h * r, w * r)
    for ci, hi, wi, i, j in [(0, 0, 0, 0, 0), (1, 1, 3, 2, 1), (1, 0, 2, 1, 2)]:
        assert y[:, ci, hi * r + i, wi * r + j].tolist() == x[:, ci * r * r + i * r + j, hi, wi].tolist()


def test_each_inverts_the_other():
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 4, 6))
    np.testing.assert_array_equal(pixel_shuffle(pixel_unshuffle(x, 2), 2), x)
    z = np.random.default_rng(2).standard_normal((3, 18, 2, 2))
    np.testing.assert_array_equal(pixel_unshuffle(pixel_shuffle(z, 3), 3), z)
