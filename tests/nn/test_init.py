"""nn.init: the same formulas as torch.nn.init (checked by the distributions they draw from) and
the default initialisation of every layer with weights."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

import glassnet as gn
from glassnet import nn
from glassnet.nn import init


@pytest.mark.parametrize("nonlinearity, param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                                 ("tanh", None), ("relu", None), ("leaky_relu", None),
                                                 ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


@pytest.mark.parametrize("shape", [(7, 3), (16, 3, 5, 5), (4, 2, 3), (2, 8, 1, 2, 3)])
def test_fans_match_torch(shape):
    ours = init._calculate_fan_in_and_fan_out(gn.zeros(shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


def _bound_and_std(name, shape, **kw):
    """The uniform bound or normal std torch's formula gives (from torch's own fans and gain)."""
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    if name.startswith("xavier"):
        return kw.get("gain", 1.0) * math.sqrt(2.0 / (fan_in + fan_out))
    fan = fan_in if kw.get("mode", "fan_in") == "fan_in" else fan_out
    return torch.nn.init.calculate_gain(kw.get("nonlinearity", "leaky_relu"), kw.get("a", 0)) / math.sqrt(fan)


@pytest.mark.parametrize("name, kw", [("xavier_uniform_", {}), ("xavier_uniform_", {"gain": 2.0}),
                                      ("kaiming_uniform_", {"a": math.sqrt(5)}),
                                      ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
                                      ("xavier_normal_", {}), ("kaiming_normal_", {"nonlinearity": "relu"})])
def test_distributions_follow_torch_formulas(name, kw):
    gn.manual_seed(0)
    shape = (64, 32, 3, 3)
    w = getattr(init, name)(gn.zeros(shape), **kw)
    std = _bound_and_std(name, shape, **kw)
    if name.endswith("uniform_"):
        bound = math.sqrt(3) * std
        assert np.abs(w.data).max() <= bound
        p = stats.kstest(w.data.ravel(), stats.uniform(-bound, 2 * bound).cdf).pvalue
    else:
        p = stats.kstest(w.data.ravel(), stats.norm(0, std).cdf).pvalue
    assert p > 1e-3, f"{name} does not look like the expected distribution (KS p={p})"
    assert w.dtype == np.float32


def test_simple_fillers_and_trunc_normal():
    t = gn.zeros(3, 4)
    assert np.all(init.ones_(t).data == 1) and np.all(init.zeros_(t).data == 0)
    assert np.all(init.constant_(t, 0.5).data == 0.5)
    np.testing.assert_array_equal(init.eye_(t).data, np.eye(3, 4))
    gn.manual_seed(1)
    w = init.trunc_normal_(gn.zeros(20000), std=1.0, a=-1.0, b=2.0)
    assert w.data.min() >= -1.0 and w.data.max() <= 2.0
    p = stats.kstest(w.data, stats.truncnorm(-1, 2).cdf).pvalue
    assert p > 1e-3
    q = init.orthogonal_(gn.zeros(4, 6)).data
    np.testing.assert_allclose(q @ q.T, np.eye(4), atol=1e-5)
    with pytest.raises(ValueError, match="at least 2 dimensions, got shape \\(5,\\)"):
        init.xavier_uniform_(gn.zeros(5))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_manual_seed_and_generator_make_init_repeatable():
    gn.manual_seed(3)
    a = nn.Conv2d(3, 4, 3).weight.data.copy()
    gn.manual_seed(3)
    b = nn.Conv2d(3, 4, 3).weight.data.copy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    np.testing.assert_array_equal(init.normal_(gn.zeros(5), generator=g1).data,
                                  init.normal_(gn.zeros(5), generator=g2).data)


LAYERS = [("Conv1d", (3, 8, 5)), ("Conv2d", (3, 16, 5)), ("Conv2d", (4, 8, 3), {"groups": 2}),
          ("Conv3d", (2, 4, 3)), ("ConvTranspose2d", (6, 4, 3)), ("ConvTranspose1d", (4, 6, 3), {"groups": 2}),
          ("Linear", (120, 84))]


@pytest.mark.parametrize("layer", LAYERS, ids=lambda l: l[0] + str(l[1]))
def test_default_initialisation_matches_torch(layer):
    name, args, kw = (layer + ({},))[:3]
    gn.manual_seed(0)
    ours = getattr(nn, name)(*args, **kw)
    theirs = getattr(torch.nn, name)(*args, **kw)
    for key in ("weight", "bias"):
        a, b = getattr(ours, key).data, getattr(theirs, key).detach().numpy()
        assert a.shape == b.shape and a.dtype == b.dtype
        fan_in = theirs.weight.shape[1] * math.prod(theirs.weight.shape[2:])
        bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) and the bias rule both give this
        assert np.abs(a).max() <= bound and np.abs(b).max() <= bound + 1e-7
        if a.size >= 200:
            assert stats.kstest(a.ravel(), stats.uniform(-bound, 2 * bound).cdf).pvalue > 1e-3


def test_default_uniform_is_kaiming_weight_then_bias_from_the_same_bound():
    # from the weight's shape: exactly kaiming_uniform_(a=sqrt(5)), then U(-1/sqrt(fan_in), +) for the bias
    w, b = gn.zeros(6, 4, 3), gn.zeros(6)
    init.default_uniform_(w, b, generator=np.random.default_rng(7))
    g = np.random.default_rng(7)
    w_ref = init.kaiming_uniform_(gn.zeros(6, 4, 3), a=math.sqrt(5), generator=g)
    b_ref = init.uniform_(gn.zeros(6), -1 / math.sqrt(4 * 3), 1 / math.sqrt(4 * 3), generator=g)
    np.testing.assert_array_equal(w.data, w_ref.data)
    np.testing.assert_array_equal(b.data, b_ref.data)


@pytest.mark.parametrize("fan_in", [1, 9, 50])
def test_default_uniform_with_a_given_fan_in(fan_in):
    # the layout of a locally connected weight (*out, O, C, *k): the fan is not weight.shape[1] * ...
    gn.manual_seed(2)
    w, b = gn.zeros(5, 5, 4, 2, 3, 3), gn.zeros(5, 5, 4)
    init.default_uniform_(w, b, fan_in=fan_in)
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(w.data).max() <= bound and np.abs(b.data).max() <= bound
    assert stats.kstest(w.data.ravel(), stats.uniform(-bound, 2 * bound).cdf).pvalue > 1e-3


def test_zero_element_weights_as_torch():
    # kaiming_* on an empty tensor does nothing (its fan may be 0); Linear(0, n) gets a zero bias
    for fill in (init.kaiming_uniform_, init.kaiming_normal_):
        assert fill(gn.zeros(3, 0)).shape == (3, 0)
    ours, theirs = nn.Linear(0, 3), torch.nn.Linear(0, 3)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    np.testing.assert_array_equal(ours.bias.data, theirs.bias.detach().numpy())


def test_batchnorm_initial_state_matches_torch():
    ours, theirs = nn.BatchNorm2d(5).state_dict(), torch.nn.BatchNorm2d(5).state_dict()
    for k in ours:
        np.testing.assert_array_equal(ours[k], theirs[k].numpy(), err_msg=k)
