"""glassnet.distributed on real MPI jobs: `mpiexec -n 2` and `-n 3` started from the tests
(mpi4py and the mpich wheel, installed by the test command). If MPI cannot start, these tests
fail: they never skip."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import glassnet
from glassnet import functional as F
from glassnet import nn, optim
from glassnet.testing import gradcheck

from . import ranks

RANKS = Path(__file__).with_name("ranks.py")
MPIEXEC = str(Path(sys.executable).with_name("mpiexec"))


def mpirun(n, what, tmp_path, timeout=120, check=True, **options):
    out = tmp_path / f"{what}-{n}.json"
    cmd = [MPIEXEC, "-n", str(n), sys.executable, str(RANKS), what, str(out), json.dumps(options)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return json.loads(out.read_text())
    return proc


@pytest.mark.parametrize("n", [2, 3])
def test_collectives_match_numpy(n, tmp_path):
    result = mpirun(n, "collectives", tmp_path)
    assert result["world"] == n
    base = np.arange(6, dtype=np.float32).reshape(2, 3)
    every = [base * (r + 1) for r in range(n)]
    expected = {"SUM": np.sum(every, axis=0), "AVG": np.mean(every, axis=0), "MAX": np.max(every, axis=0),
                "MIN": np.min(every, axis=0)}
    for r in result["ranks"]:  # every rank holds the result
        for op, want in expected.items():
            np.testing.assert_allclose(r[op], want, rtol=1e-6, err_msg=op)
        np.testing.assert_array_equal(r["strided"], np.full((2, 3), sum(range(1, n + 1))))
        np.testing.assert_array_equal(r["async"], np.full(3, float(sum(range(n)))))
        np.testing.assert_array_equal(r["broadcast"], np.full(4, float(n - 1 + 10)))
        assert r["all_gather"] == [[k, k * k] for k in range(n)]


def single_process_grads(steps):
    model = ranks.small_cnn()
    x, y = ranks.data()
    for step in steps:
        xb, yb = ranks.shard(x, step, 24, 0, 1), ranks.shard(y, step, 24, 0, 1)
        # a global batch's mean loss; accumulated micro-batches add their means, like the ranks' sums
        F.cross_entropy(model(glassnet.tensor(xb, dtype=xb.dtype)), glassnet.tensor(yb)).backward()
    return {n: p.grad for n, p in model.named_parameters()}


@pytest.mark.parametrize("n", [2, 3])
def test_ddp_gradients_equal_the_single_process_ones(n, tmp_path):
    result = mpirun(n, "grads", tmp_path, bucket_cap_mb=0.0005)  # ~500 bytes: several buckets
    want = single_process_grads([0])
    for r in result["ranks"]:
        for name, g in want.items():
            np.testing.assert_allclose(r["grads"][name], g, rtol=1e-5, atol=1e-6, err_msg=name)
    rank0 = result["ranks"][0]
    assert rank0["buckets"] > 2
    # overlap: the first bucket's reduction started while other gradients were still missing
    started = rank0["params_with_grad_when_started"]
    assert started[0] < len(want) and started == sorted(started)


def test_no_sync_accumulates_then_reduces(tmp_path):
    result = mpirun(2, "grads", tmp_path, accumulate=True)
    want = single_process_grads([0, 1])
    for r in result["ranks"]:
        for name, g in want.items():
            np.testing.assert_allclose(r["grads"][name], g, rtol=1e-5, atol=1e-6, err_msg=name)


def single_process_training(batchnorm, steps, double=False):
    model = ranks.small_cnn(batchnorm, double)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = ranks.data()
    x = x.astype(np.float64) if double else x
    losses = []
    for step in range(steps):
        xb, yb = ranks.shard(x, step, 24, 0, 1), ranks.shard(y, step, 24, 0, 1)
        loss = F.cross_entropy(model(glassnet.tensor(xb, dtype=xb.dtype)), glassnet.tensor(yb))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses), model.state_dict()


@pytest.mark.parametrize("n, batchnorm", [(2, False), (3, False), (2, True), (3, True)])
def test_training_on_n_ranks_equals_one_process_with_the_global_batch(n, batchnorm, tmp_path):
    """200 steps of SGD in float64: the loss trajectory and the final weights (and, with
    SyncBatchNorm, the running statistics) of N ranks with global batch 24 match one process with
    batch 24. (float64, so that the comparison sees the algorithm: in float32 the different order
    of the sums is amplified by the training itself after some fifty steps; see the next test.)"""
    result = mpirun(n, "train", tmp_path, timeout=300, batchnorm=batchnorm, steps=200, double=True)
    losses, state = single_process_training(batchnorm, 200, double=True)
    assert losses[-20:].mean() < losses[:20].mean()  # it learns
    np.testing.assert_allclose(result["ranks"][0]["losses"], losses, rtol=1e-8)
    for r in result["ranks"]:
        for key, value in state.items():
            np.testing.assert_allclose(r["state"][key], value.data, rtol=1e-7, atol=1e-10, err_msg=key)


@pytest.mark.parametrize("batchnorm", [False, True])
def test_float32_training_on_2_ranks_tracks_one_process(batchnorm, tmp_path):
    result = mpirun(2, "train", tmp_path, timeout=300, batchnorm=batchnorm, steps=50)
    losses, _ = single_process_training(batchnorm, 50)
    np.testing.assert_allclose(result["ranks"][0]["losses"], losses, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n", [2, 3])
def test_distributed_sampler_shards_on_a_real_job(n, tmp_path):
    """Under mpiexec the sampler takes its rank and world size from the process group: the shards
    are disjoint but for the padding, equal in size, and together they are the epoch."""
    result = mpirun(n, "sampler", tmp_path, timeout=60)
    for shuffle in ("False", "True"):
        shards = [r[shuffle] for r in result["ranks"]]
        size = -(-23 // n)
        assert all(len(s) == size for s in shards)
        together = sorted(i for s in shards for i in s)
        assert set(together) == set(range(23)) and len(together) - 23 == size * n - 23  # padding repeats
        if shuffle == "False":  # PyTorch's rule: rank r reads r, r + n, r + 2n, ... of the padded order
            order = list(range(23)) + list(range(size * n - 23))
            assert shards == [order[r::n] for r in range(n)]


def test_plain_batchnorm_is_documented_to_differ():
    text = (Path(__file__).parents[2] / "docs" / "distributed.md").read_text()
    assert "SyncBatchNorm" in text and "per-rank statistics" in text


def test_different_models_are_an_error_on_every_rank_not_a_hang(tmp_path):
    result = mpirun(3, "mismatch", tmp_path, timeout=60)
    for r in result["ranks"]:
        assert r["error"] is not None
        assert "rank 1 holds a different model from rank 0" in r["error"]
        assert "0.weight of shape (4, 1, 3, 3)" in r["error"] or "1.weight" in r["error"]


def test_an_exception_on_one_rank_is_reported_once_and_ends_the_job(tmp_path):
    start = time.monotonic()
    proc = mpirun(3, "fail", tmp_path, check=False, timeout=60, how="raise")
    assert time.monotonic() - start < 30
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert output.count("glassnet.distributed: rank 1 of 3 failed") == 1
    assert "ValueError: a deliberate failure on rank 1" in output


def test_a_killed_rank_ends_the_others(tmp_path):
    start = time.monotonic()
    proc = mpirun(3, "fail", tmp_path, check=False, timeout=60, how="kill")
    assert time.monotonic() - start < 30
    assert proc.returncode != 0
    assert "KILLED BY SIGNAL: 9" in proc.stdout + proc.stderr or "signal 9" in proc.stdout + proc.stderr


def test_a_world_of_one_without_mpiexec(tmp_path):
    code = ("import glassnet.distributed as d; d.init_process_group('mpi'); "
            "print(d.get_rank(), d.get_world_size(), d.is_initialized())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["0", "1", "True"]


def test_sync_batchnorm_in_one_process_is_batchnorm():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3, 4, 5)).astype(np.float32)
    glassnet.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    sync = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm2d(3)))[0]
    assert isinstance(sync, nn.SyncBatchNorm)
    tx, sx = glassnet.tensor(x, requires_grad=True), glassnet.tensor(x, requires_grad=True)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    y, ys = bn(tx), sync(sx)
    np.testing.assert_allclose(ys.data, y.data, rtol=1e-5, atol=1e-6)
    y.backward(dy)
    ys.backward(dy)
    np.testing.assert_allclose(sx.grad, tx.grad, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(sync.weight.grad, bn.weight.grad, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(sync.running_var.data, bn.running_var.data, rtol=1e-6)


def test_sync_batchnorm_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    layer = nn.SyncBatchNorm(2).double()
    x = glassnet.tensor(rng.standard_normal((3, 2, 4)), dtype=np.float64, requires_grad=True)
    gradcheck(lambda x, w, b: layer(x), [x, layer.weight, layer.bias])
