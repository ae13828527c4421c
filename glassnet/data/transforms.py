"""Batched data transforms (names and arguments after torchvision.transforms).

Every transform takes a whole batch x of shape (B, C, *spatial) and returns an array of the same
batch size; each sample gets its own random draw. Random transforms take `generator=` (a NumPy
Generator; the DataLoader passes one per batch, so augmentation is repeatable for a loader seed)
and fall back to glassnet's default generator. Shapes:

    ToTensor            (B, H, W) or (B, C, *spatial) uint8 -> same with a channel axis, float32 in [0, 1]
    Normalize           (B, C, *spatial) -> same shape, (x - mean[c]) / std[c]
    RandomCrop          (B, C, *spatial) -> (B, C, *size), after optional padding
    RandomHorizontalFlip, RandomVerticalFlip, RandomTranslation: shape-preserving

Transforms never change a float dtype (float32 stays float32).
"""

from __future__ import annotations

import numpy as np

from ..kernels.sizes import positive_tuple, resolve_padding
from ..kernels.windows import pad, sliding_windows
from ..random import default_generator


def _rng(generator):
    return default_generator() if generator is None else generator


def _check_batch(x: np.ndarray, name: str, spatial_dims: int) -> None:
    if x.ndim < 2 + spatial_dims:
        raise ValueError(f"{name} expected a batch of shape (B, C, {', '.join('S' * spatial_dims) or '...'}) "
                         f"with {spatial_dims} spatial dimension(s), got shape {x.shape}")


class Compose:
    """Apply transforms one after another: Compose([t1, t2])(x) = t2(t1(x)).

    The generator is passed on to each transform that takes one.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import transforms as T
        >>> pipeline = T.Compose([T.ToTensor(), T.Normalize(0.5, 0.5)])
        >>> pipeline(np.array([[[0, 255]]], np.uint8)).tolist()    # (1, 1, 2) -> (1, 1, 1, 2) in [-1, 1]
        [[[[-1.0, 1.0]]]]
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x, generator=None):
        from .dataset import _apply_transform
        for t in self.transforms:
            x = _apply_transform(t, x, generator)
        return x

    def __repr__(self) -> str:
        return "Compose(" + ", ".join(repr(t) for t in self.transforms) + ")"


class ToTensor:
    """uint8 pixels in [0, 255] -> float32 in [0, 1]; a (B, H, W) batch gets a channel axis
    (B, 1, H, W). Float input is only cast to float32 (not rescaled). Returns an ndarray: the
    DataLoader turns batches into Tensors.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import transforms as T
        >>> x = T.ToTensor()(np.full((8, 28, 28), 255, np.uint8))
        >>> x.shape, x.dtype, float(x.max())
        ((8, 1, 28, 28), dtype('float32'), 1.0)
    """

    def __call__(self, x, generator=None):
        x = np.asarray(x)
        if x.dtype == np.uint8:
            x = x.astype(np.float32) / np.float32(255)
        elif x.dtype.kind == "f":
            x = x.astype(np.float32, copy=False)
        else:
            raise TypeError(f"ToTensor expected uint8 or floating images, got dtype {x.dtype}")
        return x[:, None] if x.ndim == 3 else x  # (B, H, W) -> (B, 1, H, W)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """x[:, c] <- (x[:, c] - mean[c]) / std[c] for a batch (B, C, *spatial).

    mean, std: one number for all channels or one per channel.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import transforms as T
        >>> x = np.ones((2, 3, 4, 4), np.float32)                    # (B, C, H, W)
        >>> y = T.Normalize(mean=[0.0, 0.5, 1.0], std=[1.0, 0.5, 2.0])(x)
        >>> y.shape, y.dtype, y[0, :, 0, 0].tolist()
        ((2, 3, 4, 4), dtype('float32'), [1.0, 1.0, 0.0])
    """

    def __init__(self, mean, std):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1 or np.any(self.std <= 0):
            raise ValueError(f"Normalize needs 1-D mean and positive std, got mean={mean!r}, std={std!r}")

    def __call__(self, x, generator=None):
        x = np.asarray(x)
        _check_batch(x, "Normalize", 0)
        if x.dtype.kind != "f":
            raise TypeError(f"Normalize expected floating input (use ToTensor first), got dtype {x.dtype}")
        c = x.shape[1]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if len(v) not in (1, c):
                raise ValueError(f"Normalize has {len(v)} {name} values but the input has {c} channels "
                                 f"(shape {x.shape})")
        shape = (1, -1) + (1,) * (x.ndim - 2)  # (1, C, 1, ..., 1): broadcast over batch and space
        mean = self.mean.astype(x.dtype).reshape(shape)
        std = self.std.astype(x.dtype).reshape(shape)
        return (x - mean) / std

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


def _crop(xp: np.ndarray, size: tuple[int, ...], offsets: list[np.ndarray]) -> np.ndarray:
    """Per-sample crops: out[b] = xp[b, :, o_1[b] : o_1[b] + size_1, ...] for each spatial dim.

    xp: (B, C, *padded); offsets: one (B,) integer array per spatial dimension.
    """
    d = len(size)
    out_shape = tuple(n - k + 1 for n, k in zip(xp.shape[2:], size))  # number of crop positions
    windows = sliding_windows(xp, size, (1,) * d, (1,) * d, out_shape)  # (B, C, *positions, *size)
    # advanced indices on B and the positions, split by the C slice, put B first: (B, C, *size)
    return windows[(np.arange(len(xp)), slice(None), *offsets)]


_PADDING_MODES = {"constant": "constant", "zeros": "zeros", "edge": "replicate", "replicate": "replicate",
                  "reflect": "reflect", "circular": "circular"}


class RandomCrop:
    """Crop a random window of `size` from each sample, after padding (torchvision's RandomCrop).

    size: int (a square over the last two dimensions) or a tuple with one size per spatial
        dimension (a 1-tuple crops signals (B, C, L), a 3-tuple clips (B, C, T, H, W)).
    padding: added before cropping, glassnet's padding forms (an int, one int per dimension, or
        one (low, high) pair per dimension); RandomCrop(28, padding=4) is the classic shift-by-up-to-4.
    pad_if_needed: pad (evenly) any dimension smaller than `size`.
    fill, padding_mode: 'constant' (with `fill`), 'zeros', 'reflect', 'replicate' (or 'edge'), 'circular'.
    Output: (B, C, *size). Each offset is uniform over all positions the window fits.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import transforms as T
        >>> T.RandomCrop(28, padding=4)(np.zeros((8, 1, 28, 28), np.float32)).shape   # shifted by up to 4
        (8, 1, 28, 28)
        >>> signals = np.tile(np.arange(5, dtype=np.float32), (3, 1, 1))              # (3, 1, 5): 0 1 2 3 4
        >>> T.RandomCrop((3,))(signals, generator=np.random.default_rng(0))[:, 0].tolist()
        [[2.0, 3.0, 4.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    """

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill: float = 0.0,
                 padding_mode: str = "constant"):
        self.size = positive_tuple(size, 2 if isinstance(size, int) else len(size), "size")
        d = len(self.size)
        self.pads = resolve_padding(0 if padding is None else padding, self.size, (1,) * d, (1,) * d)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {sorted(_PADDING_MODES)}, got {padding_mode!r}")
        self.padding_mode, self.fill, self.pad_if_needed = _PADDING_MODES[padding_mode], fill, pad_if_needed

    def __call__(self, x, generator=None):
        x = np.asarray(x)
        d = len(self.size)
        _check_batch(x, "RandomCrop", d)
        pads = list(self.pads)
        spatial = x.shape[-d:]
        for i, (n, k) in enumerate(zip(spatial, self.size)):
            total = n + pads[i][0] + pads[i][1]
            if total < k and self.pad_if_needed:
                extra = k - total
                pads[i] = (pads[i][0] + extra // 2, pads[i][1] + extra - extra // 2)
            elif total < k:
                raise ValueError(f"RandomCrop of size {self.size} does not fit input of shape {x.shape} "
                                 f"padded by {tuple(self.pads)}; use pad_if_needed=True or more padding")
        xp = pad(x, tuple(pads), mode=self.padding_mode, value=self.fill)
        rng = _rng(generator)
        offsets = [rng.integers(0, n - k + 1, size=len(x)) for n, k in zip(xp.shape[-d:], self.size)]
        return np.ascontiguousarray(_crop(xp, self.size, offsets))

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.pads}, padding_mode={self.padding_mode!r})"


class _RandomFlip:
    axis = -1

    def __init__(self, p: float = 0.5):
        if not 0 <= p <= 1:
            raise ValueError(f"p must lie in [0, 1], got {p}")
        self.p = p

    def __call__(self, x, generator=None):
        x = np.asarray(x)
        _check_batch(x, type(self).__name__, -self.axis)
        flip = _rng(generator).random(len(x)) < self.p  # (B,)
        flip = flip.reshape((-1,) + (1,) * (x.ndim - 1))  # (B, 1, ..., 1)
        return np.where(flip, np.flip(x, axis=self.axis), x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror each sample left-right (last axis) with probability p. Shape-preserving.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import transforms as T
        >>> T.RandomHorizontalFlip(p=1.0)(np.array([[[[1, 2, 3]]]], np.float32)).tolist()
        [[[[3.0, 2.0, 1.0]]]]
    """
    axis = -1


class RandomVerticalFlip(_RandomFlip):
    """Mirror each sample top-bottom (second-last axis) with probability p. Shape-preserving.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import transforms as T
        >>> T.RandomVerticalFlip(p=1.0)(np.array([[[[1], [2], [3]]]], np.float32))[0, 0, :, 0].tolist()
        [3.0, 2.0, 1.0]
    """
    axis = -2


class RandomTranslation:
    """Shift each image by a random whole number of pixels, filling the uncovered border with `fill`.

    translate: (a, b) maximum fractions of the width and the height (torchvision's RandomAffine
        `translate`): dx is drawn uniformly from [-a W, a W] and dy from [-b H, b H], then rounded.
        A positive dx moves the content right, a positive dy down.
    Input (B, C, H, W) -> output (B, C, H, W).

    Examples:
        Three copies of one row, each moved by its own dx in {-2, ..., 2} (0.4 of the width 5):

        >>> import numpy as np
        >>> from glassnet.data import transforms as T
        >>> rows = np.tile(np.arange(1, 6, dtype=np.float32), (3, 1, 1, 1))     # (3, 1, 1, 5): 1 2 3 4 5
        >>> T.RandomTranslation((0.4, 0))(rows, generator=np.random.default_rng(0))[:, 0, 0].tolist()
        [[0.0, 1.0, 2.0, 3.0, 4.0], [2.0, 3.0, 4.0, 5.0, 0.0], [3.0, 4.0, 5.0, 0.0, 0.0]]
    """

    def __init__(self, translate, fill: float = 0.0):
        pair = (translate, translate) if isinstance(translate, (int, float)) else tuple(translate)
        if len(pair) != 2:
            raise ValueError(f"translate must be a fraction or a pair (a, b) of fractions, got {translate!r}")
        a, b = (float(v) for v in pair)
        if not (0 <= a <= 1 and 0 <= b <= 1):
            raise ValueError(f"translate fractions must lie in [0, 1], got {translate!r}")
        self.translate, self.fill = (float(a), float(b)), fill

    def __call__(self, x, generator=None):
        x = np.asarray(x)
        _check_batch(x, "RandomTranslation", 2)
        h, w = x.shape[-2:]
        max_dx, max_dy = self.translate[0] * w, self.translate[1] * h
        rng = _rng(generator)
        dx = np.rint(rng.uniform(-max_dx, max_dx, size=len(x))).astype(np.int64)  # (B,)
        dy = np.rint(rng.uniform(-max_dy, max_dy, size=len(x))).astype(np.int64)  # (B,)
        mx, my = int(np.floor(max_dx + 0.5)), int(np.floor(max_dy + 0.5))  # largest possible shifts
        xp = pad(x, ((my, my), (mx, mx)), mode="constant", value=self.fill)
        # output pixel (i, j) = input (i - dy, j - dx) = padded (i - dy + my, j - dx + mx)
        return np.ascontiguousarray(_crop(xp, (h, w), [my - dy, mx - dx]))

    def __repr__(self) -> str:
        return f"RandomTranslation(translate={self.translate}, fill={self.fill})"
