"""Layers and models as torch.nn names them: Module, Parameter, containers, and the layers.

Every layer holds its parameters with torch's names, shapes and default initialisation, so a
model built the same way here and in PyTorch has the same state_dict keys and shapes, and the
weights of one load into the other.
"""

from . import init
from .container import ModuleDict, ModuleList, Sequential
from .module import Module, Parameter
