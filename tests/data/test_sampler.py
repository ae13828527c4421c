"""Samplers against PyTorch's: exactly equal where no random numbers are involved, and with the
same structure (counts, shards, padding) where PyTorch's and NumPy's random streams differ."""

import numpy as np
import pytest
import torch.utils.data as tud

import glassnet
from glassnet.data import (BatchSampler, DistributedSampler, RandomSampler, SequentialSampler,
                           SubsetRandomSampler, WeightedRandomSampler)


def test_sequential_sampler_matches_torch():
    assert list(SequentialSampler(range(7))) == list(tud.SequentialSampler(range(7)))
    assert len(SequentialSampler(range(7))) == 7


@pytest.mark.parametrize("n,batch_size,drop_last", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False),
                                                    (2, 5, True), (0, 2, False)])
def test_batch_sampler_matches_torch(n, batch_size, drop_last):
    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


def _counts(indices, n):
    return sorted(np.bincount(np.asarray(indices, dtype=np.int64), minlength=n).tolist())


@pytest.mark.parametrize("num_samples", [None, 4, 10, 23])
def test_random_sampler_without_replacement_has_torchs_structure(num_samples):
    n = 10
    ours = list(RandomSampler(range(n), num_samples=num_samples, generator=np.random.default_rng(0)))
    theirs = list(tud.RandomSampler(range(n), num_samples=num_samples))
    assert len(ours) == len(theirs) == (num_samples or n)
    # how often each index appears: whole permutations, then part of one more
    assert _counts(ours, n) == _counts(theirs, n)
    whole = len(ours) // n
    for k in range(whole):
        assert sorted(ours[k * n:(k + 1) * n]) == list(range(n))
    assert len(set(ours[whole * n:])) == len(ours) - whole * n


def test_random_sampler_with_replacement_and_generators():
    s = RandomSampler(range(5), replacement=True, num_samples=1000, generator=np.random.default_rng(1))
    drawn = np.array(list(s))
    assert len(drawn) == len(s) == 1000 and drawn.min() == 0 and drawn.max() == 4
    # a uniform draw: each of the 5 values near 200 times (fixed seed, so this is not flaky)
    assert np.all(np.abs(np.bincount(drawn) - 200) < 60)
    # the same generator state gives the same indices; a given generator's stream continues
    a = RandomSampler(range(8), generator=np.random.default_rng(3))
    b = RandomSampler(range(8), generator=np.random.default_rng(3))
    first = list(a)
    assert first == list(b) and list(a) != first
    # without a generator each pass draws a seed from glassnet's default generator
    glassnet.manual_seed(4)
    c = list(RandomSampler(range(50)))
    glassnet.manual_seed(4)
    assert list(RandomSampler(range(50))) == c


@pytest.mark.parametrize("kwargs,error", [({"replacement": 1}, TypeError), ({"num_samples": 0}, ValueError),
                                          ({"num_samples": 2.5}, ValueError)])
def test_random_sampler_errors_as_torch(kwargs, error):
    with pytest.raises(error):
        tud.RandomSampler(range(3), **kwargs)
    with pytest.raises(error, match="should be"):
        RandomSampler(range(3), **kwargs)


def test_generator_must_be_numpy_like():
    with pytest.raises(TypeError, match="NumPy Generator.*got int"):
        RandomSampler(range(3), generator=5)


def test_subset_random_sampler():
    indices = [3, 9, 4, 17, 0]
    s = SubsetRandomSampler(indices, generator=np.random.default_rng(0))
    drawn = list(s)
    assert sorted(drawn) == sorted(indices) and len(s) == 5
    assert sorted(tud.SubsetRandomSampler(indices)) == sorted(drawn)


def test_weighted_random_sampler():
    weights = [0.0, 1.0, 3.0, 0.0, 6.0]
    s = WeightedRandomSampler(weights, 20_000, generator=np.random.default_rng(0))
    drawn = np.array(list(s))
    freq = np.bincount(drawn, minlength=5) / len(drawn)
    np.testing.assert_allclose(freq, np.array(weights) / 10, atol=0.015)
    no_repeat = list(WeightedRandomSampler(weights, 3, replacement=False, generator=np.random.default_rng(0)))
    assert sorted(no_repeat) == [1, 2, 4]  # the three non-zero weights, each once
    theirs = list(tud.WeightedRandomSampler(weights, 3, replacement=False))
    assert sorted(theirs) == sorted(no_repeat)


@pytest.mark.parametrize("args,error", [(([1.0, 2.0], 0), ValueError), (([[1.0, 2.0]], 1), ValueError),
                                        (([1.0, 2.0], 1, 1), ValueError)])
def test_weighted_random_sampler_errors_as_torch(args, error):
    with pytest.raises(error):
        tud.WeightedRandomSampler(*args)
    with pytest.raises(error):
        WeightedRandomSampler(*args)


def test_weighted_random_sampler_refuses_impossible_draws():
    with pytest.raises(ValueError, match="cannot draw 3 samples without replacement from 2 non-zero weights"):
        WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False)
    with pytest.raises(ValueError, match="not all zero"):
        WeightedRandomSampler([0.0, 0.0], 1)


# ---- DistributedSampler ----

CASES = [(n, replicas, drop_last) for n in (0, 1, 5, 10, 11, 13) for replicas in (1, 2, 3, 4, 7)
         for drop_last in (False, True)]


@pytest.mark.parametrize("n,replicas,drop_last", CASES)
def test_distributed_sampler_unshuffled_equals_torch(n, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = tud.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        assert (ours.num_samples, ours.total_size) == (theirs.num_samples, theirs.total_size)


@pytest.mark.parametrize("n,replicas,drop_last", [c for c in CASES if c[0] > 0])
def test_distributed_sampler_shards_are_the_epoch(n, replicas, drop_last):
    shards = []
    for rank in range(replicas):
        s = DistributedSampler(range(n), replicas, rank, seed=7, drop_last=drop_last)
        s.set_epoch(3)
        shards.append(list(s))
    perm = np.random.default_rng(7 + 3).permutation(n)
    # padding and striding work on positions: each shuffled shard is torch's unshuffled shard of
    # positions, read through this epoch's permutation
    for rank, shard in enumerate(shards):
        positions = list(tud.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last))
        assert shard == [int(perm[p]) for p in positions]
    every = [i for shard in shards for i in shard]
    if drop_last:  # disjoint shards, only the tail of the order dropped
        assert len(set(every)) == len(every) == (n // replicas) * replicas
    else:  # every sample at least once, the repeats are the padding
        assert set(every) == set(range(n)) and len(every) == -(-n // replicas) * replicas


def test_distributed_sampler_epochs_and_ranks():
    a = DistributedSampler(range(20), num_replicas=2, rank=0, seed=1)
    b = DistributedSampler(range(20), num_replicas=2, rank=1, seed=1)
    e0 = list(a)
    assert list(a) == e0  # without set_epoch every pass is the same epoch (PyTorch's warning)
    a.set_epoch(1)
    assert list(a) != e0
    b.set_epoch(1)
    assert sorted(list(a) + list(b)) == list(range(20))
    assert list(DistributedSampler(range(20), 2, 0, seed=2)) != e0


def test_distributed_sampler_errors():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError):
        tud.DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(RuntimeError, match="needs num_replicas and rank, or an initialised process group"):
        DistributedSampler(range(4))


def test_distributed_sampler_in_a_loader_follows_set_epoch():
    x = np.arange(12)
    loader = glassnet.data.DataLoader(glassnet.data.TensorDataset(x), batch_size=3,
                                      sampler=DistributedSampler(range(12), 2, 1, seed=0))
    loader.set_epoch(2)  # the fit loop's call reaches the sampler
    got = np.concatenate([b[0].data for b in loader]).tolist()
    expected = DistributedSampler(range(12), 2, 1, seed=0)
    expected.set_epoch(2)
    assert got == list(expected)
