"""MNIST-1D (Greydanus 2020, "Scaling down deep learning"), generated here from its recipe.

Ten hand-made 1-D templates of 12 points, one per digit, are each turned into 500 signals of
length 40 by, in this order:

1. padding with p zeros, p uniform in {36, ..., 60}, and stretching back to 72 points
   (linear interpolation): the digit takes a random share of the signal;
2. scaling the amplitude by 1 + 0.4 (u - 1/2);
3. a circular translation by k points, k uniform in {0, ..., 47};
4. correlated noise where the signal is zero: N(0, 0.25^2) noise smoothed by a Gaussian filter
   of sigma 2; then i.i.d. N(0, 0.02^2) noise everywhere;
5. a shear, subtracting c * linspace(-1/2, 1/2, 72) with c = 0.75 (u - 1/2);
6. resampling to 40 points.

The 5,000 signals are shuffled, standardised with the mean and standard deviation of the whole
set, and split 4,000 train / 1,000 test. The random numbers are drawn from NumPy's legacy
`RandomState(seed)` in the reference implementation's order (six draws per signal, then the
shuffle), so seed 42 reproduces the published data set up to floating-point rounding; the
transformations themselves run on all signals at once.

Samples: x float32 (1, 40), y int64 digit.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .dataset import ArrayDataset

# The ten templates of the reference implementation (get_templates), 12 points each.
TEMPLATES = np.array([
    [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
    [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
    [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
    [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
    [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
    [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
    [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
    [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
])

RECIPE = dict(num_samples=5000, train_split=0.8, template_len=12, padding=(36, 60), scale_coeff=0.4,
              max_translation=48, corr_noise_scale=0.25, iid_noise_scale=2e-2, shear_scale=0.75,
              final_seq_length=40)


def templates() -> np.ndarray:
    """(10, 12) templates: standardised per digit, shifted to start at 0, divided by 6.

    Examples:
        >>> from glassnet.data.mnist1d import templates
        >>> t = templates()
        >>> t.shape, t[:, 0].tolist() == [0.0] * 10        # every digit starts at 0
        ((10, 12), True)
    """
    x = TEMPLATES - TEMPLATES.mean(1, keepdims=True)
    x = x / x.std(1, keepdims=True)
    x = x - x[:, :1]
    return x / 6.0


def _resample(x: np.ndarray, lengths: np.ndarray, n: int) -> np.ndarray:
    """Linear interpolation of each row's first lengths[i] values onto n evenly spaced points
    (both grids span [0, 1], as in the reference). x: (S, W) with W >= max(lengths) -> (S, n)."""
    pos = np.linspace(0.0, 1.0, n)[None, :] * (lengths[:, None] - 1)  # (S, n) in index units
    lo = np.minimum(np.floor(pos).astype(np.int64), lengths[:, None] - 2)  # (S, n)
    frac = pos - lo
    left = np.take_along_axis(x, lo, axis=1)
    right = np.take_along_axis(x, lo + 1, axis=1)
    return left + (right - left) * frac


def _draws(rs: np.random.RandomState, count: int, width: int, r: dict):
    """The random numbers of `count` signals in the reference order: per signal a uniform for the
    padding, one for the scale, the translation, two noise vectors of `width`, one for the shear."""
    pad_u, scale_u, shear_u = np.empty(count), np.empty(count), np.empty(count)
    shift = np.empty(count, dtype=np.int64)
    corr, iid = np.empty((count, width)), np.empty((count, width))
    for i in range(count):  # sequential on purpose: it fixes the order of the draws
        pad_u[i] = rs.rand()
        scale_u[i] = rs.rand()
        shift[i] = rs.choice(r["max_translation"])
        corr[i] = rs.randn(width)
        iid[i] = rs.randn(width)
        shear_u[i] = rs.rand()
    return pad_u, scale_u, shift, corr, iid, shear_u


@lru_cache(maxsize=4)
def make_mnist1d(seed: int = 42, **overrides):
    """Generate MNIST-1D: returns (x_train, y_train, x_test, y_test), x float64 (N, L), y int64.

    overrides: any RECIPE entry (num_samples, padding, ...). Cached, so build it once per process.
    """
    r = {**RECIPE, **overrides}
    t = templates()
    n_classes = len(t)
    per_class = r["num_samples"] // n_classes
    count = per_class * n_classes
    labels = np.repeat(np.arange(n_classes), per_class)  # class-major, as the reference loops
    lo_pad, hi_pad = r["padding"]
    width = r["template_len"] + hi_pad  # 72 points after the stretch

    rs = np.random.RandomState(seed)
    pad_u, scale_u, shift, corr, iid, shear_u = _draws(rs, count, width, r)

    # 1. pad with p zeros and stretch the (12 + p) points to `width` points
    p = lo_pad + (pad_u * (hi_pad - lo_pad + 1)).astype(np.int64)  # (S,)
    padded = np.zeros((count, width))
    padded[:, :r["template_len"]] = t[labels] + 1e-8  # eps: the digit stays non-zero
    x = _resample(padded, r["template_len"] + p, width)  # (S, 72)
    # 2. scale
    x = x * (1 + r["scale_coeff"] * (scale_u - 0.5))[:, None]
    # 3. circular translation by shift[i]: x[i, j] <- x[i, j - shift[i]]
    idx = (np.arange(width)[None, :] - shift[:, None]) % width  # (S, 72)
    x = np.take_along_axis(x, idx, axis=1)
    # 4. correlated noise in the background only, then i.i.d. noise everywhere
    background = x == 0
    smooth = gaussian_filter1d(r["corr_noise_scale"] * corr, 2, axis=1)
    x = np.where(background, smooth, x) + r["iid_noise_scale"] * iid
    # 5. shear
    x = x - (r["shear_scale"] * (shear_u - 0.5))[:, None] * np.linspace(-0.5, 0.5, width)[None, :]
    # 6. resample to the final length
    x = _resample(x, np.full(count, width), r["final_seq_length"])

    order = rs.permutation(count)
    x, y = x[order], labels[order]
    x = (x - x.mean()) / x.std()
    split = int(count * r["train_split"])
    out = (x[:split], y[:split], x[split:], y[split:])
    for a in out:
        a.setflags(write=False)  # cached: callers must not change the shared arrays
    return out


class MNIST1D(ArrayDataset):
    """MNIST-1D: 4,000 training / 1,000 test signals of length 40 in 10 classes.

    seed: 42 (the published data set) or any other integer for a fresh draw of the recipe.
    recipe: overrides of RECIPE. Samples: x float32 (1, 40), y int64.

    Args:
        train: the 4,000 training signals, else the 1,000 test signals.
        transform: a batched transform of the inputs (see ArrayDataset).
        target_transform: the same for the targets.
        seed: the seed of the recipe's random numbers.
        **recipe: RECIPE entries to change, e.g. num_samples=500 (split 80 / 20 as well).

    Shape:
        dataset[i] -> (x float32 (1, 40), y int64 digit); a signal for Conv1d.

    Examples:
        >>> from glassnet.data import MNIST1D
        >>> train, test = MNIST1D(train=True), MNIST1D(train=False)
        >>> x, y = train[0]
        >>> len(train), len(test), x.shape, x.dtype
        (4000, 1000, (1, 40), dtype('float32'))
        >>> len(MNIST1D(num_samples=500))                  # a smaller draw of the same recipe
        400
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, train: bool = True, transform=None, target_transform=None, seed: int = 42,
                 **recipe):
        x_train, y_train, x_test, y_test = make_mnist1d(seed, **recipe)
        x, y = (x_train, y_train) if train else (x_test, y_test)
        self.train = train
        super().__init__(x[:, None].astype(np.float32), y, transform=transform,  # (N, 1, L)
                         target_transform=target_transform)

    def __repr__(self) -> str:
        return f"MNIST1D(train={self.train}, samples={len(self)})"
