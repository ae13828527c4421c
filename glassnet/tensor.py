"""The Tensor: a NumPy array plus what reverse-mode differentiation needs.

dtype policy (the same everywhere in glassnet):
- `glassnet.tensor(data)` stores floating data as float32 and integer data as int64, whatever
  the source precision (Python floats and float64 NumPy arrays become float32). float64 only
  when asked for: `glassnet.tensor(data, dtype=np.float64)` or `.double()`.
- Operations never mix float32 and float64 silently: combining them raises a TypeError that says
  which dtypes met. NumPy arrays and Python numbers used as operands take the tensor's dtype.
- Integer and bool tensors follow PyTorch: meeting a float operand, true division, a fractional
  power, mean and var make them float32 (never float64); integer tensors cannot require grad.
- `.data` and `.grad` are NumPy arrays (TensorData: ndarrays that also take torch's in-place
  calls such as `.data.normal_(0, 0.02)` and `.grad.zero_()`; see glassnet/tensordata.py).
- Every tensor is on the CPU (`.device` is device('cpu')); see glassnet/devices.py.
"""

from __future__ import annotations

import weakref

import numpy as np

from . import activations, ops
from .autograd import Function, TensorBase, backward, is_grad_enabled
from .devices import CPU, check_device, to_arguments
from .dtypes import as_dtype, float32, float64, int64, type_name
from .generator import default_generator
from .tensordata import as_tensor_data


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


class Tensor(TensorBase):
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

    # .data and .grad stay NumPy arrays (every layer reads them so); stored as TensorData, they
    # also take PyTorch's in-place calls (p.data.fill_(0), w.grad.zero_())
    @property
    def data(self) -> np.ndarray:
        return self._data

    @data.setter
    def data(self, value) -> None:
        self._data = as_tensor_data(value.data if isinstance(value, Tensor) else value)

    @property
    def grad(self) -> np.ndarray | None:
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        self._grad = None if value is None else as_tensor_data(value.data if isinstance(value, Tensor) else value)

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

    @property
    def device(self):
        return CPU

    is_cuda = False

    def dim(self) -> int:
        return self.data.ndim

    ndimension = dim

    def size(self, dim: int | None = None):
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        return int(self.data.size)

    nelement = numel

    def element_size(self) -> int:
        return self.data.itemsize

    def is_floating_point(self) -> bool:
        return self.dtype.kind == "f"

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

    def __index__(self) -> int:
        """A one-element integer tensor as an index: some_list[t.argmax()]."""
        if self.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index, "
                            f"got dtype {self.dtype} and shape {self.shape}")
        return int(self.data.item())

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("can't call numpy() on a tensor that requires grad: use .detach().numpy()")
        return self.data.view(np.ndarray)  # the same memory, as a plain ndarray

    def tolist(self):
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        # honour copy=True: np.array(t) must not alias t's data (NumPy 2 trusts what we return)
        array = self.data if dtype is None else self.data.astype(dtype, copy=False)
        array = array.view(np.ndarray)  # the plain array, not TensorData
        return array.copy() if copy and np.may_share_memory(array, self.data) else array

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

    def __format__(self, spec: str) -> str:
        # as torch: a 0-d tensor formats as its number ('{:.2f}'.format(loss)); others as repr
        if self.data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

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

    def _accumulate(self, g: np.ndarray, only_reference: bool = False) -> None:
        """Add g into .grad; the first gradient is kept as it is when nothing else holds it
        (only_reference, autograd._only_reference), else copied: a .grad never aliases another's."""
        if self.grad is None:
            keep = only_reference and g.dtype == self.dtype
            self.grad = g if keep else np.array(g, dtype=self.dtype, copy=True)  # TensorData via the setter
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

    # ---- in-place changes of the values (torch's trailing-underscore methods) ----
    def _write(self, name: str, values) -> Tensor:
        """Write values into self's data in place, as torch's fill_/copy_/normal_... do."""
        if is_grad_enabled() and self.requires_grad and self.grad_fn is None:
            raise RuntimeError(f"a leaf tensor that requires grad (shape {self.shape}) can't be changed in "
                               f"place by {name} while gradients are recorded: wrap it in glassnet.no_grad()")
        self.data[...] = values.data if isinstance(values, Tensor) else values
        self._version += 1
        return self

    def zero_(self) -> Tensor: return self._write("zero_", 0)
    def fill_(self, value) -> Tensor: return self._write("fill_", value)

    def copy_(self, src, non_blocking: bool = False) -> Tensor:
        return self._write("copy_", np.broadcast_to(src.data if isinstance(src, Tensor) else src, self.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
        return self._write("normal_", (generator or default_generator()).normal(mean, std, self.shape))

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
        return self._write("uniform_", (generator or default_generator()).uniform(a, b, self.shape))

    def clamp_(self, min=None, max=None) -> Tensor:
        return self._write("clamp_", self.detach().clamp(min, max))

    clip_ = clamp_

    def add_(self, other, alpha=1): return self._inplace(np.add, ops.Add, _scaled(other, alpha), self._operands)
    def sub_(self, other, alpha=1): return self._inplace(np.subtract, ops.Sub, _scaled(other, alpha), self._operands)
    def mul_(self, other): return self._inplace(np.multiply, ops.Mul, other, self._operands)
    def div_(self, other): return self._inplace(np.divide, ops.Div, other, self._true_operands)

    # ---- conversions ----
    def to(self, *args, dtype=None, device=None, non_blocking: bool = False, copy: bool = False,
           memory_format=None) -> Tensor:
        """torch's forms: to(dtype), to(device), to(device, dtype), to(other_tensor), and the
        keywords. The CPU is glassnet's only device: 'cpu' changes nothing, 'cuda' raises as on a
        PyTorch built without CUDA. Returns self when nothing changes (copy=True: a copy)."""
        dtype, _ = to_arguments(args, dtype, device)
        dtype = self.dtype if dtype is None else as_dtype(dtype)
        if dtype != self.dtype:
            return ops.Cast.apply(self, dtype)
        return self.clone() if copy else self

    def cpu(self, memory_format=None) -> Tensor:
        return self

    def cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
        return self.to("cuda" if device is None or isinstance(device, int) else device)

    def type(self, dtype=None, non_blocking: bool = False):
        """Without dtype: torch's type string ('torch.FloatTensor'); with one: cast to it."""
        if dtype is None:
            return type_name(self.dtype)
        return self.to(as_dtype(dtype))

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

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

    def int(self) -> Tensor:
        return Tensor._wrap(self.data.astype(np.int32))

    def bool(self) -> Tensor:
        return Tensor._wrap(self.data.astype(np.bool_))

    def byte(self) -> Tensor:
        return Tensor._wrap(self.data.astype(np.uint8))

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
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def equal(self, other) -> bool:
        return self.shape == other.shape and bool(np.array_equal(self.data, other.data))

    # logical operators on bool (and bitwise on integer) tensors, as masks are combined
    def __and__(self, other): return self._compare(other, np.bitwise_and)
    def __or__(self, other): return self._compare(other, np.bitwise_or)
    def __xor__(self, other): return self._compare(other, np.bitwise_xor)
    def __invert__(self): return Tensor._wrap(np.invert(self.data))

    def __floordiv__(self, other): return self.div(other, rounding_mode="floor")
    def __rfloordiv__(self, other): return ops.DivRounded.apply(*self._operands(other)[::-1], rounding_mode="floor")

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        return ops.GetItem.apply(self, index)

    # the method forms of the operators, as in PyTorch
    def add(self, other, alpha=1): return self + _scaled(other, alpha)
    def sub(self, other, alpha=1): return self - _scaled(other, alpha)
    def mul(self, other): return self * other
    def pow(self, exponent): return self ** exponent
    def matmul(self, other): return self @ other

    def mm(self, mat2):
        if self.ndim != 2 or mat2.ndim != 2:
            raise ValueError(f"mm expected 2-D tensors, got shapes {tuple(self.shape)} and {tuple(mat2.shape)}")
        return self @ mat2

    def bmm(self, mat2):
        """Batched matrix product (b, n, k) @ (b, k, m) -> (b, n, m); only 3-D tensors, as in torch."""
        if self.ndim != 3 or mat2.ndim != 3 or self.shape[0] != mat2.shape[0] or self.shape[2] != mat2.shape[1]:
            raise ValueError(f"bmm expected tensors of shapes (b, n, k) and (b, k, m), got {tuple(self.shape)} "
                             f"and {tuple(mat2.shape)}")
        return self @ mat2

    def neg(self): return -self
    negative = neg

    def div(self, other, rounding_mode: str | None = None):
        """True division, or with rounding_mode 'trunc' / 'floor' the rounded quotient (integers
        stay integers, as in PyTorch)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                             f"{rounding_mode!r}")
        return ops.DivRounded.apply(*self._operands(other), rounding_mode=rounding_mode)

    divide, multiply, subtract = div, mul, sub

    def maximum(self, other): return ops.Maximum.apply(*self._operands(other), largest=True)
    def minimum(self, other): return ops.Maximum.apply(*self._operands(other), largest=False)

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
    def sin(self): return ops.Sin.apply(self)
    def cos(self): return ops.Cos.apply(self)
    def sinh(self): return ops.Sinh.apply(self)
    def cosh(self): return ops.Cosh.apply(self)
    def log1p(self): return ops.Log1p.apply(self)
    def rsqrt(self): return 1 / self.sqrt()
    def square(self): return self * self

    def clamp(self, min=None, max=None):
        """min(max(self, min), max). Bounds may be numbers or tensors; they take self's dtype (an
        integer tensor with a float bound becomes float32), as the operands of + do. A tensor
        bound that requires grad gets its gradient through maximum / minimum."""
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        x = self
        for bound in (min, max):
            if bound is not None:
                x = x._operands(bound)[0]  # the common dtype of self and every bound
        bounds = []
        for bound in (min, max):
            if bound is not None and getattr(bound, "requires_grad", False):
                x = x.maximum(bound) if bound is min else x.minimum(bound)
                bound = None
            bounds.append(None if bound is None else x._operand(bound))
        arrays = [b.data if isinstance(b, Tensor) else b for b in bounds]
        if arrays[0] is None and arrays[1] is None:  # both bounds went through maximum / minimum
            return x
        return ops.Clamp.apply(x, min=arrays[0], max=arrays[1])

    clip = clamp

    def masked_fill(self, mask, value):
        """value where mask is true, self elsewhere (differentiable in self, and in value when it
        is a 0-d tensor that requires grad)."""
        if isinstance(value, Tensor) and value.ndim != 0:
            raise ValueError(f"masked_fill takes a number or a 0-d tensor as value, got shape {value.shape}")
        if isinstance(value, complex) or (isinstance(value, Tensor) and value.dtype.kind == "c"):
            raise TypeError(f"masked_fill: a complex value cannot fill a tensor of dtype {self.dtype}")
        if not isinstance(value, Tensor):
            value = Tensor._wrap(np.asarray(value, self.dtype))
        return ops.where(mask, value, self)

    def where(self, condition, other):
        """self where condition is true, other elsewhere (torch's method form of where)."""
        return ops.where(condition, self, other)

    def norm(self, p=2, dim=None, keepdim: bool = False):
        """The p-norm over dim (all elements when None): (sum |x|^p)^(1/p)."""
        if p == 2:
            return (self * self).sum(dim, keepdim).sqrt()
        return (self.abs() ** p).sum(dim, keepdim) ** (1.0 / p)

    # one implementation with F.relu and friends, one layer down (activations.py)
    def relu(self): return activations.relu(self)
    def sigmoid(self): return activations.sigmoid(self)
    def tanh(self): return activations.tanh(self)
    def softmax(self, dim: int, dtype=None): return activations.softmax(self, dim, dtype)
    def log_softmax(self, dim: int, dtype=None): return activations.log_softmax(self, dim, dtype)

    # ---- reductions ----
    # dim=/keepdim= as in PyTorch; NumPy's axis=/keepdims= are accepted too, as PyTorch does
    def sum(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
        dim, keepdim = _dim_args(dim, keepdim, axis, keepdims)
        x = self if dtype is None else self.to(dtype)
        if dtype is None and x.dtype.kind in "iub" and x.dtype != int64:  # integers sum to int64, as in PyTorch
            x = x.long()
        return ops.Sum.apply(x, dim=dim, keepdim=keepdim)

    def _floating(self) -> Tensor:
        # the mean of integers or bools (an accuracy, say) is float32, never NumPy's float64
        return self if self.dtype.kind == "f" else Tensor._wrap(self.data.astype(float32))

    def mean(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
        dim, keepdim = _dim_args(dim, keepdim, axis, keepdims)
        if dtype is not None and as_dtype(dtype).kind != "f":
            raise TypeError(f"mean(dtype=) takes a floating dtype, got {as_dtype(dtype)}")
        x = self if dtype is None else self.to(dtype)
        return ops.Mean.apply(x._floating(), dim=dim, keepdim=keepdim)

    def var(self, dim=None, unbiased=None, keepdim=None, *, correction=None, axis=None, keepdims=None):
        """Variance over dim with Bessel's correction (default 1), torch's forms: var(unbiased),
        var(dim, unbiased, keepdim), var(dim, correction=c, keepdim=k)."""
        if isinstance(dim, bool):  # x.var(False) is var(unbiased=False), not var(dim=0)
            dim, unbiased = None, dim
        if unbiased is not None and correction is not None:
            raise TypeError("var/std take either unbiased or correction, not both")
        correction = correction if correction is not None else (1 if unbiased is None else int(bool(unbiased)))
        dim, keepdim = _dim_args(dim, bool(keepdim), axis, keepdims)
        return ops.Var.apply(self._floating(), dim=dim, keepdim=keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=None, *, correction=None, axis=None, keepdims=None):
        return self.var(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims).sqrt()

    def max(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """Without dim: the largest element. With dim: (values, indices), as torch.max(dim).
        With a tensor: the elementwise maximum, as torch.max(a, b)."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        dim, keepdim = _dim_args(dim, keepdim, axis, keepdims)
        values, indices = ops.MaxMin.apply(self, dim=dim, keepdim=keepdim, largest=True)
        return values if dim is None else MaxResult(values, indices)

    def min(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        dim, keepdim = _dim_args(dim, keepdim, axis, keepdims)
        values, indices = ops.MaxMin.apply(self, dim=dim, keepdim=keepdim, largest=False)
        return values if dim is None else MaxResult(values, indices)

    def gather(self, dim: int, index):
        """self's elements along dim at index (an int64 tensor of self's rank), as torch.gather."""
        index = index.data if isinstance(index, Tensor) else np.asarray(index)
        if index.dtype.kind in "iu" and index.size == 0:  # nothing to read: an empty result of index's shape
            return self.reshape(-1)[:0].reshape(index.shape)
        if self.ndim == 0 and index.dtype.kind in "iu":  # a 0-d tensor is read as one element
            return self.reshape(1).gather(0, index.reshape(-1)).reshape(index.shape)
        if index.ndim != self.ndim or index.dtype.kind not in "iu":
            raise ValueError(f"gather expected an integer index with {self.ndim} dimensions, got dtype "
                             f"{index.dtype} and shape {index.shape}")
        return ops.Gather.apply(self, index, dim=ops.normalize_dim(dim, self.ndim))

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
        """The k largest (or smallest) elements along dim and their indices, largest first (ties
        in index order), as torch.topk's (values, indices)."""
        d = ops.normalize_dim(dim, self.ndim)
        if self.ndim and not 0 <= k <= self.shape[d]:
            raise ValueError(f"topk: k={k} is out of range for dimension {dim} of size {self.shape[d]}")
        key = -self.data if largest else self.data
        order = np.argsort(key, axis=d, kind="stable") if self.ndim else np.zeros((), np.int64)
        indices = np.take(order, np.arange(k), axis=d) if self.ndim else order
        values = self.gather(d, indices) if self.ndim else self
        return TopKResult(values, Tensor._wrap(indices.astype(int64)))

    def argmax(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """Index of the first largest element (of the flattened tensor when dim is None)."""
        dim, keepdim = _dim_args(dim, keepdim, axis, keepdims)
        return Tensor._wrap(np.asarray(np.argmax(self.data, axis=dim, keepdims=keepdim), dtype=int64))

    def argmin(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        dim, keepdim = _dim_args(dim, keepdim, axis, keepdims)
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
        if self.ndim == 0:  # a 0-d tensor takes dims 0 and -1 and stays as it is, as in PyTorch
            return self.reshape(())
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return ops.Permute.apply(self, tuple(dims))

    @property
    def T(self):
        return ops.Permute.apply(self, tuple(reversed(range(self.ndim))))

    def unsqueeze(self, dim: int):
        dim = ops.normalize_dim(dim, self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def squeeze(self, dim=None):
        """Remove size-1 dimensions: all of them, or those among dim (an int or a tuple of them;
        a named dimension whose size is not 1 stays, as in PyTorch)."""
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        # a 0-d tensor accepts dim 0 or -1, as in PyTorch
        named = {ops.normalize_dim(d, self.ndim) for d in dims}
        drop = {d for d in named if self.ndim and self.shape[d] == 1}
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in drop))

    def view_as(self, other: Tensor): return self.reshape(other.shape)
    reshape_as = view_as
    def expand_as(self, other: Tensor): return self.expand(other.shape)

    def repeat(self, *sizes):
        """Tile the tensor sizes[i] times along dimension i (leading new dimensions allowed)."""
        sizes = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        if len(sizes) < self.ndim:
            raise ValueError(f"repeat needs at least {self.ndim} sizes for a tensor of shape {self.shape}, "
                             f"got {tuple(sizes)}")
        x = self.reshape((1,) * (len(sizes) - self.ndim) + self.shape)
        # broadcast to (s0, n0, s1, n1, ...) then merge each pair: (s0 * n0, s1 * n1, ...)
        inter = tuple(v for s_, n in zip(sizes, x.shape) for v in (s_, n))
        pairs = x.reshape(tuple(v for n in x.shape for v in (1, n))).expand(inter)
        return pairs.reshape(tuple(s_ * n for s_, n in zip(sizes, x.shape)))

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False):
        return zeros(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False):
        return ones(*size, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False):
        check_device(device)
        return Tensor(np.full(size, fill_value, dtype or self.dtype), requires_grad=requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False):
        return tensor(data, dtype=dtype or self.dtype, device=device, requires_grad=requires_grad)

    def expand(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        shape = tuple(self.shape[i - len(shape) + self.ndim] if n == -1 else n for i, n in enumerate(shape))
        return ops.Expand.apply(self, shape)


TensorBase.result_class = Tensor  # what Function.apply wraps its outputs in (autograd.py)


def _scaled(other, alpha):
    """other * alpha for add(other, alpha=) and sub(other, alpha=)."""
    return other if alpha == 1 else other * alpha


def _dim_args(dim, keepdim, axis, keepdims):
    """dim and keepdim, from torch's names or NumPy's (axis, keepdims), which PyTorch accepts too."""
    if axis is not None:
        if dim is not None:
            raise TypeError("got both dim and its NumPy name axis")
        dim = axis
    if isinstance(dim, list):
        dim = tuple(dim)
    return dim, bool(keepdim if keepdims is None else keepdims)


class _ValuesIndices(tuple):
    """(values, indices) with torch's attribute names, as max(dim), min(dim) and topk return."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


class TopKResult(_ValuesIndices):
    """What Tensor.topk returns."""


class MaxResult(_ValuesIndices):
    """What Tensor.max(dim) and min(dim) return."""


def tensor(data, dtype=None, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of data (float32 for floating data; see the module docstring)."""
    check_device(device)
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def _size(size) -> tuple:
    """torch's two spellings: zeros(2, 3) and zeros((2, 3))."""
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


def _creator(fill):
    def create(*size, dtype=None, device=None, requires_grad: bool = False, out=None, layout=None,
               pin_memory: bool = False) -> Tensor:
        check_device(device)
        dtype = float32 if dtype is None else as_dtype(dtype)
        return Tensor._wrap(fill(_size(size), dtype)).requires_grad_(requires_grad)
    return create


zeros = _creator(lambda s, dt: np.zeros(s, dt))
ones = _creator(lambda s, dt: np.ones(s, dt))


def _like(fill):
    def create(input: Tensor, dtype=None, device=None, requires_grad: bool = False, layout=None,
               memory_format=None) -> Tensor:
        check_device(device)
        dtype = input.dtype if dtype is None else as_dtype(dtype)
        return Tensor._wrap(fill(input.shape, dtype)).requires_grad_(requires_grad)
    return create


zeros_like = _like(lambda s, dt: np.zeros(s, dt))
ones_like = _like(lambda s, dt: np.ones(s, dt))


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """As torch.arange: int64 when start, end and step are all integers, float32 otherwise."""
    check_device(device)
    args = (start,) if end is None else (start, end, step)
    values = [v.item() if isinstance(v, Tensor) else v for v in args]
    return Tensor(np.arange(*values), dtype=dtype, requires_grad=requires_grad)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


__all__ = ["Tensor", "tensor", "zeros", "ones", "zeros_like", "ones_like", "arange", "is_tensor",
           "Function", "is_grad_enabled", "float32", "float64", "int64"]
