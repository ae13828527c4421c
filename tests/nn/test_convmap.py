"""ConvMap1d/2d/3d and the connection tables: the all-ones table is Conv, a sparse table equals
a torch conv whose absent kernels are held at zero, finite differences, LeNet-5's C3 table."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import glassnet as gn
from glassnet.functional.convmap import conv_map
from glassnet.nn import tables
from glassnet.nn.conv import Conv1d, Conv2d, Conv3d
from glassnet.nn.convmap import ConvMap1d, ConvMap2d, ConvMap3d
from glassnet.testing import gradcheck

CONVMAP = {1: ConvMap1d, 2: ConvMap2d, 3: ConvMap3d}
CONV = {1: Conv1d, 2: Conv2d, 3: Conv3d}
SIZES = {1: (9,), 2: (8, 7), 3: (5, 6, 5)}


def test_lenet5_c3_table_is_table_one_of_the_paper():
    # LeCun et al. 1998, Table I: rows are S2 maps, columns C3 maps, X = connected
    rows = ["X...XXX..XXXX.XX",
            "XX...XXX..XXXX.X",
            "XXX...XXX..X.XXX",
            ".XXX..XXXX..X.XX",
            "..XXX..XXXX.XX.X",
            "...XXX..XXXX.XXX"]
    expected = np.array([[c == "X" for c in row] for row in rows]).T  # (16 C3 maps, 6 S2 maps)
    np.testing.assert_array_equal(tables.lenet5_c3(), expected)
    m = ConvMap2d(6, 16, 5, table=tables.lenet5_c3())
    assert sum(p.data.size for p in m.parameters()) == 1516  # the paper's count for C3


def test_table_builders():
    np.testing.assert_array_equal(tables.full(3, 4), np.ones((4, 3), bool))
    np.testing.assert_array_equal(tables.one_to_one(5), np.eye(5, dtype=bool))
    r = tables.random(8, 6, 3, seed=7)
    assert r.shape == (6, 8) and (r.sum(axis=1) == 3).all()
    np.testing.assert_array_equal(r, tables.random(8, 6, 3, seed=7))
    assert not np.array_equal(r, tables.random(8, 6, 3, seed=8))
    with pytest.raises(ValueError, match="fan_in must be between 1 and in_maps=8, got 9"):
        tables.random(8, 6, 9)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (1, "same")])
def test_all_ones_table_is_convolution(nd, stride, padding):
    gn.manual_seed(0)
    conv = CONV[nd](3, 4, 3, stride, padding)
    m = CONVMAP[nd](3, 4, 3, stride, padding, table=tables.full(3, 4))
    m.weight.data[...] = conv.weight.data.reshape(m.weight.shape)  # (4, 3, *k) -> (12, *k): row-major pairs
    m.bias.data[...] = conv.bias.data
    x = gn.tensor(np.random.default_rng(0).standard_normal((2, 3) + SIZES[nd]))
    np.testing.assert_allclose(m(x).data, conv(x).data, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("table", ["lenet", "random", "one_to_one"])
def test_sparse_table_matches_torch_masked_conv(table):
    rng = np.random.default_rng(1)
    c_in, c_out = (6, 16) if table == "lenet" else (5, 7) if table == "random" else (4, 4)
    tab = {"lenet": tables.lenet5_c3(), "random": tables.random(5, 7, 2, seed=3),
           "one_to_one": tables.one_to_one(4)}[table]
    m = ConvMap2d(c_in, c_out, 3, stride=2, padding=1, padding_mode="reflect", table=tab)
    x = gn.tensor(rng.standard_normal((2, c_in, 9, 10)), requires_grad=True)
    y = m(x)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(dy)

    xt = torch.tensor(x.data, requires_grad=True)
    wt = torch.tensor(m.weight.data, requires_grad=True)
    bt = torch.tensor(m.bias.data, requires_grad=True)
    dense = torch.zeros((c_out, c_in, 3, 3)).index_put((*map(torch.tensor, np.nonzero(tab)),), wt)
    yt = F.conv2d(F.pad(xt, (1, 1, 1, 1), mode="reflect"), dense, bt, stride=2)
    yt.backward(torch.tensor(dy))
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(m.weight.grad, wt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(m.bias.grad, bt.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_gradcheck(nd):
    rng = np.random.default_rng(2)
    tab = tables.random(3, 2, 2, seed=nd)
    spatial = {1: (5,), 2: (4, 4), 3: (3, 3, 4)}[nd]
    x = gn.tensor(rng.standard_normal((2, 3) + spatial), dtype=np.float64, requires_grad=True)
    w = gn.tensor(rng.standard_normal((4,) + (2,) * nd), dtype=np.float64, requires_grad=True)
    b = gn.tensor(rng.standard_normal(2), dtype=np.float64, requires_grad=True)
    gradcheck(lambda x, w, b: conv_map(x, w, b, tab, 1, 1), [x, w, b])


def test_init_state_dict_and_errors():
    gn.manual_seed(3)
    m = ConvMap2d(6, 16, 5, table=tables.lenet5_c3())
    assert list(m.state_dict()) == ["weight", "bias", "table"]
    # output map 0 has 3 inputs (bound 1/sqrt(75)), map 15 has 6 (bound 1/sqrt(150))
    assert np.abs(m.weight.data[:3]).max() <= 1 / np.sqrt(75)
    assert np.abs(m.weight.data[-6:]).max() <= 1 / np.sqrt(150)
    m2 = ConvMap2d(6, 16, 5, table=tables.full(6, 16))
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: checkpoint \(60, 5, 5\), model \(96, 5, 5\)"):
        m2.load_state_dict(m.state_dict())
    with pytest.raises(ValueError, match=r"table of shape \(out_channels, in_channels\) = \(16, 6\), got \(6, 16\)"):
        ConvMap2d(6, 16, 5, table=tables.lenet5_c3().T)
    with pytest.raises(ValueError, match=r"output maps \[1\] have no input"):
        ConvMap2d(2, 2, 3, table=[[1, 1], [0, 0]])
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 6, H, W\), got \(1, 3, 14, 14\)"):
        m(gn.tensor(np.zeros((1, 3, 14, 14), np.float32)))
    with pytest.raises(ValueError, match=r"weight of shape \(60, \*k\).*got \(59, 5, 5\)"):
        conv_map(gn.tensor(np.zeros((1, 6, 14, 14), np.float32)), gn.tensor(np.zeros((59, 5, 5), np.float32)),
                 None, tables.lenet5_c3())
