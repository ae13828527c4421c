"""Receptive fields: the size/jump/start recurrences against brute force (which inputs a unit
depends on, read off products of the layers' connection patterns) and against torch gradients."""

import numpy as np
import pytest
import torch

from glassnet.explain import conv_matrix, receptive_field
from glassnet.explain.layers import avg_pool, conv, flatten, linear, max_pool, pointwise


def _dependency(layers, n):
    """Boolean (output units x input units) 'depends on' matrix of a 1-channel 1-D stack."""
    dep = np.eye(n, dtype=bool)
    size = n
    for layer in layers:
        if layer.kind == "pointwise":
            continue
        ones = np.ones(layer.kernel_size)
        m = conv_matrix(ones, size, stride=layer.stride, padding=layer.padding, dilation=layer.dilation) != 0
        dep = (m.astype(int) @ dep.astype(int)) > 0
        size = m.shape[0]
    return dep


STACKS = [
    [conv(1, 1, 3, ndim=1), conv(1, 1, 3, ndim=1)],  # seed 004: the next layer sees 5 inputs
    [conv(1, 1, 3, padding=1, ndim=1), max_pool(2, ndim=1), conv(1, 1, 3, padding=1, ndim=1), max_pool(2, ndim=1)],
    [conv(1, 1, 5, stride=2, padding=2, ndim=1), pointwise("relu"), conv(1, 1, 3, dilation=2, ndim=1)],
    [conv(1, 1, 2, stride=3, ndim=1), avg_pool(3, stride=1, padding=1, ndim=1), conv(1, 1, 4, ndim=1)],
]


@pytest.mark.parametrize("stack", STACKS)
def test_regions_match_brute_force(stack):
    n = 40
    rf = receptive_field(stack, (1, n))
    dep = _dependency(stack, n)
    assert dep.shape[0] == rf.rows[-1].output_shape[1]
    exact = 0
    for unit in range(dep.shape[0]):
        seen = np.flatnonzero(dep[unit])
        (lo, hi), = rf.region(unit)
        assert lo <= seen.min() and seen.max() <= hi  # never more than the field
        ulo, uhi = rf.region(unit, clip=False)[0]
        assert uhi - ulo + 1 == rf.size[0] and ulo == rf.start[0] + unit * rf.jump[0]
        if 0 <= ulo and uhi < n - rf.size[0]:
            # away from every layer's padding the field's ends are exactly what the unit sees
            assert (lo, hi) == (seen.min(), seen.max())
            exact += 1
    assert exact >= 2


def test_seed004_next_layer_and_lenet_like_stack():
    rf = receptive_field([conv(1, 4, 3, ndim=1), conv(4, 4, 3, ndim=1)])
    assert (rf.size, rf.jump, rf.start) == ((5,), (1,), (0,))
    rf2 = receptive_field([conv(3, 8, 3, padding=1), max_pool(2), conv(8, 8, 3, padding=1), max_pool(2)], (3, 32, 32))
    assert [r.size for r in rf2.rows] == [(1, 1), (3, 3), (4, 4), (8, 8), (10, 10)]
    assert rf2.jump == (4, 4) and rf2.start == (-3, -3)
    assert rf2.region((0, 0)) == ((0, 6), (0, 6))
    assert rf2.region((3, 3)) == ((9, 18), (9, 18))
    assert "size" in str(rf2).splitlines()[0]


def test_region_against_torch_gradient():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, stride=2, padding=1), torch.nn.ReLU(),
                                torch.nn.MaxPool2d(2), torch.nn.Conv2d(2, 1, 3, dilation=2))
    layers = [conv(1, 2, 3, stride=2, padding=1), pointwise("relu"), max_pool(2), conv(2, 1, 3, dilation=2)]
    with torch.no_grad():
        for p in model.parameters():
            p.abs_()  # positive weights and inputs: no gradient cancels by accident
    x = torch.rand(1, 1, 40, 40, requires_grad=True) + 0.1
    x.retain_grad()
    y = model(x)
    rf = receptive_field(layers, (1, 40, 40))
    assert rf.rows[-1].output_shape == tuple(y.shape[1:])
    for unit in [(0, 0), (1, 2), (y.shape[2] - 1, y.shape[3] - 1)]:
        x.grad = None
        y[0, 0][unit].backward(retain_graph=True)
        rows, cols = np.nonzero(x.grad[0, 0].numpy())
        (r0, r1), (c0, c1) = rf.region(unit)
        # max pooling routes the gradient to one input per window, so the gradient's support is
        # inside the receptive field (and reaches its corners only sometimes)
        assert r0 <= rows.min() and rows.max() <= r1 and c0 <= cols.min() and cols.max() <= c1


def test_whole_input_after_flatten_and_module_input():
    rf = receptive_field([conv(1, 2, 3), flatten(), linear(18, 4)], (1, 5, 5))
    assert rf.rows[-1].whole_input
    assert rf.region(0) == ((0, 4), (0, 4))
    nn = pytest.importorskip("glassnet.nn")
    model = nn.Sequential(nn.Conv2d(1, 4, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 5))
    rf = receptive_field(model, (1, 28, 28))
    assert rf.size == (14, 14) and rf.jump == (2, 2) and rf.start == (-2, -2)


def test_receptive_field_errors():
    with pytest.raises(ValueError, match="needs input_shape or a layer with a kernel"):
        receptive_field([pointwise("relu")])
    with pytest.raises(ValueError, match="has 1 spatial dimensions, the model's input 2"):
        receptive_field([conv(1, 1, 3, ndim=1)], (1, 8, 8))
    with pytest.raises(IndexError, match="outside the layer's output"):
        receptive_field([conv(1, 1, 3, ndim=1)], (1, 8)).region(6)
    with pytest.raises(ValueError, match=r"per-sample input_shape \(C, \*spatial\), e.g. \(1, 28, 28\), got \(8,\)"):
        receptive_field([conv(1, 1, 3, ndim=1)], (8,))


# ---- any glassnet.nn model: branches, skip connections, slices --------------------------------

def _positive(model):
    """All weights and biases positive, batch norm statistics neutral: with a positive input every
    pre-activation is positive, every ReLU passes its input on, and no sum of products can cancel,
    so an input unit has a non-zero gradient exactly when the output unit depends on it."""
    rng = np.random.default_rng(0)
    for p in model.parameters():
        p.data[...] = rng.uniform(0.1, 1.0, p.shape)
    return model


def _brute_force(model, name, input_shape, units):
    """(first, last) input index per spatial dimension with a non-zero gradient, for each unit (a
    spatial position; the channels are summed) of the output of module `name` ("" for the model).
    One sample per unit, so a single backward pass answers for all of them."""
    import glassnet
    from glassnet import nn
    outputs = []
    module = dict(model.named_modules())[name]
    handles = [module.register_forward_hook(lambda m, args, out: outputs.append(out))]

    def check_active(m, args):
        assert float(args[0].data.min()) > 0, "a ReLU would cut a dependency"
    handles += [m.register_forward_pre_hook(check_active) for m in model.modules() if isinstance(m, nn.ReLU)]
    x = glassnet.tensor(np.random.default_rng(1).uniform(0.5, 1.5, (len(units),) + input_shape).astype(np.float32),
                        requires_grad=True)
    model.eval()
    model(x)
    for h in handles:
        h.remove()
    y = outputs[-1]
    if units[0] is None:  # units without positions (after a flatten or linear layer)
        y.sum().backward()
    else:
        coords = tuple(np.array(c) for c in zip(*units))
        y[(np.arange(len(units)), slice(None)) + coords].sum().backward()
    spread = np.abs(x.grad.data).sum(axis=1) > 0  # (U, *spatial): summed over input channels
    regions = []
    for s in spread:
        nz = np.nonzero(s)
        regions.append(tuple((int(i.min()), int(i.max())) for i in nz) if nz[0].size else None)
    return regions


def _units(shape, limit=40):
    """All spatial units of an output of spatial shape `shape`, or the borders and a few inside ones."""
    units = list(np.ndindex(*shape))
    if len(units) <= limit:
        return units
    picks = [sorted({0, 1, n // 2, n - 2, n - 1}) for n in shape]
    return list(np.array(np.meshgrid(*picks, indexing="ij")).reshape(len(shape), -1).T.tolist())


@pytest.mark.parametrize("name", ["stem.0", "layers.0.conv1", "layers.0", "layers.1.shortcut.0", "layers.1",
                                  "layers.2.conv1", "layers.2", "fc"])
def test_resnet_regions_match_brute_force(name):
    models = pytest.importorskip("glassnet.models")
    input_shape = (1, 13, 11)  # odd and not square: stride 2 rounds, rows and columns differ
    model = _positive(models.resnet_small())
    rf = receptive_field(model, input_shape)
    row = rf.row(name)
    if row.whole_input:
        units = [None] * 2
        assert rf.region(0, name) == ((0, 12), (0, 10))
    else:
        units = _units(row.output_shape[1:])
    expected = _brute_force(model, name, input_shape, units)
    got = [rf.region(0 if u is None else tuple(u), name) for u in units]
    assert got == expected


def test_resnet_block_is_the_union_of_its_branches():
    models = pytest.importorskip("glassnet.models")
    rf = receptive_field(models.resnet_small(), (1, 28, 28))
    main, shortcut, block = rf.row("layers.1.bn2"), rf.row("layers.1.shortcut.1"), rf.row("layers.1")
    # main path: 3x3 stem, two 3x3 convs, a strided 3x3 conv and another 3x3: 13; the shortcut's 1x1
    # strided conv adds nothing to the block input's 7; the block sees the larger of the two
    assert (main.size, main.jump, main.start) == ((13, 13), (2, 2), (-6, -6))
    assert (shortcut.size, shortcut.jump, shortcut.start) == ((7, 7), (2, 2), (-3, -3))
    assert (block.size, block.jump, block.start) == ((13, 13), (2, 2), (-6, -6))
    assert rf.row("layers.2").size == (25, 25) and rf.row("layers.2").jump == (4, 4)
    assert rf.rows[-1].whole_input and "whole input" in str(rf).splitlines()[-1]
    with pytest.raises(KeyError, match="no layer named 'layers.9'"):
        rf.row("layers.9")


def _two_branch(pool):
    import glassnet
    from glassnet import nn

    class TwoBranch(nn.Module):
        """Three paths of different shapes meet: a concatenation of channels, a sum, and a slice."""

        def __init__(self):
            super().__init__()
            self.a = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), pool(2),
                                   nn.Conv2d(2, 2, 3, dilation=2, padding=2))
            self.b = nn.Sequential(nn.Conv2d(1, 2, (5, 1), stride=2, padding=(2, 0)),
                                   nn.AvgPool2d(3, stride=1, padding=1))
            self.c = nn.Conv2d(1, 1, 9)  # jump 1, while the other two paths have jump 2
            self.head = nn.Conv2d(4, 1, 3, padding=1, padding_mode="reflect")

        def forward(self, x):
            a, b = self.a(x), self.b(x)
            return self.head(glassnet.cat([a, b], dim=1)) + self.c(x) + b[:, :1]

    return TwoBranch()


def test_two_branch_model_matches_brute_force():
    pytest.importorskip("glassnet.nn")
    from glassnet import nn
    input_shape = (1, 16, 16)
    rf = receptive_field(_two_branch(nn.MaxPool2d), input_shape)
    # max pooling passes the gradient to one input per window: the reference uses average pooling,
    # which depends on the same inputs
    reference = _positive(_two_branch(nn.AvgPool2d))
    same = receptive_field(reference, input_shape)
    for r1, r2 in zip(rf.rows, same.rows):
        assert r1.size == r2.size and all(np.array_equal(a, b) for a, b in zip(r1.lo + r1.hi, r2.lo + r2.hi))
    out = rf.rows[-1]
    assert out.name == "TwoBranch" and out.output_shape == (1, 8, 8)
    assert out.jump == (None, None) and "varies" in str(rf).splitlines()[-1]  # jumps 1 and 2 met
    units = list(np.ndindex(8, 8))
    assert [rf.region(u) for u in units] == _brute_force(reference, "", input_shape, units)
    for name in ("a", "b", "head"):
        units = list(np.ndindex(*rf.row(name).output_shape[1:]))
        assert [rf.region(u, name) for u in units] == _brute_force(reference, name, input_shape, units)
    # the paths as the recurrences give them
    assert (rf.row("a").size, rf.row("a").jump, rf.row("a").start) == ((12, 12), (2, 2), (-5, -5))
    assert (rf.row("b").size, rf.row("b").jump, rf.row("b").start) == ((9, 5), (2, 2), (-4, -2))
    assert rf.row("c").size == (9, 9) and rf.row("c").jump == (1, 1)


def test_traced_sequential_agrees_with_the_chain():
    nn = pytest.importorskip("glassnet.nn")

    def model(pool):
        return nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.ReLU(), pool(2),
                             nn.Conv2d(2, 1, 3, dilation=2, padding=1, padding_mode="circular"))
    layers = [conv(1, 2, 3, stride=2, padding=1), pointwise("relu"), max_pool(2),
              conv(2, 1, 3, dilation=2, padding=1, padding_mode="circular")]
    traced, chain = receptive_field(model(nn.MaxPool2d), (1, 23, 19)), receptive_field(layers, (1, 23, 19))
    assert len(traced.rows) == len(chain.rows)
    for a, b in zip(traced.rows, chain.rows):
        assert (a.size, a.jump, a.start, a.output_shape) == (b.size, b.jump, b.start, b.output_shape)
        assert all(np.array_equal(u, v) for u, v in zip(a.lo + a.hi, b.lo + b.hi))
    units = list(np.ndindex(*traced.rows[-1].output_shape[1:]))
    assert [traced.region(u) for u in units] == _brute_force(_positive(model(nn.AvgPool2d)), "", (1, 23, 19), units)
    # the span hangs over the top-left border, and circular padding wraps that overhang to the far
    # side: the corner unit's taps read the last rows and columns, and skip the first three
    assert traced.region((0, 0), clip=False) == ((-5, 15), (-5, 15))
    assert traced.region((0, 0)) == ((3, 22), (3, 18))


def _glue_model():
    """Operations between modules: a crop with a stride, a concatenation along a position axis, a
    transpose of the positions, a squeeze-and-excite gate, a mean along one position axis added back."""
    import glassnet
    from glassnet import nn

    class Glue(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3, padding=1)
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            h = self.conv(x)                                     # (N, 2, 12, 10)
            crop = h[:, :, 1:-1, ::2]                            # (N, 2, 10, 5)
            side = glassnet.cat([crop, crop[..., :2]], dim=3)    # (N, 2, 10, 7)
            t = side.permute(0, 1, 3, 2)                         # (N, 2, 7, 10)
            gate = self.fc(h.mean((2, 3))).sigmoid().reshape(-1, 2, 1, 1)  # (N, 2, 1, 1): sees everything
            return t * gate + t.mean(3, keepdim=True)            # each unit also sees its whole row

    return Glue()


def test_operations_between_modules_match_brute_force():
    pytest.importorskip("glassnet.nn")
    model = _positive(_glue_model())
    rf = receptive_field(model, (1, 12, 10))
    out = rf.rows[-1]
    assert out.output_shape == (2, 7, 10)
    units = list(np.ndindex(7, 10))
    assert [rf.region(u) for u in units] == _brute_force(model, "", (1, 12, 10), units)
    # the gate sees the whole input, so every unit does
    assert all(rf.region(u) == ((0, 11), (0, 9)) for u in units)


def test_slices_concatenations_and_transposes_move_fields():
    nn = pytest.importorskip("glassnet.nn")
    import glassnet

    class Paths(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, padding=1)
            self.last = nn.Conv2d(1, 1, 1)

        def forward(self, x):
            h = self.conv(x)  # (N, 1, 12, 10): unit (i, j) spans rows i-1..i+1, columns j-1..j+1
            t = glassnet.cat([h[:, :, 2:8:3, 1:], h[:, :, :2, 1:]], dim=2).permute(0, 1, 3, 2)  # (N, 1, 9, 4)
            return self.last(t)

    model = _positive(Paths())
    rf = receptive_field(model, (1, 12, 10))
    units = list(np.ndindex(9, 4))
    assert [rf.region(u) for u in units] == _brute_force(model, "", (1, 12, 10), units)
    # output (i, j) is h[(2, 5, 0, 1)[j], i + 1]: rows move along the output's columns
    assert rf.region((0, 0)) == ((1, 3), (0, 2)) and rf.region((0, 1)) == ((4, 6), (0, 2))
    assert rf.region((3, 2)) == ((0, 1), (3, 5)) and rf.region((3, 3)) == ((0, 2), (3, 5))
    row = rf.rows[-1]
    assert row.axes == (1, 0) and row.jump == (None, 1) and "varies" in str(rf)  # the joined axis has no one jump

    class Misaligned(Paths):
        def forward(self, x):
            h = self.conv(x)
            return glassnet.cat([h[:, :, :2, 1:], h[:, :, :2, :-1]], dim=2)

    with pytest.raises(ValueError, match="side by side along a spatial dimension"):
        receptive_field(Misaligned(), (1, 12, 10))


def test_softmax_over_positions_and_over_channels():
    nn = pytest.importorskip("glassnet.nn")

    class Attention(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.conv, self.dim = nn.Conv2d(1, 2, 3), dim

        def forward(self, x):
            return self.conv(x).softmax(self.dim)

    over_channels = receptive_field(Attention(1), (1, 9, 9))
    assert over_channels.region((2, 3)) == ((2, 4), (3, 5)) and over_channels.size == (3, 3)
    over_rows = receptive_field(Attention(2), (1, 9, 9))  # each unit is normalised over its column
    assert over_rows.region((2, 3)) == ((0, 8), (3, 5)) and over_rows.size == (9, 3)
    assert over_rows.jump == (0, 1)


def test_1d_and_3d_models_and_units_that_see_nothing():
    nn = pytest.importorskip("glassnet.nn")

    class OneD(nn.Module):
        def __init__(self):
            super().__init__()
            self.wide = nn.Conv1d(1, 2, 3, padding=3)  # windows at the two ends lie in the padding
            self.skip = nn.Conv1d(1, 2, 1, padding=2)

        def forward(self, x):
            return self.wide(x) + self.skip(x)  # both (N, 2, L + 4)

    model = _positive(OneD())
    rf = receptive_field(model, (1, 9))
    units = [(u,) for u in range(13)]
    regions = [rf.region(u) for u in units]
    assert regions == _brute_force(model, "", (1, 9), units)
    assert rf.region(0, "wide") is None and regions[0] is None  # only padding under the window
    assert regions[1] == ((0, 0),) and regions[6] == ((3, 5),)
    model3 = _positive(nn.Sequential(nn.Conv3d(1, 2, (3, 1, 2), stride=(1, 2, 1), padding=(1, 0, 1)),
                                     nn.AvgPool3d(2, stride=1)))
    rf3 = receptive_field(model3, (1, 5, 6, 4))
    units = list(np.ndindex(*rf3.rows[-1].output_shape[1:]))
    assert [rf3.region(u) for u in units] == _brute_force(model3, "", (1, 5, 6, 4), units)
    assert rf3.size == (4, 3, 3) and rf3.jump == (1, 2, 1)


def test_p4_models_follow_the_positions_after_the_rotation_axis():
    nn = pytest.importorskip("glassnet.nn")
    model = _positive(nn.Sequential(nn.P4LiftConv2d(1, 2, 3, padding=1), nn.P4Conv2d(2, 2, 3, stride=2),
                                    nn.P4Pool("avg")))
    rf = receptive_field(model, (1, 9, 9))
    assert [r.output_shape for r in rf.rows[1:]] == [(2, 4, 9, 9), (2, 4, 4, 4), (2, 4, 4)]
    assert rf.size == (5, 5) and rf.jump == (2, 2) and rf.start == (-1, -1)
    units = list(np.ndindex(4, 4))
    assert [rf.region(u) for u in units] == _brute_force(model, "", (1, 9, 9), units)


def test_adaptive_pooling_bins():
    nn = pytest.importorskip("glassnet.nn")
    model = nn.Sequential(nn.Conv2d(1, 1, 1), nn.AdaptiveAvgPool2d((3, 4)))
    rf = receptive_field(model, (1, 7, 8))
    # rows: 7 into 3 bins as torch does, [0, 3), [2, 5), [4, 7); columns: 8 into 4 windows of 2
    assert [rf.region((i, 0))[0] for i in range(3)] == [(0, 2), (2, 4), (4, 6)]
    assert rf.size == (None, 2) and rf.jump == (None, 2)
    units = list(np.ndindex(3, 4))
    assert [rf.region(u) for u in units] == _brute_force(_positive(model), "", (1, 7, 8), units)


def test_traced_model_errors():
    nn = pytest.importorskip("glassnet.nn")
    import glassnet.functional as F

    class FunctionalPool(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, x):
            return F.max_pool2d(self.conv(x), 2)

    with pytest.raises(ValueError, match=r"does not know how MaxPool \(called in FunctionalPool.forward, outside "
                                         r"a module\)"):
        receptive_field(FunctionalPool(), (1, 8, 8))

    class Gather(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, x):
            return self.conv(x)[:, :, [0, 2]]

    with pytest.raises(ValueError, match=r"follows slices of positions .* not the index"):
        receptive_field(Gather(), (1, 8, 8))
    rf = receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3)), (1, 8, 8))
    with pytest.raises(IndexError, match=r"outside the layer's output of spatial shape \(6, 6\)"):
        rf.region((6, 0))
