"""glassnet: a convolutional-neural-network framework you can see through.

Layers, from the bottom: kernels (NumPy forward/backward) -> autograd and Tensor ->
functional -> nn -> optim -> data, train, models, explain.
"""

from .kernels.fast.allocator import keep_freed_memory
from .kernels.fast.threads import get_num_threads, set_num_threads
from . import process_settings
from .process_settings import use_process_settings
from .dispatch import reference_mode
from .autograd import Function, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .ops import cat, stack, where
from .random import (manual_seed, normal, rand, rand_like, randint, randn, randn_like, randperm, get_rng_state,
                     set_rng_state)
from .serialization import load, save
from .tensor import (Tensor, arange, float32, float64, int64, is_tensor, ones, ones_like, tensor,
                     zeros, zeros_like)
from .creation import as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace
from .tensor_functions import *  # noqa: F401,F403 - torch.exp(x), torch.max(x, 1), ... as Tensor methods
from .devices import device
from .dtypes import (finfo, float16, get_default_dtype, iinfo, int8, int16, int32, is_floating_point,
                     uint8)
from . import accelerator, backends, cuda, jit

# PyTorch's sub-packages as attributes, so `import glassnet as torch` alone reaches torch.nn,
# torch.nn.functional, torch.optim, torch.utils.data (aliases of glassnet.functional, glassnet.data)
from . import data, functional, nn, optim, utils

__version__ = "0.1.0"

process_settings.from_environment()  # malloc and BLAS tuned for the whole process only if asked

# torch's second names of the dtypes (glassnet.float is float32, glassnet.long is int64); bound
# last, as they shadow Python's builtins in this namespace
half, float, double, short, int, long, bool = (dtypes.ALIASES[name] for name in
                                              ("half", "float", "double", "short", "int", "long", "bool"))
