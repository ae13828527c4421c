"""Data-parallel training over MPI, named as torch.distributed.

    mpiexec -n 4 python train.py          # or: mpiexec -n 4 glassnet train ...

    import glassnet.distributed as dist
    dist.init_process_group(backend="mpi")          # rank and world size come from MPI
    model = glassnet.nn.parallel.DistributedDataParallel(model)

MPI does the transport (mpi4py bindings, the MPICH runtime from PyPI's `mpich` wheel:
`pip install 'glassnet[distributed]'`); glassnet adds no sockets of its own. Launched without
mpiexec, a program is a world of one process. The collectives work in place on Tensors and
ndarrays, as torch.distributed's do on tensors.

MPI is fail-stop: when one rank dies, mpiexec ends the others within about a second and names
the dead process's PID; init_process_group installs an excepthook so that an exception on one
rank prints its traceback once, prefixed with the rank, and aborts the whole job instead of
leaving the others waiting in a collective.
"""

from .collectives import (ReduceOp, Work, all_gather, all_reduce, barrier, broadcast, destroy_process_group,
                          get_rank, get_world_size, init_process_group, is_available, is_initialized)

__all__ = ["ReduceOp", "Work", "all_gather", "all_reduce", "barrier", "broadcast", "destroy_process_group",
           "get_rank", "get_world_size", "init_process_group", "is_available", "is_initialized"]
