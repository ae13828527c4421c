"""From samples to a batch: default_collate and default_convert (torch.utils.data's rules).

The structure of one sample is kept and its leaves are stacked along a new first axis:

    Tensor                      -> Tensor (B, *shape), dtype kept
    NumPy array, int, float,    -> Tensor (B, *shape) with glassnet.tensor's dtypes: floating
    NumPy number, bool             data float32, integers int64, bools bool
    str, bytes                  -> the list of them, unchanged
    dict (any Mapping)          -> the same kind of mapping, collated key by key
    namedtuple                  -> the same namedtuple, collated field by field
    tuple, list (any Sequence)  -> a list, collated position by position (PyTorch also turns
                                   tuples into lists)

The one difference from PyTorch is the dtype of arrays and numbers: PyTorch keeps each array's
dtype (float64 stays float64, uint8 stays uint8) and makes Python floats float64; glassnet makes
floating data float32 and integer data int64, as glassnet.tensor does. Tensors keep their dtype.
"""

from __future__ import annotations

import collections.abc
import copy

import numpy as np

from ..tensor import Tensor, _default_dtype

_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _stack(arrays: list, dtype) -> Tensor:
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise RuntimeError(f"default_collate needs samples of one shape to stack, got shapes {sorted(shapes)}")
    return Tensor._wrap(np.stack(arrays).astype(dtype, copy=False))  # (B, *sample_shape)


def _array_dtype(array: np.ndarray):
    try:
        return _default_dtype(array)
    except TypeError:
        raise TypeError(_ERROR.format(f"an array of dtype {array.dtype}")) from None


def default_collate(batch: list):
    """Stack a list of samples into one batch, keeping the structure of a sample (table above).

    The DataLoader's collate_fn when batching: B samples of shape S -> a Tensor (B, *S).

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import default_collate
        >>> batch = [(np.zeros((1, 28, 28), np.float64), 3), (np.ones((1, 28, 28), np.float64), 7)]
        >>> x, y = default_collate(batch)                 # a (tuple) sample gives a list
        >>> x.shape, x.dtype, y.tolist(), y.dtype
        ((2, 1, 28, 28), dtype('float32'), [3, 7], dtype('int64'))
        >>> default_collate([{"x": 1.5, "name": "a"}, {"x": 2.5, "name": "b"}])["x"].dtype
        dtype('float32')
    """
    if len(batch) == 0:
        raise ValueError("default_collate got an empty list of samples")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack([s.data for s in batch], elem.dtype)
    if isinstance(elem, (np.ndarray, np.generic, bool, int, float)):
        arrays = [np.asarray(s) for s in batch]
        return _stack(arrays, _array_dtype(arrays[0]))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([s[key] for s in batch]) for key in elem}
        return _same_kind(elem, collated)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(f)) for f in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(s) != len(elem) for s in batch):
            raise RuntimeError(f"each element in list of batch should be of equal size, got sizes "
                               f"{sorted({len(s) for s in batch})}")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data):
    """The collate_fn of a loader without batching (batch_size=None): NumPy arrays become Tensors
    (glassnet.tensor's dtypes), inside dicts, namedtuples and sequences too; the rest is unchanged.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data import default_convert
        >>> out = default_convert({"x": np.zeros(3), "label": 2})
        >>> type(out["x"]).__name__, out["x"].dtype, out["label"]    # float64 -> float32
        ('Tensor', dtype('float32'), 2)
    """
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "SaUO" else Tensor._wrap(data.astype(_array_dtype(data), copy=False))
    if isinstance(data, collections.abc.Mapping):
        return _same_kind(data, {key: default_convert(value) for key, value in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data


def _same_kind(template: collections.abc.Mapping, values: dict):
    """`values` as the mapping type of `template` (e.g. an OrderedDict stays one), else a dict."""
    try:
        if isinstance(template, collections.abc.MutableMapping):
            clone = copy.copy(template)
            clone.update(values)
            return clone
        return type(template)(values)
    except TypeError:
        return values
