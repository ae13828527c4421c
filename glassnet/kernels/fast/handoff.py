"""The compiled hand-off: a helper thread that runs compiled parts of a split without the GIL.

A split through threads.run_side_by_side hands each helper a Python call. The helper needs the
GIL to start it and to finish it, and so does the caller for its own part: when one of them
asks for the GIL while the other holds it, it sleeps, and waking a sleeping thread took about
25 us on the 2-core machine of docs/benchmarks.md (threads.py's SETTLE_SECONDS and
_spin_until_above work around the worst of it). A split that did nothing took 36-40 us that
way, and a ReLU on LeNet-5's (64, 6, 28, 28) map shared between two threads 70-100 us, where
one thread alone took 48-54.

Here a part is a compiled C function `void part(int64 block)`, block the address of an int64
array that holds the part's range and its arrays' addresses and shapes (each kernel module
writes its parts as plain functions, e.g. relu.py's and direct.py's; compiled_part compiles
them). A helper that is awake between tasks waits in `serve`, compiled code that watches its
mailbox; the caller puts the part's address and its block there (`post`), runs its own part
(`call`) and waits for the helper's (`wait`), all without the GIL (`run_pair` does the three in
one call). Posting, running and waiting for a part that does nothing takes 0.7 us; the ReLU
above, split through threads.split_compiled (which also pins the caller and builds the blocks),
34-38 us; in a LeNet-5 step each such split cost about 24 us more than its caller's part before
run_pair and the compiled `address` trimmed the Python around it (docs/benchmarks.md).

The mailbox (one per helper, 8 int64: one 64-byte cache line):
    [STATE]   IDLE (the helper is not in serve: use the Python path), LISTENING (in serve,
              free), CLAIMED (a caller is writing its part), POSTED (the part is there to run)
    [PART]    the part's address          [BLOCK]  its block's address
    [DONE]    parts run so far
A caller claims a LISTENING helper by compare-and-swap (so two callers never both post, and a
helper that is leaving serve never misses a part), writes PART and BLOCK, then sets POSTED; the
helper runs the part, counts DONE up and sets LISTENING again. It leaves serve only by
swapping LISTENING for IDLE. Fences keep the compiler and the CPU from reordering the writes
around these steps.
"""

from __future__ import annotations

import threading

import numpy as np
from llvmlite import ir
from numba import cfunc, njit, types
from numba.extending import intrinsic
from numba.np.arrayobj import make_array

IDLE, LISTENING, CLAIMED, POSTED = 0, 1, 2, 3
STATE, PART, BLOCK, DONE = 0, 1, 2, 3
MAILBOX_SIZE = 8  # int64: one cache line, so two helpers' mailboxes never share one

_sched_yield = types.ExternalFunction("sched_yield", types.int32())


def mailbox() -> np.ndarray:
    """A fresh mailbox: IDLE, nothing run."""
    return np.zeros(MAILBOX_SIZE, dtype=np.int64)


# ---------------------------------------------------------------- the four machine operations

@intrinsic
def call_part(typingctx, address, block):
    """call_part(address, block): call the C function `void f(int64)` at `address` with `block`."""
    def codegen(context, builder, signature, args):
        function_type = ir.FunctionType(ir.VoidType(), [ir.IntType(64)])
        function = builder.inttoptr(args[0], function_type.as_pointer())
        builder.call(function, [context.cast(builder, args[1], signature.args[1], types.int64)])
        return context.get_dummy_value()

    return types.void(address, block), codegen


@intrinsic
def fence(typingctx):
    """fence(): no memory access moves across this point, in the compiler or in the CPU."""
    def codegen(context, builder, signature, args):
        builder.fence("seq_cst")
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def compare_and_swap(typingctx, array, expected, new):
    """compare_and_swap(array, expected, new): atomically, if array[0] == expected set it to new;
    whether it did (array: a 1-D int64 array)."""
    def codegen(context, builder, signature, args):
        first = make_array(signature.args[0])(context, builder, args[0]).data
        old = context.cast(builder, args[1], signature.args[1], types.int64)
        value = context.cast(builder, args[2], signature.args[2], types.int64)
        return builder.extract_value(builder.cmpxchg(first, old, value, "seq_cst", "seq_cst"), 1)

    return types.boolean(array, expected, new), codegen


@intrinsic
def pointer(typingctx, address, dtype):
    """pointer(address, np.float32): the address as a pointer to that dtype (for numba.carray)."""
    element = getattr(dtype, "dtype", dtype)  # the number class np.float32 is typed as
    if not isinstance(element, types.Number):
        return None
    pointer_type = types.CPointer(element)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(context.cast(builder, args[0], signature.args[0], types.int64),
                                context.get_value_type(pointer_type))

    return pointer_type(address, dtype), codegen


# ---------------------------------------------------------------- the helper's side

@njit(nogil=True, cache=True)
def serve(box, posted, value, rounds, finished, settle):
    """A helper's wait between tasks, without the GIL: count `finished` up (its last Python task;
    the caller waiting for it may now take the GIL), then run the parts posted to `box` until
    posted[0] > value (a Python task came: return True after `settle` more rounds of sched_yield,
    threads._spin_until_above's) or `rounds` rounds passed with nothing to do (return False)."""
    for i in range(finished.shape[0]):
        finished[i] += 1
    box[STATE] = LISTENING
    fence()
    idle = 0
    while True:
        if box[STATE] == POSTED:
            fence()  # read PART and BLOCK after seeing POSTED
            call_part(box[PART], box[BLOCK])
            fence()  # the part's writes before DONE
            box[DONE] += 1
            fence()
            box[STATE] = LISTENING
            idle = 0
        elif (posted[0] > value or idle >= rounds) and compare_and_swap(box, LISTENING, IDLE):
            for _ in range(settle if posted[0] > value else 0):
                _sched_yield()
            return posted[0] > value
        else:
            _sched_yield()
            idle += 1


# ---------------------------------------------------------------- the caller's side

@njit(nogil=True, cache=True)
def post(box, part, block):
    """Hand `part(block)` to the helper of `box`: the number its DONE count reaches when it has
    run, or -1 when the helper is not listening (then nothing was handed over)."""
    if not compare_and_swap(box, LISTENING, CLAIMED):
        return -1
    box[PART], box[BLOCK] = part, block
    done = box[DONE] + 1
    fence()  # PART and BLOCK before POSTED
    box[STATE] = POSTED
    return done


@njit(nogil=True, cache=True)
def call(part, block):
    """Run `part(block)` here (the caller's own part), without the GIL."""
    call_part(part, block)


@njit(nogil=True, cache=True)
def wait(box, done):
    """Wait, awake, until the helper of `box` has run the part that brings DONE to `done`."""
    while box[DONE] < done:
        _sched_yield()
    fence()  # the helper's writes are read after this


@njit(nogil=True, cache=True)
def run_pair(box, part, there, here):
    """post(box, part, there), call(part, here), wait: the two parts of a split over two workers
    in one compiled call. The DONE count reached, or -1 (nothing run) when the helper is not
    listening."""
    done = post(box, part, there)
    if done < 0:
        return -1
    call_part(part, here)
    wait(box, done)
    return done


def compiled_part(function) -> int:
    """The address of `function(block)` compiled as a part, the C function `void f(int64 block)`.
    Compiled on first use, not at import (numba keeps it in its cache), so that importing glassnet
    compiles nothing and the command's first-run notice comes first."""
    part = _parts.get(function)
    if part is None:
        with _parts_lock:  # two threads asking at once compile it once: the one kept is the one handed out
            part = _parts.get(function)
            if part is None:
                part = _parts[function] = cfunc(types.void(types.int64), cache=True, error_model="numpy")(function)
    return part.address


_parts: dict = {}  # function -> its compiled part, kept for the life of the process (the code lives in it)
_parts_lock = threading.Lock()


@njit(cache=True)
def address(array):
    """The address of an array's first element: a.ctypes.data, compiled (0.14 us against NumPy's
    0.76; a LeNet-5 step asks for about 90 when it builds its parts' blocks). The caller keeps the
    array alive until the part has run."""
    return array.ctypes.data


__all__ = ["mailbox", "serve", "post", "call", "wait", "run_pair", "pointer", "compiled_part", "address",
           "call_part", "fence", "compare_and_swap"]
