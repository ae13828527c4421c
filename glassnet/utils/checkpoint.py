"""torch.utils.checkpoint without the memory saving: the function simply runs.

PyTorch's checkpoint drops the activations inside `function` after the forward pass and
recomputes them during backward, trading time for memory. glassnet runs `function` once and
keeps its graph as usual, so outputs and gradients are the same as PyTorch's and the memory is
what the code without checkpoint would use. (Recomputation would also have to replay the random
state of dropout inside `function`, which is where PyTorch's version is delicate.)
"""

from __future__ import annotations


def checkpoint(function, *args, use_reentrant: bool | None = None, preserve_rng_state: bool = True,
               **kwargs):
    """function(*args, **kwargs), with the graph kept (see the module docstring)."""
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments: int, input, use_reentrant: bool | None = None, **kwargs):
    """Run the modules of a Sequential (or a list of them) one after the other on input."""
    modules = list(functions.children()) if hasattr(functions, "children") else list(functions)
    for module in modules:
        input = module(input)
    return input
