"""A two-layer CNN trained in glassnet and in PyTorch from the same initial weights on the same
batches follows the same loss trajectory, step by step, within float32 tolerance: a few hundred
steps of SGD with momentum (and weight decay), and a shorter Adam run."""

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn, optim

SIZE, CLASSES, BATCH = 12, 3, 16


def _ours():
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(8 * 3 * 3, CLASSES))  # 12 -> 10 -> 5 -> 3


def _theirs():
    T = torch.nn
    return T.Sequential(T.Conv2d(1, 4, 3), T.ReLU(), T.MaxPool2d(2), T.Conv2d(4, 8, 3), T.ReLU(),
                        T.Flatten(), T.Linear(8 * 3 * 3, CLASSES))


def _batches(steps, seed=0):
    """Noisy images whose class is where a bright 4x4 patch sits: left, middle or right."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        y = rng.integers(0, CLASSES, BATCH)
        x = rng.normal(0, 1.0, (BATCH, 1, SIZE, SIZE)).astype(np.float32)
        rows = rng.integers(0, SIZE - 4, BATCH)
        for i in range(BATCH):  # test data generation, not a hot path
            col = 4 * y[i]
            x[i, 0, rows[i]:rows[i] + 4, col:col + 4] += 1.0
        yield x, y.astype(np.int64)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors: torch's thread pool only waits on the other workers here (100x slower on a
    busy 2-core machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _train(make_opt, make_torch_opt, steps):
    gn.manual_seed(0)
    ours, theirs = _ours(), _theirs()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    opt, topt = make_opt(ours.parameters()), make_torch_opt(theirs.parameters())
    loss_fn, tloss_fn = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    losses, tlosses = [], []
    for x, y in _batches(steps):
        opt.zero_grad()
        loss = loss_fn(ours(gn.tensor(x)), gn.tensor(y))
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = tloss_fn(theirs(torch.tensor(x)), torch.tensor(y))
        tloss.backward()
        topt.step()
        losses.append(loss.item())
        tlosses.append(tloss.item())
    return np.array(losses), np.array(tlosses), ours, theirs


@pytest.mark.parametrize("name, make, make_torch, steps", [
    ("sgd-momentum", lambda p: optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-4),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-4), 300),
    ("adam", lambda p: optim.Adam(p, lr=3e-3), lambda p: torch.optim.Adam(p, lr=3e-3), 100),
])
def test_loss_trajectory_matches_pytorch(name, make, make_torch, steps):
    losses, tlosses, ours, theirs = _train(make, make_torch, steps)
    # it learned something (a flat trajectory would match trivially)
    assert losses[-20:].mean() < 0.5 * losses[:5].mean()
    np.testing.assert_allclose(losses, tlosses, rtol=2e-4, atol=2e-5, err_msg=f"{name} loss trajectories differ")
    for (k, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-3, atol=1e-4, err_msg=f"{name}: final {k}")
