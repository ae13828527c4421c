"""torch.utils's names: `utils.data` (an alias of glassnet.data) and `utils.checkpoint`."""

from . import checkpoint, data

__all__ = ["checkpoint", "data"]
