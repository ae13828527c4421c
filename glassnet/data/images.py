"""Images and arrays from files given by a user (`glassnet predict`), with their size checked
from the file's header before anything is decoded.

    open_image(path) -> PIL.Image.Image    decoded; at most MAX_PIXELS pixels
    load_npy(path) -> np.ndarray            bool, int, uint or float, finite; at most MAX_ELEMENTS
                                            values; object arrays refused

A small compressed file can declare a huge image: a 20000 x 20000 PNG of one colour is a few
hundred kilobytes and decodes to 400 MB per channel. PIL only warns from 89 megapixels on and
refuses from 179; glassnet refuses far below that, with its own message. Every other problem
(not an image, a truncated or corrupt one) raises InvalidFileError naming the file.
"""

from __future__ import annotations

import math
import os
import re
import struct
import warnings
import zlib

import numpy as np

from ..untrusted import InvalidFileError, open_regular

MAX_PIXELS = 25_000_000     # 25 megapixels: a 6000 x 4000 camera photo fits
MAX_ELEMENTS = 1 << 24      # values in one .npy sample (64 MiB as float32)
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")  # PIL reads many more; fewer decoders, fewer surprises
IMAGE = "image"
# what PIL's decoders raise on broken data (SyntaxError, for instance, for a bad PNG chunk)
_BROKEN = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error, zlib.error)
NPY = "NumPy .npy file"


def open_image(path, max_pixels: int = MAX_PIXELS):
    """The image at `path`, decoded (PIL.Image.Image, its mode as stored), refused with
    InvalidFileError when it is not one of FORMATS, is broken, or has more than `max_pixels`."""
    from PIL import Image, UnidentifiedImageError  # PIL is needed only here; importing it costs time

    path = os.fspath(path)
    with open_regular(path, IMAGE) as f:
        try:
            with warnings.catch_warnings():  # PIL warns above 89 megapixels; ours is the check that counts
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(f, formats=FORMATS)  # reads the header only
        except Image.DecompressionBombError as error:  # PIL's own hard limit, 179 megapixels
            pixels = re.search(r"\((\d+) pixels\)", str(error))
            found = f"{int(pixels[1]):,} pixels" if pixels else "more pixels than PIL allows"
            raise InvalidFileError(path, IMAGE, f"the image has {found}, more than the "
                                                f"{max_pixels:,} glassnet reads") from None
        except UnidentifiedImageError:
            raise InvalidFileError(path, IMAGE, f"not a {', '.join(FORMATS)} image") from None
        except _BROKEN as error:
            raise InvalidFileError(path, IMAGE, f"the header is truncated or corrupt ({error})") from None
        width, height = image.size
        if width * height > max_pixels:
            raise InvalidFileError(path, IMAGE, f"the image has {width} x {height} = {width * height:,} pixels, "
                                                f"more than the {max_pixels:,} glassnet reads")
        try:
            image.load()  # decode now, while the file's name is at hand
        except _BROKEN as error:
            raise InvalidFileError(path, IMAGE, f"the {image.format} data is truncated or corrupt ({error})") from None
    return image


def load_npy(path, max_elements: int = MAX_ELEMENTS) -> np.ndarray:
    """The array in a .npy file, after checking from its header that it holds at most
    `max_elements` numbers (bool, int, uint or float) and exactly as many bytes as it declares;
    NaN and infinities are refused too, and so are object arrays (loading them runs code)."""
    fmt = np.lib.format
    path = os.fspath(path)
    with open_regular(path, NPY) as f:
        size = os.fstat(f.fileno()).st_size
        try:
            version = fmt.read_magic(f)
            read_header = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f"format version {version[0]}.{version[1]}; glassnet reads 1.0 and 2.0")
            shape, fortran_order, dtype = read_header(f)
        except ValueError as error:  # numpy's messages name what was wrong with the header
            raise InvalidFileError(path, NPY, str(error)) from None
        if dtype.kind not in "biuf" or dtype.fields is not None:
            raise InvalidFileError(path, NPY, f"expected an array of numbers, found dtype {dtype}")
        count = math.prod(shape)  # Python ints: no overflow
        if count > max_elements:
            raise InvalidFileError(path, NPY, f"the array has shape {shape}, {count:,} values, more than the "
                                              f"{max_elements:,} expected")
        data_bytes = size - f.tell()
        if data_bytes != count * dtype.itemsize:
            raise InvalidFileError(path, NPY, f"shape {shape} of {dtype} needs {count * dtype.itemsize} bytes "
                                              f"of data, the file holds {data_bytes}")
        array = np.empty(count, dtype=dtype)
        f.readinto(array.view(np.uint8))
    array = array.reshape(shape, order="F" if fortran_order else "C")
    array = array.astype(dtype.newbyteorder("="), copy=False)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise InvalidFileError(path, NPY, "the array holds NaN or infinite values")
    return array


__all__ = ["open_image", "load_npy", "MAX_PIXELS", "MAX_ELEMENTS", "FORMATS"]
