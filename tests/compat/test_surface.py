"""`import glassnet as torch`: the sub-packages, devices and dtypes a PyTorch program reaches for,
checked against what the installed (CPU-only) PyTorch answers."""

import importlib
import subprocess
import sys

import numpy as np
import pytest
import torch

import glassnet


def test_one_import_reaches_every_sub_package():
    # a fresh interpreter: nothing imported before `import glassnet` may have loaded them
    code = ("import glassnet as torch\n"
            "for name in ['nn', 'nn.functional', 'nn.init', 'nn.utils', 'nn.parallel', 'optim',\n"
            "             'optim.lr_scheduler', 'utils', 'utils.data', 'utils.checkpoint', 'cuda',\n"
            "             'backends.cudnn', 'jit', 'accelerator']:\n"
            "    obj = torch\n"
            "    for part in name.split('.'):\n"
            "        obj = getattr(obj, part)\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize("path", ["glassnet.nn.functional", "glassnet.utils.data", "glassnet.utils.checkpoint",
                                  "glassnet.nn.parallel", "glassnet.optim.lr_scheduler",
                                  "glassnet.backends.cudnn"])
def test_torch_paths_import(path):
    assert importlib.import_module(path) is not None


def test_aliases_are_the_real_homes_not_copies():
    import glassnet.nn.functional as F
    from glassnet.utils.data import DataLoader, TensorDataset

    assert F.relu is glassnet.functional.relu
    assert F.conv2d is glassnet.functional.conv2d
    assert DataLoader is glassnet.data.DataLoader and TensorDataset is glassnet.data.TensorDataset
    assert "relu" in dir(F)
    with pytest.raises(AttributeError):
        F.no_such_function


def _error(call):
    try:
        call()
    except Exception as e:  # noqa: BLE001 - the exception type is what is compared
        return type(e), str(e)
    return None


@pytest.mark.parametrize("call", [
    lambda t: t.zeros(2, device="cuda"),
    lambda t: t.ones(2, device=t.device("cuda:0")),
    lambda t: t.zeros(2).to("cuda"),
    lambda t: t.zeros(2).cuda(),
    lambda t: t.nn.Linear(2, 2).cuda(),
    lambda t: t.nn.Linear(2, 2).to("cuda"),
    lambda t: t.cuda.current_device(),
    lambda t: t.cuda.synchronize(),
    lambda t: t.tensor([1.0], device="cuda"),
])
def test_cuda_fails_at_use_as_on_cpu_only_pytorch(call):
    assert not torch.cuda.is_available()  # the oracle is a CPU-only PyTorch
    expected = _error(lambda: call(torch))
    assert expected is not None
    assert _error(lambda: call(glassnet)) == expected


def test_device_queries_answer_as_pytorch():
    for t in (torch, glassnet):
        t.cuda.manual_seed(0)
        t.cuda.manual_seed_all(0)
        t.cuda.empty_cache()
    assert glassnet.cuda.is_available() is torch.cuda.is_available() is False
    assert glassnet.cuda.device_count() == torch.cuda.device_count() == 0
    assert glassnet.accelerator.is_available() is torch.accelerator.is_available() is False
    assert glassnet.backends.cudnn.is_available() is torch.backends.cudnn.is_available()
    for flag in ("enabled", "benchmark", "deterministic"):
        assert getattr(glassnet.backends.cudnn, flag) == getattr(torch.backends.cudnn, flag)


@pytest.mark.parametrize("spec", ["cpu", "cuda", "cuda:1", ("cuda", 2), "mps"])
def test_device_objects_print_and_compare_as_pytorch(spec):
    args = spec if isinstance(spec, tuple) else (spec,)
    g, t = glassnet.device(*args), torch.device(*args)
    assert (str(g), repr(g), g.type, g.index) == (str(t), repr(t), t.type, t.index)
    assert g == glassnet.device(*args)


@pytest.mark.parametrize("bad", ["gpu", "cpu:x"])
def test_bad_device_strings_raise_as_pytorch(bad):
    assert _error(lambda: glassnet.device(bad)) == _error(lambda: torch.device(bad))


def test_tensors_live_on_the_cpu():
    x = glassnet.zeros(2, 3, device="cpu")
    assert x.device == glassnet.device("cpu") and str(x.device) == "cpu" and x.is_cuda is False
    assert x.to("cpu") is x and x.cpu() is x and x.to(glassnet.device("cpu")) is x
    model = glassnet.nn.Linear(2, 3)
    assert model.to("cpu") is model and model.cpu() is model


def test_data_parallel_runs_the_module_and_prefixes_state_dict_keys():
    g_lin = glassnet.nn.Linear(3, 2)
    t_lin = torch.nn.Linear(3, 2)
    g, t = glassnet.nn.DataParallel(g_lin, device_ids=[0]), torch.nn.DataParallel(t_lin, device_ids=[0])
    assert list(g.state_dict()) == list(t.state_dict()) == ["module.weight", "module.bias"]
    x = np.ones((4, 3), np.float32)
    np.testing.assert_array_equal(g(glassnet.tensor(x)).detach().numpy(), g_lin(glassnet.tensor(x)).detach().numpy())
    assert g.device_ids == t.device_ids == []


def test_checkpoint_gives_the_functions_output_and_gradients():
    from glassnet.utils.checkpoint import checkpoint, checkpoint_sequential

    lin = glassnet.nn.Linear(3, 2)
    x = glassnet.randn(4, 3, requires_grad=True)
    checkpoint(lin, x, use_reentrant=False).sum().backward()
    g_ckpt = x.grad.copy()
    x.grad = None
    lin(x).sum().backward()
    np.testing.assert_array_equal(g_ckpt, x.grad)
    seq = glassnet.nn.Sequential(glassnet.nn.Linear(3, 3), glassnet.nn.ReLU(), glassnet.nn.Linear(3, 1))
    np.testing.assert_array_equal(checkpoint_sequential(seq, 2, x).detach().numpy(), seq(x).detach().numpy())


def test_jit_decorators_are_identities_in_eager_mode():
    def f(x):
        return x

    for name in ("unused", "ignore", "_overload_method", "export"):
        assert getattr(glassnet.jit, name)(f) is f
    assert glassnet.jit.is_scripting() is torch.jit.is_scripting() is False
    assert glassnet.jit.annotate(int, 3) == torch.jit.annotate(int, 3) == 3


NAMES = ["float32", "float", "float64", "double", "int64", "long", "int32", "int", "bool", "uint8",
         "int8", "int16", "short", "float16", "half"]


@pytest.mark.parametrize("name", NAMES)
def test_dtype_names_are_torchs(name):
    g, t = getattr(glassnet, name), getattr(torch, name)
    x = glassnet.zeros(2, dtype=g)
    assert x.dtype == g
    assert np.dtype(g) == torch.zeros(2, dtype=t).numpy().dtype
    assert glassnet.tensor([1, 0], dtype=g).type() == torch.tensor([1, 0], dtype=t).type()


@pytest.mark.parametrize("convert", [
    lambda x, t: x.float(), lambda x, t: x.long(), lambda x, t: x.double(), lambda x, t: x.int(),
    lambda x, t: x.bool(), lambda x, t: x.to(t.float64), lambda x, t: x.to("cpu", t.int64),
    lambda x, t: x.to(dtype=t.float32), lambda x, t: x.type(t.int32), lambda x, t: x.type("torch.LongTensor"),
    lambda x, t: x.to(t.zeros(1, dtype=t.float64)), lambda x, t: x.type_as(t.zeros(1, dtype=t.int64)),
])
def test_conversions_match_torch(convert):
    data = [[1.5, -2.0], [0.0, 3.25]]
    g = convert(glassnet.tensor(data), glassnet)
    t = convert(torch.tensor(data), torch)
    assert g.type() == t.type()
    np.testing.assert_array_equal(g.detach().numpy(), t.numpy())


def test_data_and_grad_take_torch_in_place_calls_on_shared_memory():
    glassnet.manual_seed(0)
    lin = glassnet.nn.Linear(4, 3)
    lin.weight.data.normal_(0.0, 0.02)
    assert abs(float(lin.weight.data.std()) - 0.02) < 0.02
    lin.bias.data.fill_(0.5)
    np.testing.assert_array_equal(lin.bias.detach().numpy(), np.full(3, 0.5, np.float32))
    lin.weight.data.uniform_(-1, 1).clamp_(-0.5, 0.5)
    assert lin.weight.data.min() >= -0.5 and lin.weight.data.max() <= 0.5
    lin.weight.data.copy_(glassnet.ones(3, 4)).mul_(2).add_(1)
    np.testing.assert_array_equal(lin.weight.detach().numpy(), np.full((3, 4), 3, np.float32))
    lin(glassnet.ones(2, 4)).sum().backward()
    assert lin.weight.grad.data is lin.weight.grad  # p.grad.data is the gradient
    lin.weight.grad.zero_()
    assert not lin.weight.grad.any()
    assert lin.weight.data.dtype == np.float32  # the in-place calls keep the dtype
    assert repr(lin.bias.grad) == repr(torch.full((3,), 2.0))


def test_assigning_a_tensor_to_data_or_grad_stores_its_values():
    p = glassnet.nn.Parameter(glassnet.zeros(3))
    p.data = glassnet.ones(3)
    p.grad = glassnet.full((3,), 2.0)
    assert isinstance(p.data, np.ndarray) and isinstance(p.grad, np.ndarray)
    np.testing.assert_array_equal(p.grad + p.data, np.full(3, 3.0, np.float32))


def test_zero_d_integer_tensor_indexes_a_list():
    classes = ["cat", "dog", "bird"]
    logits = [0.1, 2.0, 0.3]
    assert classes[glassnet.tensor(logits).argmax()] == classes[torch.tensor(logits).argmax()] == "dog"
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        classes[glassnet.tensor(1.0)]


def test_float32_with_float64_stays_an_error_naming_both():
    with pytest.raises(TypeError, match="float32 and float64"):
        glassnet.ones(2) + glassnet.ones(2, dtype=glassnet.float64)
