"""Module, Parameter and the containers: registration order, state_dict keys as PyTorch's,
load_state_dict errors, modes, gradients, hooks and repr."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(np.ones((2, 3), np.float32))
        self.register_buffer("count", gn.zeros(1))
        self.register_buffer("scratch", gn.zeros(2), persistent=False)
        self.inner = nn.Linear(3, 2)
        self.b = nn.Parameter(np.zeros(2, np.float32))

    def forward(self, x):
        return self.inner(x @ self.w) + self.b  # (N, 2) @ (2, 3) -> (N, 3)


class TorchBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(2, 3))
        self.register_buffer("count", torch.zeros(1))
        self.register_buffer("scratch", torch.zeros(2), persistent=False)
        self.inner = torch.nn.Linear(3, 2)
        self.b = torch.nn.Parameter(torch.zeros(2))


def test_parameters_buffers_and_children_in_insertion_order_like_torch():
    ours, theirs = Block(), TorchBlock()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == ["inner"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in ours.parameters())


def _torch_lenet():
    T = torch.nn
    return T.Sequential(T.Conv2d(1, 6, 5, padding=2), T.ReLU(), T.MaxPool2d(2), T.Conv2d(6, 16, 5),
                        T.BatchNorm2d(16), T.ReLU(), T.AvgPool2d(2), T.Flatten(), T.Linear(400, 120),
                        T.Dropout(0.2), T.Linear(120, 10))


def _our_lenet():
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5),
                         nn.BatchNorm2d(16), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(400, 120),
                         nn.Dropout(0.2), nn.Linear(120, 10))


def test_state_dict_keys_shapes_and_dtypes_match_torch():
    ours, theirs = _our_lenet().state_dict(), _torch_lenet().state_dict()
    assert list(ours) == list(theirs)
    for k in ours:
        assert ours[k].shape == tuple(theirs[k].shape), k
        assert ours[k].dtype == theirs[k].numpy().dtype, k


def test_repr_matches_torch():
    assert repr(_our_lenet()) == repr(_torch_lenet())
    T = torch.nn
    pairs = [(nn.Conv1d(2, 4, 3, stride=2, padding=1, dilation=2, groups=2, bias=False, padding_mode="reflect"),
              T.Conv1d(2, 4, 3, stride=2, padding=1, dilation=2, groups=2, bias=False, padding_mode="reflect")),
             (nn.Conv3d(1, 2, (1, 2, 3), padding="same"), T.Conv3d(1, 2, (1, 2, 3), padding="same")),
             (nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1), T.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1)),
             (nn.MaxPool3d(2, 1, 1, ceil_mode=True), T.MaxPool3d(2, 1, 1, ceil_mode=True)),
             (nn.AdaptiveAvgPool2d((3, None)), T.AdaptiveAvgPool2d((3, None))),
             (nn.AdaptiveMaxPool1d(4), T.AdaptiveMaxPool1d(4)),
             (nn.LeakyReLU(0.2), T.LeakyReLU(0.2)), (nn.ELU(0.5, inplace=True), T.ELU(0.5, inplace=True)),
             (nn.Softmax(dim=1), T.Softmax(dim=1)), (nn.LogSoftmax(-1), T.LogSoftmax(-1)),
             (nn.Sigmoid(), T.Sigmoid()), (nn.Tanh(), T.Tanh()), (nn.Identity(), T.Identity()),
             (nn.BatchNorm1d(3, momentum=None, affine=False), T.BatchNorm1d(3, momentum=None, affine=False)),
             (nn.Unflatten(1, (2, 3)), T.Unflatten(1, (2, 3))), (nn.MSELoss(), T.MSELoss()),
             (nn.ModuleList([nn.ReLU()]), T.ModuleList([T.ReLU()])),
             (nn.ModuleDict({"a": nn.Tanh()}), T.ModuleDict({"a": T.Tanh()}))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_repr_shows_true_convolution_and_general_rank():
    assert repr(nn.Conv2d(1, 2, 3, flip=True)) == "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), flip=True)"
    assert repr(nn.ConvNd(4, 1, 2, 3)).startswith("ConvNd(num_spatial_dims=4, 1, 2, kernel_size=(3, 3, 3, 3)")


def test_load_state_dict_from_torch_gives_identical_weights_in_place():
    ours, theirs = _our_lenet(), _torch_lenet()
    weight = ours[0].weight
    ours.load_state_dict(theirs.state_dict())  # torch tensors are accepted as values
    assert ours[0].weight is weight  # copied into the existing parameter (optimisers keep working)
    for (k, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_array_equal(a, b.numpy(), err_msg=k)


def test_state_dict_holds_copies():
    m = nn.Linear(2, 2)
    sd = m.state_dict()
    sd["weight"][...] = 5
    assert not np.any(m.weight.data == 5)
    assert m.state_dict(keep_vars=True)["weight"] is m.weight


def test_load_state_dict_reports_every_problem_with_shapes():
    model = nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.Linear(4, 2))
    bad = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.Linear(4, 2)).state_dict()
    with pytest.raises(RuntimeError, match=r"size mismatch for 0\.weight: checkpoint \(6, 1, 5, 5\), "
                                           r"model \(6, 3, 5, 5\)"):
        model.load_state_dict(bad)
    sd = model.state_dict()
    del sd["2.bias"]
    sd["3.weight"] = np.zeros(1, np.float32)
    before = model.state_dict()
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict({**sd, "0.weight": np.zeros((6, 3, 5, 5), np.float32) + 7})
    message = str(info.value)
    assert 'missing key(s) in state_dict: "2.bias"' in message
    assert 'unexpected key(s) in state_dict: "3.weight"' in message
    assert message.startswith("Error(s) in loading state_dict for Sequential")
    # nothing was changed by the failed load
    np.testing.assert_array_equal(model.state_dict()["0.weight"], before["0.weight"])


def test_load_state_dict_non_strict_returns_the_incompatible_keys():
    model = nn.Sequential(nn.Linear(2, 2))
    result = model.load_state_dict({"0.weight": np.ones((2, 2)), "extra": np.ones(1)}, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["extra"]
    assert model[0].weight.dtype == np.float32  # float64 values are cast to the model's dtype
    np.testing.assert_array_equal(model[0].weight.data, 1)
    with pytest.raises(RuntimeError, match=r"size mismatch for 0\.weight: checkpoint \(3, 2\), model \(2, 2\)"):
        model.load_state_dict({"0.weight": np.ones((3, 2))}, strict=False)


def test_load_state_dict_refuses_float_into_integer_buffer():
    bn = nn.BatchNorm1d(2)
    sd = bn.state_dict()
    sd["num_batches_tracked"] = np.array(1.5)
    with pytest.raises(RuntimeError, match="dtype mismatch for num_batches_tracked: checkpoint float64, model int64"):
        bn.load_state_dict(sd)


def test_train_eval_propagate():
    model = _our_lenet()
    assert model.training and model[9].training
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(TypeError, match="expects a bool"):
        model.train("no")


def test_zero_grad_and_requires_grad():
    model = Block()
    out = model(gn.tensor(np.ones((4, 2), np.float32))).sum()
    out.backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(np.all(p.grad == 0) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


def test_shared_parameters_and_modules_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert len(list(model.modules())) == 3  # Sequential, Linear, ReLU
    theirs_shared = torch.nn.Linear(2, 2)
    theirs = torch.nn.Sequential(theirs_shared, torch.nn.ReLU(), theirs_shared)
    assert list(model.state_dict()) == list(theirs.state_dict())


def test_apply_visits_children_first():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_assignment_rules():
    m = nn.Module()
    m.p = nn.Parameter(np.zeros(1, np.float32))
    m.sub = nn.ReLU()
    m.plain = 3
    assert list(m._parameters) == ["p"] and list(m._modules) == ["sub"] and m.plain == 3
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'p'"):
        m.p = gn.zeros(1)
    m.p = None
    assert m.p is None and list(m.state_dict()) == []
    del m.sub
    assert not hasattr(m, "sub")
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'missing'"):
        m.missing
    with pytest.raises(KeyError, match="without '.'"):
        m.register_buffer("a.b", gn.zeros(1))

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(1, np.float32))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_parameter_dtypes():
    assert nn.Parameter(np.ones(2)).dtype == np.float32  # glassnet.tensor's policy
    assert nn.Parameter(gn.tensor(np.ones(2), dtype=np.float64)).dtype == np.float64
    assert repr(nn.Parameter(np.zeros(1, np.float32))).startswith("Parameter containing:\ntensor(")
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        nn.Parameter(gn.tensor([1, 2]))


def test_double_converts_parameters_and_float_buffers_only():
    bn = nn.BatchNorm1d(3).double()
    assert bn.weight.dtype == np.float64 and bn.running_var.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64
    assert bn.float().weight.dtype == np.float32
    assert bn.to("cpu") is bn and bn.weight.dtype == np.float32
    with pytest.raises(TypeError, match="takes a floating dtype, got int64"):
        bn.to(np.int64)


def test_forward_hooks_see_and_may_replace_outputs():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    seen = {}

    def record(module, args, output):
        seen["shape"] = output.shape  # returns None: the output is kept

    handle = model[0].register_forward_hook(record)
    pre = model[1].register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    out = model(gn.ones(5, 2))
    assert seen["shape"] == (5, 3) and np.all(out.data == 0)
    handle.remove()
    pre.remove()
    seen.clear()
    model(gn.ones(5, 2))
    assert seen == {}


def test_get_submodule():
    model = nn.Sequential(OrderedDict(features=nn.Sequential(nn.ReLU(), nn.Linear(2, 2))))
    assert isinstance(model.get_submodule("features.1"), nn.Linear)
    with pytest.raises(AttributeError, match="no submodule '7'"):
        model.get_submodule("features.7")


def test_sequential_indexing_slicing_and_append():
    seq = nn.Sequential(nn.ReLU(), nn.Tanh(), nn.Sigmoid())
    assert isinstance(seq[-1], nn.Sigmoid) and len(seq[1:]) == 2
    assert list(seq[1:]._modules) == ["1", "2"]  # torch keeps the original keys in a slice
    seq.append(nn.Identity())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    del seq[0]
    assert list(seq._modules) == ["0", "1", "2"] and isinstance(seq[0], nn.Tanh)
    with pytest.raises(IndexError, match="index 5 is out of range for a Sequential of length 3"):
        seq[5]
    named = nn.Sequential(OrderedDict(conv=nn.Conv1d(1, 2, 3), act=nn.ReLU()))
    assert list(named.state_dict()) == ["conv.weight", "conv.bias"]
    x = gn.tensor(np.linspace(-1, 1, 4, dtype=np.float32))
    np.testing.assert_allclose(nn.Sequential(nn.ReLU(), nn.Tanh())(x).data, np.tanh(np.maximum(x.data, 0)))


def test_module_list_and_dict_register_parameters():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 3)])
    ml.insert(0, nn.Linear(1, 2))
    ml.extend([nn.ReLU()])
    assert [type(m).__name__ for m in ml] == ["Linear", "Linear", "Linear", "ReLU"]
    assert list(ml.state_dict())[:2] == ["0.weight", "0.bias"] and len(list(ml.parameters())) == 6
    del ml[0]
    assert ml[0].in_features == 2
    with pytest.raises(TypeError, match="ModuleList is not callable"):
        ml(1)
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    md["b"] = nn.Linear(1, 2)
    assert list(md) == ["a", "b"] and "b" in md and list(md.state_dict())[-1] == "b.bias"
    assert isinstance(md.pop("a"), nn.Linear) and list(md.keys()) == ["b"]
    with pytest.raises(KeyError, match="ModuleDict has no key 'zz'"):
        md["zz"]
