"""torch.nn.parallel's names: DistributedDataParallel (its home is glassnet/distributed/ddp.py)."""

from ..distributed.ddp import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
