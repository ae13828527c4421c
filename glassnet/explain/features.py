"""Feature maps: what every layer of a model produces for one input.

Forward hooks on the model's leaf modules record each output in the order the layers run, so
this works for any glassnet.nn model (Sequential chains and models with skip connections alike).
"""

from __future__ import annotations

import numpy as np

from ._hooks import leaf_modules, run_with_hooks


def feature_maps(model, x) -> list[tuple[str, np.ndarray]]:
    """[(layer name, output of the first sample)] for every leaf module, in execution order.

    x: one sample (C, *spatial) or a batch (N, C, *spatial). Layer names are the module paths
    of model.named_modules() ('0', 'features.3', ...) followed by the class name.

    Examples:
        >>> import numpy as np
        >>> from glassnet import nn
        >>> from glassnet.explain.features import feature_maps
        >>> model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2))
        >>> [(name, a.shape) for name, a in feature_maps(model, np.zeros((1, 10, 10), np.float32))]
        [('0: Conv2d', (4, 8, 8)), ('1: ReLU', (4, 8, 8)), ('2: MaxPool2d', (4, 4, 4))]
    """
    from .. import tensor
    x = np.asarray(x, dtype=np.float32)
    leaves = leaf_modules(model)
    if not leaves:
        raise ValueError(f"feature_maps found no layers in {type(model).__name__}")
    recorded: list[tuple[str, np.ndarray]] = []

    def hook(module, args, output, name):
        out = output[0] if isinstance(output, tuple) else output
        recorded.append((f"{name or 'model'}: {type(module).__name__}", np.asarray(out.data)[0].copy()))

    hooks = [(module, lambda module, args, output, name=name: hook(module, args, output, name))
             for name, module in leaves]
    run_with_hooks(model, tensor(x if x.ndim >= 3 and _is_batched(model, x) else x[None]), hooks)
    return recorded


def _is_batched(model, x) -> bool:
    """A batch has one more dimension than a sample; a sample's first layer tells how many."""
    from .layers import as_layers
    try:
        first = next(layer for layer in as_layers(model) if layer.is_window)
    except (StopIteration, ValueError):
        return x.ndim >= 4
    return x.ndim == first.ndim + 2
