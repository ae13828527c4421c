"""Gradient clipping, as torch.nn.utils: clip_grad_norm_, clip_grad_value_, get_total_norm and
clip_grads_with_norm_. Each works on the .grad arrays in place (no graph is recorded) and accepts
one Tensor or an iterable of them; parameters without a gradient are skipped.
"""

from __future__ import annotations

import numpy as np

from ...tensor import Tensor


def _tensors(parameters) -> list:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(a: np.ndarray, norm_type: float) -> np.ndarray:
    """The p-norm of a flattened array, in its dtype (inf: largest |a|, 0: number of non-zeros)."""
    flat = a.reshape(-1)
    if flat.size == 0:
        return np.zeros((), a.dtype)
    return np.asarray(np.linalg.norm(flat, ord=norm_type), a.dtype)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The norm of the norms of the tensors: the norm they would have as one concatenated vector,
    ||(||g_1||_p, ..., ||g_n||_p)||_p = ||concat(g_1, ..., g_n)||_p, as a 0-d Tensor
    (torch.nn.utils.get_total_norm).

    Args:
        tensors: gradients (arrays or Tensors), or one of them.
        norm_type: p; float('inf') for the largest absolute value.
        error_if_nonfinite: raise a RuntimeError when the norm is inf or nan.
        foreach: accepted for PyTorch's signature; no effect.

    Examples:
        >>> import numpy as np
        >>> from glassnet import nn
        >>> grads = [np.array([3.0, 4.0]), np.array([12.0])]
        >>> nn.utils.get_total_norm(grads).item()                          # sqrt(9 + 16 + 144)
        13.0
        >>> nn.utils.get_total_norm(grads, norm_type=float("inf")).item()
        12.0
    """
    arrays = [t.data if isinstance(t, Tensor) else np.asarray(t) for t in _tensors(tensors)]
    norm_type = float(norm_type)
    if not arrays:
        return Tensor(0.0)
    norms = np.stack([_vector_norm(a, norm_type) for a in arrays])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is {float(total)}, so it cannot "
                           "be clipped; pass error_if_nonfinite=False to scale by it anyway")
    return Tensor._wrap(total)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach: bool | None = None) -> None:
    """Scale every parameter's gradient in place by one factor,
    grad <- grad * min(max_norm / (total_norm + 1e-6), 1), given the total norm (from
    get_total_norm): the second half of clip_grad_norm_ (torch.nn.utils.clip_grads_with_norm_).

    Args:
        parameters: a Tensor or an iterable of them; those without .grad are skipped.
        max_norm: the largest total norm allowed.
        total_norm: the gradients' total norm (a number or a 0-d Tensor).
        foreach: accepted for PyTorch's signature; no effect.

    Examples:
        >>> import numpy as np
        >>> from glassnet import nn
        >>> layer = nn.Linear(2, 1, bias=False)
        >>> layer.weight.grad = np.array([[3.0, 4.0]], dtype=np.float32)
        >>> total = nn.utils.get_total_norm([layer.weight.grad])
        >>> nn.utils.clip_grads_with_norm_(layer.parameters(), 2.5, total)   # halves it
        >>> [round(g, 4) for g in layer.weight.grad[0].tolist()]
        [1.5, 2.0]
    """
    grads = [p.grad for p in _tensors(parameters) if p.grad is not None]
    if not grads:
        return
    total = np.asarray(total_norm.data if isinstance(total_norm, Tensor) else total_norm)
    coef = np.minimum(float(max_norm) / (total + 1e-6), 1.0)
    for g in grads:
        g *= coef.astype(g.dtype)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale all gradients together so that their total norm is at most max_norm; returns the
    total norm before clipping (a 0-d Tensor, as torch).

    One scale for all parameters keeps the direction of the full gradient; clipping each
    parameter on its own would change it.

        g <- g * min(max_norm / (||g||_p + 1e-6), 1),  ||g||_p over all gradients together

    Args:
        parameters: a Tensor or an iterable of them; those without .grad are skipped.
        max_norm: the largest total norm allowed.
        norm_type: p; float('inf') for the largest absolute value.
        error_if_nonfinite: raise a RuntimeError when the total norm is inf or nan.
        foreach: accepted for PyTorch's signature; no effect.

    Examples:
        >>> import numpy as np
        >>> from glassnet import nn
        >>> layer = nn.Linear(2, 1)
        >>> layer.weight.grad = np.array([[3.0, 4.0]], dtype=np.float32)
        >>> layer.bias.grad = np.array([0.0], dtype=np.float32)
        >>> nn.utils.clip_grad_norm_(layer.parameters(), max_norm=1.0)      # the norm before
        tensor(5.)
        >>> [round(g, 4) for g in layer.weight.grad[0].tolist()]          # now of norm 1
        [0.6, 0.8]
    """
    parameters = _tensors(parameters)
    total = get_total_norm([p.grad for p in parameters if p.grad is not None], norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach: bool | None = None) -> None:
    """Clip every gradient element to [-clip_value, clip_value], in place (PyTorch's
    clip_grad_value_); parameters without a gradient are skipped.

    Examples:
        >>> import numpy as np
        >>> from glassnet import nn
        >>> layer = nn.Linear(2, 1)
        >>> layer.weight.grad = np.array([[5.0, -0.5]], dtype=np.float32)
        >>> nn.utils.clip_grad_value_(layer.parameters(), 1.0)
        >>> layer.weight.grad.tolist()
        [[1.0, -0.5]]
    """
    clip_value = float(clip_value)
    for p in _tensors(parameters):
        if p.grad is not None:
            np.clip(p.grad, -clip_value, clip_value, out=p.grad)
