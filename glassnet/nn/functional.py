"""torch.nn.functional's name for glassnet.functional, where the differentiable operations live.

An alias, not a copy: `import glassnet.nn.functional as F` then `F.relu` is
glassnet.functional.relu itself, and functions added to glassnet.functional appear here too.
"""

from .. import functional as _home


def __getattr__(name: str):
    return getattr(_home, name)


def __dir__():
    return dir(_home)
