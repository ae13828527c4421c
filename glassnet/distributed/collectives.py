"""The process group and the collectives, on MPI's COMM_WORLD (torch.distributed's names).

Each collective takes a Tensor or an ndarray and works in place on its memory; a
non-contiguous array goes through one contiguous copy (MPI needs contiguous buffers).
"""

from __future__ import annotations

import enum
import os
import sys
import time
import traceback

import numpy as np

_comm = None  # MPI.COMM_WORLD once init_process_group has run


class ReduceOp(enum.Enum):
    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"
    PRODUCT = "product"


def is_available() -> bool:
    """True when mpi4py (and an MPI library) can be imported."""
    try:
        from mpi4py import MPI  # noqa: F401
    except ImportError:
        return False
    return True


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError("glassnet.distributed needs MPI: pip install 'glassnet[distributed]' "
                          f"(mpi4py and the mpich runtime); importing mpi4py failed: {error}") from None
    return MPI


def init_process_group(backend: str = "mpi", init_method=None, world_size: int = -1, rank: int = -1, **_) -> None:
    """Join the MPI job this process was started in (a world of one without mpiexec).

    backend must be "mpi" (the only transport glassnet has); world_size and rank, if given, are
    checked against MPI's. Installs an excepthook that reports an exception with its rank and
    aborts the job, so no rank is left waiting for one that died."""
    global _comm
    if backend not in ("mpi", None):
        raise ValueError(f"glassnet.distributed has the 'mpi' backend only, got backend={backend!r}")
    if _comm is not None:
        raise RuntimeError("init_process_group was already called; call destroy_process_group first")
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    for what, given, actual in (("world_size", world_size, comm.Get_size()), ("rank", rank, comm.Get_rank())):
        if given not in (-1, None) and given != actual:
            raise ValueError(f"init_process_group got {what}={given}, but MPI started this process with "
                             f"{what} {actual} (set it with mpiexec -n, or leave it out)")
    _comm = comm
    if comm.Get_size() > 1:
        sys.excepthook = _abort_on_exception


# Seconds a failing rank waits between printing its traceback and ending the job. mpiexec
# forwards a rank's output and handles MPI_Abort on separate channels, so the job can end before
# the rank's last lines are forwarded: in 2 of 7 full test runs here the failure test's job
# ended with its whole output empty (not reproduced on its own: 0 of 30 runs under CPU load,
# with or without the pause). The pause gives the forwarding time; a failure costs half a second.
ABORT_GRACE_SECONDS = 0.5


def _abort_on_exception(kind, value, tb) -> None:
    """One rank failed: print its traceback once, with the rank, and end the whole job."""
    lines = "".join(traceback.format_exception(kind, value, tb))
    rank = _comm.Get_rank() if _comm is not None else "?"
    sys.stderr.write(f"glassnet.distributed: rank {rank} of {get_world_size()} failed "
                     f"(pid {os.getpid()}); aborting all ranks\n{lines}")
    sys.stderr.flush()
    time.sleep(ABORT_GRACE_SECONDS)  # let mpiexec forward the traceback before the job ends
    _comm.Abort(1)


def is_initialized() -> bool:
    return _comm is not None


def _group():
    if _comm is None:
        raise RuntimeError("the default process group is not initialized: call "
                           "glassnet.distributed.init_process_group() first")
    return _comm


def get_rank() -> int:
    return _group().Get_rank()


def get_world_size() -> int:
    return _group().Get_size()


def destroy_process_group() -> None:
    global _comm
    if _comm is not None and sys.excepthook is _abort_on_exception:
        sys.excepthook = sys.__excepthook__
    _comm = None


def _array(tensor) -> np.ndarray:
    data = tensor if isinstance(tensor, np.ndarray) else getattr(tensor, "data", None)  # a Tensor's array
    if not isinstance(data, np.ndarray):
        raise TypeError(f"expected a Tensor or an ndarray, got {type(tensor).__name__}")
    return data


class _InPlace:
    """A contiguous buffer for MPI, and the copy back into a non-contiguous array afterwards."""

    def __init__(self, array: np.ndarray):
        self.array = array
        self.buffer = array if array.flags.c_contiguous else np.ascontiguousarray(array)

    def finish(self) -> None:
        if self.buffer is not self.array:
            self.array[...] = self.buffer


class Work:
    """A started non-blocking collective (async_op=True); wait() completes it."""

    def __init__(self, request, finish):
        self._request, self._finish = request, finish

    def wait(self) -> bool:
        if self._request is not None:
            self._request.Wait()
            self._request = None
            self._finish()
        return True

    def is_completed(self) -> bool:
        return self._request is None or bool(self._request.Test())


def _mpi_op(op: ReduceOp):
    MPI = _mpi()
    op = ReduceOp(op) if not isinstance(op, ReduceOp) else op
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.MAX: MPI.MAX, ReduceOp.MIN: MPI.MIN,
            ReduceOp.PRODUCT: MPI.PROD}[op], op


def all_reduce(tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce tensor over every rank, in place: every rank ends with the sum (AVG: the mean, MAX,
    MIN, PRODUCT) of all ranks' values. async_op=True returns a Work to wait() on."""
    comm, array = _group(), _array(tensor)
    mpi_op, op = _mpi_op(op)
    place = _InPlace(array)
    MPI = _mpi()

    def finish():
        if op is ReduceOp.AVG:
            place.buffer /= np.asarray(comm.Get_size(), place.buffer.dtype)
        place.finish()

    if async_op:
        return Work(comm.Iallreduce(MPI.IN_PLACE, place.buffer, op=mpi_op), finish)
    comm.Allreduce(MPI.IN_PLACE, place.buffer, op=mpi_op)
    finish()
    return None


def broadcast(tensor, src: int = 0, group=None, async_op: bool = False):
    """Every rank's tensor becomes rank src's, in place."""
    comm, array = _group(), _array(tensor)
    if not 0 <= src < comm.Get_size():
        raise ValueError(f"broadcast src must be a rank in [0, {comm.Get_size()}), got {src}")
    place = _InPlace(array)
    if async_op:
        return Work(comm.Ibcast(place.buffer, root=src), place.finish)
    comm.Bcast(place.buffer, root=src)
    place.finish()
    return None


def all_gather(tensor_list: list, tensor, group=None, async_op: bool = False):
    """tensor_list[r] receives rank r's tensor (all of the same shape and dtype), in place."""
    comm, array = _group(), _array(tensor)
    if len(tensor_list) != comm.Get_size():
        raise ValueError(f"all_gather needs a list of {comm.Get_size()} tensors (one per rank), got {len(tensor_list)}")
    outs = [_array(t) for t in tensor_list]
    for r, out in enumerate(outs):
        if out.shape != array.shape or out.dtype != array.dtype:
            raise ValueError(f"all_gather: tensor_list[{r}] has shape {out.shape} and dtype {out.dtype}, "
                             f"expected {array.shape} and {array.dtype} like the input")
    gathered = np.empty((comm.Get_size(),) + array.shape, array.dtype)  # (world, *shape)
    comm.Allgather(np.ascontiguousarray(array), gathered)
    for out, part in zip(outs, gathered):
        out[...] = part
    return Work(None, lambda: None) if async_op else None


def barrier(group=None) -> None:
    _group().Barrier()


def comm():
    """The MPI communicator of the process group (for glassnet's own parallel layers)."""
    return _group()
