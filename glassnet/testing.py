"""Gradient checking by central finite differences, for tests and for curious users.

numerical_gradient perturbs one input element at a time by +-eps and measures the change of
<f(x), dy>: the directional derivative that backward must reproduce. Use float64 inputs; in
float32 the rounding error of the difference swamps eps.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[..., np.ndarray], inputs: list[np.ndarray], dy: np.ndarray,
                       wrt: int, eps: float = 1e-6) -> np.ndarray:
    """d<f(*inputs), dy>/d inputs[wrt], by central differences (inputs[wrt] is restored)."""
    x = inputs[wrt]
    if x.dtype != np.float64:
        raise TypeError(f"finite differences need float64 inputs, got {x.dtype}")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)  # views: writing them changes x and grad
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = np.vdot(f(*inputs), dy)
        flat[i] = old - eps
        minus = np.vdot(f(*inputs), dy)
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def check_gradients(f: Callable[..., np.ndarray], backward: Callable[..., tuple], inputs: list[np.ndarray],
                    seed: int = 0, rtol: float = 1e-5, atol: float = 1e-7, eps: float = 1e-6) -> None:
    """Assert that backward(dy, *inputs) matches finite differences of f for every input.

    `backward` returns one gradient per input (None to skip that input).
    """
    rng = np.random.default_rng(seed)
    y = f(*inputs)
    dy = rng.standard_normal(np.shape(y))
    analytic = backward(dy, *inputs)
    for i, g in enumerate(analytic):
        if g is None:
            continue
        expected = numerical_gradient(f, inputs, dy, i, eps)
        np.testing.assert_allclose(g, expected, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i} differs from finite differences")
