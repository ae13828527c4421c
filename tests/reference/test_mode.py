"""Reference mode: `glassnet.reference_mode()` (or GLASSNET_REFERENCE=1) runs every operation of
a model on glassnet/reference, and training there tracks training on the fast kernels."""

import os
import subprocess
import sys

import numpy as np
import pytest

import glassnet
from glassnet import functional as F
from glassnet import nn, optim
from glassnet.data.shapes import make_shapes
from glassnet.dispatch import is_reference_mode, kernels
from glassnet.models import get_model
from glassnet.reference import adapters, conv as reference_conv


def test_the_mode_swaps_the_kernels_and_restores_them():
    assert kernels("conv").conv_forward is not adapters.conv_forward
    with glassnet.reference_mode():
        assert is_reference_mode()
        assert kernels("conv").conv_forward is adapters.conv_forward
        assert kernels("pooling").max_pool_forward is adapters.ADAPTERS["pooling"]["max_pool_forward"]
        with glassnet.reference_mode(False):
            assert kernels("conv").conv_forward is not adapters.conv_forward
    assert not is_reference_mode()


def test_forward_and_backward_run_on_the_reference_functions(monkeypatch):
    """A breakpoint in glassnet/reference/conv.py is reached by a model's forward and backward,
    also when backward() is called after the with-block (the graph remembers the mode)."""
    calls = []
    for name in ("conv_forward", "conv_backward"):
        original = getattr(reference_conv, name)
        monkeypatch.setattr(reference_conv, name, lambda *a, _f=original, _n=name, **k: calls.append(_n) or _f(*a, **k))
    x = glassnet.tensor(np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype(np.float32))
    model = get_model("lenet5")
    model(x).sum().backward()
    assert calls == []
    with glassnet.reference_mode():
        loss = model(x).sum()
    loss.backward()
    assert calls.count("conv_forward") == 2 and calls.count("conv_backward") == 2


def test_environment_variable_turns_the_mode_on():
    env = dict(os.environ, GLASSNET_REFERENCE="1")
    out = subprocess.run([sys.executable, "-c", "import glassnet.dispatch as d; print(d.is_reference_mode())"],
                         env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def p4_cnn():
    return nn.Sequential(nn.P4LiftConv2d(1, 4, 3, padding=1), nn.ReLU(), nn.P4Conv2d(4, 4, 3, padding=1),
                         nn.ReLU(), nn.P4Pool(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))


def _losses(build, reference: bool, steps: int, x, y, batch: int):
    glassnet.manual_seed(0)
    model = build()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    losses = []
    with glassnet.reference_mode(reference):
        for step in range(steps):
            i = slice((step * batch) % len(x), (step * batch) % len(x) + batch)
            loss = F.cross_entropy(model(glassnet.tensor(x[i])), glassnet.tensor(y[i]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return np.array(losses)


@pytest.mark.parametrize("name, build, steps", [
    ("lenet5", lambda: get_model("lenet5", num_classes=5), 100),
    ("lenet5_1998", lambda: get_model("lenet5_1998", num_classes=5), 100),  # subsampling and the C3 table
    ("p4", p4_cnn, 100)])
def test_training_in_reference_mode_tracks_the_fast_kernels(name, build, steps):
    x, y = make_shapes(512, size=28, seed=1)
    if name == "p4":
        x = x[:, :, ::2, ::2].copy()  # 14 x 14: the p4 layers' work grows with the four rotations
    fast = _losses(build, False, steps, x, y, 16)
    ref = _losses(build, True, steps, x, y, 16)
    assert fast[-10:].mean() < fast[:10].mean()  # it learns at all
    # the two kernels sum in different orders (float32 rounding, ~1e-7 relative per operation);
    # at this learning rate that stays at float32 precision for the hundred steps
    np.testing.assert_allclose(ref, fast, rtol=1e-5, atol=1e-6)


def test_glassnet_train_reference_runs_on_the_reference_kernels(tmp_path):
    """`glassnet train --reference` trains, and the weights differ from a fast run's only by
    float32 rounding (the same seed, data and steps)."""
    from glassnet.serialization import load
    runs = {}
    for flag in ([], ["--reference"]):
        out = tmp_path / ("reference" if flag else "fast")
        cmd = [sys.executable, "-m", "glassnet", "train", "--model", "lenet5", "--dataset", "shapes", "--limit", "128",
               "--epochs", "1", "--batch-size", "32", "--lr", "0.01", "--scheduler", "none", "--no-progress",
               "--out", str(out)] + flag
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300)
        runs[bool(flag)] = load(out / "model.safetensors")
    assert any(not np.array_equal(v, runs[True][k]) for k, v in runs[False].items())  # other kernels ran
    for name, value in runs[False].items():
        np.testing.assert_allclose(runs[True][name], value, rtol=1e-4, atol=1e-5, err_msg=name)
