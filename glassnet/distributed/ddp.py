"""DistributedDataParallel: one model per rank, gradients averaged over the ranks during backward.

    model = DistributedDataParallel(model)       # after init_process_group
    loss = F.cross_entropy(model(x_shard), y_shard)
    loss.backward()                              # .grad is the mean over the ranks' gradients
    optimizer.step()                             # the same update on every rank

At construction rank 0's parameters and buffers are broadcast, so every rank starts equal, and
every rank checks that it holds the same architecture (names, shapes and dtypes of the
parameters); a mismatch is an error on every rank naming the first parameter that differs,
never a hang in a collective.

During backward the gradients are averaged with non-blocking Allreduce (Iallreduce), bucketed
as PyTorch buckets them: the parameters in reverse order of registration (about the order in
which backward produces their gradients) cut into buckets of at most bucket_cap_mb. A bucket's
reduction starts as soon as the last of its gradients is complete (a post-accumulate-grad hook
on each parameter), so the communication of the late layers overlaps the backward of the early
ones; buckets are started in one fixed order on every rank (MPI needs the same order of
collectives everywhere), and backward() returns once every reduction has finished.

no_sync() skips the reductions: gradients accumulate locally, and the first backward outside
it averages the accumulated sums (gradient accumulation over several micro-batches).
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..autograd import queue_callback
from ..nn.module import Module
from . import collectives


class _Bucket:
    def __init__(self, params):
        self.params = params  # in the order their gradients are packed
        self.offsets = np.cumsum([0] + [p.data.size for p in params])
        self.buffer = np.zeros(self.offsets[-1], params[0].dtype)  # flat, contiguous: one Iallreduce
        self.ready: set[int] = set()
        self.work = None


class DistributedDataParallel(Module):
    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None, bucket_cap_mb: float = 4.0,
                 find_unused_parameters: bool = False, **_):
        super().__init__()
        if not collectives.is_initialized():
            raise RuntimeError("DistributedDataParallel needs the process group: call "
                               "glassnet.distributed.init_process_group() first")
        if device_ids not in (None, [], ["cpu"]):
            raise ValueError(f"DistributedDataParallel runs on the CPU: device_ids must be None, got {device_ids!r}")
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self._comm = collectives.comm()
        self._world = self._comm.Get_size()
        self._check_same_architecture()
        for _, p in self.module.named_parameters():
            collectives.broadcast(p, 0)
        for _, b in self.module.named_buffers():
            if b is not None:
                collectives.broadcast(b, 0)
        self._params = [p for p in self.module.parameters() if p.requires_grad]
        self._buckets = self._make_buckets(bucket_cap_mb)
        self._sync = True
        self._next = 0  # the first bucket not yet started in this backward
        self._queued = False
        self._where = {}
        for b, bucket in enumerate(self._buckets):
            for i, p in enumerate(bucket.params):
                self._where[id(p)] = (b, i)
                p.register_post_accumulate_grad_hook(self._grad_ready)

    # ---- construction ----

    def _check_same_architecture(self) -> None:
        mine = [(name, tuple(p.shape), str(p.dtype)) for name, p in self.module.named_parameters()]
        everyone = self._comm.allgather(mine)  # small Python lists: names, shapes, dtypes
        for rank, theirs in enumerate(everyone):
            if theirs == everyone[0]:
                continue
            first = next((i for i, (a, b) in enumerate(zip(everyone[0], theirs)) if a != b),
                         min(len(theirs), len(everyone[0])))

            def describe(params, i):
                return "nothing (it has fewer parameters)" if i >= len(params) else \
                    f"{params[i][0]} of shape {params[i][1]}, {params[i][2]}"

            raise RuntimeError(f"DistributedDataParallel: rank {rank} holds a different model from rank 0: "
                               f"parameter {first} is {describe(everyone[0], first)} on rank 0 and "
                               f"{describe(theirs, first)} on rank {rank}")

    def _make_buckets(self, cap_mb: float) -> list[_Bucket]:
        cap = cap_mb * (1 << 20)
        buckets, current, size = [], [], 0
        for p in reversed(self._params):  # backward produces the last layers' gradients first
            if current and (size + p.data.nbytes > cap or p.dtype != current[0].dtype):
                buckets.append(_Bucket(current))
                current, size = [], 0
            current.append(p)
            size += p.data.nbytes
        if current:
            buckets.append(_Bucket(current))
        return buckets

    # ---- forward and the reductions during backward ----

    def forward(self, *args, **kwargs):
        if self.broadcast_buffers and self.training:  # e.g. BatchNorm running statistics: rank 0's
            for _, b in self.module.named_buffers():
                if b is not None:
                    collectives.broadcast(b, 0)
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Accumulate gradients locally; the next backward outside this block reduces them."""
        previous, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = previous

    def _grad_ready(self, p) -> None:
        if not self._sync:
            return
        if not self._queued:
            queue_callback(self._finish)
            self._queued = True
        b, i = self._where[id(p)]
        bucket = self._buckets[b]
        bucket.buffer[bucket.offsets[i]:bucket.offsets[i + 1]] = p.grad.reshape(-1)
        bucket.ready.add(i)
        self._start_ready_buckets()

    def _start_ready_buckets(self) -> None:
        # in bucket order only, so every rank issues the same collectives in the same order
        while self._next < len(self._buckets) and \
                len(self._buckets[self._next].ready) == len(self._buckets[self._next].params):
            bucket = self._buckets[self._next]
            bucket.work = collectives.all_reduce(bucket.buffer, collectives.ReduceOp.SUM, async_op=True)
            self._next += 1

    def _finish(self) -> None:
        """End of backward: start what is left (parameters that got no gradient count as zeros),
        wait for every reduction, and write the means back into .grad."""
        for bucket in self._buckets[self._next:]:
            for i, p in enumerate(bucket.params):
                if i not in bucket.ready:
                    g = p.grad.reshape(-1) if p.grad is not None else 0
                    bucket.buffer[bucket.offsets[i]:bucket.offsets[i + 1]] = g
                    bucket.ready.add(i)
        self._start_ready_buckets()
        scale = np.asarray(1 / self._world, self._buckets[0].buffer.dtype) if self._buckets else None
        for bucket in self._buckets:
            bucket.work.wait()
            bucket.buffer *= scale
            for i, p in enumerate(bucket.params):
                mean = bucket.buffer[bucket.offsets[i]:bucket.offsets[i + 1]].reshape(p.shape)
                if p.grad is None:
                    p.grad = mean.copy()
                else:
                    p.grad[...] = mean
            bucket.ready.clear()
            bucket.work = None
        self._next, self._queued = 0, False
