"""Output sizes with the formula written out, and per-layer counts, against PyTorch."""

import numpy as np
import pytest
import torch

from glassnet.explain import count, output_size
from glassnet.explain.layers import avg_pool, conv, flatten, linear, max_pool, pointwise


def test_output_size_formula_text():
    # seed 004: 5x5 input, 3x3 kernel, padding 1, stride 2 -> 3
    result = output_size(5, 3, stride=2, padding=1)
    assert result.size == (3,)
    assert int(result) == 3
    assert str(result) == ("floor((n + 2p - d(k-1) - 1)/s) + 1 = floor((5 + 2*1 - 1*(3-1) - 1)/2) + 1 "
                           "= floor(4/2) + 1 = 3")


@pytest.mark.parametrize("n, k, s, p, expected", [
    (5, 3, 1, 0, 3),    # seed 002: valid
    (5, 3, 1, 1, 5),    # seed 002: same
    (5, 3, 2, 0, 2),    # seed 002: stride 2
    (32, 3, 1, 0, 30),  # seed 002: 32x32x3 -> 30x30
    (6, 2, 2, 0, 3),    # seed 000: 6x6 image, kernel = stride = 2 -> 9 outputs per channel
    (6, 3, 3, 0, 2),    # seed 000: kernel = stride = 3 -> 4 outputs per channel
    (9, 3, 2, 0, 4),    # seed 000's stride diagram
    (16, 4, 3, 0, 5),
])
def test_lecture_output_sizes(n, k, s, p, expected):
    assert output_size(n, k, stride=s, padding=p) == expected


def test_output_size_asymmetric_same_and_ceil():
    text = str(output_size(6, 3, stride=2, padding="same"))
    assert "floor((6 + 0 + 1 - 1*(3-1) - 1)/2) + 1 = floor(4/2) + 1 = 3" in text
    assert output_size((5, 6), 3, padding="full").size == (7, 8)
    assert output_size(6, 3, stride=2, ceil_mode=True) == 3
    # the last window would start in the padding: PyTorch drops it
    res = output_size(5, 2, stride=2, padding=1, ceil_mode=True)
    assert res.size == (torch.nn.MaxPool1d(2, 2, 1, ceil_mode=True)(torch.zeros(1, 1, 5)).shape[-1],)
    assert "empty" in str(output_size(2, 5))


@pytest.mark.parametrize("n, k, s, p, d", [(7, 3, 2, 1, 1), (10, 3, 3, 2, 2), (8, 1, 1, 0, 1), (11, 4, 2, 3, 3)])
def test_output_size_matches_torch(n, k, s, p, d):
    y = torch.nn.functional.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d)
    assert output_size(n, k, s, p, d).size == (y.shape[-1],)


def _lenet_layers():
    return [conv(1, 6, 5, padding=2), pointwise("ReLU"), max_pool(2), conv(6, 16, 5), pointwise("ReLU"),
            max_pool(2), flatten(), linear(400, 120), pointwise("ReLU"), linear(120, 10)]


def test_count_lenet_against_torch():
    layers = _lenet_layers()
    c = count(layers, (1, 28, 28))
    reference = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Conv2d(6, 16, 5),
        torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(400, 120), torch.nn.ReLU(),
        torch.nn.Linear(120, 10))
    assert c.parameters == sum(p.numel() for p in reference.parameters())
    x = torch.zeros(1, 1, 28, 28)
    for row, module in zip(c.layers, reference):
        x = module(x)
        assert row.output_shape == tuple(x.shape[1:])
        assert row.parameters == sum(p.numel() for p in module.parameters())
    # multiply-adds of the convolutions: output units * C_in * k * k
    assert c[0].multiply_adds == 6 * 28 * 28 * 1 * 25
    assert c[3].multiply_adds == 16 * 10 * 10 * 6 * 25
    assert c[7].multiply_adds == 400 * 120
    # a dense layer between the same units, with bias
    assert c[0].dense_parameters == (28 * 28) * (6 * 28 * 28) + 6 * 28 * 28
    table = str(c)
    assert table.splitlines()[-1].split()[:1] == ["total"]
    assert f"{c.parameters:,}" in table.splitlines()[-1]


def test_connections_exclude_padding_by_brute_force():
    # padding 2 on 28 with k=5: count (output, tap) pairs landing inside the input directly
    c = count(conv(1, 1, 5, padding=2, bias=False), (1, 28, 28))
    pos = np.arange(28)[:, None] - 2 + np.arange(5)[None, :]
    inside_1d = ((pos >= 0) & (pos < 28)).sum()
    assert c.connections == inside_1d ** 2
    assert c.connections < c.multiply_adds  # the products with padding zeros are not connections


def test_pool_and_groups_counts():
    c = count([conv(4, 8, 3, groups=2, bias=False), avg_pool(2)], (4, 6, 6))
    assert c[0].parameters == 8 * 2 * 9
    assert c[0].multiply_adds == 8 * 4 * 4 * 2 * 9
    assert c[1].output_shape == (8, 2, 2) and c[1].parameters == 0
    assert c[1].connections == 8 * 2 * 2 * 4  # each pooled unit sees its 4 inputs


def test_count_a_glassnet_model():
    nn = pytest.importorskip("glassnet.nn")
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(8), nn.Flatten(),
                          nn.Linear(8 * 8 * 8, 10))
    c = count(model, (3, 8, 8))
    assert c.parameters == sum(p.data.size for p in model.parameters())
    assert c[2].parameters == 16  # batch norm's weight and bias
    assert c.output_shape == (10,)


def test_count_errors():
    with pytest.raises(ValueError, match=r"expected input of shape \(3, H, W\), got \(1, 28, 28\)"):
        count(conv(3, 8, 3), (1, 28, 28))
    with pytest.raises(ValueError, match="empty output"):
        count(conv(1, 1, 7), (1, 5, 5))
    with pytest.raises(ValueError, match=r"expected input of shape \(\.\.\., 10\), got \(12,\)"):
        count([flatten(), linear(10, 2)], (3, 2, 2))


def test_count_runs_models_with_skip_connections():
    models = pytest.importorskip("glassnet.models")
    model = models.get_model("resnet_small")
    c = count(model, (1, 28, 28))
    assert c.parameters == sum(p.data.size for p in model.parameters())
    names = [row.name for row in c.layers]
    assert any(n.startswith("layers.1.shortcut.0: Conv2d(16 -> 32, k=1, s=2") for n in names)
    pool = next(row for row in c.layers if "AdaptiveAvgPool2d" in row.name)
    assert pool.output_shape == (64, 1, 1) and pool.connections == 64 * 7 * 7
    assert c.output_shape == (10,)
    # the shared ReLU of a block is listed at each call, without parameters
    assert names.count("layers.0.relu: ReLU") == 2


def test_count_lenet5_1998_subsampling_and_connection_table():
    models = pytest.importorskip("glassnet.models")
    model = models.get_model("lenet5_1998")
    c = count(model, (1, 28, 28))
    assert c.parameters == sum(p.data.size for p in model.parameters()) == 60850
    s2, c3 = c[2], c[4]
    # the paper's S2: 12 trainable parameters (a coefficient and a bias per map), 2x2 windows
    assert s2.name.startswith("2: Subsampling2d(k=2, s=2)") and s2.parameters == 12 and s2.output_shape == (6, 14, 14)
    assert s2.connections == 6 * 14 * 14 * 4 and s2.multiply_adds == 6 * 14 * 14
    # C3's connection table links 60 of the 6 x 16 (input, output) map pairs: 60 * 25 + 16 = 1516
    # parameters, and 60 * 25 weights for each of the 10 x 10 positions (the paper's 151,600
    # connections count the bias too: 1516 * 100)
    assert c3.name.startswith("4: ConvMap2d(6 -> 16, k=5") and c3.parameters == 1516
    assert c3.connections == c3.multiply_adds == 60 * 25 * 100


def test_count_unshared_convolutions_uses_the_modules_parameters():
    nn = pytest.importorskip("glassnet.nn")
    model = nn.Sequential(nn.LocallyConnected2d(2, 3, 3, input_size=(6, 6)), nn.ReLU())
    c = count(model, (2, 6, 6))
    # one 3x2x3x3 filter bank and a bias per output position (4 x 4 of them)
    assert c[0].parameters == sum(p.data.size for p in model.parameters()) == 16 * (3 * 2 * 9 + 3)
    assert c[0].connections == count(nn.Conv2d(2, 3, 3), (2, 6, 6))[0].connections == 3 * 2 * 9 * 16


def test_chain_tools_refuse_branching_models():
    models = pytest.importorskip("glassnet.models")
    from glassnet.explain import as_layers, receptive_field
    with pytest.raises(ValueError, match="ResNet has its own forward .* not a chain of layers"):
        as_layers(models.get_model("resnet_small"))
    # receptive_field follows any model, but has to run it to see its branches
    with pytest.raises(ValueError, match="ResNet .* needs input_shape"):
        receptive_field(models.get_model("resnet_small"))
