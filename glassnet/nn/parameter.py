"""torch.nn.parameter's names (Parameter, UninitializedParameter, UninitializedBuffer), so that
`from glassnet.nn.parameter import Parameter` works as the torch import does. The classes live
in nn.module and nn.lazy."""

from .lazy import UninitializedBuffer, UninitializedParameter
from .module import Parameter

__all__ = ["Parameter", "UninitializedParameter", "UninitializedBuffer"]
