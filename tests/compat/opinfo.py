"""Run PyTorch's own OpInfo sample inputs through glassnet and compare with PyTorch.

`torch.testing._internal.common_methods_invocations.op_db` describes each PyTorch operator with
a generator of SampleInputs (input, args, kwargs) that PyTorch's test suite uses to reach the
operator's edges: 0-d and empty tensors, broadcasting, negative dims, keyword forms. For every
operator glassnet implements (OPS below: the OpInfo name and glassnet's callable), each sample
is converted to glassnet tensors, run on both frameworks, and compared: the outputs (values,
shapes, dtypes) and, with a random upstream gradient, the gradient of every input that
requires one. `compare_op` returns the problems it found, so a test can also check that it
finds them (a deliberately wrong wrapper must be flagged).
"""

from __future__ import annotations

import numpy as np
import torch

import glassnet
import glassnet.functional as GF

TOLERANCE = {torch.float32: dict(rtol=1e-4, atol=1e-5), torch.float64: dict(rtol=1e-7, atol=1e-9)}


def _gradient_tolerance(expected: np.ndarray, tol: dict) -> dict:
    """A gradient is a sum over many products, whose rounding scales with the size of the whole
    tensor, not of each element: an element near 0 by cancellation may differ by rtol x max|g|."""
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    return dict(rtol=tol["rtol"], atol=max(tol["atol"], tol["rtol"] * scale))


# Ops whose every output element is a sum of many products (a convolution: 108 terms of size up
# to 900 in conv_transpose3d's samples). Two float32 implementations that add those terms in
# different orders differ by about 1e-4 at any element, one that cancels to near 0 included
# (PyTorch's own float32 conv_transpose3d is 9.9e-5 from the float64 result there), so their
# outputs are compared as the gradients are, against the scale of the whole tensor.
SUMS_OF_PRODUCTS = {"matmul", "mm", "bmm", "nn.functional.linear", "nn.functional.conv1d", "nn.functional.conv2d",
                    "nn.functional.conv3d", "nn.functional.conv_transpose1d", "nn.functional.conv_transpose2d",
                    "nn.functional.conv_transpose3d"}


def _method(name):
    def call(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    call.__name__ = name
    return call


# OpInfo name -> glassnet's implementation (None: the same name in glassnet or as a method)
TENSOR_OPS = ["add", "sub", "mul", "div", "pow", "exp", "log", "sqrt", "rsqrt", "abs", "sin", "cos", "tanh",
              "sigmoid", "neg", "square", "clamp", "max", "min", "maximum", "minimum", "sum", "mean", "var",
              "std", "argmax", "argmin", "flatten", "squeeze", "unsqueeze", "reshape", "transpose", "permute",
              "t", "matmul", "mm", "bmm", "cat", "stack", "where", "masked_fill", "eq", "ne", "lt", "le", "gt",
              "ge", "meshgrid", "softmax", "log_softmax", "all", "any", "equal", "gather", "topk",
              "sinh", "cosh", "log1p"]
METHOD_OPS = ["view", "view_as", "reshape_as", "expand", "expand_as", "repeat"]
FUNCTIONAL_OPS = ["relu", "leaky_relu", "elu", "linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d",
                  "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
                  "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", "batch_norm",
                  "cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy_with_logits", "pad"]

OPS = {name: getattr(glassnet, name) for name in TENSOR_OPS}
OPS.update({name: _method(name) for name in METHOD_OPS})
OPS["where"] = _method("where")  # OpInfo's where is the method form: x.where(condition, other)
OPS.update({f"nn.functional.{name}": getattr(GF, name) for name in FUNCTIONAL_OPS})

# Samples glassnet answers differently on purpose, with the reason. Each entry is
# (OpInfo name, test that picks the samples, reason); a picked sample must RAISE in glassnet
# (never silently give another value): the difference is a refusal, and it is checked as one.
DELIBERATE = [
    ("nn.functional.mse_loss",
     lambda s: tuple(s.input.shape) != tuple(s.args[0].shape),
     "input and target of different shapes are refused: PyTorch broadcasts them with a warning, and an "
     "(N, 1) input against an (N,) target silently becomes an (N, N) loss"),
    ("nn.functional.batch_norm", lambda s: s.input.ndim == 1,
     "a 1-D input has no channel dimension and is refused: batch_norm normalises (N, C, *) inputs"),
    # not deliberate, a gap: listed so that it stays a refusal until it is built
    ("nn.functional.pad", lambda s: s.args[1:2] == ("replicate",) and any(
        n + min(lo, 0) + min(hi, 0) == 0 for n, (lo, hi) in
        zip(reversed(s.input.shape), zip(s.args[0][::2], s.args[0][1::2]))),
     "NOT BUILT YET: replicate padding of a dimension that negative amounts crop to nothing (PyTorch "
     "repeats the edge of the uncropped input; glassnet crops first and refuses to replicate nothing)"),
]


def deliberate_reason(name: str, sample) -> str | None:
    for op_name, picks, reason in DELIBERATE:
        if op_name == name and picks(sample):
            return reason
    return None


# ---- conversion ------------------------------------------------------------------------------

def to_glassnet(obj):
    """torch tensors, dtypes and sizes inside obj as glassnet's (tensors copied, requires_grad kept)."""
    if isinstance(obj, torch.Tensor):
        array = obj.detach().numpy().copy()
        return glassnet.tensor(array, dtype=array.dtype, requires_grad=obj.requires_grad)
    if isinstance(obj, torch.dtype):
        return getattr(glassnet, str(obj).split(".")[-1])
    if isinstance(obj, torch.Size):
        return tuple(obj)
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_glassnet(o) for o in obj) if not hasattr(obj, "_fields") else tuple(
            to_glassnet(o) for o in obj)
    if isinstance(obj, dict):
        return {k: to_glassnet(v) for k, v in obj.items()}
    return obj


def _tensors(obj):
    """Every tensor inside obj (nested lists, tuples, dicts), in order."""
    if isinstance(obj, (torch.Tensor, glassnet.Tensor)):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in _tensors(v)]
    return []


def _numpy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach().data)


def _outputs(result):
    """The results as a flat list (tensors, or Python values such as equal()'s bool)."""
    if isinstance(result, (list, tuple)):
        return [r for item in result for r in _outputs(item)]
    return [result]


# ---- comparison ------------------------------------------------------------------------------

def compare_sample(name: str, glassnet_op, torch_op, sample, dtype, seed: int = 0) -> str | None:
    """None when glassnet matches PyTorch on this sample, else a description of the problem."""
    # (a module's forward input may come only as keywords: input is None then)
    t_args = ([] if sample.input is None else [sample.input]) + list(sample.args)
    g_args = to_glassnet(t_args)
    g_kwargs = to_glassnet(dict(sample.kwargs))
    t_result = torch_op(*t_args, **sample.kwargs)
    reason = deliberate_reason(name, sample)
    try:
        g_result = glassnet_op(*g_args, **g_kwargs)
    except Exception as e:  # noqa: BLE001 - any refusal is reported
        if reason:
            return None
        return f"raised {type(e).__name__}: {e}"
    if reason:
        return f"gave a result where it should refuse ({reason})"
    t_out, g_out = _outputs(t_result), _outputs(g_result)
    if len(t_out) != len(g_out):
        return f"returned {len(g_out)} outputs, PyTorch {len(t_out)}"
    tol = TOLERANCE[dtype]
    for i, (t, g) in enumerate(zip(t_out, g_out)):
        if not isinstance(t, torch.Tensor):
            if t != g:
                return f"output {i}: {g!r} != PyTorch's {t!r}"
            continue
        if not isinstance(g, glassnet.Tensor):
            return f"output {i} is a {type(g).__name__}, PyTorch's a Tensor"
        if tuple(g.shape) != tuple(t.shape):
            return f"output {i} has shape {tuple(g.shape)}, PyTorch's {tuple(t.shape)}"
        if g.dtype != t.numpy(force=True).dtype:
            return f"output {i} has dtype {g.dtype}, PyTorch's {t.dtype}"
        expected = _numpy(t)
        out_tol = _gradient_tolerance(expected, tol) if name in SUMS_OF_PRODUCTS else tol
        try:
            np.testing.assert_allclose(_numpy(g), expected, **out_tol)
        except AssertionError as e:
            return f"output {i} differs: {str(e).strip().splitlines()[-3:]}"
    # gradients: one random upstream gradient per differentiable output
    t_inputs = [t for t in _tensors(t_args) + _tensors(sample.kwargs) if t.requires_grad]
    g_inputs = [g for g in _tensors(g_args) + _tensors(g_kwargs) if g.requires_grad]
    pairs = [(t, g) for t, g in zip(t_out, g_out) if isinstance(t, torch.Tensor) and t.requires_grad]
    if not t_inputs or not pairs:
        return None
    rng = np.random.default_rng(seed)
    dys = [rng.standard_normal(tuple(t.shape)).astype(t.numpy(force=True).dtype) for t, _ in pairs]
    for t in t_inputs:
        t.grad = None
        t.retain_grad()  # some sample inputs are views, not leaves
    # backward (not autograd.grad) so that a module's parameters receive .grad too
    torch.autograd.backward([t for t, _ in pairs], [torch.tensor(d) for d in dys])
    t_grads = [t.grad for t in t_inputs]
    if not all(g.requires_grad for _, g in pairs):
        return "an output that requires grad in PyTorch does not in glassnet"
    total = None
    for (_, g), dy in zip(pairs, dys):
        term = (g * glassnet.tensor(dy, dtype=dy.dtype)).sum()
        total = term if total is None else total + term
    total.backward()
    for i, (tg, g) in enumerate(zip(t_grads, g_inputs)):
        expected = np.zeros(g.shape, g.dtype) if tg is None else tg.numpy()
        actual = np.zeros(g.shape, g.dtype) if g.grad is None else np.asarray(g.grad)
        try:
            np.testing.assert_allclose(actual, expected, **_gradient_tolerance(expected, tol))
        except AssertionError as e:
            return f"gradient of input {i} differs: {str(e).strip().splitlines()[-3:]}"
    return None


def compare_op(opinfo, glassnet_op, dtype) -> tuple[int, list[str]]:
    """(samples compared, problems) for one OpInfo at one dtype."""
    problems, count = [], 0
    samples = opinfo.sample_inputs("cpu", dtype, requires_grad=opinfo.supports_autograd)
    for i, sample in enumerate(samples):
        count += 1
        try:
            problem = compare_sample(opinfo.name, glassnet_op, opinfo.op, sample, dtype, seed=i)
        except Exception as e:  # noqa: BLE001 - a crash in the comparison itself is a problem too
            problem = f"crashed: {type(e).__name__}: {e}"
        if problem:
            problems.append(f"{opinfo.name}[{opinfo.variant_test_name}] {dtype} sample {i} "
                            f"{sample.summary() if hasattr(sample, 'summary') else ''}: {problem}")
    return count, problems


# Inputs PyTorch refuses and glassnet accepts on purpose: (OpInfo name, picks, what glassnet offers)
ACCEPTED = [
    *[(f"nn.functional.conv{d}d", lambda s: s.kwargs.get("padding") == "same" or "same" in s.args,
       "padding='same' with stride > 1 (output size ceil(n / s), TensorFlow's rule)") for d in (1, 2, 3)],
    ("mean", lambda s: s.input.dtype == torch.int64 and "dtype" not in s.kwargs,
     "the mean of an integer (or bool) tensor is float32, so that (pred == y).mean() is an accuracy"),
    *[(name, lambda s: not isinstance(s.input, torch.Tensor) or not all(isinstance(a, torch.Tensor) for a in s.args),
       "a Python number as an operand, as + and * take one") for name in ("maximum", "minimum")],
]


def accepted_reason(name: str, sample) -> str | None:
    for op_name, picks, reason in ACCEPTED:
        if op_name == name and picks(sample):
            return reason
    return None


def compare_errors(opinfo, glassnet_op) -> tuple[int, list[str]]:
    """(error inputs tried, problems): every input PyTorch refuses (OpInfo's error_inputs) must be
    refused by glassnet too, unless ACCEPTED lists it."""
    problems, count = [], 0
    if opinfo.error_inputs_func is None:
        return 0, []
    for i, error in enumerate(opinfo.error_inputs("cpu")):
        sample = error.sample_input
        count += 1
        try:
            opinfo.op(sample.input, *sample.args, **sample.kwargs)
        except Exception:  # noqa: BLE001 - PyTorch refuses it, as the OpInfo says
            pass
        else:
            continue  # PyTorch accepts it on this build (e.g. a check that only CUDA makes)
        try:
            glassnet_op(*to_glassnet([sample.input, *sample.args]), **to_glassnet(dict(sample.kwargs)))
        except Exception:  # noqa: BLE001 - refused, as it should be
            continue
        if accepted_reason(opinfo.name, sample) is None:
            problems.append(f"{opinfo.name}[{opinfo.variant_test_name}] error input {i}: PyTorch raises "
                            f"{error.error_type.__name__} ({error.error_regex!r}), glassnet accepts it")
    return count, problems


# ---- modules (ModuleInfo) --------------------------------------------------------------------

def compare_module_input(module_info, module_input, dtype, training: bool, seed: int = 0) -> str | None:
    """Build the module on both frameworks from the same constructor arguments and weights (torch's
    state_dict copied into glassnet's), run the forward input, compare outputs and the gradients
    of the inputs and of every parameter."""
    cls_name = module_info.module_cls.__name__
    c_args, c_kwargs = module_input.constructor_input.args, module_input.constructor_input.kwargs
    f_args, f_kwargs = module_input.forward_input.args, module_input.forward_input.kwargs
    t_module = module_info.module_cls(*c_args, **c_kwargs).to(dtype)
    t_module.train(training)
    if any(isinstance(p, torch.nn.parameter.UninitializedParameter) for p in t_module.parameters()):
        with torch.no_grad():  # a lazy module takes its shapes from a first call, then has weights to copy
            t_module(*f_args, **f_kwargs)
    try:
        g_module = getattr(glassnet.nn, cls_name)(*to_glassnet(list(c_args)), **to_glassnet(dict(c_kwargs)))
        g_module.to(getattr(glassnet, str(dtype).split(".")[-1]))
        g_module.train(training)
        g_module.load_state_dict({k: v.detach().numpy() for k, v in t_module.state_dict().items()})
    except Exception as e:  # noqa: BLE001
        return f"construction raised {type(e).__name__}: {e}"

    def run_torch(*args, **kwargs):
        return t_module(*args, **kwargs)

    def run_glassnet(*args, **kwargs):
        return g_module(*args, **kwargs)

    class Sample:  # the shape compare_sample expects
        input, args, kwargs = f_args[0] if f_args else None, list(f_args[1:]), dict(f_kwargs)

    problem = compare_sample(cls_name, run_glassnet, run_torch, Sample, dtype, seed)
    if problem:
        return problem
    # parameter gradients (compare_sample compared the inputs'); buffers after the forward pass
    t_params, g_params = dict(t_module.named_parameters()), dict(g_module.named_parameters())
    tol = TOLERANCE[dtype]
    for name, t in t_params.items():
        g = g_params[name]
        expected = np.zeros(tuple(t.shape)) if t.grad is None else t.grad.numpy()
        actual = np.zeros(g.shape) if g.grad is None else np.asarray(g.grad)
        try:
            np.testing.assert_allclose(actual, expected, **_gradient_tolerance(expected, tol))
        except AssertionError as e:
            return f"gradient of {name} differs: {str(e).strip().splitlines()[-3:]}"
    g_state = g_module.state_dict()
    for name, t in t_module.state_dict().items():
        if name not in g_state:
            return f"state_dict has no {name}"
        try:
            np.testing.assert_allclose(np.asarray(g_state[name], dtype=t.numpy().dtype), t.numpy(), **tol)
        except AssertionError as e:
            return f"{name} after the forward pass differs: {str(e).strip().splitlines()[-3:]}"
    return None


def compare_module(module_info, dtype) -> tuple[int, list[str]]:
    problems, count = [], 0
    for training in (True, False):
        torch.manual_seed(0)  # the same sample inputs on every run
        inputs = module_info.module_inputs_func(module_info, device="cpu", dtype=dtype, requires_grad=True,
                                                training=training)
        for i, module_input in enumerate(inputs):
            if module_input.forward_input is None:
                continue
            count += 1
            try:
                problem = compare_module_input(module_info, module_input, dtype, training, seed=i)
            except Exception as e:  # noqa: BLE001
                problem = f"crashed: {type(e).__name__}: {e}"
            if problem:
                problems.append(f"{module_info.name} {dtype} training={training} input {i}: {problem}")
    return count, problems
