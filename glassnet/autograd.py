"""Reverse-mode automatic differentiation: the Function protocol and the backward pass.

An operation is a subclass of `Function` with two static methods, written in plain NumPy:

    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):            # ndarrays in, ndarray (or tuple of them) out
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, dy):             # one upstream gradient per output
            a, b = ctx.saved
            return dy * b, dy * a          # one gradient per positional input (None if not needed)

`Mul.apply(x, y)` unwraps Tensors to ndarrays, runs forward, and, when any input requires a
gradient, records a `Node` on the outputs. `Tensor.backward()` then walks the recorded graph in
reverse topological order, so a tensor used twice (a DAG, not just a chain) receives the sum of
its gradients before it passes them on.

Keyword arguments of `apply` are options (stride, padding, ...), never differentiated.

This module sits below tensor.py and never imports it: the tape knows a tensor only as a
`TensorBase`, the part of glassnet.Tensor that recording and backward read and write.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import weakref

import numpy as np

from .dispatch import is_reference_mode, reference_mode

_state = threading.local()


def is_grad_enabled() -> bool:
    return getattr(_state, "grad_enabled", True)


class set_grad_enabled:
    """Switch gradient recording on or off. As in PyTorch it works both as a plain call and as a
    context manager that restores the previous mode: `with set_grad_enabled(training): ...`."""

    def __init__(self, mode: bool):
        self.previous = is_grad_enabled()
        _state.grad_enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        _state.grad_enabled = self.previous


@contextlib.contextmanager
def no_grad():
    """Run operations without recording them (evaluation, parameter updates)."""
    previous = is_grad_enabled()
    set_grad_enabled(False)
    try:
        yield
    finally:
        set_grad_enabled(previous)


def inference_mode(mode: bool = True):
    """torch.inference_mode: no_grad() here (glassnet has no separate inference tensors);
    inference_mode(False) leaves the gradient mode as it is. Works as a decorator too."""
    return no_grad() if mode else contextlib.nullcontext()


@contextlib.contextmanager
def enable_grad():
    previous = is_grad_enabled()
    set_grad_enabled(True)
    try:
        yield
    finally:
        set_grad_enabled(previous)


class TensorBase:
    """What the tape knows of a tensor. glassnet.Tensor (tensor.py) derives from this class and
    adds everything a user calls; the tape reads and writes only these:

        data            the ndarray
        requires_grad   whether a gradient is wanted
        grad_fn         the Node that made it (None for a leaf), _output_index its output there
        _version        bumped by every in-place change (the saved-tensor check in backward)
        _accumulate(g)  add g into .grad (a leaf); _run_post_accumulate_hooks() after that

    and Function.apply makes its outputs with result_class._wrap(array, requires_grad).
    """

    # The class Function.apply wraps its outputs in: glassnet.Tensor, set by tensor.py right below
    # its class (PyTorch's autograd engine is handed torch.Tensor the same way when torch starts).
    result_class: type[TensorBase]


class Node:
    """What one application of a Function leaves in the graph (the `ctx` of forward/backward)."""

    def __init__(self, function: type[Function], inputs: tuple):
        self.function = function
        self.inputs = inputs  # the positional arguments; Tensors among them are graph parents
        self.needs_input_grad = tuple(isinstance(a, TensorBase) and a.requires_grad for a in inputs)
        self.input_versions = tuple(a._version if isinstance(a, TensorBase) else 0 for a in inputs)
        self.saved: tuple = ()
        self.non_differentiable: set[int] = set()
        self.output_meta: list[tuple[tuple[int, ...], np.dtype]] = []
        self.retained: dict[int, weakref.ref] = {}  # outputs whose .grad the user asked to keep
        self.reference = is_reference_mode()  # backward runs on the kernels forward ran on (dispatch.py)

    def save_for_backward(self, *arrays) -> None:
        self.saved = arrays

    def mark_non_differentiable(self, *output_indices: int) -> None:
        """Outputs such as pooling indices carry no gradient."""
        self.non_differentiable.update(output_indices)

    @property
    def name(self) -> str:
        return self.function.__name__ + "Backward"

    @property
    def next_functions(self) -> tuple:
        """One (node, output index) pair per tensor input, as PyTorch's: the input's grad_fn, an
        AccumulateGrad for a leaf that requires grad, None for a constant. Empty once a backward
        without retain_graph has freed this part of the graph."""
        pairs = []
        for parent in self.inputs:
            if not isinstance(parent, TensorBase):
                continue  # options and arrays are not graph inputs
            if parent.grad_fn is not None:
                pairs.append((parent.grad_fn, parent._output_index))
            else:
                pairs.append((AccumulateGrad(parent) if parent.requires_grad else None, 0))
        return tuple(pairs)

    def __repr__(self) -> str:
        return f"<{self.name}>"


class AccumulateGrad:
    """Where the graph ends at a leaf: backward adds its gradient into `variable.grad`."""

    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    name = "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


class Function:
    """Base class of every differentiable operation. See the module docstring.

    Subclass it with a static `forward(ctx, *arrays, **options)` and `backward(ctx, *grads)` on
    plain ndarrays; call it as `YourFunction.apply(...)`, which unwraps Tensors and records the
    operation for `Tensor.backward()`. Every operation of `glassnet.functional` is a Function
    called by its lowercase function (`relu` calls `ReLU.apply`).

    Examples:
        y = x^2, with the derivative dy/dx = 2x:

        >>> import glassnet
        >>> from glassnet.autograd import Function
        >>> class Square(Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...
        ...     @staticmethod
        ...     def backward(ctx, dy):
        ...         (x,) = ctx.saved
        ...         return 2 * x * dy
        >>> x = glassnet.tensor([1.0, -3.0], requires_grad=True)
        >>> y = Square.apply(x)
        >>> y.sum().backward()
        >>> y.tolist(), x.grad.tolist()
        ([1.0, 9.0], [2.0, -6.0])

        The graph records which Function made a tensor:

        >>> import glassnet.functional as F
        >>> y.grad_fn.function.__name__, F.relu(x).grad_fn.function.__name__
        ('Square', 'ReLU')
    """

    @staticmethod
    def forward(ctx: Node, *args, **kwargs):
        raise NotImplementedError(f"{ctx.function.__name__} defines no forward")

    @staticmethod
    def backward(ctx: Node, *grad_outputs):
        raise NotImplementedError(f"{ctx.name} is not differentiable")

    @classmethod
    def apply(cls, *args, **kwargs):
        arrays = tuple(a.data if isinstance(a, TensorBase) else a for a in args)
        ctx = Node(cls, args)
        raw = cls.forward(ctx, *arrays, **kwargs)
        outputs = raw if isinstance(raw, tuple) else (raw,)
        track = is_grad_enabled() and any(ctx.needs_input_grad)
        results, wrap = [], TensorBase.result_class._wrap
        for i, out in enumerate(outputs):
            out = np.asarray(out)
            # integer and bool outputs (indices, casts to int) never carry a gradient
            differentiable = track and i not in ctx.non_differentiable and out.dtype.kind == "f"
            t = wrap(out, requires_grad=differentiable)
            if differentiable:
                t.grad_fn, t._output_index = ctx, i
            results.append(t)
            ctx.output_meta.append((out.shape, out.dtype))
        if not track:
            ctx.inputs, ctx.saved = (), ()  # nothing will call backward: free the inputs now
        return tuple(results) if isinstance(raw, tuple) else results[0]


def _topological_order(root: Node) -> list[Node]:
    """Nodes reachable from root, each after every node that consumes its outputs."""
    order, seen = [], set()
    stack = [(root, False)]
    while stack:  # iterative DFS: deep networks would overflow Python's recursion limit
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for parent in node.inputs:
            fn = parent.grad_fn if isinstance(parent, TensorBase) else None
            if fn is not None and id(fn) not in seen:
                stack.append((fn, False))
    return order[::-1]


def _check_saved_inputs_unchanged(node: Node) -> None:
    """PyTorch's version check: an input changed in place (x += 1, x[i] = v, zero_()) after the
    forward pass must not be one whose data backward reads, or the gradient would be silently wrong."""
    for i, (parent, version) in enumerate(zip(node.inputs, node.input_versions)):
        if isinstance(parent, TensorBase) and parent._version != version and any(
                isinstance(s, np.ndarray) and np.may_share_memory(s, parent.data) for s in node.saved):
            raise RuntimeError(f"input {i} of {node.name} (shape {parent.shape}) was changed in place after "
                               "the forward pass whose backward needs it; change a copy (clone()) instead")


def queue_callback(callback) -> None:
    """Run callback() when the backward pass now running has finished (PyTorch's
    Variable._execution_engine.queue_callback): DistributedDataParallel waits there for the
    gradient reductions it started during backward."""
    callbacks = getattr(_state, "callbacks", None)
    if callbacks is None:
        raise RuntimeError("queue_callback can only be called during a backward pass (from a hook)")
    callbacks.append(callback)


def _hooked_leaf_uses(order: list[Node]) -> dict[int, list]:
    """For each leaf with post-accumulate-grad hooks: [number of graph edges into it, the leaf].
    Its gradient is complete when every edge has delivered (or been skipped)."""
    uses: dict[int, list] = {}
    for node in order:
        for parent in node.inputs:
            if isinstance(parent, TensorBase) and getattr(parent, "_post_accumulate_hooks", None) \
                    and parent.grad_fn is None:
                uses.setdefault(id(parent), [0, parent])[0] += 1
    return uses


def _one_use_done(uses: dict[int, list], leaf) -> None:
    entry = uses.get(id(leaf))
    if entry is not None:
        entry[0] -= 1
        if entry[0] == 0:
            del uses[id(leaf)]
            leaf._run_post_accumulate_hooks()


def _separate_elements(a: np.ndarray) -> bool:
    """Whether no two elements of a share memory: with its axes sorted by stride, each stride is
    positive and at least the span of the axes below it (a C-contiguous array, its axes permuted
    as a convolution's NCHW view of channels-last memory, or a crop of such an array)."""
    span = a.itemsize
    for stride, n in sorted((s, n) for s, n in zip(a.strides, a.shape) if n > 1):
        if stride < span:
            return False
        span = stride * n
    return True


def _reference_counts() -> tuple[int, int]:
    """What sys.getrefcount reports for an array held by one local variable, and for the owner
    of a view's memory held by that view alone, counted as _backward and _only_reference count
    them (2 and 2 on CPython 3.11; found by trying, so that an interpreter that counts otherwise
    takes the copy instead of a wrong guess)."""
    g = np.empty(1)
    view = np.empty(4).reshape(2, 2)
    return sys.getrefcount(g), sys.getrefcount(view.base)


_ONLY, _BASE_ONLY = _reference_counts()


def _only_reference(g, count: int) -> bool:
    """Whether the backward pass holds the only reference to g (count: sys.getrefcount(g) in the
    caller, g one of its local variables) and to the memory it views, so that a leaf may keep g
    itself as its .grad instead of a copy, as PyTorch's AccumulateGrad keeps a gradient nothing
    else holds (a copy of a (128, 32, 28, 28) input's gradient took 1.0-1.8 ms). A gradient also
    returned for another input, kept by the function, or the upstream gradient passed through
    (the caller's own array, maybe) is held elsewhere and copied. Only a plain, writable array
    whose elements do not share memory: later gradients are added into it."""
    if count != _ONLY or type(g) is not np.ndarray or not g.flags.writeable or not _separate_elements(g):
        return False
    # a view (a crop of a padded gradient, a permutation of channels-last memory): the owner of
    # its memory must be held by g alone, and be at most twice its size (it lives as long as .grad)
    return g.base is None or (sys.getrefcount(g.base) == _BASE_ONLY and g.base.nbytes <= 2 * g.nbytes)


def backward(tensor, gradient: np.ndarray, retain_graph: bool = False) -> None:
    """Accumulate d(tensor)/d(leaf) * gradient into every leaf's .grad."""
    previous_callbacks, _state.callbacks = getattr(_state, "callbacks", None), []
    try:
        _backward(tensor, gradient, retain_graph)
        for callback in _state.callbacks:
            callback()
    finally:
        _state.callbacks = previous_callbacks


def _backward(tensor, gradient, retain_graph) -> None:
    if tensor.grad_fn is None:  # a leaf: the gradient of a tensor w.r.t. itself
        tensor._accumulate(gradient)
        tensor._run_post_accumulate_hooks()
        return
    order = _topological_order(tensor.grad_fn)
    uses = _hooked_leaf_uses(order)
    pending: dict[int, dict[int, np.ndarray]] = {id(tensor.grad_fn): {tensor._output_index: gradient}}
    mode = is_reference_mode()  # a node recorded in this mode runs its backward without switching
    for node in order:
        grads = pending.pop(id(node), None)
        if grads is None:
            continue
        for index, ref in node.retained.items():
            t = ref()
            if t is not None and index in grads:
                t._accumulate(grads[index])
        if not node.inputs and not node.saved:
            raise RuntimeError(f"trying to backward through {node.name} a second time; "
                               "pass retain_graph=True to the first backward call")
        _check_saved_inputs_unchanged(node)
        upstream = [grads[i] if i in grads else np.zeros(shape, dtype)
                    for i, (shape, dtype) in enumerate(node.output_meta)]
        if node.reference == mode:
            input_grads = node.function.backward(node, *upstream)
        else:
            with reference_mode(node.reference):
                input_grads = node.function.backward(node, *upstream)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) != len(node.inputs):
            raise RuntimeError(f"{node.name} returned {len(input_grads)} gradients for "
                               f"{len(node.inputs)} inputs")
        # each gradient taken out in turn: then a leaf can see whether it holds the only reference
        input_grads = list(input_grads)
        for i, parent in enumerate(node.inputs):
            g, input_grads[i] = input_grads[i], None
            if not isinstance(parent, TensorBase) or not parent.requires_grad:
                continue
            if g is not None:
                if g.shape != parent.shape:
                    raise RuntimeError(f"{node.name} returned a gradient of shape {g.shape} for an "
                                       f"input of shape {parent.shape}")
                if parent.grad_fn is None:
                    count = sys.getrefcount(g)  # before g is on the stack as an argument too
                    parent._accumulate(g, _only_reference(g, count))
                else:
                    slot = pending.setdefault(id(parent.grad_fn), {})
                    i = parent._output_index
                    slot[i] = slot[i] + g if i in slot else g
            if parent.grad_fn is None:
                _one_use_done(uses, parent)
        if not retain_graph:
            node.inputs, node.saved = (), ()
    for _, leaf in list(uses.values()):  # leaves reached only through branches that got no gradient
        leaf._run_post_accumulate_hooks()
