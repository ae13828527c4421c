"""Make a photo look like the data set a model was trained on.

A model trained on Fashion-MNIST has only ever seen 28x28 grey images of one light object on a
black background, centred and filling the frame, with pixel values in [0, 1]. A phone photo of a
dark shirt on a white table is none of these, and the model's answer on it is meaningless unless
the photo is brought into the same form first. `prepare_image` does that, step by step, and
returns a note for every step so that the command line can say what it did:

1. grey: colour is turned into luminance (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B);
2. scale: 8-bit values are divided by 255 (16-bit by 65535), for every file format alike;
3. polarity: a light background (the median of the border pixels above 0.5) is inverted, so the
   object is light on dark as in the data set;
4. contrast: the background level becomes 0 and the brightest pixel 1;
5. centre: the object's bounding box (pixels above 0.2 after step 4) is cut out, padded to a
   square, shrunk with area averaging to the share of the frame the data set's objects fill, and
   placed in the middle of the model's input size.

`prepare_image(..., raw=True)` does only steps 1, 2 and an area-averaging resize to the input
size: for images that are already in the data set's form.
"""

from __future__ import annotations

import numpy as np

# How much of the frame the longer side of an object fills, per data set: Fashion-MNIST's
# products were trimmed and scaled to fill the 28x28 frame; MNIST's digits fit a 20x20 box in
# the middle of 28x28; the built-in shapes have diameters of 0.4 to 0.8 of the image.
FRAME_FILL = {"fashion-mnist": 1.0, "mnist": 20 / 28, "shapes": 0.6}

_LUMINANCE = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_OBJECT_LEVEL = 0.2  # after the contrast stretch: brighter pixels belong to the object


def to_unit_range(a) -> tuple[np.ndarray, str]:
    """Pixel values -> float32 in [0, 1] as the data sets store them, and a note saying how.

    uint16 is divided by 65535; other integer arrays are taken as 8-bit values and divided by 255
    (values outside 0..255 are an error); float arrays are taken as already scaled.

    Examples:
        >>> import numpy as np
        >>> x, note = to_unit_range(np.array([0, 51, 255], dtype=np.uint8))
        >>> x.dtype, x * 255, note
        (dtype('float32'), array([  0.,  51., 255.], dtype=float32), '8-bit values divided by 255')
    """
    a = np.asarray(a)
    if a.dtype == np.bool_:
        return a.astype(np.float32), "boolean values taken as 0 and 1"
    if a.dtype == np.uint16:
        return (a / np.float32(65535)).astype(np.float32), "16-bit values divided by 65535"
    if a.dtype.kind in "ui":
        lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
        if lo < 0 or hi > 255:
            raise ValueError(f"integer pixel values must lie in 0..255 (8-bit), got {lo}..{hi}")
        return (a / np.float32(255)).astype(np.float32), "8-bit values divided by 255"
    if a.dtype.kind == "f":
        return a.astype(np.float32), "float values taken as already scaled to [0, 1]"
    raise ValueError(f"expected pixel values (integers or floats), got dtype {a.dtype}")


def to_gray(image) -> np.ndarray:
    """(H, W) or (H, W, 3|4) image -> (H, W) float32 luminance in [0, 1] (alpha ignored):
    0.299 R + 0.587 G + 0.114 B (ITU-R BT.601).

    8-bit integer images are scaled to [0, 1] (see `to_unit_range`).

    Examples:
        >>> import numpy as np
        >>> from glassnet.data.preprocess import to_gray
        >>> to_gray(np.full((2, 2, 3), 255, np.uint8)).tolist()      # white
        [[1.0, 1.0], [1.0, 1.0]]
        >>> round(float(to_gray(np.array([[[255, 0, 0, 255]]], np.uint8))[0, 0]), 3)   # red, alpha ignored
        0.299
    """
    return _gray(image)[0]


def _gray(image) -> tuple[np.ndarray, str]:
    """to_gray, and to_unit_range's note on the scaling."""
    a, note = to_unit_range(image)
    if a.ndim == 3 and a.shape[-1] in (3, 4):
        a = a[..., :3] @ _LUMINANCE  # (H, W)
    if a.ndim != 2:
        raise ValueError(f"expected a grey (H, W) or colour (H, W, 3|4) image, got shape {np.shape(image)}")
    return a, note


def resize_area(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a (H, W) float image by area averaging (each output pixel is the mean of the input
    area it covers, so thin strokes fade instead of vanishing as with nearest neighbour).

    shape: (height, width) of the output. Returns float32 (height, width).

    Examples:
        >>> import numpy as np
        >>> from glassnet.data.preprocess import resize_area
        >>> resize_area(np.arange(16, dtype=np.float32).reshape(4, 4), (2, 2)).tolist()   # 2x2 means
        [[2.5, 4.5], [10.5, 12.5]]
    """
    from PIL import Image
    height, width = shape
    return np.asarray(Image.fromarray(np.asarray(a, dtype=np.float32))  # mode "F"
                      .resize((width, height), Image.Resampling.BOX), dtype=np.float32)


def _border(a: np.ndarray) -> np.ndarray:
    """The outer ring of a (H, W) image, 5% of each side thick (at least one pixel)."""
    t = max(1, round(0.05 * min(a.shape)))
    return np.concatenate([a[:t].ravel(), a[-t:].ravel(), a[:, :t].ravel(), a[:, -t:].ravel()])


def prepare_image(image, size: tuple[int, int], dataset: str | None = None, channels: int = 1,
                  raw: bool = False) -> tuple[np.ndarray, list[str]]:
    """An image (H, W) or (H, W, 3|4), any dtype -> (one sample (channels, *size) float32, notes).

    The steps are listed in the module docstring; `dataset` picks how much of the frame the object
    fills (FRAME_FILL, default the whole frame); raw=True only greys, scales and resizes.

    Examples:
        >>> import numpy as np
        >>> photo = np.full((90, 60), 230, dtype=np.uint8)  # light background
        >>> photo[20:50, 10:40] = 20                          # a dark square, up and to the left
        >>> x, notes = prepare_image(photo, (28, 28), "fashion-mnist")
        >>> x.shape, float(x[0, 14, 14]), float(x[0, 0, 0])  # a light square filling the frame
        ((1, 28, 28), 1.0, 1.0)
        >>> notes[2]
        'light background: inverted to a light object on black, as in the training data'
        >>> x, _ = prepare_image(photo, (28, 28), "mnist")     # MNIST's digits fill a 20x20 box
        >>> float(x[0, 0, 0]), float(x[0, 14, 14])
        (0.0, 1.0)
    """
    a = np.asarray(image)
    colour = a.ndim == 3 and a.shape[-1] in (3, 4)
    x, scaling = _gray(a)
    notes = [f"{x.shape[1]}x{x.shape[0]} {'colour' if colour else 'grey'} image"
             + (", turned grey" if colour else ""), scaling]
    if raw:
        notes.append(f"resized to {size[1]}x{size[0]} (--raw: no inversion, cropping or centring)")
        return _channels(resize_area(x, size), channels), notes

    background = float(np.median(_border(x)))
    if background > 0.5:
        x = 1 - x
        background = 1 - background
        notes.append("light background: inverted to a light object on black, as in the training data")
    hi = float(x.max())
    x = np.clip((x - background) / (hi - background), 0, 1) if hi > background else np.zeros_like(x)
    notes.append(f"background level {background:.2f} -> 0, brightest pixel -> 1")

    rows, cols = np.nonzero(x > _OBJECT_LEVEL)
    if rows.size == 0:
        notes.append(f"no object found: resized the whole image to {size[1]}x{size[0]}")
        return _channels(resize_area(x, size), channels), notes
    x = x[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    side = max(x.shape)
    square = np.zeros((side, side), dtype=np.float32)
    top, left = (side - x.shape[0]) // 2, (side - x.shape[1]) // 2
    square[top:top + x.shape[0], left:left + x.shape[1]] = x
    fill = FRAME_FILL.get(dataset or "", 1.0)
    box = max(1, round(fill * min(size)))
    out = np.zeros(size, dtype=np.float32)
    top, left = (size[0] - box) // 2, (size[1] - box) // 2
    out[top:top + box, left:left + box] = resize_area(square, (box, box))
    notes.append(f"object ({x.shape[1]}x{x.shape[0]} pixels) cropped, centred and shrunk to {box}x{box} "
                 f"in a {size[1]}x{size[0]} frame" + (f", as in {dataset}" if dataset in FRAME_FILL else ""))
    return _channels(out, channels), notes


def _channels(x: np.ndarray, channels: int) -> np.ndarray:
    """(H, W) -> (channels, H, W): the grey image in every channel."""
    return np.repeat(x[None], channels, axis=0)
