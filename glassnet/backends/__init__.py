"""torch.backends: the flags programs set (cudnn.benchmark = True) are accepted; none applies,
as none does on a CPU-only PyTorch."""

from . import cudnn, mps

__all__ = ["cudnn", "mps"]
