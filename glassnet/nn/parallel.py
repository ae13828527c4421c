"""torch.nn.parallel's names.

DataParallel wraps a module and, with no GPU to scatter the batch to, runs it as it is; this is
what PyTorch does when no CUDA device is visible. The wrapped module is `.module`, so state_dict
keys gain the prefix 'module.' exactly as in PyTorch, and checkpoints saved from a DataParallel
model on either framework load into the other.

DistributedDataParallel's home is glassnet/distributed/ddp.py.
"""

from __future__ import annotations

from ..distributed.ddp import DistributedDataParallel
from .module import Module


class DataParallel(Module):
    """torch.nn.DataParallel without a GPU: `forward(*inputs)` is `module(*inputs)`, as PyTorch runs
    it when no CUDA device is visible. It exists so that programs and checkpoints written for
    DataParallel work unchanged: the wrapped module is `.module`, so state_dict keys gain the
    prefix 'module.' as in PyTorch.

    Args:
        module: the model to wrap.
        device_ids: ignored (no GPU), as PyTorch ignores it without CUDA.
        output_device: ignored, likewise.
        dim: the batch dimension PyTorch would scatter along; kept as an attribute.

    Shape:
        the wrapped module's.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> model = nn.DataParallel(nn.Linear(3, 2))
        >>> model(glassnet.zeros(4, 3)).shape
        (4, 2)
        >>> list(model.state_dict())
        ['module.weight', 'module.bias']
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        # PyTorch, finding no GPU, ignores device_ids and output_device and keeps the module as is
        self.module = module
        self.device_ids = []
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


__all__ = ["DataParallel", "DistributedDataParallel"]
