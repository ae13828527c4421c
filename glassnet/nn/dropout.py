"""Dropout: in training, zero each element with probability p and scale the rest by 1/(1-p)
(inverted dropout, so evaluation needs no rescaling); in eval mode, the identity. The mask is
drawn from glassnet.random's generator."""

from __future__ import annotations

from .. import functional as F
from .module import Module


class Dropout(Module):
    """Zero each element with probability p while training, and scale the rest by 1 / (1 - p)
    so that the expected value is unchanged: PyTorch's (inverted) Dropout. In eval mode
    (model.eval()) it returns its input. The random draws come from glassnet's generator
    (glassnet.manual_seed).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> drop = nn.Dropout(0.5)
        >>> y = drop(glassnet.ones(1000))
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
        >>> drop.eval()(glassnet.ones(3)).tolist()
        [1.0, 1.0, 1.0]
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, got {p!r}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


__all__ = ["Dropout"]
