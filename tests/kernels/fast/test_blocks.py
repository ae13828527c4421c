"""Fixed blocks (kernels/fast/blocks.py): training gives the same bytes at any thread count and under
the busy-CPU fallback."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim
from glassnet.kernels.fast import blocks, threads, winograd


def _cuts(n, k):
    return threads.parts(n, k)


@pytest.mark.parametrize("n", [1, 2, 5, 13, 64])
def test_the_tree_gives_the_same_bits_however_the_blocks_are_shared(n):
    rng = np.random.default_rng(n)
    values = rng.standard_normal((n, 7)).astype(np.float32) * 10.0 ** rng.integers(-3, 4, (n, 1))

    def leaf(i):
        return [values[i].copy()]

    whole = blocks.tree_total(n, blocks.partial_sums(0, n, n, leaf))[0]
    for k in range(1, n + 2):
        nodes = {}
        for a, b in _cuts(n, k):
            nodes.update(blocks.partial_sums(a, b, n, leaf))
        assert blocks.tree_total(n, nodes)[0].tobytes() == whole.tobytes(), k
    assert np.allclose(whole, values.astype(np.float64).sum(axis=0), rtol=1e-5, atol=1e-3)


def test_a_worker_holds_the_largest_nodes_of_its_range():
    """Blocks 3..10 of 16: nodes [3, 4), [4, 8), [8, 10), found left to right."""
    seen = []
    nodes = blocks.partial_sums(3, 10, 16, lambda i: seen.append(i) or [np.ones(1, np.float32)])
    assert list(nodes) == [(3, 4), (4, 8), (8, 10)]
    assert [float(v[0][0]) for v in nodes.values()] == [1.0, 4.0, 2.0]
    assert sorted(seen) == list(range(3, 10))


def test_block_sizes_follow_the_shape_and_not_the_threads(at_threads):
    at_threads(1)
    one = (blocks.row_block(6400, 1747), blocks.sample_block(64, 100))
    at_threads(4)
    assert (blocks.row_block(6400, 1747), blocks.sample_block(64, 100)) == one == (256, 3)
    assert blocks.row_block(100352, 910) == 910  # at most one GEMM chunk
    assert blocks.row_block(100, 910) == 256  # at least MIN_ROWS
    assert blocks.sample_block(256, 784) == 4  # about TARGET_BLOCKS blocks


def _lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def _mixed():
    """Every kind of convolution and pooling a training step can share among threads."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, padding=1, padding_mode="reflect"), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),  # Winograd's forward and input gradient
        nn.Conv2d(64, 16, 3, stride=2, padding=1, groups=2), nn.ReLU(), nn.AvgPool2d(2),
        nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1), nn.Conv2d(8, 4, 1), nn.Flatten(), nn.Linear(4 * 8 * 8, 5))


def _train_steps(make_model, x, y, steps=2) -> bytes:
    """Bytes of the loss, every gradient and every parameter after `steps` SGD steps with momentum."""
    gn.manual_seed(0)
    model = make_model()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    out = b""
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(gn.tensor(x)), gn.tensor(y))
        loss.backward()
        opt.step()
        out += np.asarray(loss.item(), np.float32).tobytes()
        out += b"".join(np.asarray(p.grad).tobytes() for p in model.parameters())
    return out + b"".join(np.asarray(p.data).tobytes() for p in model.parameters())


@pytest.mark.parametrize("make_model, shape, classes", [(_lenet, (64, 1, 28, 28), 10), (_mixed, (16, 3, 32, 32), 5)],
                         ids=["lenet5", "mixed"])
def test_a_training_step_gives_the_same_bytes_at_1_2_3_4_threads_and_in_the_fallback(
        at_threads, split_sizes, monkeypatch, make_model, shape, classes):
    monkeypatch.setattr(winograd, "MIN_POSITIONS", 0)  # the mixed network's 64-channel layer takes Winograd
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.integers(0, classes, shape[0])
    at_threads(1)
    reference = _train_steps(make_model, x, y)
    assert split_sizes == []
    for n in (2, 3, 4):
        at_threads(n)
        split_sizes.clear()
        assert _train_steps(make_model, x, y) == reference, f"{n} threads"
        assert n in split_sizes  # the convolutions were shared among n threads
    at_threads(4)
    threads.executor().contended_until = float("inf")  # the busy-CPU fallback, forced
    split_sizes.clear()
    try:
        assert _train_steps(make_model, x, y) == reference, "fallback"
    finally:
        threads.executor().contended_until = 0.0
    assert split_sizes == []
