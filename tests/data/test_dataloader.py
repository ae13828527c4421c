import numpy as np
import pytest

import glassnet
from glassnet.data import (ArrayDataset, DataLoader, Dataset, Subset, TensorDataset, default_collate,
                           is_array_backed, random_split)
from glassnet.data import transforms as T


def make_data(n=23, c=1, h=6, w=6):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, c, h, w)).astype(np.float32), np.arange(n) % 3


class ListDataset(Dataset):
    """A map-style dataset with no get_batch: the per-sample path."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], int(self.y[i])


def epoch_batches(loader):
    return [tuple(t.data.copy() for t in batch) for batch in loader]


def assert_same_batches(a, b):
    assert len(a) == len(b)
    for ba, bb in zip(a, b):
        for ta, tb in zip(ba, bb):
            np.testing.assert_array_equal(ta, tb)


@pytest.mark.parametrize("augment", [False, True])
def test_same_seed_same_batches_and_epochs_differ(augment):
    x, y = make_data()
    transform = T.Compose([T.RandomCrop(6, padding=2), T.RandomHorizontalFlip()]) if augment else None
    ds = TensorDataset(x, y, transform=transform)
    a, b = DataLoader(ds, 5, shuffle=True, seed=7), DataLoader(ds, 5, shuffle=True, seed=7)
    a0, a1 = epoch_batches(a), epoch_batches(a)
    assert_same_batches(a0, epoch_batches(b))
    assert_same_batches(a1, epoch_batches(b))
    assert not np.array_equal(np.concatenate([bt[1] for bt in a0]), np.concatenate([bt[1] for bt in a1]))
    # every sample once per epoch
    assert sorted(np.concatenate([bt[1] for bt in a1]).tolist()) == sorted(y.tolist())
    other = epoch_batches(DataLoader(ds, 5, shuffle=True, seed=8))
    assert not np.array_equal(np.concatenate([bt[1] for bt in a0]), np.concatenate([bt[1] for bt in other]))


def test_seed_drawn_from_manual_seed_and_generator():
    x, y = make_data()
    ds = TensorDataset(x, y)
    glassnet.manual_seed(3)
    s1 = DataLoader(ds, 4, shuffle=True).seed
    glassnet.manual_seed(3)
    assert DataLoader(ds, 4, shuffle=True).seed == s1
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    assert DataLoader(ds, generator=g1).seed == DataLoader(ds, generator=g2).seed
    with pytest.raises(ValueError, match="either seed or generator"):
        DataLoader(ds, seed=1, generator=g1)


def test_no_shuffle_keeps_order_and_batch_types():
    x, y = make_data(n=10)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4))
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    xb, yb = batches[0]
    assert isinstance(xb, glassnet.Tensor) and xb.dtype == np.float32 and xb.shape == (4, 1, 6, 6)
    assert yb.dtype == np.int64
    np.testing.assert_array_equal(np.concatenate([b[1].data for b in batches]), y)
    np.testing.assert_array_equal(batches[1][0].data, x[4:8])


@pytest.mark.parametrize("n,batch,drop_last,expected", [(10, 4, False, [4, 4, 2]), (10, 4, True, [4, 4]),
                                                        (8, 4, True, [4, 4]), (3, 4, True, []),
                                                        (3, 4, False, [3])])
def test_drop_last(n, batch, drop_last, expected):
    x, y = make_data(n=n)
    loader = DataLoader(TensorDataset(x, y), batch, shuffle=True, drop_last=drop_last, seed=0)
    sizes = [len(b[1]) for b in loader]
    assert sizes == expected and len(loader) == len(expected)


def test_float64_and_uint8_inputs_become_float32_and_int64():
    x = np.random.default_rng(0).random((6, 2))  # float64
    y = np.arange(6, dtype=np.uint8)
    xb, yb = next(iter(DataLoader(TensorDataset(x, y), 6)))
    assert xb.dtype == np.float32 and yb.dtype == np.int64


def test_per_sample_path_matches_vectorised_path():
    x, y = make_data()
    fast = epoch_batches(DataLoader(TensorDataset(x, y), 5, shuffle=True, seed=2))
    slow = epoch_batches(DataLoader(ListDataset(x, y), 5, shuffle=True, seed=2))
    assert not is_array_backed(ListDataset(x, y)) and is_array_backed(TensorDataset(x, y))
    assert_same_batches(fast, slow)


def test_custom_collate_gets_list_of_samples():
    x, y = make_data(n=6)
    seen = []

    def collate(samples):
        seen.append(len(samples))
        assert all(len(s) == 2 and s[0].shape == (1, 6, 6) for s in samples)
        return {"n": len(samples), "labels": [int(s[1]) for s in samples]}

    for ds in (TensorDataset(x, y), ListDataset(x, y)):
        out = list(DataLoader(ds, 4, collate_fn=collate))
        assert [o["n"] for o in out] == [4, 2]
        assert out[0]["labels"] == y[:4].tolist()
    assert seen == [4, 2, 4, 2]


def test_default_collate_structures():
    batch = default_collate([{"a": np.ones(3), "b": 1}, {"a": np.zeros(3), "b": 2}])
    assert batch["a"].shape == (2, 3) and batch["a"].dtype == np.float32
    np.testing.assert_array_equal(batch["b"].data, [1, 2])
    xs, ys = default_collate([(np.ones((2, 2)), 0), (np.zeros((2, 2)), 1)])
    assert xs.shape == (2, 2, 2) and ys.dtype == np.int64
    with pytest.raises(RuntimeError, match=r"one shape.*\(2,\), \(3,\)"):  # torch.stack's error type
        default_collate([np.ones(2), np.ones(3)])
    with pytest.raises(ValueError, match="empty"):
        default_collate([])


def test_resume_mid_epoch_gives_the_remaining_batches():
    x, y = make_data()
    ds = TensorDataset(x, y, transform=T.RandomTranslation(0.3))
    full = DataLoader(ds, 4, shuffle=True, seed=11)
    first, second = epoch_batches(full), epoch_batches(full)

    interrupted = DataLoader(ds, 4, shuffle=True, seed=11)
    epoch_batches(interrupted)
    it = iter(interrupted)
    next(it), next(it)
    state = interrupted.state_dict()
    assert state == {"seed": 11, "epoch": 1, "batch": 2}

    resumed = DataLoader(ds, 4, shuffle=True, seed=999)
    resumed.load_state_dict(state)
    assert_same_batches(epoch_batches(resumed), second[2:])
    # and the epoch after continues as the uninterrupted run would
    third = epoch_batches(full)
    assert_same_batches(epoch_batches(resumed), third)
    full.set_epoch(0)
    assert_same_batches(epoch_batches(full), first)


def test_subset_and_random_split():
    x, y = make_data(n=20)
    ds = TensorDataset(x, np.arange(20))
    parts = random_split(ds, [15, 5], generator=np.random.default_rng(0))
    idx = np.concatenate([p.indices for p in parts])
    assert sorted(idx.tolist()) == list(range(20)) and [len(p) for p in parts] == [15, 5]
    # a Subset of an array dataset keeps the vectorised path and serves the right samples
    assert is_array_backed(parts[0])
    xb, yb = next(iter(DataLoader(parts[1], 5)))
    np.testing.assert_array_equal(yb.data, parts[1].indices)
    np.testing.assert_array_equal(xb.data, x[parts[1].indices])
    assert parts[1][0][1] == parts[1].indices[0]
    fr = random_split(ds, [0.5, 0.25, 0.25], generator=np.random.default_rng(0))
    assert [len(p) for p in fr] == [10, 5, 5]
    odd = random_split(TensorDataset(np.arange(7)), [0.5, 0.5], generator=np.random.default_rng(0))
    assert [len(p) for p in odd] == [4, 3]
    with pytest.raises(ValueError, match="does not equal the dataset length 20"):
        random_split(ds, [10, 5])
    with pytest.raises(IndexError, match=r"\[-20, 20\)"):
        Subset(ds, [0, 20])


def test_dataset_errors():
    with pytest.raises(ValueError, match=r"same first dimension.*\(3,\), \(4,\)"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match=r"inputs of shape \(3, 2\) and targets of shape \(2,\)"):
        ArrayDataset(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(IndexError, match="out of range"):
        TensorDataset(np.zeros(3))[3]
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=0)


def test_plain_function_transform_without_generator():
    x, y = make_data(n=4)
    ds = ArrayDataset(x, y, transform=lambda a: a * 2)
    xb, _ = next(iter(DataLoader(ds, 4)))
    np.testing.assert_allclose(xb.data, x * 2)


# ---- PyTorch's arguments and rules ----

import collections  # noqa: E402

import torch  # noqa: E402
import torch.utils.data as tud  # noqa: E402

from glassnet.data import (BatchSampler, ConcatDataset, IterableDataset, RandomSampler,  # noqa: E402
                           SequentialSampler, default_convert, get_worker_info)


def _plain(value):
    """A batch as nested Python lists and NumPy arrays, for comparing glassnet's with torch's."""
    if isinstance(value, glassnet.Tensor):
        return value.data
    if isinstance(value, torch.Tensor):
        return value.numpy()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value) if not hasattr(value, "_fields") else \
            type(value)(*(_plain(v) for v in value))
    return value


def _assert_same(a, b):
    assert type(a) is type(b) or (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _assert_same(u, v)
    elif isinstance(a, np.ndarray):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    else:
        assert a == b


@pytest.mark.parametrize("kwargs", [dict(batch_size=4), dict(batch_size=4, drop_last=True), dict(batch_size=None),
                                    dict(batch_size=3, sampler=[5, 1, 2, 9, 0]),
                                    dict(batch_sampler=[[1, 2], [7], [0, 3, 4]])])
def test_batches_equal_torchs(kwargs):
    x, y = make_data(n=10)
    ours = [_plain(b) for b in DataLoader(ListDataset(x, y), **kwargs)]
    theirs = [_plain(b) for b in tud.DataLoader(ListDataset(x, y), **kwargs)]  # torch takes any map-style object
    assert len(ours) == len(theirs) == len(DataLoader(ListDataset(x, y), **kwargs))
    for a, b in zip(ours, theirs):
        _assert_same(a, b)


@pytest.mark.parametrize("kwargs", [dict(batch_size=0), dict(batch_size=2, shuffle=True, sampler=[0, 1]),
                                    dict(batch_sampler=[[0]], batch_size=2), dict(batch_sampler=[[0]], drop_last=True),
                                    dict(batch_sampler=[[0]], shuffle=True), dict(batch_size=None, drop_last=True),
                                    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2),
                                    dict(persistent_workers=True), dict(multiprocessing_context="fork"),
                                    dict(num_workers=1, multiprocessing_context="nonsense")])
def test_argument_errors_as_torch(kwargs):
    x, y = make_data(n=4)
    with pytest.raises(ValueError):
        tud.DataLoader(ListDataset(x, y), **kwargs)
    with pytest.raises(ValueError):
        DataLoader(ListDataset(x, y), **kwargs)


def test_default_samplers_and_shuffle_none():
    ds = ListDataset(*make_data(n=5))
    plain = DataLoader(ds)
    assert isinstance(plain.sampler, SequentialSampler) and isinstance(plain.batch_sampler, BatchSampler)
    assert plain.batch_size == 1 and len(plain) == 5
    shuffled = DataLoader(ds, shuffle=True, seed=0)
    assert isinstance(shuffled.sampler, RandomSampler)
    no_batching = DataLoader(ds, batch_size=None)
    assert no_batching.batch_sampler is None and no_batching.collate_fn is default_convert
    with pytest.raises(ValueError, match="should not be set after DataLoader is initialized"):
        plain.batch_size = 3


def test_sampler_with_replacement_drives_the_loader():
    x = np.arange(6)
    sampler = RandomSampler(range(6), replacement=True, num_samples=14, generator=np.random.default_rng(0))
    loader = DataLoader(TensorDataset(x), batch_size=4, sampler=sampler)
    sizes = [len(b[0]) for b in loader]
    assert sizes == [4, 4, 4, 2] and len(loader) == 4


Point = collections.namedtuple("Point", ["x", "y"])


@pytest.mark.parametrize("samples", [
    [0, 1, 2], [1.5, 2.5], [np.float64(1.0), np.float64(2.0)], [True, False], ["a", "b"], [b"a", b"b"],
    [(np.ones(2), 0), (np.zeros(2), 1)], [[np.ones(2), 0], [np.zeros(2), 1]],
    [{"a": np.ones((2, 2)), "b": "s"}, {"a": np.zeros((2, 2)), "b": "t"}],
    [collections.OrderedDict(a=1, b=2.0), collections.OrderedDict(a=3, b=4.0)],
    [Point(1, np.ones(3)), Point(2, np.zeros(3))],
    [{"nested": [(1, 2.0), (3, 4.0)]}, {"nested": [(5, 6.0), (7, 8.0)]}],
])
def test_default_collate_structure_equals_torchs(samples):
    ours, theirs = _plain(default_collate(samples)), _plain(tud.default_collate(samples))
    _assert_same(ours, theirs)


def test_default_collate_dtypes():
    # glassnet.tensor's dtypes (PyTorch would keep float64 and make Python floats float64)
    assert default_collate([1.5, 2.5]).dtype == np.float32
    assert default_collate([np.ones(2), np.ones(2)]).dtype == np.float32
    assert default_collate([np.uint8(3), np.uint8(4)]).dtype == np.int64
    assert default_collate([True, False]).dtype == bool
    # a Tensor keeps its dtype, as torch.stack does
    t = glassnet.tensor(np.ones(2), dtype=np.float64)
    assert default_collate([t, t]).dtype == np.float64
    with pytest.raises(TypeError, match="found <class 'object'>"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="found an array of dtype <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])


def test_default_convert_equals_torchs():
    sample = {"a": np.arange(3), "b": (np.ones(2), 1), "c": "s"}
    _assert_same(_plain(default_convert(sample)), _plain(tud.default_convert(sample)))


def test_getitems_is_used_for_a_batch():
    class Batched(ListDataset):
        calls = []

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [self[i] for i in indices]

    ds = Batched(*make_data(n=5))
    assert len(list(DataLoader(ds, batch_size=2))) == 3 and Batched.calls == [[0, 1], [2, 3], [4]]


class Stream(IterableDataset):
    """n samples; with workers, each worker reads every num_workers-th one (sharded by worker id)."""

    worker_info = staticmethod(get_worker_info)

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __iter__(self):
        info = self.worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter([(np.full(2, i, dtype=np.float32), i) for i in range(start, self.n, step)])


class TorchStream(Stream, tud.IterableDataset):
    """The same stream for torch's DataLoader, which asks torch who the worker is."""

    worker_info = staticmethod(tud.get_worker_info)


@pytest.mark.parametrize("batch_size,drop_last", [(3, False), (3, True), (None, False)])
def test_iterable_dataset_equals_torchs(batch_size, drop_last):
    ours = [_plain(b) for b in DataLoader(Stream(10), batch_size=batch_size, drop_last=drop_last)]
    theirs = [_plain(b) for b in tud.DataLoader(TorchStream(10), batch_size=batch_size, drop_last=drop_last)]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        _assert_same(a, b)
    assert len(DataLoader(Stream(10), batch_size=batch_size, drop_last=drop_last)) == len(ours)


def test_iterable_dataset_refuses_samplers():
    for kwargs in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        with pytest.raises(ValueError, match="IterableDataset: expected unspecified"):
            DataLoader(Stream(3), **kwargs)


def test_concat_dataset():
    a = TensorDataset(np.arange(4, dtype=np.float32)[:, None], np.arange(4))
    b = TensorDataset(np.arange(10, 13, dtype=np.float32)[:, None], np.arange(10, 13))
    both = a + b
    assert isinstance(both, ConcatDataset) and len(both) == 7 and both.cumulative_sizes == [4, 7]
    assert both[5][1] == 11 and both[-1][1] == 12
    assert is_array_backed(both)
    order = [6, 0, 4, 3, 5]
    x, y = both.get_batch(order)
    assert y.tolist() == [12, 0, 10, 3, 11] and x[:, 0].tolist() == [12, 0, 10, 3, 11]
    with pytest.raises(IndexError, match="out of range for a ConcatDataset of 7 samples"):
        both[7]
    mixed = ConcatDataset([a, ListDataset(*make_data(n=3))])
    assert not is_array_backed(mixed) and len(list(DataLoader(mixed, batch_size=4))) == 2
    theirs = tud.ConcatDataset([range(4), range(10, 13)])
    assert [both[i][1] for i in range(-7, 7)] == [theirs[i] for i in range(-7, 7)]


def test_pin_memory_is_accepted_and_warns_as_torch():
    ds = TensorDataset(np.ones((4, 2), dtype=np.float32))
    with pytest.warns(UserWarning, match="no accelerator is found"):
        batches = list(DataLoader(ds, batch_size=2, pin_memory=True))
    assert len(batches) == 2


def test_timeout_needs_workers():
    with pytest.raises(ValueError, match="timeout applies to worker processes"):
        iter(DataLoader(TensorDataset(np.ones(3)), timeout=1))


def test_random_split_takes_numpy_generators_only():
    with pytest.raises(TypeError, match="random_split expected generator=None or a NumPy Generator"):
        random_split(TensorDataset(np.arange(4)), [2, 2], generator=object())


@pytest.mark.parametrize("fractions", [[0.5, 0.3, 0.2], [1 / 3] * 3, [0.9, 0.1], [0.25] * 4])
def test_random_split_fraction_lengths_equal_torchs(fractions):
    import warnings
    for n in range(1, 25):
        with warnings.catch_warnings(record=True) as ours_warned:
            warnings.simplefilter("always")
            ours = random_split(TensorDataset(np.arange(n)), fractions, generator=np.random.default_rng(0))
        with warnings.catch_warnings(record=True) as theirs_warned:
            warnings.simplefilter("always")
            theirs = tud.random_split(range(n), fractions, generator=torch.Generator().manual_seed(0))
        assert [len(p) for p in ours] == [len(p) for p in theirs], n
        # an empty split is warned about, as PyTorch does
        assert [str(w.message) for w in ours_warned] == [str(w.message) for w in theirs_warned]
        assert sorted(np.concatenate([p.indices for p in ours]).tolist()) == list(range(n))
