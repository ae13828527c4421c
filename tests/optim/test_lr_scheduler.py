"""StepLR and CosineAnnealingLR against torch's schedules, and their state_dict."""

import numpy as np
import pytest
import torch

from glassnet import nn, optim
from glassnet.optim import lr_scheduler


def _pair(lr=0.1):
    p = nn.Parameter(np.zeros(2, np.float32))
    q = torch.nn.Parameter(torch.zeros(2))
    return optim.SGD([p], lr=lr, momentum=0.9), torch.optim.SGD([q], lr=lr, momentum=0.9)


CASES = [("StepLR", dict(step_size=3, gamma=0.5)), ("StepLR", dict(step_size=1)),
         ("CosineAnnealingLR", dict(T_max=7)), ("CosineAnnealingLR", dict(T_max=5, eta_min=0.01))]


@pytest.mark.parametrize("name, kwargs", CASES)
def test_schedule_matches_torch(name, kwargs):
    opt, topt = _pair()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for epoch in range(25):  # past T_max too: the cosine rises again
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12), epoch
        assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)
        opt.step()
        topt.step()
        sched.step()
        tsched.step()


@pytest.mark.parametrize("name, kwargs", CASES)
def test_state_dict_resumes_the_schedule(name, kwargs):
    opt, _ = _pair()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    for _ in range(4):
        sched.step()
    saved_opt, saved = opt.state_dict(), sched.state_dict()
    expected = []
    for _ in range(6):
        sched.step()
        expected.append(sched.get_last_lr()[0])
    opt2, _ = _pair()
    opt2.load_state_dict(saved_opt)
    sched2 = getattr(lr_scheduler, name)(opt2, **kwargs)
    sched2.load_state_dict(saved)
    got = []
    for _ in range(6):
        sched2.step()
        got.append(sched2.get_last_lr()[0])
    assert got == expected
    assert "optimizer" not in saved


def test_bad_arguments():
    opt, _ = _pair()
    with pytest.raises(ValueError, match="step_size must be a positive int, got 0"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max must be a positive int, got -2"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=-2)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)


@pytest.mark.parametrize("name, kwargs", CASES)
@pytest.mark.parametrize("field, value, message", [
    ("optimizer", {}, "expected the fields"),
    ("get_lr", "x", "expected the fields"),
    ("base_lrs", [float("nan")], r"'base_lrs': expected a list of 1 finite rates >= 0, found \[nan\]"),
    ("base_lrs", "abc", "'base_lrs': expected a list of 1 finite rates"),
    ("last_epoch", "3", "'last_epoch': expected an int >= 0, found '3'"),
    ("last_epoch", -3, "'last_epoch': expected an int >= 0, found -3"),
])
def test_load_state_dict_refuses_unknown_and_bad_fields(name, kwargs, field, value, message):
    opt, _ = _pair()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    saved = {**sched.state_dict(), field: value}
    before = sched.state_dict()
    with pytest.raises(ValueError, match=message):
        sched.load_state_dict(saved)
    assert sched.state_dict() == before and sched.optimizer is opt
