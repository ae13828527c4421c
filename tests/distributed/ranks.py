"""Programs the distributed tests run under `mpiexec -n N python ranks.py WHAT OUT`: each rank
does its part and rank 0 writes what the test checks to OUT as JSON (arrays as lists)."""

import json
import os
import signal
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import glassnet  # noqa: E402
import glassnet.distributed as dist  # noqa: E402
from glassnet import functional as F  # noqa: E402
from glassnet import nn, optim  # noqa: E402
from glassnet.data.shapes import make_shapes  # noqa: E402


def small_cnn(batchnorm: bool = False, double: bool = False):
    glassnet.manual_seed(1)  # the test builds the same model in one process
    layers = [nn.Conv2d(1, 4, 3, padding=1)] + ([nn.BatchNorm2d(4)] if batchnorm else []) + [
        nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
        nn.Linear(24, 5)]
    model = nn.Sequential(*layers)
    return model.double() if double else model


def data(n=96):
    x, y = make_shapes(n, size=28, seed=3)
    return x[:, :, ::2, ::2].copy(), y  # 14 x 14: small and quick


def shard(array, step, batch, rank, world):
    """Rank r's share of global batch `step`: the same samples the single process uses, in order."""
    start = (step * batch) % len(array)
    glob = array[start:start + batch]
    per = batch // world
    return glob[rank * per:(rank + 1) * per]


def collectives(rank, world):
    out = {}
    a = np.arange(6, dtype=np.float32).reshape(2, 3) * (rank + 1)
    for op in ("SUM", "AVG", "MAX", "MIN"):
        t = glassnet.tensor(a.copy())
        dist.all_reduce(t, getattr(dist.ReduceOp, op))
        out[op] = t.data.tolist()
    strided = np.zeros((4, 3), np.float32)[::2]  # non-contiguous: reduced through a copy
    strided[...] = rank + 1
    dist.all_reduce(strided)
    out["strided"] = strided.tolist()
    b = np.full(3, float(rank), np.float64)
    work = dist.all_reduce(b, async_op=True)
    work.wait()
    out["async"] = b.tolist()
    c = np.full(4, float(rank + 10), np.float32)
    dist.broadcast(c, src=world - 1)
    out["broadcast"] = c.tolist()
    parts = [np.zeros(2, np.int64) for _ in range(world)]
    dist.all_gather(parts, np.array([rank, rank * rank]))
    out["all_gather"] = [p.tolist() for p in parts]
    dist.barrier()
    return out


def grads(rank, world, bucket_cap_mb=4.0, accumulate=False):
    """DDP gradients of one global batch of 24 (or two accumulated under no_sync)."""
    model = nn.parallel.DistributedDataParallel(small_cnn(), bucket_cap_mb=bucket_cap_mb)
    x, y = data()
    steps = [0, 1] if accumulate else [0]
    started = []
    original = dist.collectives.all_reduce

    def logged(t, op=dist.ReduceOp.SUM, group=None, async_op=False):
        started.append(sum(p.grad is not None for p in model.parameters()))
        return original(t, op, group, async_op)

    dist.collectives.all_reduce = logged
    for i, step in enumerate(steps):
        xb, yb = shard(x, step, 24, rank, world), shard(y, step, 24, rank, world)
        loss = F.cross_entropy(model(glassnet.tensor(xb, dtype=xb.dtype)), glassnet.tensor(yb))
        if accumulate and i == 0:
            with model.no_sync():
                loss.backward()
        else:
            loss.backward()
    return {"grads": {n: p.grad.tolist() for n, p in model.module.named_parameters()},
            "buckets": len(model._buckets), "params_with_grad_when_started": started}


def train(rank, world, batchnorm=False, steps=200, double=False):
    model = small_cnn(batchnorm, double)
    if batchnorm:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = nn.parallel.DistributedDataParallel(model)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = data()
    x = x.astype(np.float64) if double else x
    losses = []
    for step in range(steps):
        xb, yb = shard(x, step, 24, rank, world), shard(y, step, 24, rank, world)
        loss = F.cross_entropy(model(glassnet.tensor(xb, dtype=xb.dtype)), glassnet.tensor(yb))
        opt.zero_grad()
        loss.backward()
        opt.step()
        mean = np.array([loss.item()])
        dist.all_reduce(mean, dist.ReduceOp.AVG)  # every shard has the same size: the global mean
        losses.append(float(mean[0]))
    state = {k: v.data.tolist() for k, v in model.module.state_dict().items()}
    return {"losses": losses, "state": state}


def sampler(rank, world):
    """Each rank's DistributedSampler shard, num_replicas and rank taken from the process group."""
    from glassnet.data import DistributedSampler
    shards = {}
    for shuffle in (False, True):
        s = DistributedSampler(range(23), shuffle=shuffle, seed=4)
        s.set_epoch(2)
        shards[str(shuffle)] = [int(i) for i in s]
    return shards


def mismatch(rank, world):
    model = small_cnn() if rank != 1 else nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.Linear(3, 5))
    try:
        nn.parallel.DistributedDataParallel(model)
    except RuntimeError as error:
        return {"error": str(error), "rank": rank}
    return {"error": None}


def fail(rank, world, how):
    x = np.ones(8)
    for step in range(10_000):
        dist.all_reduce(x)
        x[...] = 1
        if step == 20 and rank == 1:
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise ValueError("a deliberate failure on rank 1")
    return {}


def main():
    what, out = sys.argv[1], sys.argv[2]
    options = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    result = globals()[what](rank, world, **options)
    results = dist.collectives.comm().gather(result, root=0)
    if rank == 0:
        with open(out, "w") as f:
            json.dump({"world": world, "ranks": results}, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
