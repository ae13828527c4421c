"""The array behind a Tensor: a NumPy ndarray that also answers torch's in-place calls.

glassnet keeps a Tensor's values in `tensor.data` and its gradient in `tensor.grad`, both NumPy
arrays, and every layer reads them as arrays. PyTorch programs treat the same two attributes as
tensors and change them in place: `m.weight.data.normal_(0, 0.02)`, `m.bias.data.fill_(0)`,
`w.grad.zero_()`, `p.grad.data.clamp_(-1, 1)`. TensorData is an ndarray subclass that adds
those in-place methods (the names NumPy does not already use), so both habits work on the same
memory. Methods NumPy already has keep NumPy's meaning here (`.data.max(1)` is NumPy's max over
axis 1, not torch's (values, indices)); use `.detach()` to get a Tensor with torch's methods.
"""

from __future__ import annotations

import numpy as np

from .autograd import TensorBase
from .generator import default_generator


def _array(value):
    return np.asarray(value.data if isinstance(value, TensorBase) else value)


class TensorData(np.ndarray):
    """An ndarray with torch's in-place methods; see the module docstring."""

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # what NumPy computes FROM the values (p.grad * 2, np.abs(w.data).max()) is a plain
        # array or scalar again: only the tensor's own .data and .grad (and views of them) take
        # torch's in-place calls and print as tensors
        array = array.view(np.ndarray)
        return array[()] if return_scalar else array

    @property
    def data(self):
        """Itself: `p.grad.data` in PyTorch code is the gradient's values."""
        return self

    def fill_(self, value):
        self[...] = _array(value)
        return self

    def zero_(self):
        self[...] = 0
        return self

    def copy_(self, src, non_blocking: bool = False):
        self[...] = _array(src)
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None):
        rng = generator or default_generator()
        self[...] = rng.normal(mean, std, self.shape)
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None):
        rng = generator or default_generator()
        self[...] = rng.uniform(a, b, self.shape)
        return self

    def clamp_(self, min=None, max=None):
        np.clip(self, None if min is None else _array(min), None if max is None else _array(max), out=self)
        return self

    clip_ = clamp_

    # ufuncs with out=self, returning self: NumPy hands results back as plain arrays (see
    # __array_wrap__), and these calls chain (w.data.mul_(2).add_(1))
    def add_(self, other, alpha=1):
        np.add(self, _array(other) * alpha if alpha != 1 else _array(other), out=self)
        return self

    def sub_(self, other, alpha=1):
        np.subtract(self, _array(other) * alpha if alpha != 1 else _array(other), out=self)
        return self

    def mul_(self, other):
        np.multiply(self, _array(other), out=self)
        return self

    def div_(self, other):
        np.divide(self, _array(other), out=self)
        return self

    def numpy(self) -> np.ndarray:
        return self.view(np.ndarray)

    def cpu(self):
        return self

    def detach(self):
        """A Tensor sharing this memory (torch's .data.detach())."""
        return TensorBase.result_class._wrap(self)  # glassnet.Tensor, which imports this module

    def clone(self):
        return self.copy()

    def norm(self, p=2):
        return np.linalg.norm(self.reshape(-1).view(np.ndarray), p)

    def __repr__(self) -> str:  # printed as PyTorch prints p.grad
        return "tensor(" + np.array2string(self.view(np.ndarray), separator=", ", prefix="tensor(") + ")"

    __str__ = __repr__


def as_tensor_data(array) -> TensorData:
    """The same memory seen as TensorData (no copy)."""
    return array if isinstance(array, TensorData) else np.asarray(array).view(TensorData)
