"""pad_sequence, as torch.nn.utils.rnn: a list of variable-length tensors (L_i, *) stacked into
one padded batch, with a hand-written backward that hands each sequence its slice of the
gradient."""

from __future__ import annotations

import numpy as np

from ...autograd import Function
from ...tensor import Tensor

__all__ = ["pad_sequence"]


class PadSequence(Function):
    """One scatter of all the sequences' rows into the padded batch, one gather back."""

    @staticmethod
    def forward(ctx, *sequences, batch_first=False, padding_value=0.0, padding_side="right"):
        lengths = np.array([s.shape[0] for s in sequences])  # (B,)
        longest = int(lengths.max())
        # row r of the concatenated sequences goes to (batch[r], time[r]) of the (B, T, *) batch
        batch = np.repeat(np.arange(len(sequences)), lengths)  # (sum L,)
        time = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)  # (sum L,)
        if padding_side == "left":
            time += np.repeat(longest - lengths, lengths)
        out = np.full((len(sequences), longest) + sequences[0].shape[1:], padding_value,
                      dtype=sequences[0].dtype)  # (B, T, *)
        out[batch, time] = np.concatenate(sequences)
        ctx.batch, ctx.time, ctx.splits = batch, time, np.cumsum(lengths)[:-1]
        ctx.batch_first = batch_first
        return out if batch_first else np.ascontiguousarray(out.swapaxes(0, 1))  # (T, B, *)

    @staticmethod
    def backward(ctx, dy):
        d = dy if ctx.batch_first else dy.swapaxes(0, 1)  # (B, T, *)
        return tuple(np.split(d[ctx.batch, ctx.time], ctx.splits))  # each (L_i, *)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of different lengths into one padded batch (torch.nn.utils.rnn.pad_sequence);
    the gradient hands each sequence its slice.

    Args:
        sequences: a list of B tensors of shape (L_i, *), of one trailing shape and dtype.
        batch_first: return (B, T, *) instead of (T, B, *).
        padding_value: the value of the positions past a sequence's end.
        padding_side: 'right' (the default) pads after each sequence, 'left' before it.

    Shape:
        (L_i, *) each -> (T, B, *), or (B, T, *) when batch_first, T = max L_i.

    Examples:
        >>> import glassnet
        >>> from glassnet.nn.utils.rnn import pad_sequence
        >>> a, b = glassnet.tensor([1.0, 2.0, 3.0]), glassnet.tensor([4.0])
        >>> pad_sequence([a, b], batch_first=True).tolist()
        [[1.0, 2.0, 3.0], [4.0, 0.0, 0.0]]
        >>> pad_sequence([a, b], batch_first=True, padding_side="left", padding_value=-1.0).tolist()
        [[1.0, 2.0, 3.0], [-1.0, -1.0, 4.0]]
        >>> pad_sequence([glassnet.ones(3, 5), glassnet.ones(2, 5)]).shape     # (T, B, *)
        (3, 2, 5)
    """
    name = "pad_sequence"
    if isinstance(sequences, Tensor):
        sequences = list(sequences)  # a tensor is read as the sequence of its rows, as torch does
    sequences = list(sequences)
    if not sequences:
        raise ValueError(f"{name} expected a non-empty list of tensors")
    if padding_side not in ("left", "right"):
        raise ValueError(f"{name} expected padding_side 'left' or 'right', got {padding_side!r}")
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError(f"{name} expected Tensors, got {type(s).__name__} at position {i}")
        if s.ndim == 0:
            raise ValueError(f"{name} expected tensors of shape (L, *), got a 0-d tensor at position {i}")
        if s.shape[1:] != sequences[0].shape[1:] or s.dtype != sequences[0].dtype:
            raise ValueError(f"{name} expected tensors of one trailing shape and dtype; position 0 is "
                             f"{sequences[0].shape} {sequences[0].dtype}, position {i} is {s.shape} {s.dtype}")
    return PadSequence.apply(*sequences, batch_first=bool(batch_first), padding_value=padding_value,
                             padding_side=padding_side)
