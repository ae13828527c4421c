"""A small float32 array that lives on a numba function's stack, for accumulators the compiler
keeps in registers.

A block of accumulators taken from np.empty lives on the heap, and the compiler must assume
that a store into it may change the input arrays the kernel reads: every update then goes
through memory, and the loops are vectorised the wrong way (across the block, with gathers).
An array on the stack is the function's own: with its size and the loops over it fixed when
the function is compiled, LLVM keeps every element in a vector register (direct.py's 8 x 16
block: 16 registers of 8 floats, about 115 GFLOP/s on one core of the test machine against
4-7 for the same loops on a heap array).
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array


@intrinsic
def stack_float32(typingctx, size):
    """stack_float32(n): an uninitialised float32 array of n elements (n a literal integer) on the
    stack of the numba function that calls it; valid until that function returns."""
    if not isinstance(size, types.IntegerLiteral):
        return None
    n, array_type = size.literal_value, types.Array(types.float32, 1, "C")

    def codegen(context, builder, signature, args):
        data = cgutils.alloca_once(builder, context.get_value_type(types.float32), size=n)
        array = make_array(array_type)(context, builder)
        populate_array(array, data=data, shape=[context.get_constant(types.intp, n)],
                       strides=[context.get_constant(types.intp, 4)],
                       itemsize=context.get_constant(types.intp, 4), meminfo=None)
        return array._getvalue()

    return array_type(size), codegen


__all__ = ["stack_float32"]
