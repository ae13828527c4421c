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
    if not x.flags.writeable:
        raise ValueError("numerical_gradient perturbs the input in place: it must be writeable")
    grad = np.zeros(x.shape, x.dtype)
    # index x itself, never x.reshape(-1): for a non-contiguous x that is a copy, and perturbing
    # the copy would leave f's input unchanged (a silent zero gradient)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = np.vdot(f(*inputs), dy)
        x[i] = old - eps
        minus = np.vdot(f(*inputs), dy)
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
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


def gradcheck(func: Callable, inputs, *, eps: float = 1e-6, atol: float = 1e-7, rtol: float = 1e-5,
              seed: int = 0) -> bool:
    """Check the autograd gradients of func(*inputs) -> Tensor against finite differences.

    Like torch.autograd.gradcheck: `inputs` are float64 Tensors (or constants); every Tensor with
    requires_grad=True is checked. Backward runs with a random upstream gradient dy, so every
    output element matters. Returns True or raises AssertionError naming the input.
    """
    from .autograd import no_grad
    from .tensor import Tensor

    inputs = list(inputs)
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t.dtype != np.float64:
            raise TypeError(f"gradcheck needs float64 tensors, input {i} has dtype {t.dtype}")
    arrays = [t.data.copy() if isinstance(t, Tensor) else t for t in inputs]

    def f(*arrays_):
        with no_grad():  # the wrapped arrays are shared, so perturbing them changes func's input
            args = [Tensor._wrap(a) if isinstance(t, Tensor) else a for a, t in zip(arrays_, inputs)]
            return np.asarray(func(*args).data)

    leaves = [Tensor._wrap(a.copy(), requires_grad=t.requires_grad) if isinstance(t, Tensor) else a
              for a, t in zip(arrays, inputs)]
    out = func(*leaves)
    dy = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(dy)
    for i, (t, leaf) in enumerate(zip(inputs, leaves)):
        if not (isinstance(t, Tensor) and t.requires_grad):
            continue
        analytic = leaf.grad if leaf.grad is not None else np.zeros(leaf.shape)
        expected = numerical_gradient(f, arrays, dy, i, eps)
        np.testing.assert_allclose(analytic, expected, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i} differs from finite differences")
    return True
