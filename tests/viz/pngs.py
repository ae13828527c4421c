"""Checks that a written figure is a real, readable, non-blank PNG."""

import os

import numpy as np
from matplotlib import image as mpimg

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_valid_png(path) -> np.ndarray:
    """The file exists, starts with the PNG signature, reads back, and is not blank."""
    assert os.path.isfile(path), f"{path} was not written"
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC, f"{path} is not a PNG"
    pixels = mpimg.imread(path)
    assert pixels.ndim in (2, 3) and pixels.shape[0] > 4 and pixels.shape[1] > 4
    assert float(np.std(pixels)) > 0.01, f"{path} is blank (constant)"
    return pixels
