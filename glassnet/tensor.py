"""The Tensor: a NumPy array plus what reverse-mode differentiation needs.

dtype policy (the same everywhere in glassnet):
- `glassnet.tensor(data)` stores floating data as float32 and integer data as int64, whatever
  the source precision (Python floats and float64 NumPy arrays become float32). float64 only
  when asked for: `glassnet.tensor(data, dtype=np.float64)` or `.double()`.
- Operations never mix float32 and float64 silently: combining them raises a TypeError that says
  which dtypes met. NumPy arrays and Python numbers used as operands take the tensor's dtype.
- Integer and bool tensors follow PyTorch: meeting a float operand, true division, a fractional
  power, mean and var make them float32 (never float64); integer tensors cannot require grad.
- `.grad` is a plain ndarray of the tensor's dtype.
"""

from __future__ import annotations

import numpy as np

from . import ops
from .autograd import Function, backward, is_grad_enabled

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)


def _default_dtype(array: np.ndarray) -> np.dtype:
    if array.dtype.kind == "f":
        return float32
    if array.dtype.kind in "iu":
        return int64
    if array.dtype.kind == "b":
        return np.dtype(bool)
    raise TypeError(f"cannot make a tensor from data of dtype {array.dtype}")


class _HookHandle:
    """What register_*_hook returns: remove() unregisters the hook."""

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Tensor:
    __array_priority__ = 100  # make ndarray (op) Tensor defer to Tensor's reflected operators

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        array = np.asarray(data)
        dtype = np.dtype(dtype) if dtype is not None else _default_dtype(array)
        self.data: np.ndarray = np.array(array, dtype=dtype, copy=True)
        self.grad: np.ndarray | None = None
        self.grad_fn = None
        self._output_index = 0
        self._version = 0  # bumped by every in-place change, so backward can detect stale saved data
        self.requires_grad = False
        self.requires_grad_(requires_grad)

    @classmethod
    def _wrap(cls, array: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Wrap an operation's result without copying it (internal)."""
        t = cls.__new__(cls)
        t.data, t.grad, t.grad_fn, t._output_index, t._version = array, None, None, 0, 0
        t.requires_grad = requires_grad
        return t

    # ---- basic properties ----
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def dim(self) -> int:
        return self.data.ndim

    def size(self, dim: int | None = None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def item(self):
        if self.data.size != 1:
            raise RuntimeError(f"a Tensor with {self.data.size} elements cannot be converted to a "
                               f"Python number (shape {self.shape})")
        return self.data.item()

    # Python's fallbacks would be wrong here: without __bool__, bool(t) is len(t) > 0, so
    # bool(tensor([0.0])) was True; without __iter__, iterating a 0-d tensor silently gave nothing.
    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a Tensor of shape {self.shape} is ambiguous: "
                               "use .any() or .all() on its data, or compare one element")
        return bool(self.data.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("can't call numpy() on a tensor that requires grad: use .detach().numpy()")
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        # honour copy=True: np.array(t) must not alias t's data (NumPy 2 trusts what we return)
        array = self.data if dtype is None else self.data.astype(dtype, copy=False)
        return array.copy() if copy and array is self.data else array

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype != float32:
            extra += f", dtype={self.data.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ---- gradients ----
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {self.data.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad can only be switched off on leaf tensors: use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        return Tensor._wrap(self.data)

    def retain_grad(self) -> None:
        """Keep .grad on a non-leaf tensor after backward (for inspecting intermediate maps)."""
        import weakref
        if self.grad_fn is not None:
            self.grad_fn.retained[self._output_index] = weakref.ref(self)

    def register_post_accumulate_grad_hook(self, hook):
        """Call hook(self) once per backward pass, when this leaf's .grad holds all of that pass's
        contributions (PyTorch's name). Returns a handle whose remove() unregisters it.
        DistributedDataParallel starts reducing a bucket of gradients from such hooks."""
        if self.grad_fn is not None:
            raise RuntimeError("post-accumulate-grad hooks can only be registered on leaf tensors "
                               f"(this one was made by {self.grad_fn.name})")
        hooks = self.__dict__.setdefault("_post_accumulate_hooks", [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def _run_post_accumulate_hooks(self) -> None:
        for hook in list(getattr(self, "_post_accumulate_hooks", ())):
            hook(self)

    def _accumulate(self, g: np.ndarray) -> None:
        if self.grad is None:
            self.grad = np.array(g, dtype=self.dtype, copy=True)  # never alias another grad
        else:
            self.grad += g

    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        if not self.requires_grad:
            raise RuntimeError("backward() called on a tensor that does not require grad "
                               "(no parameter or input with requires_grad=True led to it)")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward() without a gradient needs a scalar output, got shape "
                                   f"{self.shape}: pass gradient= of that shape")
            gradient = np.ones_like(self.data)
        gradient = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=self.dtype)
        if gradient.shape != self.shape:
            raise ValueError(f"gradient has shape {gradient.shape}, expected {self.shape}")
        backward(self, gradient, retain_graph=retain_graph)

    def zero_(self) -> Tensor:
        self.data[...] = 0
        self._version += 1
        return self

    # ---- conversions ----
    def to(self, dtype) -> Tensor:
        """Cast to a dtype; the device 'cpu' (glassnet's only one) is accepted and changes nothing."""
        if isinstance(dtype, str) and dtype == "cpu":
            return self
        dtype = np.dtype(dtype)
        return self if dtype == self.dtype else ops.Cast.apply(self, dtype)

    def cpu(self) -> Tensor:
        return self

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph, as torch's clone."""
        return ops.Clone.apply(self)

    def contiguous(self) -> Tensor:
        return self if self.data.flags.c_contiguous else self.clone()

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def long(self) -> Tensor:
        return Tensor._wrap(self.data.astype(int64))

    # ---- operators ----
    def _operand(self, other):
        """Bring a number, array or tensor into this tensor's dtype (see the module docstring)."""
        return self._operands(other)[1]

    def _operands(self, other):
        """(self, other) in a common dtype, following the module docstring's policy.

        float32 with float64 is refused; a float tensor, number or array meeting an integer or bool
        tensor makes it float (as in PyTorch: tensor([1, 2]) + 0.5 is float32, not float64).
        """
        a = self
        if isinstance(other, Tensor):
            if self.dtype.kind == other.dtype.kind == "f":
                if other.dtype != self.dtype:
                    raise TypeError(f"operands have dtypes {self.dtype} and {other.dtype}; convert one "
                                    "with .float() or .double() (glassnet never upcasts silently)")
            elif self.dtype.kind == "f":
                other = Tensor._wrap(other.data.astype(self.dtype))
            elif other.dtype.kind == "f":
                a = Tensor._wrap(self.data.astype(other.dtype))
            return a, other
        array = np.asarray(other)
        if self.dtype.kind == "f":
            return a, array.astype(self.dtype, copy=False)
        if array.dtype.kind == "f":  # integer tensor with a float number or array: float32
            return Tensor._wrap(self.data.astype(float32)), array.astype(float32, copy=False)
        if array.dtype.kind not in "iub":
            raise TypeError(f"cannot combine a tensor of dtype {self.dtype} with {type(other).__name__} "
                            f"of dtype {array.dtype}")
        return a, array

    def _true_operands(self, other):
        """Operands of true division: integers divide to float32, as in PyTorch."""
        a, b = self._operands(other)
        if a.dtype.kind != "f":
            a = Tensor._wrap(a.data.astype(float32))
            b = Tensor._wrap(b.data.astype(float32)) if isinstance(b, Tensor) else b.astype(float32)
        return a, b

    def __add__(self, other): return ops.Add.apply(*self._operands(other))
    def __radd__(self, other): return ops.Add.apply(*self._operands(other)[::-1])
    def __sub__(self, other): return ops.Sub.apply(*self._operands(other))
    def __rsub__(self, other): return ops.Sub.apply(*self._operands(other)[::-1])
    def __mul__(self, other): return ops.Mul.apply(*self._operands(other))
    def __rmul__(self, other): return ops.Mul.apply(*self._operands(other)[::-1])
    def __truediv__(self, other): return ops.Div.apply(*self._true_operands(other))
    def __rtruediv__(self, other): return ops.Div.apply(*self._true_operands(other)[::-1])
    def __neg__(self): return ops.Neg.apply(self)
    def __pos__(self): return self
    def __matmul__(self, other): return ops.MatMul.apply(*self._operands(other))
    def __rmatmul__(self, other): return ops.MatMul.apply(*self._operands(other)[::-1])

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor):
            raise TypeError("tensor ** tensor is not supported; use exp(b * log(a))")
        base, p = self._operands(exponent)  # an integer tensor to a float power becomes float32
        return ops.Pow.apply(base, p)

    def __rpow__(self, base):
        """number ** tensor = exp(tensor * ln(number)), for a positive number."""
        if not isinstance(base, (int, float, np.number)) or isinstance(base, bool) or base <= 0:
            raise TypeError(f"number ** tensor needs a positive number as the base, got {base!r}")
        exponent = self if self.dtype.kind == "f" else Tensor._wrap(self.data.astype(float32))
        return (exponent * float(np.log(base))).exp()

    def __abs__(self): return self.abs()

    # ---- in-place arithmetic (x += y) -----------------------------------------------------------
    def _inplace(self, ufunc, function, other, operands):
        """Change self's data in place when no gradient is being recorded, as torch does.

        When the operation has to be recorded (grad mode on and a tensor that requires grad
        involved), a non-leaf gets the out-of-place result instead, so `h += x` still builds the
        right graph; a leaf that requires grad is refused, as in PyTorch (update parameters under
        no_grad()). Like every in-place change, it must not touch data an unfinished backward
        still needs.
        """
        a, b = operands(other)
        if a is not self:
            raise TypeError(f"in-place {ufunc.__name__} would change this tensor's dtype {self.dtype}; "
                            "use the out-of-place operator")
        recorded = is_grad_enabled() and (self.requires_grad or getattr(b, "requires_grad", False))
        if recorded and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(f"a leaf tensor that requires grad (shape {self.shape}) can't be changed in "
                               "place while gradients are recorded: wrap the update in glassnet.no_grad()")
        if recorded or not self.data.flags.writeable:
            return function.apply(a, b)
        ufunc(self.data, b.data if isinstance(b, Tensor) else b, out=self.data)
        self._version += 1
        return self

    def __iadd__(self, other): return self._inplace(np.add, ops.Add, other, self._operands)
    def __isub__(self, other): return self._inplace(np.subtract, ops.Sub, other, self._operands)
    def __imul__(self, other): return self._inplace(np.multiply, ops.Mul, other, self._operands)
    def __itruediv__(self, other): return self._inplace(np.divide, ops.Div, other, self._true_operands)

    def __setitem__(self, index, value):
        """x[index] = value, on data that no recorded graph needs (assignment is not differentiated)."""
        if is_grad_enabled() and (self.requires_grad or getattr(value, "requires_grad", False)):
            raise RuntimeError("item assignment is not differentiated: build the tensor with glassnet.where "
                               "or glassnet.cat, or assign under glassnet.no_grad()")
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        self.data[index] = value.data if isinstance(value, Tensor) else value
        self._version += 1

    # comparisons give boolean tensors and are never differentiated
    def _compare(self, other, op):
        o = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(op(self.data, o))

    def __eq__(self, other): return self._compare(other, np.equal)
    def __ne__(self, other): return self._compare(other, np.not_equal)
    def __lt__(self, other): return self._compare(other, np.less)
    def __le__(self, other): return self._compare(other, np.less_equal)
    def __gt__(self, other): return self._compare(other, np.greater)
    def __ge__(self, other): return self._compare(other, np.greater_equal)
    __hash__ = object.__hash__

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        return ops.GetItem.apply(self, index)

    # the method forms of the operators, as in PyTorch
    def add(self, other): return self + other
    def sub(self, other): return self - other
    def mul(self, other): return self * other
    def div(self, other): return self / other
    def pow(self, exponent): return self ** exponent
    def matmul(self, other): return self @ other

    def t(self):
        """Transpose of a matrix (0-d and 1-D tensors are returned as they are), as torch's t()."""
        if self.ndim > 2:
            raise ValueError(f"t() expects a tensor with <= 2 dimensions, got shape {self.shape}: use transpose")
        return self if self.ndim < 2 else self.transpose(0, 1)

    def all(self, dim=None, keepdim: bool = False):
        return Tensor._wrap(np.all(self.data, axis=dim, keepdims=keepdim))

    def any(self, dim=None, keepdim: bool = False):
        return Tensor._wrap(np.any(self.data, axis=dim, keepdims=keepdim))

    # ---- elementwise math ----
    def exp(self): return ops.Exp.apply(self)
    def log(self): return ops.Log.apply(self)
    def sqrt(self): return ops.Sqrt.apply(self)
    def abs(self): return ops.Abs.apply(self)
    def clamp(self, min=None, max=None): return ops.Clamp.apply(self, min=min, max=max)

    def relu(self):
        from .functional import relu
        return relu(self)

    def sigmoid(self):
        from .functional import sigmoid
        return sigmoid(self)

    def tanh(self):
        from .functional import tanh
        return tanh(self)

    def softmax(self, dim: int):
        from .functional import softmax
        return softmax(self, dim)

    def log_softmax(self, dim: int):
        from .functional import log_softmax
        return log_softmax(self, dim)

    # ---- reductions ----
    def sum(self, dim=None, keepdim: bool = False): return ops.Sum.apply(self, dim=dim, keepdim=keepdim)
    def _floating(self) -> Tensor:
        # the mean of integers or bools (an accuracy, say) is float32, never NumPy's float64
        return self if self.dtype.kind == "f" else Tensor._wrap(self.data.astype(float32))

    def mean(self, dim=None, keepdim: bool = False):
        return ops.Mean.apply(self._floating(), dim=dim, keepdim=keepdim)

    def var(self, dim=None, keepdim: bool = False, correction: int = 1):
        return ops.Var.apply(self._floating(), dim=dim, keepdim=keepdim, correction=correction)

    def std(self, dim=None, keepdim: bool = False, correction: int = 1):
        return self.var(dim, keepdim, correction).sqrt()

    def max(self, dim=None, keepdim: bool = False):
        """Without dim: the largest element. With dim: (values, indices), as torch.max(dim)."""
        values, indices = ops.MaxMin.apply(self, dim=dim, keepdim=keepdim, largest=True)
        return values if dim is None else MaxResult(values, indices)

    def min(self, dim=None, keepdim: bool = False):
        values, indices = ops.MaxMin.apply(self, dim=dim, keepdim=keepdim, largest=False)
        return values if dim is None else MaxResult(values, indices)

    def argmax(self, dim=None, keepdim: bool = False):
        """Index of the first largest element (of the flattened tensor when dim is None)."""
        return Tensor._wrap(np.asarray(np.argmax(self.data, axis=dim, keepdims=keepdim), dtype=int64))

    def argmin(self, dim=None, keepdim: bool = False):
        return Tensor._wrap(np.asarray(np.argmin(self.data, axis=dim, keepdims=keepdim), dtype=int64))

    # ---- shape ----
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return ops.Reshape.apply(self, tuple(shape))

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        s, e = ops.normalize_dim(start_dim, self.ndim), ops.normalize_dim(end_dim, self.ndim)
        shape = self.shape[:s] + (-1,) + self.shape[e + 1:]
        return self.reshape(shape)

    def permute(self, *dims):
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        return ops.Permute.apply(self, tuple(dims))

    def transpose(self, dim0: int, dim1: int):
        dims = list(range(self.ndim))
        dim0, dim1 = ops.normalize_dim(dim0, self.ndim), ops.normalize_dim(dim1, self.ndim)
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return ops.Permute.apply(self, tuple(dims))

    @property
    def T(self):
        return ops.Permute.apply(self, tuple(reversed(range(self.ndim))))

    def unsqueeze(self, dim: int):
        dim = ops.normalize_dim(dim, self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim: int | None = None):
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        dim = ops.normalize_dim(dim, self.ndim)  # a 0-d tensor accepts dim 0 or -1, as in PyTorch
        if self.ndim == 0:
            return self.reshape(())
        if self.shape[dim] != 1:
            return self
        return self.reshape(self.shape[:dim] + self.shape[dim + 1:])

    def expand(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        shape = tuple(self.shape[i - len(shape) + self.ndim] if n == -1 else n for i, n in enumerate(shape))
        return ops.Expand.apply(self, shape)


class MaxResult(tuple):
    """(values, indices) as returned by Tensor.max(dim), with torch's attribute names."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """A new tensor holding a copy of data (float32 for floating data; see the module docstring)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _creator(fill):
    def create(*size, dtype=float32, requires_grad: bool = False) -> Tensor:
        size = size[0] if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        return Tensor._wrap(fill(tuple(size), dtype)).requires_grad_(requires_grad)
    return create


zeros = _creator(lambda s, dt: np.zeros(s, dt))
ones = _creator(lambda s, dt: np.ones(s, dt))


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return Tensor._wrap(np.zeros_like(t.data)).requires_grad_(requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return Tensor._wrap(np.ones_like(t.data)).requires_grad_(requires_grad)


def arange(*args, dtype=None) -> Tensor:
    return Tensor(np.arange(*args), dtype=dtype)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


__all__ = ["Tensor", "tensor", "zeros", "ones", "zeros_like", "ones_like", "arange", "is_tensor",
           "Function", "is_grad_enabled", "float32", "float64", "int64"]
