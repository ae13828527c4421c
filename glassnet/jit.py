"""torch.jit's decorators as they behave in eager mode: glassnet never compiles, so each returns
what it was given. Model definitions written for TorchScript (torchvision's, for one) run as
plain Python, which is what PyTorch itself does until torch.jit.script is called.

`script` and `trace` return the function or module unchanged: the result runs and gives the
same numbers, but nothing is compiled and it cannot be saved as TorchScript.
"""

from __future__ import annotations


def _identity(obj):
    return obj


unused = ignore = export = _overload_method = _overload = _identity


def is_scripting() -> bool:
    return False


def is_tracing() -> bool:
    return False


def annotate(the_type, the_value):
    return the_value


def script(obj, *args, **kwargs):
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    return func


class Final:  # torch.jit.Final[int] in class annotations
    def __class_getitem__(cls, item):
        return item
