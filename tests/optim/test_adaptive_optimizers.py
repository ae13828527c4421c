"""Adadelta, Adagrad, RMSprop, Adamax, NAdam, RAdam and Rprop against torch.optim: the same starting parameters and the same
gradients give the same parameters after every step, for every option; state_dict layout and
round trip; defaults; bad options."""

import itertools

import numpy as np
import pytest
import torch

import glassnet
from glassnet import nn, optim

SHAPES = [(3, 4), (5,), (2, 3, 2)]
STEPS = 6


def _twins(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    ours = [nn.Parameter(glassnet.tensor(v, dtype=dtype)) for v in values]
    theirs = [torch.nn.Parameter(torch.tensor(v)) for v in values]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    return ours, theirs, grads


def _steps(ours, theirs, grads, opt, topt, skip=None, rtol=1e-5, atol=1e-6):
    for step_grads in grads:
        opt.zero_grad(), topt.zero_grad()
        for i, (p, q, g) in enumerate(zip(ours, theirs, step_grads)):
            if i != skip:
                p.grad, q.grad = g.copy(), torch.tensor(g)
        opt.step(), topt.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=rtol, atol=atol)


def _options(**choices):
    keys = list(choices)
    return [dict(zip(keys, values)) for values in itertools.product(*choices.values())]


OPTIONS = {
    "Adadelta": _options(lr=[1.0, 0.3], rho=[0.9, 0.5], eps=[1e-6, 1e-2], weight_decay=[0, 0.1], maximize=[False, True]),
    "Adagrad": _options(lr=[0.1], lr_decay=[0, 0.05], weight_decay=[0, 0.1], initial_accumulator_value=[0, 0.5],
                        eps=[1e-10, 1e-3], maximize=[False, True]),
    "RMSprop": _options(lr=[0.01], alpha=[0.99, 0.5], eps=[1e-8, 1e-2], weight_decay=[0, 0.1], momentum=[0, 0.9],
                        centered=[False, True], maximize=[False, True]),
    "Adamax": _options(lr=[0.01], betas=[(0.9, 0.999), (0.5, 0.8)], eps=[1e-8, 1e-2], weight_decay=[0, 0.1],
                       maximize=[False, True]),
    "NAdam": _options(lr=[0.01], betas=[(0.9, 0.999), (0.5, 0.8)], weight_decay=[0, 0.1], momentum_decay=[4e-3, 0.1],
                      decoupled_weight_decay=[False, True], maximize=[False, True]),
    "RAdam": _options(lr=[0.01], betas=[(0.9, 0.999), (0.5, 0.8)], eps=[1e-8, 1e-2], weight_decay=[0, 0.1],
                      decoupled_weight_decay=[False, True], maximize=[False, True]),
    "Rprop": _options(lr=[0.01, 0.5], etas=[(0.5, 1.2), (0.3, 1.5)], step_sizes=[(1e-6, 50), (0.05, 0.3)],
                      maximize=[False, True]),
}
CASES = [(name, o) for name, options in OPTIONS.items() for o in options]


@pytest.mark.parametrize("name, options", CASES, ids=[f"{n}-" + "-".join(f"{k}{v}" for k, v in o.items()) for n, o in CASES])
def test_trajectory_matches_torch(name, options):
    ours, theirs, grads = _twins()
    _steps(ours, theirs, grads, getattr(optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options))


@pytest.mark.parametrize("name, options", [("Adadelta", dict(weight_decay=0.1)), ("Adagrad", dict(lr_decay=0.1)),
                                           ("RMSprop", dict(momentum=0.5, centered=True)), ("Adamax", {}),
                                           ("RAdam", dict(betas=(0.5, 0.8)))])
def test_float64_parameters_match_torch_closely(name, options):
    ours, theirs, grads = _twins(1, np.float64)
    opt, topt = getattr(optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)
    _steps(ours, theirs, grads, opt, topt, rtol=1e-12, atol=1e-14)
    assert all(p.dtype == np.float64 for p in ours)
    assert all(v.dtype == np.float64 for s in opt.state.values() for v in s.values() if isinstance(v, np.ndarray))


@pytest.mark.parametrize("name", OPTIONS)
def test_parameters_without_grad_are_left_alone(name):
    ours, theirs, grads = _twins(2)
    before = ours[1].data.copy()
    _steps(ours, theirs, grads, getattr(optim, name)(ours), getattr(torch.optim, name)(theirs), skip=1)
    np.testing.assert_array_equal(ours[1].data, before)


@pytest.mark.parametrize("name", OPTIONS)
def test_defaults_and_group_keys_match_torch(name):
    ours = getattr(optim, name)([nn.Parameter(np.zeros(2, np.float32))])
    theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.zeros(2))])
    assert ours.defaults == theirs.defaults
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]


@pytest.mark.parametrize("name, options", [("Adadelta", {}), ("Adagrad", dict(initial_accumulator_value=0.1)),
                                           ("RMSprop", dict(momentum=0.9, centered=True)), ("Adamax", {}), ("NAdam", {}),
                                           ("RAdam", {}), ("Rprop", {})])
def test_state_dict_keys_like_torch_and_round_trip(name, options):
    """State names as torch's; saving after 3 steps and loading into a fresh optimiser continues
    exactly as the uninterrupted run."""
    ours, theirs, grads = _twins(3)
    opt, topt = getattr(optim, name)(ours, **options), getattr(torch.optim, name)(theirs, **options)
    _steps(ours, theirs, grads[:3], opt, topt)
    saved = opt.state_dict()
    assert {k: sorted(v) for k, v in saved["state"].items()} == \
        {k: sorted(v) for k, v in topt.state_dict()["state"].items()}
    for i, state in saved["state"].items():
        for key, value in state.items():
            expected = topt.state_dict()["state"][i][key]
            np.testing.assert_allclose(value, expected.numpy(), rtol=1e-5, atol=1e-6, err_msg=key)
    copies = [nn.Parameter(p.data.copy()) for p in ours]
    resumed = getattr(optim, name)(copies, **options)
    resumed.load_state_dict(saved)
    _steps(ours, theirs, grads[3:], opt, topt)
    for step_grads in grads[3:]:
        resumed.zero_grad()
        for p, g in zip(copies, step_grads):
            p.grad = g.copy()
        resumed.step()
    for p, q in zip(copies, ours):
        np.testing.assert_array_equal(p.data, q.data)


def test_adagrad_has_state_before_the_first_step_as_torch():
    p, q = nn.Parameter(np.ones(3, np.float32)), torch.nn.Parameter(torch.ones(3))
    ours, theirs = optim.Adagrad([p], initial_accumulator_value=0.25), torch.optim.Adagrad([q], initial_accumulator_value=0.25)
    np.testing.assert_array_equal(ours.state_dict()["state"][0]["sum"], theirs.state_dict()["state"][0]["sum"].numpy())


def test_adagrad_with_a_lazy_layer_made_before_the_first_forward():
    layer = nn.LazyLinear(2)
    opt = optim.Adagrad(layer.parameters(), lr=0.5)
    loss = layer(glassnet.ones(3, 4)).sum()
    loss.backward()
    before = layer.weight.data.copy()
    opt.step()
    assert opt.state[layer.weight]["sum"].shape == (2, 4)
    np.testing.assert_allclose(layer.weight.data, before - 0.5 * np.sign(layer.weight.grad), rtol=1e-5)


@pytest.mark.parametrize("make, error, message", [
    (lambda ps: optim.Adadelta(ps, lr=-1), ValueError, "invalid learning_rate: expected >= 0, got -1"),
    (lambda ps: optim.Adadelta(ps, rho=1.5), ValueError, r"invalid rho: expected a value in \[0, 1\], got 1.5"),
    (lambda ps: optim.Adadelta(ps, eps=-1e-6), ValueError, "invalid epsilon"),
    (lambda ps: optim.Adagrad(ps, lr_decay=-0.1), ValueError, "invalid lr_decay: expected >= 0, got -0.1"),
    (lambda ps: optim.Adagrad(ps, initial_accumulator_value=-1), ValueError, "invalid initial_accumulator_value"),
    (lambda ps: optim.Adagrad(ps, weight_decay=float("nan")), ValueError, "invalid weight_decay"),
    (lambda ps: optim.Adagrad(ps, fused=True, foreach=True), RuntimeError, "fused=True and foreach=True"),
    (lambda ps: optim.RMSprop(ps, momentum=-0.9), ValueError, "invalid momentum"),
    (lambda ps: optim.RMSprop(ps, alpha=-0.1), ValueError, "invalid alpha"),
    (lambda ps: optim.RMSprop(ps, capturable=True), RuntimeError, "capturable=True.* CPU only"),
    (lambda ps: optim.Adadelta(ps, differentiable=True), NotImplementedError, "differentiable=True"),
    (lambda ps: optim.Adamax(ps, betas=(0.9, 1.0)), ValueError, r"invalid betas: expected two values in \[0, 1\)"),
    (lambda ps: optim.NAdam(ps, momentum_decay=-1), ValueError, "invalid momentum_decay"),
    (lambda ps: optim.RAdam(ps, lr=-0.1), ValueError, "invalid learning_rate"),
    (lambda ps: optim.Rprop(ps, etas=(1.2, 0.5)), ValueError, r"invalid etas: .* got \(1.2, 0.5\)"),
])
def test_bad_options(make, error, message):
    with pytest.raises(error, match=message):
        make([nn.Parameter(np.zeros(2, np.float32))])
