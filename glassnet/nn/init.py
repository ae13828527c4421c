"""Weight initialisation, with torch.nn.init's names, arguments and formulas.

Each function fills a Tensor (or ndarray) in place and returns it. Random draws come from
glassnet.random.default_generator() unless a numpy Generator is passed, so
glassnet.manual_seed(s) makes initialisation repeatable. The values differ from PyTorch's (a
different random generator) but the distributions are the same.

For a weight of shape (out, in, *k): fan_in = in * prod(k), fan_out = out * prod(k).
"""

from __future__ import annotations

import math

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..tensor import Tensor


def _array(tensor) -> np.ndarray:
    if isinstance(tensor, Tensor):
        return tensor.data
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"init functions fill a Tensor or ndarray in place, got {type(tensor).__name__}")


def _fill(tensor, values) -> Tensor:
    array = _array(tensor)
    with no_grad():
        array[...] = np.asarray(values).astype(array.dtype, copy=False)
    return tensor


def _rng(generator) -> np.random.Generator:
    # looked up at call time: manual_seed replaces the default generator
    return _random.default_generator() if generator is None else generator


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps activations' variance steady through a nonlinearity (torch's table),
    used as `gain` by the xavier_* and kaiming_* functions.

    1 for linear, conv1d/2d/3d, conv_transpose1d/2d/3d and sigmoid; 5/3 for tanh; sqrt(2) for relu;
    sqrt(2 / (1 + negative_slope^2)) for leaky_relu (slope `param`, 0.01 by default); 3/4 for selu.

    Args:
        nonlinearity: the function's name, as in torch.nn.functional.
        param: leaky_relu's negative slope.

    Examples:
        >>> from glassnet.nn import init
        >>> init.calculate_gain("relu"), init.calculate_gain("tanh")
        (1.4142135623730951, 1.6666666666666667)
        >>> round(init.calculate_gain("leaky_relu", 0.2), 4)     # sqrt(2 / 1.04)
        1.3868
    """
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {slope!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    shape = _array(tensor).shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dimensions, got shape {shape}")
    receptive_field = math.prod(shape[2:])  # 1 for a Linear weight
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fan(tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fill tensor in place with draws from U(a, b); returns it.

    Args:
        tensor: a Tensor or ndarray of any shape.
        a: the lower bound.
        b: the upper bound.
        generator: a numpy Generator; None draws from glassnet's default generator
            (glassnet.manual_seed makes it repeatable).

    Examples:
        >>> import numpy as np, glassnet
        >>> from glassnet.nn import init
        >>> rng = np.random.default_rng(0)            # or leave out: glassnet's default generator
        >>> w = init.uniform_(glassnet.zeros(1000), -0.5, 0.5, generator=rng)
        >>> -0.5 <= w.min().item() < w.max().item() < 0.5
        True
    """
    return _fill(tensor, _rng(generator).uniform(a, b, _array(tensor).shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fill tensor in place with draws from N(mean, std^2); returns it.

    Args:
        tensor: a Tensor or ndarray of any shape.
        mean: the mean.
        std: the standard deviation.
        generator: a numpy Generator; None draws from glassnet's default generator.

    Examples:
        >>> import numpy as np, glassnet
        >>> from glassnet.nn import init
        >>> rng = np.random.default_rng(0)            # or leave out: glassnet's default generator
        >>> w = init.normal_(glassnet.zeros(10000), 2.0, 0.5, generator=rng)
        >>> abs(w.mean().item() - 2.0) < 0.02, abs(w.std().item() - 0.5) < 0.02
        (True, True)
    """
    return _fill(tensor, _rng(generator).normal(mean, std, _array(tensor).shape))


def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator=None):
    """Fill tensor in place with draws from N(mean, std^2) restricted to [a, b] (inverse-CDF
    sampling, as torch); returns it.

    Args:
        tensor: a Tensor or ndarray of any shape.
        mean: the mean of the normal distribution before truncation.
        std: its standard deviation.
        a: the lower cut-off (an absolute value, not in units of std).
        b: the upper cut-off.
        generator: a numpy Generator; None draws from glassnet's default generator.

    Examples:
        >>> import numpy as np, glassnet
        >>> from glassnet.nn import init
        >>> rng = np.random.default_rng(0)            # or leave out: glassnet's default generator
        >>> w = init.trunc_normal_(glassnet.zeros(10000), std=1.0, a=-1.0, b=1.0, generator=rng)
        >>> -1.0 <= w.min().item() < w.max().item() <= 1.0
        True
    """
    from scipy.special import erf, erfinv
    lo, hi = (1 + erf((a - mean) / (std * math.sqrt(2)))) / 2, (1 + erf((b - mean) / (std * math.sqrt(2)))) / 2
    u = _rng(generator).uniform(2 * lo - 1, 2 * hi - 1, _array(tensor).shape)
    return _fill(tensor, np.clip(erfinv(u) * std * math.sqrt(2) + mean, a, b))


def constant_(tensor, val: float):
    """Fill tensor with val, in place; returns it.

    Examples:
        >>> import glassnet
        >>> from glassnet.nn import init
        >>> init.constant_(glassnet.zeros(2, 2), 0.5).tolist()
        [[0.5, 0.5], [0.5, 0.5]]
    """
    return _fill(tensor, val)


def ones_(tensor):
    """Fill tensor with 1, in place; returns it.

    Examples:
        >>> import glassnet
        >>> from glassnet.nn import init
        >>> init.ones_(glassnet.zeros(3)).tolist()
        [1.0, 1.0, 1.0]
    """
    return _fill(tensor, 1)


def zeros_(tensor):
    """Fill tensor with 0, in place; returns it (e.g. a bias before training).

    Examples:
        >>> from glassnet import nn
        >>> from glassnet.nn import init
        >>> layer = nn.Linear(4, 2)
        >>> init.zeros_(layer.bias).tolist()
        [0.0, 0.0]
    """
    return _fill(tensor, 0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal, also when it is not
    square), in place; returns it. A Linear layer so initialised passes its first inputs through.

    Examples:
        >>> import glassnet
        >>> from glassnet.nn import init
        >>> init.eye_(glassnet.zeros(2, 3)).tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    shape = _array(tensor).shape
    if len(shape) != 2:
        raise ValueError(f"eye_ needs a 2-D tensor, got shape {shape}")
    return _fill(tensor, np.eye(*shape))


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """Glorot (Glorot & Bengio 2010): fill tensor in place with draws from U(-a, a),
    a = gain * sqrt(6 / (fan_in + fan_out)); returns it.

    Args:
        tensor: at least 2-D, (out, in, *k): fan_in = in * prod(k), fan_out = out * prod(k).
        gain: a factor, e.g. calculate_gain("tanh").
        generator: a numpy Generator; None draws from glassnet's default generator.

    Examples:
        >>> import numpy as np, glassnet
        >>> from glassnet.nn import init
        >>> rng = np.random.default_rng(0)            # or leave out: glassnet's default generator
        >>> w = init.xavier_uniform_(glassnet.zeros(100, 50), generator=rng)
        >>> a = (6 / (50 + 100)) ** 0.5                   # 0.2
        >>> 0.95 * a < w.abs().max().item() <= a
        True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """Glorot (Glorot & Bengio 2010): fill tensor in place with draws from N(0, std^2),
    std = gain * sqrt(2 / (fan_in + fan_out)); returns it.

    Args:
        tensor: at least 2-D, (out, in, *k): fan_in = in * prod(k), fan_out = out * prod(k).
        gain: a factor, e.g. calculate_gain("tanh").
        generator: a numpy Generator; None draws from glassnet's default generator.

    Examples:
        >>> import numpy as np, glassnet
        >>> from glassnet.nn import init
        >>> rng = np.random.default_rng(0)            # or leave out: glassnet's default generator
        >>> w = init.xavier_normal_(glassnet.zeros(100, 50), generator=rng)
        >>> abs(w.std().item() - (2 / (50 + 100)) ** 0.5) < 0.005
        True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None):
    """He (He et al. 2015): fill tensor in place with draws from U(-bound, bound),
    bound = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a); returns it. With
    a = sqrt(5) (what Conv and Linear use by default) this is U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    Args:
        tensor: at least 2-D, (out, in, *k): fan_in = in * prod(k), fan_out = out * prod(k).
        a: the negative slope of the leaky_relu that follows.
        mode: 'fan_in' keeps the forward variance, 'fan_out' the backward one.
        nonlinearity: 'relu' or 'leaky_relu' (the default), or any name calculate_gain knows.
        generator: a numpy Generator; None draws from glassnet's default generator.

    Examples:
        >>> import numpy as np, glassnet
        >>> from glassnet.nn import init
        >>> rng = np.random.default_rng(0)            # or leave out: glassnet's default generator
        >>> w = init.kaiming_uniform_(glassnet.zeros(64, 3, 3, 3), nonlinearity="relu", generator=rng)
        >>> bound = 2 ** 0.5 * (3 / 27) ** 0.5           # fan_in = 3 * 3 * 3
        >>> 0.95 * bound < w.abs().max().item() <= bound
        True
    """
    if 0 in _array(tensor).shape:  # nothing to fill, and the fan may be 0: a no-op, as in torch
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None):
    """He (He et al. 2015): fill tensor in place with draws from N(0, std^2),
    std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a); returns it.

    Args:
        tensor: at least 2-D, (out, in, *k): fan_in = in * prod(k), fan_out = out * prod(k).
        a: the negative slope of the leaky_relu that follows.
        mode: 'fan_in' keeps the forward variance, 'fan_out' the backward one.
        nonlinearity: 'relu' or 'leaky_relu' (the default), or any name calculate_gain knows.
        generator: a numpy Generator; None draws from glassnet's default generator.

    Examples:
        >>> import numpy as np, glassnet
        >>> from glassnet.nn import init
        >>> rng = np.random.default_rng(0)            # or leave out: glassnet's default generator
        >>> w = init.kaiming_normal_(glassnet.zeros(256, 128), nonlinearity="relu", generator=rng)
        >>> abs(w.std().item() - (2 / 128) ** 0.5) < 0.005    # std sqrt(2) / sqrt(fan_in) = 0.125
        True
    """
    if 0 in _array(tensor).shape:  # nothing to fill, and the fan may be 0: a no-op, as in torch
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def default_uniform_(weight, bias=None, fan_in: int | None = None, generator=None):
    """The default initialisation of PyTorch's Conv and Linear layers (their reset_parameters):
    weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    For a weight (out, in, *k) fan_in = in * prod(k) is read from its shape and the weight is
    drawn by kaiming_uniform_(a=sqrt(5)), as torch does (gain sqrt(2 / (1 + 5)), bound
    sqrt(3) gain / sqrt(fan_in) = 1/sqrt(fan_in)). Layers whose weight has another layout (one
    kernel per position, one coefficient per channel) pass fan_in, and the weight is drawn from
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) directly. The bias (any shape, or None) uses the same
    bound, 0 when fan_in is 0.

    Examples:
        >>> import numpy as np, glassnet
        >>> from glassnet.nn import init
        >>> w, b = glassnet.empty(8, 3, 2, 2), glassnet.empty(8)     # fan_in = 3 * 2 * 2 = 12
        >>> _ = init.default_uniform_(w, b, generator=np.random.default_rng(0))
        >>> bound = 1 / np.sqrt(12)
        >>> bool(np.abs(w.numpy()).max() <= bound), bool(np.abs(b.numpy()).max() <= bound)
        (True, True)
        >>> bool(np.abs(w.numpy()).max() > bound / 2)                 # spread over the range
        True
    """
    from_shape = fan_in is None
    if from_shape:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    if from_shape:
        kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    else:
        uniform_(weight, -bound, bound, generator)
    if bias is not None:
        uniform_(bias, -bound, bound, generator)
    return weight


def orthogonal_(tensor, gain: float = 1.0, generator=None):
    """Fill tensor in place with a (semi-)orthogonal matrix from the QR decomposition of a
    Gaussian one, times gain (Saxe et al. 2013); returns it. A tensor of more than 2 dimensions
    is treated as (shape[0], rest). With fewer rows than columns the rows are orthonormal,
    otherwise the columns.

    Args:
        tensor: at least 2-D.
        gain: the factor.
        generator: a numpy Generator; None draws from glassnet's default generator.

    Examples:
        >>> import numpy as np, glassnet
        >>> from glassnet.nn import init
        >>> rng = np.random.default_rng(0)            # or leave out: glassnet's default generator
        >>> w = init.orthogonal_(glassnet.zeros(3, 5), generator=rng).numpy()
        >>> np.allclose(w @ w.T, np.eye(3), atol=1e-6)
        True
    """
    shape = _array(tensor).shape
    if len(shape) < 2:
        raise ValueError(f"orthogonal_ needs at least 2 dimensions, got shape {shape}")
    rows, cols = shape[0], math.prod(shape[1:])
    flat = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))  # make the decomposition unique, hence uniformly distributed
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(shape))


__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
           "eye_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "orthogonal_"]
