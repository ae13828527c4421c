"""The published LeNet-5 (glassnet.models.lenet1998): the paper's layer sizes and parameter
counts, its squashing function and initialisation, and a model that learns."""

import numpy as np
import pytest

import glassnet as gn
import glassnet.functional as F
from glassnet.models.lenet1998 import ScaledTanh, lenet5_1998
from glassnet.nn.convmap import ConvMap2d
from glassnet.optim import SGD, Adam


def test_layers_and_parameter_counts_are_the_papers():
    model = lenet5_1998()
    counts = [sum(p.data.size for p in m.parameters()) for m in model if list(m.parameters())]
    # C1, S2, C3, S4, C5, F6 as in LeCun et al. 1998 section II.B; then the linear output layer
    assert counts == [156, 12, 1516, 32, 48120, 10164, 850]
    x = gn.tensor(np.zeros((2, 1, 28, 28), np.float32))
    shapes = []
    for m in model:
        x = m(x)
        shapes.append(x.shape[1:])
    assert shapes[0] == (6, 28, 28) and shapes[2] == (6, 14, 14) and shapes[4] == (16, 10, 10)
    assert shapes[6] == (16, 5, 5) and shapes[8] == (120, 1, 1) and shapes[-1] == (10,)
    assert lenet5_1998(input_size=32)(gn.tensor(np.zeros((1, 1, 32, 32), np.float32))).shape == (1, 10)


def test_scaled_tanh_and_paper_init():
    f = ScaledTanh()
    np.testing.assert_allclose(f(gn.tensor([1.0, -1.0, 0.0])).data, [1.0, -1.0, 0.0], atol=1e-4)
    gn.manual_seed(0)
    model = lenet5_1998(paper_init=True)
    assert np.abs(model[0].weight.data).max() <= 2.4 / 25  # C1: fan-in 25
    assert np.abs(model[2].weight.data).max() <= 2.4 / 4   # S2: fan-in 4
    c3 = model[4]
    assert isinstance(c3, ConvMap2d) and np.abs(c3.weight.data[:3]).max() <= 2.4 / 75  # map 0: 3 inputs
    assert np.abs(model[11].weight.data).max() <= 2.4 / 120  # F6
    with pytest.raises(ValueError, match="28x28 or 32x32 inputs, got input_size=30"):
        lenet5_1998(input_size=30)


@pytest.mark.parametrize("paper_init", [False, True])
def test_it_learns_a_small_batch(paper_init):
    gn.manual_seed(1)
    model = lenet5_1998(num_classes=3, paper_init=paper_init)
    rng = np.random.default_rng(1)
    x = gn.tensor(rng.standard_normal((12, 1, 28, 28)).astype(np.float32))
    y = gn.tensor(np.arange(12) % 3)
    # the paper's init needs per-parameter step sizes (the paper's diagonal Levenberg-Marquardt)
    opt = Adam(model.parameters(), lr=3e-3) if paper_init else SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(15):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
