"""glassnet: a convolutional-neural-network framework you can see through.

Layers, from the bottom: kernels (NumPy forward/backward) -> autograd and Tensor ->
functional -> nn -> optim -> data, train, models, explain.
"""

from .kernels.allocator import keep_freed_memory
from .kernels.threads import get_num_threads, set_num_threads
from .dispatch import reference_mode
from .autograd import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops import cat, stack, where
from .random import manual_seed, rand, randint, randn
from .serialization import load, save
from .tensor import (Tensor, arange, float32, float64, int64, is_tensor, ones, ones_like, tensor,
                     zeros, zeros_like)

__version__ = "0.1.0"

keep_freed_memory()  # reuse freed activation memory instead of re-faulting it (kernels/allocator.py)
