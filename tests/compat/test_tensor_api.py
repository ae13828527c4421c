"""Tensor methods, module-level functions and factories with torch's names: the same call on
glassnet and on PyTorch gives the same values, dtypes, shapes and gradients.

Each case is a function of the module (`glassnet` or `torch`) and the input tensors, run on both.
"""

import numpy as np
import pytest
import torch

import glassnet


def _numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return x.detach().numpy()


def _run(call, arrays, grad: bool):
    """call on both frameworks; returns (glassnet result, torch result, their inputs)."""
    g_in = [glassnet.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    t_in = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    return call(glassnet, *g_in), call(torch, *t_in), g_in, t_in


def _compare(g, t):
    if isinstance(t, (tuple, list)):
        assert len(g) == len(t)
        for a, b in zip(g, t):
            _compare(a, b)
        return
    if not isinstance(t, torch.Tensor):
        assert g == t
        return
    assert tuple(g.shape) == tuple(t.shape)
    assert g.dtype == t.numpy(force=True).dtype, (g.dtype, t.dtype)
    np.testing.assert_allclose(_numpy(g), _numpy(t), rtol=1e-5, atol=1e-6)


RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4)).astype(np.float32)
Y = RNG.standard_normal((3, 4)).astype(np.float32)
V = RNG.standard_normal((4,)).astype(np.float32)
POS = np.abs(X) + 0.5
I = np.array([[3, -7, 2], [5, 4, -1]], np.int64)

DIFFERENTIABLE = [
    ("max-dim", lambda m, x: m.max(x, 1), [X]),
    ("max-dim-keepdim", lambda m, x: x.max(dim=0, keepdim=True), [X]),
    ("max-axis", lambda m, x: x.max(axis=1), [X]),
    ("min-dim-values", lambda m, x: m.min(x, dim=1).values, [X]),
    ("max-tensor", lambda m, x, y: m.max(x, y), [X, Y]),
    ("min-tensor", lambda m, x, y: x.min(y), [X, Y]),
    ("maximum-ties", lambda m, x: m.maximum(x, x.detach()), [X]),
    ("sum-axis-keepdims", lambda m, x: x.sum(axis=0, keepdims=True), [X]),
    ("mean-dim-tuple", lambda m, x: m.mean(x, (0, 1)), [X]),
    ("var-unbiased-false", lambda m, x: x.var(False), [X]),
    ("var-true", lambda m, x: x.var(True), [X]),
    ("var-dim-unbiased-keepdim", lambda m, x: x.var(1, False, True), [X]),
    ("std-correction", lambda m, x: x.std(0, correction=0), [X]),
    ("pow-tensor", lambda m, x, y: x.pow(y), [POS, Y]),
    ("rpow-tensor", lambda m, x, y: m.pow(x, y), [POS, X]),
    ("div-alias", lambda m, x, y: m.div(x, y), [X, POS]),
    ("add-alpha", lambda m, x, y: x.add(y, alpha=2.5), [X, Y]),
    ("sub-alpha", lambda m, x, y: m.sub(x, y, alpha=-0.5), [X, Y]),
    ("neg", lambda m, x: x.neg(), [X]),
    ("clamp-numbers", lambda m, x: m.clamp(x, -0.5, 0.5), [X]),
    ("clamp-tensor-bounds", lambda m, x, lo: x.clamp(min=lo, max=lo + 1), [X, Y]),
    ("clamp-min-only", lambda m, x: x.clamp(min=0.1), [X]),
    ("sin", lambda m, x: m.sin(x), [X]),
    ("cos", lambda m, x: x.cos(), [X]),
    ("exp-log-sqrt-abs", lambda m, x: m.sqrt(m.abs(m.log(m.exp(x)))), [X]),
    ("tanh-sigmoid", lambda m, x: m.tanh(x) + m.sigmoid(x), [X]),
    ("matmul", lambda m, x, v: m.matmul(x, v), [X, V]),
    ("bmm", lambda m, x, y: m.bmm(x.reshape(3, 2, 2), y.reshape(3, 2, 2)), [X, Y]),
    ("flatten", lambda m, x: m.flatten(x.reshape(3, 2, 2), 1), [X]),
    ("squeeze-several", lambda m, x: x.reshape(1, 3, 1, 4).squeeze((0, 2)), [X]),
    ("squeeze-keeps-non-1", lambda m, x: x.reshape(1, 3, 1, 4).squeeze((1, 2)), [X]),
    ("view-as", lambda m, x, v: x[0].view_as(v), [X, V]),
    ("expand-repeat", lambda m, v: v.unsqueeze(0).expand(2, 4).repeat(2, 3), [V]),
    ("repeat-new-dims", lambda m, v: v.repeat(2, 1, 2), [V]),
    ("masked-fill", lambda m, x: x.masked_fill(x > 0, 0.5), [X]),
    ("norm", lambda m, x: x.norm(), [X]),
    ("norm-dim", lambda m, x: x.norm(dim=1), [X]),
    ("meshgrid-ij", lambda m, v, x: m.meshgrid(v, x[0, :3], indexing="ij"), [V, X]),
    ("meshgrid-xy", lambda m, v, x: m.meshgrid(v, x[0, :3], indexing="xy"), [V, X]),
    ("where", lambda m, x, y: m.where(x > 0, x, y), [X, Y]),
    ("softmax-dtype", lambda m, x: x.softmax(1, dtype=m.float64), [X]),
    ("cat-stack", lambda m, x, y: m.stack([m.cat([x, y], 1), m.cat([y, x], 1)]), [X, Y]),
    ("topk", lambda m, x: x.topk(2, dim=1), [X]),
    ("topk-smallest-dim0", lambda m, x: m.topk(x, 2, 0, largest=False).values, [X]),
    ("gather-repeated", lambda m, x: x.gather(1, m.tensor([[0, 0, 3], [1, 2, 1], [3, 3, 3]])), [X]),
]


@pytest.mark.parametrize("name, call, arrays", DIFFERENTIABLE, ids=[c[0] for c in DIFFERENTIABLE])
def test_differentiable_calls_match_torch(name, call, arrays):
    g, t, g_in, t_in = _run(call, arrays, grad=True)
    _compare(g, t)
    outs_g = [o for o in (g if isinstance(g, tuple) else (g,)) if o.dtype.kind == "f"]
    outs_t = [o for o in (t if isinstance(t, tuple) else (t,)) if o.is_floating_point()]
    for i, (og, ot) in enumerate(zip(outs_g, outs_t)):
        dy = np.random.default_rng(i).standard_normal(tuple(ot.shape)).astype(og.dtype)
        og.backward(dy, retain_graph=True)
        ot.backward(torch.tensor(dy), retain_graph=True)
    for a, b in zip(g_in, t_in):
        if b.grad is None:  # an input the result does not depend on
            assert a.grad is None
        else:
            np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-5, atol=1e-6)


FORWARD = [
    ("argmax-axis", lambda m, x: x.argmax(axis=1), [X]),
    ("argmin-keepdim", lambda m, x: m.argmin(x, dim=0, keepdim=True), [X]),
    ("comparisons", lambda m, x, y: (x.eq(y), x.ne(y), x.lt(y), x.le(y), m.gt(x, y), x.ge(y)), [X, X.round()]),
    ("div-trunc-float", lambda m, x, y: x.div(y, rounding_mode="trunc"), [X * 5, POS]),
    ("div-floor-float", lambda m, x, y: m.div(x, y, rounding_mode="floor"), [X * 5, POS]),
    ("div-trunc-int", lambda m, a: a.div(2, rounding_mode="trunc"), [I]),
    ("div-floor-int", lambda m, a: a.div(-3, rounding_mode="floor"), [I]),
    ("floordiv", lambda m, a: a // 2, [I]),
    ("int-clamp-float-bounds", lambda m, a: a.clamp(-2.5, 3.5), [I]),
    ("clamp-int32-bound", lambda m, x, b: x.clamp(max=b), [X, np.ones((3, 4), np.int32)]),
    ("int-plus-float-tensor", lambda m, a, x: a + x[:2, :3], [I, X]),
    ("int-sum", lambda m, a: a.sum(), [I]),
    ("bool-sum", lambda m, x: (x > 0).sum(), [X]),
    ("bool-mean-float", lambda m, x: (x > 0).float().mean(), [X]),
    ("masks", lambda m, x: ((x > 0) & (x < 1), (x > 0) | (x < -1), ~(x > 0)), [X]),
    ("type-strings", lambda m, x: (x.type(), x.long().type(), x.double().type()), [X]),
    ("numel-dim-size", lambda m, x: (m.numel(x), x.dim(), tuple(x.size()), x.size(1), x.nelement()), [X]),
    ("equal", lambda m, x, y: (m.equal(x, x), x.equal(y)), [X, Y]),
    ("is-floating-point", lambda m, x, a: (m.is_floating_point(x), a.is_floating_point()), [X, I]),
    ("new-factories",
     lambda m, x: (x.new_zeros(2, 3), x.new_ones((2,)), x.new_full((2,), 3.0), x.new_tensor([1.0])), [X]),
]


@pytest.mark.parametrize("name, call, arrays", FORWARD, ids=[c[0] for c in FORWARD])
def test_forward_only_calls_match_torch(name, call, arrays):
    g, t, _, _ = _run(call, arrays, grad=False)
    _compare(g, t)


FACTORIES = [
    lambda m: m.zeros(2, 3, dtype=m.float64, device="cpu"),
    lambda m: m.ones((2,), dtype=m.long, device=m.device("cpu")),
    lambda m: m.full((2, 2), 7),
    lambda m: m.full((2, 2), 1.5),
    lambda m: m.full((2,), True),
    lambda m: m.empty(3, 2).shape,
    lambda m: m.eye(3),
    lambda m: m.eye(2, 3, dtype=m.int64),
    lambda m: m.arange(5),
    lambda m: m.arange(0, 1, 0.25),
    lambda m: m.arange(1, 7, 2, dtype=m.float32),
    lambda m: m.linspace(-1, 1, 5),
    lambda m: m.tensor([1, 2], dtype=m.float32, device="cpu"),
    lambda m: m.zeros_like(m.ones(2, dtype=m.int64)),
    lambda m: m.ones_like(m.zeros(2, 2), dtype=m.float64),
    lambda m: m.full_like(m.zeros(3), 2.0),
    lambda m: m.from_numpy(np.arange(3.0)),
    lambda m: m.as_tensor([1.0, 2.0]),
    lambda m: (m.rand(2, 3, device="cpu").shape, m.rand(2, dtype=m.float64).dtype == m.float64),
    lambda m: (m.randn(4, dtype=m.float32).shape, tuple(m.randn_like(m.zeros(2, 5)).shape)),
    lambda m: (m.randint(0, 5, (3,), device="cpu").dtype == m.int64, tuple(m.randperm(6).shape)),
    lambda m: (m.normal(0.0, 1.0, (2, 3)).shape, m.normal(m.zeros(4), 1.0).shape),
]


@pytest.mark.parametrize("i", range(len(FACTORIES)))
def test_factories_match_torch(i):
    _compare(FACTORIES[i](glassnet), FACTORIES[i](torch))


def test_inference_mode_as_context_and_decorator():
    for m in (glassnet, torch):
        x = m.ones(2, requires_grad=True)
        with m.inference_mode():
            assert not (x * 2).requires_grad

        @m.inference_mode()
        def f(v):
            return v * 2

        assert not f(x).requires_grad
        assert (x * 2).requires_grad


def test_factories_refuse_cuda_as_cpu_only_pytorch():
    for name in ("zeros", "ones", "rand", "randn", "empty"):
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            getattr(glassnet, name)(2, device="cuda")
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        glassnet.full((2,), 1.0, device="cuda")


def test_in_place_methods_on_tensors_match_torch():
    for m in (glassnet, torch):
        x = m.zeros(2, 3)
        x.fill_(2.0).add_(m.ones(2, 3), alpha=3).mul_(2).sub_(1).div_(2).clamp_(max=4.0)
        x.copy_(x + 1)
        if m is glassnet:
            g = x
        else:
            t = x
    np.testing.assert_array_equal(g.numpy(), t.numpy())


def test_in_place_change_of_a_leaf_that_requires_grad_is_refused_as_torch():
    with pytest.raises(RuntimeError):
        torch.zeros(2, requires_grad=True).fill_(1)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        glassnet.zeros(2, requires_grad=True).fill_(1)
    p = glassnet.zeros(2, requires_grad=True)
    with glassnet.no_grad():
        p.normal_(0, 1).uniform_(-1, 1).zero_()
    assert not p.data.any()


def _graph(m, name):
    """The names of the nodes reached from y.grad_fn through next_functions, breadth first."""
    x = m.ones(4, 3, requires_grad=True)
    w = m.ones(3, 2, requires_grad=True)
    y = (m.relu(x @ w) * 2).sum()
    seen, queue = [], [y.grad_fn]
    while queue:
        node = queue.pop(0)
        seen.append(name(node))
        queue += [f for f, _ in node.next_functions if f is not None]
    return seen, y.grad_fn.next_functions[0][0].next_functions


def test_grad_fn_next_functions_walk_the_graph_as_torch():
    g_seen, g_next = _graph(glassnet, lambda node: node.name)
    t_seen, t_next = _graph(torch, lambda node: type(node).__name__.rstrip("0"))
    # the same graph; glassnet's nodes are named after its Functions (MatMul, ReLU), torch's Mm, Relu
    assert [n.replace("MatMul", "Mm").lower() for n in g_seen] == [n.lower() for n in t_seen] == [
        "sumbackward", "mulbackward", "relubackward", "mmbackward", "accumulategrad", "accumulategrad"]
    # torch lists the constant 2 as (None, 0); glassnet lists tensor inputs only
    assert [type(f) for f, _ in g_next] == [glassnet.autograd.Node]
    assert [type(f).__name__ for f, _ in t_next] == ["ReluBackward0", "NoneType"]
    leaf = glassnet.ones(2, requires_grad=True)
    assert leaf.sum().grad_fn.next_functions[0][0].variable is leaf


@pytest.mark.parametrize("call, error, message", [
    (lambda m: m.cat([m.ones(2), None]), TypeError, "cat expected a sequence of Tensors, got NoneType at position 1"),
    (lambda m: m.cat([m.tensor(1.0), m.tensor(2.0)]), ValueError, "zero-dimensional tensor"),
    (lambda m: m.cat([m.ones(2, 3), m.ones(3, 3)], 1), ValueError, r"tensor 1 has shape \(3, 3\)"),
    (lambda m: m.ones(2, 3).reshape(4, 2), ValueError, r"shape \(4, 2\) is invalid for an input of shape \(2, 3\)"),
    (lambda m: m.ones(2, 3).view(-1, 4), ValueError, r"shape \(-1, 4\) is invalid"),
    (lambda m: m.ones(2).div(1, rounding_mode="round"), ValueError, "rounding_mode"),
    (lambda m: m.ones(2).clamp(), RuntimeError, "at least one of 'min' or 'max'"),
])
def test_errors_are_glassnets_and_torch_raises_too(call, error, message):
    with pytest.raises(Exception):
        call(torch)
    with pytest.raises(error, match=message):
        call(glassnet)
