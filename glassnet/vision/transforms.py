"""torchvision.transforms for PIL images and tensors of one sample (C, H, W).

ToTensor        PIL image or (H, W[, C]) uint8 array -> float32 Tensor (C, H, W) in [0, 1]
                (other dtypes are not scaled, as in torchvision)
Normalize       (x - mean_c) / std_c per channel
Compose, Lambda chaining
Resize, CenterCrop, Pad, RandomCrop, RandomHorizontalFlip, RandomVerticalFlip, Grayscale
                on PIL images (through PIL, as torchvision does for PIL input), and the crops,
                flips and padding on tensors too

The random transforms draw from glassnet's global generator, so glassnet.manual_seed makes
them repeatable (and a DataLoader's worker processes, each seeded differently, draw apart).
"""

from __future__ import annotations

import numbers

import numpy as np
from PIL import Image, ImageOps

from ..random import default_generator
from ..tensor import Tensor

_PIL_PAD_MODE = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


def _size_pair(size, name: str) -> tuple[int, int]:
    """An int (a square) or (h, w), as torchvision's crops take it."""
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    size = tuple(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"{name} size must be an int or (h, w), got {size!r}")
    return int(size[0]), int(size[1])


def _is_pil(img) -> bool:
    return isinstance(img, Image.Image)


def _array(img) -> np.ndarray:
    return img.data if isinstance(img, Tensor) else np.asarray(img)


def _like(img, array: np.ndarray):
    return Tensor._wrap(np.ascontiguousarray(array)) if isinstance(img, Tensor) else array


class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return "Compose(\n" + "".join(f"    {t}\n" for t in self.transforms) + ")"


class Lambda:
    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda needs a callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)


class ToTensor:
    """(H, W[, C]) -> float32 (C, H, W); uint8 values divided by 255."""

    def __call__(self, pic):
        if _is_pil(pic):
            array = np.asarray(pic)
        elif isinstance(pic, np.ndarray):
            array = pic
        else:
            raise TypeError(f"ToTensor expects a PIL image or an ndarray, got {type(pic).__name__}")
        if array.ndim == 2:
            array = array[:, :, None]  # (H, W) -> (H, W, 1)
        if array.ndim != 3:
            raise ValueError(f"ToTensor expects an image of shape (H, W) or (H, W, C), got {array.shape}")
        chw = array.transpose(2, 0, 1)  # (H, W, C) -> (C, H, W)
        if chw.dtype == np.uint8:
            chw = chw.astype(np.float32) / np.float32(255)
        elif chw.dtype.kind == "f":
            chw = chw.astype(np.float32)
        return Tensor._wrap(np.ascontiguousarray(chw))

    def __repr__(self) -> str:
        return "ToTensor()"


class PILToTensor:
    """PIL image -> uint8 Tensor (C, H, W), unscaled."""

    def __call__(self, pic):
        array = np.asarray(pic)
        array = array[:, :, None] if array.ndim == 2 else array
        return Tensor._wrap(np.ascontiguousarray(array.transpose(2, 0, 1)))


class Normalize:
    """(x - mean[c]) / std[c] for a tensor (C, H, W) or (N, C, H, W)."""

    def __init__(self, mean, std, inplace: bool = False):
        self.mean, self.std, self.inplace = tuple(mean), tuple(std), inplace
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std must not contain 0, got {self.std}")

    def __call__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize expects a Tensor (after ToTensor), got {type(tensor).__name__}")
        x = tensor.data
        if x.dtype.kind != "f":
            raise TypeError(f"Normalize expects a floating-point tensor, got dtype {x.dtype}")
        c = x.shape[-3] if x.ndim >= 3 else None
        if c is None or len(self.mean) not in (1, c) or len(self.std) not in (1, c):
            raise ValueError(f"Normalize with {len(self.mean)} means and {len(self.std)} stds expects a tensor "
                             f"(C, H, W) with that many channels, got shape {x.shape}")
        mean = np.asarray(self.mean, x.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, x.dtype).reshape(-1, 1, 1)
        if self.inplace:
            x -= mean
            x /= std
            return tensor
        return Tensor._wrap((x - mean) / std)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Resize:
    """Resize a PIL image: an int makes the shorter side that long (keeping the aspect ratio),
    (h, w) sets both. Bilinear by default, as torchvision."""

    def __init__(self, size, interpolation=Image.BILINEAR):
        self.size, self.interpolation = size, interpolation

    def __call__(self, img):
        if not _is_pil(img):
            raise TypeError(f"Resize here works on PIL images, got {type(img).__name__}")
        w, h = img.size
        if isinstance(self.size, numbers.Integral):
            short, long_ = (w, h) if w <= h else (h, w)
            new_short, new_long = int(self.size), int(self.size * long_ / short)
            size = (new_short, new_long) if w <= h else (new_long, new_short)  # PIL wants (w, h)
        else:
            th, tw = _size_pair(self.size, "Resize")
            size = (tw, th)
        return img.resize(size, self.interpolation)


def _crop(img, top: int, left: int, h: int, w: int):
    if _is_pil(img):
        return img.crop((left, top, left + w, top + h))
    a = _array(img)
    return _like(img, a[..., top:top + h, left:left + w])


def _image_size(img) -> tuple[int, int]:
    """(h, w) of a PIL image or a (..., H, W) tensor."""
    if _is_pil(img):
        return img.size[1], img.size[0]
    return _array(img).shape[-2:]


class CenterCrop:
    def __init__(self, size):
        self.size = _size_pair(size, "CenterCrop")

    def __call__(self, img):
        h, w = _image_size(img)
        th, tw = self.size
        if th > h or tw > w:  # torchvision pads with zeros first
            img = Pad(((max(tw - w, 0) + 1) // 2, (max(th - h, 0) + 1) // 2,
                       max(tw - w, 0) // 2, max(th - h, 0) // 2))(img)
            h, w = _image_size(img)
        return _crop(img, int(round((h - th) / 2.0)), int(round((w - tw) / 2.0)), th, tw)


class Pad:
    """padding: int (all sides), (left/right, top/bottom) or (left, top, right, bottom)."""

    def __init__(self, padding, fill=0, padding_mode: str = "constant"):
        if padding_mode not in _PIL_PAD_MODE:
            raise ValueError(f"Pad padding_mode must be one of {sorted(_PIL_PAD_MODE)}, got {padding_mode!r}")
        p = (padding,) * 4 if isinstance(padding, numbers.Integral) else tuple(padding)
        if len(p) == 2:
            p = (p[0], p[1], p[0], p[1])
        if len(p) != 4:
            raise ValueError(f"Pad padding must be an int or a tuple of 2 or 4 ints, got {padding!r}")
        self.padding, self.fill, self.padding_mode = p, fill, padding_mode

    def __call__(self, img):
        left, top, right, bottom = self.padding
        a = _array(img)
        if _is_pil(img):  # (H, W) or (H, W, C)
            pads = [(top, bottom), (left, right)] + [(0, 0)] * (a.ndim - 2)
        else:  # (..., H, W)
            pads = [(0, 0)] * (a.ndim - 2) + [(top, bottom), (left, right)]
        kwargs = {"constant_values": self.fill} if self.padding_mode == "constant" else {}
        padded = np.pad(a, pads, mode=_PIL_PAD_MODE[self.padding_mode], **kwargs)
        return Image.fromarray(padded, mode=img.mode) if _is_pil(img) else _like(img, padded)


class RandomCrop:
    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0, padding_mode: str = "constant"):
        self.size = _size_pair(size, "RandomCrop")
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode

    def __call__(self, img):
        if self.padding is not None:
            img = Pad(self.padding, self.fill, self.padding_mode)(img)
        h, w = _image_size(img)
        th, tw = self.size
        if self.pad_if_needed and (h < th or w < tw):
            img = Pad((max(tw - w, 0), max(th - h, 0)), self.fill, self.padding_mode)(img)
            h, w = _image_size(img)
        if h < th or w < tw:
            raise ValueError(f"RandomCrop of size {self.size} from an image of size {(h, w)}")
        g = default_generator()
        top, left = int(g.integers(0, h - th + 1)), int(g.integers(0, w - tw + 1))
        return _crop(img, top, left, th, tw)


class RandomHorizontalFlip:
    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, img):
        if default_generator().random() >= self.p:
            return img
        return ImageOps.mirror(img) if _is_pil(img) else _like(img, _array(img)[..., ::-1])


class RandomVerticalFlip:
    def __init__(self, p: float = 0.5):
        self.p = p

    def __call__(self, img):
        if default_generator().random() >= self.p:
            return img
        return ImageOps.flip(img) if _is_pil(img) else _like(img, _array(img)[..., ::-1, :])


class Grayscale:
    """PIL image -> mode 'L' (ITU-R 601-2 luma, as PIL and torchvision), repeated to
    num_output_channels (1 or 3)."""

    def __init__(self, num_output_channels: int = 1):
        if num_output_channels not in (1, 3):
            raise ValueError(f"Grayscale num_output_channels must be 1 or 3, got {num_output_channels}")
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        grey = img.convert("L")
        return grey if self.num_output_channels == 1 else Image.merge("RGB", (grey, grey, grey))


__all__ = ["CenterCrop", "Compose", "Grayscale", "Lambda", "Normalize", "PILToTensor", "Pad", "RandomCrop",
           "RandomHorizontalFlip", "RandomVerticalFlip", "Resize", "ToTensor"]
