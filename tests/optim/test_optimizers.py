"""SGD, Adam and AdamW against torch.optim: same starting parameters and the same sequence of
gradients must give the same parameters after every step, for every option combination."""

import itertools

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn, optim

SHAPES = [(3, 4), (5,), (2, 3, 2, 2)]
STEPS = 6


def _twins(seed=0):
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    ours = [nn.Parameter(v) for v in values]
    theirs = [torch.nn.Parameter(torch.tensor(v)) for v in values]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
    return ours, theirs, grads


def _run(ours, theirs, grads, opt, topt, skip=None):
    """Apply the same gradients to both; parameter `skip` gets no gradient (grad None)."""
    for step_grads in grads:
        opt.zero_grad()
        topt.zero_grad()
        for i, (p, q, g) in enumerate(zip(ours, theirs, step_grads)):
            if i == skip:
                continue
            p.grad = g.copy()
            q.grad = torch.tensor(g)
        opt.step()
        topt.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-5, atol=1e-6)


SGD_OPTIONS = [dict(lr=lr, momentum=m, dampening=d, weight_decay=wd, nesterov=n, maximize=mx)
               for lr, m, d, wd, n, mx in itertools.product([0.1], [0.0, 0.9], [0.0, 0.3], [0.0, 0.01],
                                                            [False, True], [False, True])
               if not (n and (m == 0 or d != 0))]


@pytest.mark.parametrize("options", SGD_OPTIONS, ids=lambda o: "-".join(f"{k}{v}" for k, v in o.items()))
def test_sgd_matches_torch(options):
    ours, theirs, grads = _twins()
    _run(ours, theirs, grads, optim.SGD(ours, **options), torch.optim.SGD(theirs, **options))


ADAM_OPTIONS = [dict(lr=1e-2, betas=b, eps=e, weight_decay=wd, amsgrad=a, maximize=mx)
                for b, e, wd, a, mx in itertools.product([(0.9, 0.999), (0.5, 0.9)], [1e-8, 1e-3],
                                                         [0.0, 0.1], [False, True], [False, True])]


@pytest.mark.parametrize("cls", ["Adam", "AdamW"])
@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=lambda o: "-".join(f"{k}{v}" for k, v in o.items()))
def test_adam_matches_torch(cls, options):
    ours, theirs, grads = _twins(1)
    _run(ours, theirs, grads, getattr(optim, cls)(ours, **options), getattr(torch.optim, cls)(theirs, **options))


def test_defaults_match_torch():
    p = [nn.Parameter(np.zeros(2, np.float32))]
    q = [torch.nn.Parameter(torch.zeros(2))]
    for ours, theirs in [(optim.SGD(p), torch.optim.SGD(q)), (optim.Adam(p), torch.optim.Adam(q)),
                         (optim.AdamW(p), torch.optim.AdamW(q))]:
        for key, value in ours.defaults.items():
            assert theirs.defaults[key] == value, (type(ours).__name__, key)


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True)])
def test_parameters_without_grad_are_left_alone_and_get_no_state(make):
    ours, theirs, grads = _twins(2)
    before = ours[1].data.copy()
    opt = make(ours)
    for step_grads in grads:
        opt.zero_grad()
        ours[0].grad, ours[2].grad = step_grads[0], step_grads[2]
        opt.step()
    np.testing.assert_array_equal(ours[1].data, before)
    assert ours[1] not in opt.state and ours[0] in opt.state


def test_param_groups_take_their_own_options_and_match_torch():
    ours, theirs, grads = _twins(3)
    opt = optim.SGD([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.01, "nesterov": True}],
                    lr=0.1, momentum=0.9)
    topt = torch.optim.SGD([{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.01, "nesterov": True}],
                           lr=0.1, momentum=0.9)
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[0]["lr"] == 0.1
    _run(ours, theirs, grads, opt, topt)


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
                                  lambda ps: optim.Adam(ps, lr=0.05, amsgrad=True),
                                  lambda ps: optim.AdamW(ps, lr=0.05)])
def test_state_dict_resumes_exactly(make):
    """Stop after 3 steps, rebuild from state_dict copies, continue: bit-identical to no stop."""
    ours, _, grads = _twins(4)
    straight = [nn.Parameter(p.data) for p in ours]
    opt_straight = make(straight)
    for g in grads:
        for p, gi in zip(straight, g):
            p.grad = gi.copy()
        opt_straight.step()

    opt = make(ours)
    for g in grads[:3]:
        for p, gi in zip(ours, g):
            p.grad = gi.copy()
        opt.step()
    saved_params = [p.data.copy() for p in ours]
    saved = opt.state_dict()
    # the state_dict holds copies: stepping on must not change it
    for p, gi in zip(ours, grads[3]):
        p.grad = gi.copy()
    opt.step()
    resumed = [nn.Parameter(v) for v in saved_params]
    opt2 = make(resumed)
    opt2.load_state_dict(saved)
    for g in grads[3:]:
        for p, gi in zip(resumed, g):
            p.grad = gi.copy()
        opt2.step()
    for a, b in zip(resumed, straight):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_layout_matches_torch():
    ours, theirs, grads = _twins(5)
    opt, topt = optim.Adam(ours, lr=0.1), torch.optim.Adam(theirs, lr=0.1)
    _run(ours, theirs, grads[:2], opt, topt)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["param_groups"][0]["params"] == tsd["param_groups"][0]["params"]
    assert sorted(sd["state"]) == sorted(tsd["state"])
    assert set(sd["state"][0]) == set(tsd["state"][0])
    np.testing.assert_allclose(sd["state"][2]["exp_avg_sq"], tsd["state"][2]["exp_avg_sq"].numpy(), rtol=1e-5)


def test_load_state_dict_rejects_mismatched_layouts():
    ours, _, grads = _twins(6)
    opt = optim.SGD(ours, lr=0.1, momentum=0.9)
    for p, g in zip(ours, grads[0]):
        p.grad = g
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="2 parameter groups.*has 1"):
        optim.SGD(ours, lr=0.1).load_state_dict({"state": {}, "param_groups": sd["param_groups"] * 2})
    with pytest.raises(ValueError, match="parameter group 0 holds 3 parameters.*but 2"):
        optim.SGD(ours[:2], lr=0.1).load_state_dict(sd)
    other = [nn.Parameter(np.zeros((4, 4), np.float32)), ours[1], ours[2]]
    with pytest.raises(ValueError, match=r"size mismatch for optimizer state 'momentum_buffer' of parameter 0: "
                                         r"checkpoint \(3, 4\), model \(4, 4\)"):
        optim.SGD(other, lr=0.1, momentum=0.9).load_state_dict(sd)


@pytest.mark.parametrize("bad, message", [
    (lambda ps: optim.SGD(ps, lr=-1), "invalid lr: expected >= 0, got -1"),
    (lambda ps: optim.SGD(ps, momentum=0.0, nesterov=True), "Nesterov momentum requires momentum > 0"),
    (lambda ps: optim.Adam(ps, betas=(0.9, 1.0)), r"invalid betas: expected two values in \[0, 1\), got \(0.9, 1.0\)"),
    (lambda ps: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda ps: optim.SGD(ps[0], lr=0.1), "got a single Tensor"),
    (lambda ps: optim.SGD([ps[0], ps[0]], lr=0.1), "more than one parameter group"),
    (lambda ps: optim.SGD([ps[0] * 2], lr=0.1), "non-leaf"),
])
def test_bad_arguments_are_refused(bad, message):
    ps = [nn.Parameter(np.zeros(2, np.float32))]
    with pytest.raises((ValueError, TypeError), match=message):
        bad(ps)


def test_zero_grad_sets_none_or_zeros():
    p = nn.Parameter(np.ones(3, np.float32))
    opt = optim.SGD([p], lr=0.1)
    p.grad = np.ones(3, np.float32)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, 0)
    opt.zero_grad()
    assert p.grad is None


def test_float32_stays_float32():
    p = nn.Parameter(np.ones(3, np.float32))
    opt = optim.Adam([p], lr=0.1, weight_decay=0.1)
    p.grad = np.ones(3, np.float32)
    opt.step()
    assert p.dtype == np.float32 and opt.state[p]["exp_avg"].dtype == np.float32


@pytest.mark.parametrize("cls, expected", [("SGD", 1.0),  # 2 - 0.25 * 4
                                           ("Adam", 1.75)])  # 2 - 0.25 * m / sqrt(v), m / sqrt(v) = 1 at step 1
def test_closure_is_evaluated_with_gradients(cls, expected):
    p = nn.Parameter(np.array([2.0], np.float32))
    opt = getattr(optim, cls)([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with gn.no_grad():
        loss = opt.step(closure)
    assert float(loss.item()) == 4.0
    np.testing.assert_allclose(p.data, [expected])


def _stepped_state(make):
    ours, _, grads = _twins(7)
    opt = make(ours)
    for p, g in zip(ours, grads[0]):
        p.grad = g
    opt.step()
    return ours, opt.state_dict()


@pytest.mark.parametrize("make, corrupt, message", [
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
     lambda sd: sd["param_groups"][0].update(lr="fast"), r"param_groups\[0\]\['lr'\]: expected a finite number >= 0, found 'fast'"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
     lambda sd: sd["param_groups"][0].update(lr=float("nan")), r"\['lr'\]: expected a finite number"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
     lambda sd: sd["param_groups"][0].update(nesterov=1), r"\['nesterov'\]: expected true or false, found 1"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
     lambda sd: sd["param_groups"][0].update(step=print), r"unknown \['step'\]"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
     lambda sd: sd["param_groups"][0].pop("momentum"), r"missing \['momentum'\]"),
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
     lambda sd: sd["state"].pop(1), None),  # a parameter without state: allowed (it had no gradient)
    (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
     lambda sd: sd["state"][1].pop("momentum_buffer"), r"parameter 1: expected exactly \['momentum_buffer'\], found \[\]"),
    (lambda ps: optim.Adam(ps, lr=0.1),
     lambda sd: sd["state"][0].update(step="3"), r"'step' of parameter 0: expected a positive int, found '3'"),
    (lambda ps: optim.Adam(ps, lr=0.1),
     lambda sd: sd["state"][0].update(exp_avg=np.full((3, 4), np.nan, np.float32)), "NaN or infinite"),
    (lambda ps: optim.Adam(ps, lr=0.1),
     lambda sd: sd["param_groups"][0].update(betas=[0.9]), r"\['betas'\]: expected 2 finite numbers"),
    (lambda ps: optim.Adam(ps, lr=0.1),
     lambda sd: sd["state"].update({"x": {}}), "key 'x' is not a parameter index"),
])
def test_load_state_dict_checks_every_field_and_changes_nothing_on_error(make, corrupt, message):
    ours, sd = _stepped_state(make)
    corrupt(sd)
    fresh = make(ours)
    before = fresh.state_dict()
    if message is None:
        fresh.load_state_dict(sd)
        return
    with pytest.raises(ValueError, match=message):
        fresh.load_state_dict(sd)
    after = fresh.state_dict()
    assert after["param_groups"] == before["param_groups"] and after["state"].keys() == before["state"].keys()
