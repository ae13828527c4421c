"""Devices, as PyTorch built without CUDA has them: every tensor lives on the CPU.

`glassnet.device("cuda")` can be made (PyTorch allows that too), but putting a tensor or a
module there raises the error a CPU-only PyTorch raises, `AssertionError: Torch not compiled
with CUDA enabled`, so a program that checks `torch.cuda.is_available()` first runs unchanged,
and one that insists on a GPU fails the way it would on a laptop without one.
"""

from __future__ import annotations

import re

from .autograd import TensorBase

# the device types PyTorch's parser accepts (torch/csrc/Device.cpp); only "cpu" holds data here
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
          "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")

NO_CUDA = "Torch not compiled with CUDA enabled"


class device:
    """torch.device: a type ('cpu', 'cuda', ...) and an optional index. device('cuda:1'),
    device('cuda', 1) and device(other_device) as in PyTorch."""

    __slots__ = ("type", "index")

    def __init__(self, type, index: int | None = None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            raise RuntimeError(f"device index {type} given without a device type; glassnet has only 'cpu'")
        elif not isinstance(type, str):
            raise TypeError(f"device() expected a string such as 'cpu' or 'cuda:0', got {type!r}")
        else:
            match = re.fullmatch(r"([a-z]+)(?::(\d+))?", type)  # 'cuda' or 'cuda:1'
            if match is None:
                raise RuntimeError(f"Invalid device string: {type!r}")
            if match.group(1) not in _TYPES:
                raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of "
                                   f"device string: {type}")
            if match.group(2) is not None:
                if index is not None:
                    raise RuntimeError(f"device string {type!r} already names an index; got index={index} too")
                index = int(match.group(2))
            type = match.group(1)
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError("device is immutable")

    def __eq__(self, other) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"


CPU = device("cpu")


def check_device(where) -> device:
    """The device `where` names (None: the CPU), refusing every other device at use, with the
    error a CPU-only PyTorch gives."""
    if where is None:
        return CPU
    d = where if isinstance(where, device) else device(where)
    if d.type == "cuda":
        raise AssertionError(NO_CUDA)
    if d.type != "cpu":
        raise RuntimeError(f"glassnet runs on the CPU only: device {str(d)!r} is not available")
    return d


def to_arguments(args, dtype=None, device=None):
    """(dtype, device) from the positional forms of torch's .to(): a device (or a string naming
    one), a dtype, or a tensor whose dtype to take; keywords given as dtype= / device= win."""
    for arg in args:
        if isinstance(arg, TensorBase):  # a Tensor (tensor.py imports this module, not the reverse)
            dtype = arg.dtype if dtype is None else dtype
        elif is_device(arg):
            device = arg if device is None else device
        elif dtype is None:
            dtype = arg
        else:
            raise TypeError(f"to() got more than one dtype: {dtype!r} and {arg!r}")
    check_device(device)
    return dtype, device


def is_device(obj) -> bool:
    """A device or a string that names one (so x.to('cpu') is told apart from x.to(dtype))."""
    if isinstance(obj, device):
        return True
    if isinstance(obj, str):
        try:
            device(obj)
        except RuntimeError:
            return False
        return True
    return False
