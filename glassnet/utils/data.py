"""torch.utils.data's name for glassnet.data, where the datasets and the DataLoader live.

An alias, not a copy: every attribute is looked up in glassnet.data, so
`from glassnet.utils.data import DataLoader` gives glassnet.data.DataLoader itself, and names
added to glassnet.data appear here too.
"""

from .. import data as _home


def __getattr__(name: str):
    return getattr(_home, name)


def __dir__():
    return dir(_home)
