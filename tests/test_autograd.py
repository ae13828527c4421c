"""The backward engine: DAGs, accumulation, retain_graph, retain_grad, no_grad, detach, the
Function protocol, and the errors a user meets."""

import threading

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet.autograd import Function
from glassnet.testing import check_gradients, gradcheck, numerical_gradient


def pair(values):
    """The same float32 leaf in glassnet and in torch."""
    x = np.asarray(values, dtype=np.float32)
    return gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def close(g, t):
    np.testing.assert_allclose(g, t.detach().numpy(), rtol=1e-5, atol=1e-6)


# ---- graphs that are not chains -------------------------------------------------------------

GRAPHS = {
    "used_twice_mul": lambda x: (x * x).sum(),
    "used_twice_add": lambda x: (x + x).sum(),
    "diamond": lambda x: ((x * 2) * (x.exp() + 1)).sum(),
    "reused_intermediate": lambda x: (lambda h: (h * h + h.sum() * h).mean())(x * 3 - 1),
    "three_paths": lambda x: (lambda a: (a * a * a + a).sum())(x.abs() + 0.5),
    "branch_through_indexing": lambda x: (x[0] * x[1] + x[1:].sum() * x[:1]).sum(),
    "broadcast_reuse": lambda x: (x.reshape(2, 1) * x.reshape(1, 2) + x).sum(),
    "reduction_and_back": lambda x: ((x - x.mean()) / (x.var() + 1).sqrt()) ** 2 * x,
}


@pytest.mark.parametrize("name", list(GRAPHS))
def test_dag_gradients_match_torch(name):
    fn = GRAPHS[name]
    g, t = pair([0.3, -1.2])
    yg, yt = fn(g), fn(t)
    if yg.ndim:  # a non-scalar result: reduce both the same way
        yg, yt = yg.sum(), yt.sum()
    yg.backward()
    yt.backward()
    close(g.grad, t.grad)
    x64 = gn.tensor([0.3, -1.2], dtype=gn.float64, requires_grad=True)
    assert gradcheck(lambda a: fn(a).sum() if fn(a).ndim else fn(a), [x64])


def test_two_leaves_sharing_intermediates():
    a, ta = pair([1.0, 2.0, 3.0])
    b, tb = pair([0.5, -0.5, 2.0])
    for x, y in ((a, b), (ta, tb)):
        s = x * y
        (s * x + s * y + (x @ y) * s).sum().backward()
    close(a.grad, ta.grad)
    close(b.grad, tb.grad)


def test_deep_chain_of_5000_ops_needs_no_recursion():
    x = gn.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001 ** 5000], rtol=1e-3)


def test_deep_chain_with_a_branch_at_every_step():
    # every step uses the previous tensor twice: 2^depth paths, but each node is visited once
    x = gn.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(2000):
        y = y * 0.5 + y * 0.5
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0], rtol=1e-5)


def test_leaf_gradients_accumulate_across_backward_calls_as_torch():
    g, t = pair([1.0, -2.0])
    for x in (g, t):
        (x * x).sum().backward()
        (x * 3).sum().backward()
    close(g.grad, t.grad)


def test_grad_is_a_float32_ndarray_not_aliased_to_upstream():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    dy = np.array([1.0, 1.0], dtype=np.float32)
    (x + 0).backward(dy)
    assert isinstance(x.grad, np.ndarray) and x.grad.dtype == np.float32
    dy[:] = 7  # changing the caller's array must not change x.grad
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_backward_on_a_leaf_accumulates_the_gradient_itself():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    x.backward(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


@pytest.mark.parametrize("kind", ["ndarray", "tensor", "list"])
def test_backward_gradient_argument_forms(kind):
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    dy = {"ndarray": np.array([2.0, 3.0]), "tensor": gn.tensor([2.0, 3.0]), "list": [2.0, 3.0]}[kind]
    (x * x).backward(dy)
    np.testing.assert_allclose(x.grad, [4.0, 12.0])


# ---- retain_graph and retain_grad -----------------------------------------------------------

def test_second_backward_without_retain_graph_is_a_clear_error():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_backward_through_a_freed_shared_subgraph_is_an_error_as_in_torch():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    (h * 2).sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (h * 3).sum().backward()


def test_retain_graph_accumulates_like_torch():
    g, t = pair([0.5, -1.5, 2.0])
    for x in (g, t):
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward(retain_graph=True)
        y.backward()
    close(g.grad, t.grad)
    np.testing.assert_allclose(g.grad, 3 * (np.exp(g.data) * (g.data + 1)), rtol=1e-5)


def test_retain_grad_on_non_leaves_matches_torch():
    g, t = pair([0.5, -1.5, 2.0])
    inter = {}
    for name, x in (("g", g), ("t", t)):
        h = x * 2
        h.retain_grad()
        k = h.exp()
        k.retain_grad()
        y = (k * h).sum()
        y.retain_grad()
        y.backward()
        inter[name] = (h, k, y)
    for a, b in zip(inter["g"], inter["t"]):
        close(a.grad, b.grad)


def test_non_leaf_grad_is_not_kept_without_retain_grad():
    x = gn.tensor([1.0], requires_grad=True)
    h = x * 2
    (h * h).sum().backward()
    assert h.grad is None and not h.is_leaf and x.is_leaf
    np.testing.assert_allclose(x.grad, [8.0])


def test_retain_grad_accumulates_over_retained_backwards_as_torch():
    g, t = pair([1.0, 2.0])
    hs = []
    for x in (g, t):
        h = x * x
        h.retain_grad()
        y = (h * 3).sum()
        y.backward(retain_graph=True)
        y.backward()
        hs.append(h)
    close(hs[0].grad, hs[1].grad)


# ---- no_grad, enable_grad, detach -----------------------------------------------------------

def test_no_grad_records_nothing_and_restores_state():
    x = gn.tensor([1.0], requires_grad=True)
    with gn.no_grad():
        y = x * 2
        assert not gn.is_grad_enabled()
        with gn.enable_grad():
            z = x * 2
        assert not gn.is_grad_enabled()
    assert gn.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with gn.no_grad():
            1 / 0
    assert gn.is_grad_enabled()


def test_no_grad_is_per_thread():
    seen = []
    with gn.no_grad():
        worker = threading.Thread(target=lambda: seen.append(gn.is_grad_enabled()))
        worker.start()
        worker.join()
    assert seen == [True]


def test_set_grad_enabled():
    gn.set_grad_enabled(False)
    try:
        assert not (gn.tensor([1.0], requires_grad=True) * 2).requires_grad
    finally:
        gn.set_grad_enabled(True)
    assert (gn.tensor([1.0], requires_grad=True) * 2).requires_grad


def test_detach_cuts_the_graph_and_shares_data():
    g, t = pair([1.0, 2.0])
    for x in (g, t):
        (x * x.detach()).sum().backward()  # only the first factor is differentiated
    close(g.grad, t.grad)
    d = g.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.numpy(), g.data)


def test_a_branch_not_requiring_grad_gets_no_gradient():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    c = gn.tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_graph_is_freed_after_backward():
    x = gn.tensor(np.ones(1000), requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    assert node.saved  # exp keeps its output for backward
    y.sum().backward()
    assert node.saved == () and node.inputs == ()


def test_under_no_grad_nothing_is_kept_alive():
    x = gn.tensor([1.0], requires_grad=True)
    a = gn.tensor([2.0])
    y = a.exp()  # no input requires grad: no node is recorded
    assert y.grad_fn is None and not y.requires_grad
    with gn.no_grad():
        z = x.exp()
    assert z.grad_fn is None


# ---- the Function protocol ------------------------------------------------------------------

class ScaledSum(Function):
    """y = sum(a) * k, with k a positional non-tensor and `offset` a keyword option."""

    @staticmethod
    def forward(ctx, a, k, offset=0.0):
        ctx.shape = a.shape
        ctx.k = k
        return np.asarray(a.sum() * k + offset, dtype=a.dtype)

    @staticmethod
    def backward(ctx, dy):
        return np.full(ctx.shape, dy * ctx.k, dtype=dy.dtype), None


class TopAndIndex(Function):
    """Two outputs, the second (an index) non-differentiable."""

    @staticmethod
    def forward(ctx, a):
        ctx.mark_non_differentiable(1)
        i = int(np.argmax(a))
        ctx.shape, ctx.i = a.shape, i
        return a[i:i + 1].copy(), np.asarray([i], dtype=np.int64)

    @staticmethod
    def backward(ctx, dy, d_index):
        assert d_index is not None  # an unused output still gets a zero upstream gradient
        g = np.zeros(ctx.shape, dy.dtype)
        g[ctx.i] = dy[0]
        return (g,)


def test_function_with_options_and_non_tensor_arguments():
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    y = ScaledSum.apply(x, 3.0, offset=1.0)
    assert y.item() == 10.0 and y.grad_fn.name == "ScaledSumBackward"
    assert y.grad_fn.needs_input_grad == (True, False)
    y.backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_function_with_a_non_differentiable_output():
    x = gn.tensor([1.0, 5.0, 2.0], requires_grad=True)
    top, index = TopAndIndex.apply(x)
    assert top.requires_grad and not index.requires_grad
    (top * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 0.0])


def test_function_returning_the_wrong_number_of_gradients_is_named():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, dy):
            return (dy,)

    y = Bad.apply(gn.tensor([1.0], requires_grad=True), gn.tensor([1.0]))
    with pytest.raises(RuntimeError, match="BadBackward returned 1 gradients for 2 inputs"):
        y.backward(np.ones(1))


def test_function_returning_a_gradient_of_the_wrong_shape_is_named():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, dy):
            return (dy.sum(),)

    y = Bad.apply(gn.tensor([1.0, 2.0], requires_grad=True))
    with pytest.raises(RuntimeError, match=r"BadBackward returned a gradient of shape \(\) .* shape \(2,\)"):
        y.backward(np.ones(2))


def test_tensor_requires_grad_switch_off_only_on_leaves():
    x = gn.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)
    assert x.requires_grad_(False) is x and not x.requires_grad


# ---- glassnet.testing -----------------------------------------------------------------------

def test_numerical_gradient_of_a_known_function():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    dy = np.array([1.0, -1.0])
    g = numerical_gradient(lambda a: (a ** 2).sum(axis=0), [x], dy, 0)
    np.testing.assert_allclose(g, 2 * x * dy, rtol=1e-6)


def test_numerical_gradient_on_a_non_contiguous_input():
    x = np.arange(6.0).reshape(2, 3).T  # a transposed view: reshape(-1) would be a copy
    g = numerical_gradient(lambda a: a * 3, [x], np.ones((3, 2)), 0)
    np.testing.assert_allclose(g, np.full((3, 2), 3.0), rtol=1e-6)


def test_numerical_gradient_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda a: a, [np.ones(2, np.float32)], np.ones(2), 0)


def test_check_gradients_catches_a_wrong_backward():
    f = lambda a, b: a * b  # noqa: E731
    x, y = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    check_gradients(f, lambda dy, a, b: (dy * b, dy * a), [x, y])
    with pytest.raises(AssertionError, match="input 1"):
        check_gradients(f, lambda dy, a, b: (dy * b, dy * b), [x, y])


def test_gradcheck_catches_a_wrong_backward():
    class WrongExp(Function):
        @staticmethod
        def forward(ctx, a):
            return np.exp(a)

        @staticmethod
        def backward(ctx, dy):
            return (dy,)  # should be dy * exp(a)

    x = gn.tensor([0.5, 1.0], dtype=gn.float64, requires_grad=True)
    assert gradcheck(lambda a: a.exp(), [x])
    with pytest.raises(AssertionError, match="input 0"):
        gradcheck(lambda a: WrongExp.apply(a), [x])
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda a: a.exp(), [gn.tensor([1.0], requires_grad=True)])


def test_set_grad_enabled_as_a_context_manager_as_torch():
    x = gn.tensor([1.0], requires_grad=True)
    for training in (False, True):
        with gn.set_grad_enabled(training):
            assert (x * 2).requires_grad is training
        assert gn.is_grad_enabled()
    with pytest.raises(KeyError):
        with gn.set_grad_enabled(False):
            raise KeyError
    assert gn.is_grad_enabled()


def test_no_grad_as_a_decorator_as_torch():
    x = gn.tensor([1.0], requires_grad=True)

    @gn.no_grad()
    def evaluate():
        return (x * 2).requires_grad

    assert evaluate() is False and gn.is_grad_enabled()


@pytest.mark.parametrize("make", [lambda x: x.max(), lambda x: x.max(0).values, lambda x: x[np.array([0, 0, 1])],
                                  lambda x: gn.where(x.data > 0, x, 0.0)], ids=["max", "max_dim", "getitem", "where"])
def test_index_and_mask_arrays_are_freed_by_backward(make):
    # an output kept for logging must not keep its op's index arrays alive after backward
    x = gn.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    y = make(x)
    assert y.grad_fn.saved
    y.sum().backward()
    assert y.grad_fn.saved == ()


def test_function_without_forward_or_backward_is_named():
    class NoForward(Function):
        pass

    class NoBackward(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

    with pytest.raises(NotImplementedError, match="NoForward defines no forward"):
        NoForward.apply(gn.tensor([1.0]))
    y = NoBackward.apply(gn.tensor([1.0], requires_grad=True))
    with pytest.raises(NotImplementedError, match="NoBackwardBackward is not differentiable"):
        y.backward(np.ones(1))


# ---- in-place changes after the forward pass (PyTorch's version check) ----------------------

@pytest.mark.parametrize("change", [lambda x: x.__iadd__(1.0), lambda x: x.__setitem__(0, 5.0), lambda x: x.zero_()],
                         ids=["iadd", "setitem", "zero_"])
def test_changing_a_saved_input_in_place_is_refused_as_torch(change):
    for lib in (gn, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        x = lib.tensor([3.0, 4.0])
        y = (w * x).sum()  # Mul keeps x for w's gradient
        change(x)
        with pytest.raises(RuntimeError, match="in ?place"):
            y.backward()


def test_changing_an_input_backward_does_not_read_is_allowed_as_torch():
    grads = []
    for lib in (gn, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        x = lib.tensor([3.0, 4.0])
        y = (w + x).sum()  # Add keeps nothing
        x += 1
        y.backward()
        grads.append(np.asarray(w.grad))
    np.testing.assert_array_equal(grads[0], grads[1])


def test_parameter_update_between_steps_is_allowed():
    w = gn.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(2):
        w.grad = None
        (w * w).sum().backward()  # a fresh graph each step sees the updated w
        with gn.no_grad():
            w -= 0.1 * w.grad
    np.testing.assert_allclose(w.data, [1.0 * 0.8 * 0.8, 2.0 * 0.8 * 0.8], rtol=1e-6)


def test_post_accumulate_grad_hooks_fire_once_with_the_whole_gradient():
    """As torch.Tensor.register_post_accumulate_grad_hook: once per backward, after every
    contribution (a weight used twice), also for a leaf whose only consumer got no gradient."""
    import torch
    w = gn.tensor(np.arange(3.0), dtype=np.float64, requires_grad=True)
    unused = gn.tensor(np.ones(3), dtype=np.float64, requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.copy()))
    unused.register_post_accumulate_grad_hook(lambda t: seen.append("unused"))
    y = (w * w).sum() + (w * 3).sum()
    _ = (unused * 2).sum()  # a branch that backward never reaches from y
    y.backward()
    tw = torch.arange(3.0, dtype=torch.float64, requires_grad=True)
    torch_seen = []
    tw.register_post_accumulate_grad_hook(lambda t: torch_seen.append(t.grad.clone()))
    ((tw * tw).sum() + (tw * 3).sum()).backward()
    assert len(seen) == 1 and len(torch_seen) == 1
    np.testing.assert_allclose(seen[0], torch_seen[0].numpy())
    handle.remove()
    (w * 2).sum().backward()
    assert len(seen) == 1
    with pytest.raises(RuntimeError, match="leaf"):
        y.register_post_accumulate_grad_hook(print)


def test_queued_callbacks_run_after_the_whole_backward():
    from glassnet.autograd import queue_callback
    w = gn.tensor(np.ones(2), requires_grad=True)
    order = []
    w.register_post_accumulate_grad_hook(lambda t: (order.append("hook"), queue_callback(lambda: order.append("end"))))
    (w * w).sum().backward()
    assert order == ["hook", "end"]
    with pytest.raises(RuntimeError, match="during a backward"):
        queue_callback(print)


# ---- a leaf's first gradient: kept when nothing else holds it, copied otherwise -------------

class Handing(Function):
    """y = a * b (same shapes); the backward hands out gradients the way a test asks:
    'fresh' (one new array per input, their data pointers recorded), 'same' (one array for both
    inputs), 'kept' (also stored in `kept`), 'crop' (crops of larger fresh arrays)."""
    pointers, kept = [], []

    @staticmethod
    def forward(ctx, a, b, how="fresh"):
        ctx.how = how
        return a * b

    @staticmethod
    def backward(ctx, dy):
        if ctx.how == "same":
            g = dy * 2
            return g, g
        if ctx.how == "crop":
            grads = []
            for _ in range(2):
                big = np.zeros((dy.shape[0] + 2,) + dy.shape[1:], dy.dtype)
                big[1:-1] = dy * 2
                grads.append(big[1:-1])
        else:
            grads = [dy * 2, dy * 3]
        if ctx.how == "kept":
            Handing.kept[:] = grads
        Handing.pointers[:] = [g.ctypes.data for g in grads]
        return tuple(grads)


def _leaves():
    a = gn.tensor(np.ones((4, 3), np.float32), requires_grad=True)
    b = gn.tensor(np.ones((4, 3), np.float32), requires_grad=True)
    return a, b


@pytest.mark.parametrize("how", ["fresh", "crop"])
def test_a_gradient_nothing_else_holds_becomes_the_grad_without_a_copy(how):
    """As PyTorch's AccumulateGrad: the array the backward made is .grad itself (a crop of a
    padded gradient too, no larger than twice its size); a second backward adds into it."""
    a, b = _leaves()
    Handing.apply(a, b, how=how).sum().backward()
    assert [a.grad.ctypes.data, b.grad.ctypes.data] == Handing.pointers
    np.testing.assert_array_equal(a.grad, 2)
    Handing.apply(a, b, how=how).sum().backward()
    np.testing.assert_array_equal(a.grad, 4)
    np.testing.assert_array_equal(b.grad, 4 if how == "crop" else 6)


def test_a_gradient_given_to_two_inputs_is_copied_for_each():
    a, b = _leaves()
    Handing.apply(a, b, how="same").sum().backward()
    assert not np.shares_memory(a.grad, b.grad)
    a.grad += 1  # one leaf's gradient changed in place leaves the other's alone
    np.testing.assert_array_equal(b.grad, 2)
    np.testing.assert_array_equal(a.grad, 3)


def test_a_gradient_the_function_keeps_is_copied():
    a, b = _leaves()
    Handing.apply(a, b, how="kept").sum().backward()
    assert not any(np.shares_memory(g, kept) for g in (a.grad, b.grad) for kept in Handing.kept)
    Handing.kept[0][...] = 7
    np.testing.assert_array_equal(a.grad, 2)


def test_the_callers_upstream_gradient_passed_through_is_copied():
    """y = x.reshape(...) hands dy on as a view: x.grad must not be the caller's array."""
    x = gn.tensor(np.zeros((2, 6), np.float32), requires_grad=True)
    dy = np.ones((3, 4), np.float32)
    x.reshape(3, 4).backward(dy)
    assert not np.shares_memory(x.grad, dy)
    dy[...] = 5
    np.testing.assert_array_equal(x.grad, 1)


def test_a_convolution_input_keeps_its_gradient_and_matches_torch(monkeypatch):
    """The convolution's dx (an NCHW view of channels-last memory; with stride 2, a crop of the
    padded input's gradient) is x.grad as it is; a second backward adds into it; both values as
    PyTorch's."""
    kept, accumulate = [], gn.Tensor._accumulate

    def spy(self, g, only_reference=False):
        kept.append((self.shape, only_reference))
        return accumulate(self, g, only_reference)
    monkeypatch.setattr(gn.Tensor, "_accumulate", spy)
    rng = np.random.default_rng(0)
    xs, ws = rng.standard_normal((2, 8, 9, 9)).astype(np.float32), rng.standard_normal((4, 8, 3, 3)).astype(np.float32)
    x, w = gn.tensor(xs, requires_grad=True), gn.tensor(ws, requires_grad=True)
    tx, tw = torch.tensor(xs, requires_grad=True), torch.tensor(ws, requires_grad=True)
    for stride in (1, 2, 1):
        gn.functional.conv2d(x, w, stride=stride, padding=1).square().sum().backward()
        torch.nn.functional.conv2d(tx, tw, stride=stride, padding=1).square().sum().backward()
        for ours, theirs in ((x, tx), (w, tw)):
            np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-4, atol=1e-4)
        assert kept[-2:] == [(x.shape, True), (w.shape, True)]
