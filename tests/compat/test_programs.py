"""PyTorch programs in the style of the tutorials and the d2l.ai chapters (tests/compat/programs/)
run unchanged on glassnet, with only their imports changed, and give PyTorch's numbers.

Each program's text is executed twice: as written (with PyTorch), and with its import lines
rewritten to `import glassnet as torch` etc. Both runs start from the same weights (PyTorch's
initial state_dict, copied into the glassnet model) and see the same batches. Checked: the first
batch's outputs, loss and every parameter's gradient (float32 tolerance), then a few hundred
training steps whose losses must track PyTorch's (to 2e-3).

The programs share a small protocol so the test can reach inside: build() -> (model or list of
parameter tensors, optimizer), make_loader(images, labels), forward_loss(model, X, y) ->
(output, loss), train(loader, model, optimizer) -> per-step losses.
"""

import pathlib
import re

import numpy as np
import pytest
import torch

import glassnet

PROGRAMS = pathlib.Path(__file__).parent / "programs"
IMPORT = re.compile(r"^(import|from)\s+torch\b")


def glassnet_text(text: str) -> str:
    """The program with its torch imports pointed at glassnet, and nothing else changed."""
    out = []
    for line in text.splitlines():
        if IMPORT.match(line):
            line = re.sub(r"^import torch$", "import glassnet as torch", line)
            line = re.sub(r"\btorch\b(?=[.\s])", "glassnet", line) if not line.endswith(" as torch") else line
        out.append(line)
    return "\n".join(out) + "\n"


def run(text: str) -> dict:
    namespace = {"__name__": "program"}
    exec(compile(text, "program", "exec"), namespace)
    return namespace


def test_only_import_lines_change():
    text = (PROGRAMS / "cifar_classifier.py").read_text()
    rewritten = glassnet_text(text)
    changed = [(a, b) for a, b in zip(text.splitlines(), rewritten.splitlines()) if a != b]
    assert changed == [("import torch", "import glassnet as torch"),
                       ("import torch.nn as nn", "import glassnet.nn as nn"),
                       ("import torch.nn.functional as F", "import glassnet.nn.functional as F"),
                       ("import torch.optim as optim", "import glassnet.optim as optim")]


def data(shape, n, seed):
    """Tiny stand-ins for the datasets: a noisy copy of one of ten fixed patterns, so training
    has something to learn."""
    rng = np.random.default_rng(seed)
    patterns = rng.standard_normal((10,) + shape)
    labels = rng.integers(0, 10, n)
    images = patterns[labels] + rng.standard_normal((n,) + shape)
    return images.astype(np.float32), labels.astype(np.int64)


def parameters(model):
    return list(model.parameters()) if hasattr(model, "parameters") else list(model)


def copy_weights(t_model, g_model):
    if hasattr(t_model, "state_dict"):
        g_model.load_state_dict({k: v.detach().numpy() for k, v in t_model.state_dict().items()})
    else:
        with glassnet.no_grad():
            for t, g in zip(t_model, g_model):
                g.data[...] = t.detach().numpy()


def assert_close(g, t, what, rtol=2e-4, atol=2e-5):
    g = g.detach().numpy() if hasattr(g, "detach") else np.asarray(g)
    t = t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    assert g.shape == t.shape, what
    np.testing.assert_allclose(g, t, rtol=rtol, atol=atol, err_msg=what)


CASES = [  # program, image shape, samples (steps = samples / batch * epochs), loss tolerance
    ("quickstart", (1, 28, 28), 3200, 2e-3),
    ("cifar_classifier", (3, 32, 32), 1200, 2e-3),
    ("mnist_example", (1, 28, 28), 1200, 2e-3),
    ("d2l_lenet", (1, 28, 28), 1600, 2e-3),
    ("d2l_resnet", (1, 24, 24), 1200, 2e-3),
    ("d2l_softmax_scratch", (1, 28, 28), 3200, 2e-3),
]


@pytest.mark.parametrize("name, shape, n, loss_tol", CASES, ids=[c[0] for c in CASES])
def test_program_matches_pytorch(name, shape, n, loss_tol):
    text = (PROGRAMS / f"{name}.py").read_text()
    t_ns, g_ns = run(text), run(glassnet_text(text))
    assert g_ns["torch"] is glassnet and t_ns["torch"] is torch
    torch.manual_seed(0)
    glassnet.manual_seed(0)
    t_model, t_opt = t_ns["build"]()
    g_model, g_opt = g_ns["build"]()
    copy_weights(t_model, g_model)

    images, labels = data(shape, n, seed=1)
    t_loader, g_loader = t_ns["make_loader"](images, labels), g_ns["make_loader"](images, labels)

    # the first batch: outputs, loss and every gradient
    (t_x, t_y), (g_x, g_y) = next(iter(t_loader)), next(iter(g_loader))
    assert_close(g_x, t_x, "batch")
    t_out, t_loss = t_ns["forward_loss"](t_model, t_x, t_y)
    g_out, g_loss = g_ns["forward_loss"](g_model, g_x, g_y)
    assert_close(g_out, t_out, "output")
    assert_close(g_loss, t_loss, "loss")
    t_loss.backward()
    g_loss.backward()
    t_params, g_params = parameters(t_model), parameters(g_model)
    assert len(t_params) == len(g_params)
    for i, (t, g) in enumerate(zip(t_params, g_params)):
        assert_close(g.grad, t.grad, f"gradient of parameter {i} {tuple(t.shape)}")
        t.grad, g.grad = None, None

    # training: the loss curves must track
    t_losses = t_ns["train"](t_loader, t_model, t_opt)
    g_losses = g_ns["train"](g_loader, g_model, g_opt)
    assert len(t_losses) == len(g_losses) >= 200
    np.testing.assert_allclose(g_losses, t_losses, rtol=loss_tol, atol=loss_tol)
    assert np.mean(t_losses[-20:]) < 0.97 * np.mean(t_losses[:20])  # the steps did train
    # The weights after training are not compared element by element: float32 rounding (and
    # glassnet's threads, which split sums differently from run to run) leaves differences of
    # 1e-7 that are amplified whenever a max-pool window's two largest values are that close
    # and the frameworks pick different ones; from then on the runs are two trajectories that
    # agree in loss (checked above) but not to 1e-5 in every weight.


def test_evaluation_helpers_agree():
    """The tutorials' test()/accuracy bookkeeping (argmax, eq, view_as, type(torch.float), .item())."""
    images, labels = data((1, 28, 28), 64, seed=2)
    for name in ("quickstart", "mnist_example"):
        text = (PROGRAMS / f"{name}.py").read_text()
        t_ns, g_ns = run(text), run(glassnet_text(text))
        t_model, _ = t_ns["build"]()
        g_model, _ = g_ns["build"]()
        copy_weights(t_model, g_model)
        t_loader, g_loader = t_ns["make_loader"](images, labels), g_ns["make_loader"](images, labels)
        if name == "quickstart":
            t_res, g_res = t_ns["test"](t_loader, t_model), g_ns["test"](g_loader, g_model)
        else:
            t_res, g_res = t_ns["test"](t_model, t_loader), g_ns["test"](g_model, g_loader)
        np.testing.assert_allclose(g_res, t_res, rtol=1e-5)
