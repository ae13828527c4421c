"""spectral_norm and remove_spectral_norm, as torch.nn.utils (Miyato et al. 2018): the weight is
divided by its largest singular value sigma, estimated by power iteration, so the layer is
1-Lipschitz (the GAN discriminator's use).

W is seen as a matrix M (its `dim` axis as rows, the rest flattened). Vectors u, v (buffers
`<name>_u`, `<name>_v`) approximate the top singular vectors; each training-mode forward refines them
n_power_iterations times, v <- M^T u / ||M^T u||, u <- M v / ||M v|| (no gradient), then

    sigma = u^T M v,    W_sn = W / sigma.

Backward (u, v held constant, as in PyTorch): with dsigma/dM = u v^T,
    dL/dW = dW_sn / sigma - sum(dW_sn * W) / sigma^2 * (u v^T reshaped like W).
The parameter becomes `<name>_orig`, as in PyTorch's state_dict.
"""

from __future__ import annotations

import numpy as np

from ... import random as _random
from ...autograd import Function
from ...tensor import Tensor
from ..conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..module import Module, Parameter


def _as_matrix(w: np.ndarray, dim: int) -> np.ndarray:
    """(rows = size of dim, everything else flattened)."""
    if dim != 0:
        w = np.moveaxis(w, dim, 0)
    return w.reshape(w.shape[0], -1)


def _normalize(x: np.ndarray, eps: float) -> np.ndarray:
    return x / max(float(np.linalg.norm(x)), eps)


class SpectralNormFunction(Function):
    @staticmethod
    def forward(ctx, weight, u=None, v=None, dim=0):
        sigma = u @ (_as_matrix(weight, dim) @ v)  # u^T M v
        ctx.save_for_backward(weight, u, v, sigma)
        ctx.dim = dim
        return weight / sigma

    @staticmethod
    def backward(ctx, dw):
        weight, u, v, sigma = ctx.saved
        outer = np.outer(u, v)  # dsigma/dM, (rows, cols)
        moved = np.moveaxis(weight, ctx.dim, 0).shape
        outer = np.moveaxis(outer.reshape(moved), 0, ctx.dim)  # back to W's layout
        return dw / sigma - (np.vdot(dw, weight) / (sigma * sigma)) * outer, None, None


class SpectralNorm:
    """The forward pre-hook: power iteration in training mode, then `module.<name>` = W / sigma."""

    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float):
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def compute_weight(self, module: Module, do_power_iteration: bool):
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        if do_power_iteration:
            matrix = _as_matrix(weight.data, self.dim)
            for _ in range(self.n_power_iterations):
                v.data[...] = _normalize(matrix.T @ u.data, self.eps)
                u.data[...] = _normalize(matrix @ v.data, self.eps)
        return SpectralNormFunction.apply(weight, u.data.copy(), v.data.copy(), dim=self.dim)

    def __call__(self, module: Module, inputs) -> None:
        object.__setattr__(module, self.name, self.compute_weight(module, do_power_iteration=module.training))


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Divide `module.<name>` by its spectral norm (largest singular value) before every forward
    (Miyato et al. 2018; torch.nn.utils.spectral_norm); returns module.

        sigma = u^T M v,   W_sn = W / sigma

    M is the weight as a matrix (dim as rows); u and v, the estimated top singular vectors, are
    refined by n_power_iterations steps of power iteration at each training-mode forward
    (eval mode reuses them). The parameter becomes `<name>_orig`, with buffers `<name>_u`, `<name>_v`.

    Args:
        module: the layer holding the parameter.
        name: the parameter's name.
        n_power_iterations: power-iteration steps per training-mode forward.
        eps: the smallest norm a vector is divided by.
        dim: the dimension of output units; None is 0, or 1 for ConvTranspose layers.

    Shape:
        `<name>_orig`: the parameter's shape; `<name>_u`: (size of dim,); `<name>_v`: (the other
        sizes' product,).

    Examples:
        A weight with singular values 3, 1 and 0.5: after a few forwards sigma is 3.

        >>> import numpy as np, glassnet
        >>> from glassnet import nn
        >>> layer = nn.utils.spectral_norm(nn.Linear(4, 3, bias=False))
        >>> list(layer.state_dict())
        ['weight_orig', 'weight_u', 'weight_v']
        >>> layer.weight_orig.data[...] = np.eye(3, 4) * [[3.0], [1.0], [0.5]]
        >>> for _ in range(10):
        ...     y = layer(glassnet.zeros(1, 4))
        >>> singular_values = np.linalg.svd(layer.weight.detach().numpy(), compute_uv=False)
        >>> [round(s, 4) for s in singular_values.tolist()]
        [1.0, 0.3333, 0.1667]
    """
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            raise RuntimeError(f"cannot register two spectral_norm hooks on the same parameter {name!r}")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"spectral_norm expected {type(module).__name__} to have a parameter {name!r}")
    if n_power_iterations < 0:
        raise ValueError(f"spectral_norm expected n_power_iterations >= 0, got {n_power_iterations}")
    if dim is None:  # a transposed convolution keeps its output channels in dimension 1
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    fn = SpectralNorm(name, n_power_iterations, dim, eps)
    rows, cols = _as_matrix(weight.data, dim).shape
    rng = _random.default_generator()
    u = _normalize(rng.standard_normal(rows).astype(weight.dtype), eps)
    v = _normalize(rng.standard_normal(cols).astype(weight.dtype), eps)
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    module.register_buffer(name + "_u", Tensor(u, dtype=weight.dtype))
    module.register_buffer(name + "_v", Tensor(v, dtype=weight.dtype))
    object.__setattr__(module, name, Tensor._wrap(weight.data))
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Put `<name>` back as one parameter holding the current W / sigma (no further power
    iteration) and remove the hook spectral_norm added (torch.nn.utils.remove_spectral_norm);
    returns module.

    Examples:
        >>> from glassnet import nn
        >>> layer = nn.utils.spectral_norm(nn.Linear(4, 3))
        >>> list(nn.utils.remove_spectral_norm(layer).state_dict())
        ['bias', 'weight']
    """
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            break
    else:
        raise ValueError(f"spectral_norm of {name!r} not found in {type(module).__name__}")
    weight = hook.compute_weight(module, do_power_iteration=False)
    del module._forward_pre_hooks[key]
    object.__delattr__(module, name)
    del module._parameters[name + "_orig"]
    del module._buffers[name + "_u"]
    del module._buffers[name + "_v"]
    module.register_parameter(name, Parameter(weight.data))
    return module
