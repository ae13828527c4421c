"""A block of 128 float32 accumulators that the compiler keeps in vector registers, and the
one multiply-add the direct convolution kernels (direct.py, single_channel.py) are made of:

    acc[i, :] += a_i * v[at : at + LANES]      i < ROWS: eight scalars a_i times one vector of 16
    acc[i, :] += a_i * v[at : at + WIDE_LANES] i < WIDE_ROWS: four scalars times one vector of 32

(multiply_add, the 8 x 16 block; multiply_add_wide, the 4 x 32 block: half the scalars to load
for as many multiply-adds, which pays when each scalar is loaded anew for every product, as in
direct.py's input gradient).

The block lives on the numba function's stack (stack_float32). A block taken from np.empty
would live on the heap, and the compiler must assume that a store into it may change the input
arrays the kernel reads: every update then goes through memory, and the loops are vectorised
the wrong way (across the block, with gathers). An array on the stack is the function's own:
with its size and the loops over it fixed when the function is compiled, LLVM keeps every
element in a vector register (direct.py's 8 x 16 block: 16 registers of 8 floats, about 115
GFLOP/s on one core of the test machine against 4-7 for the same loops on a heap array).
"""

from __future__ import annotations

from numba import njit, types, uint64
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array

ROWS, LANES = 8, 16  # the 8 x 16 block: scalars, and the vector's length (two AVX registers)
WIDE_ROWS, WIDE_LANES = 4, 32  # the 4 x 32 block
_OPTIONS = dict(nogil=True, cache=True, error_model="numpy", fastmath={"contract"}, inline="always")


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


@intrinsic
def prefer_wide_vectors(typingctx):
    """prefer_wide_vectors(): let the compiler use the CPU's widest vector registers in the numba
    function that calls it (call it first thing; it computes nothing).

    LLVM's tuning for Intel's AVX-512 CPUs prefers 256-bit vectors ("prefer-256-bit": the
    512-bit units once lowered the clock), so numba's code for the blocks above used 16 of
    AVX-512's 32 registers at half their width. The function attribute "prefer-vector-width"=512
    (what clang's -mprefer-vector-width=512 sets) lifts that for one function, leaving the rest of
    numba alone. The same fused multiply-adds run in the same order, so the bytes do not change.
    Measured per kernel, one thread, wide / as before (medians of 4 alternating runs): direct.py's
    forward 267 / 327 us for (64, 6, 14x14) -> 16, 5x5 and 437 / 506 for (64, 8, 16x16) -> 16,
    3x3; single_channel.py's forward 454 / 481 for LeNet-5's first layer. direct.py's weight
    gradient, paired over four layers (5 alternating runs): 0.97-1.01 of the time at one thread,
    0.90-0.97 at two. Its 8 x 16 input gradient lost on the 3x3 layer (1015 / 807 us); its 4 x 32
    one asks for wide vectors (direct.py). On CPUs without 512-bit vectors the attribute
    changes nothing. (llvmlite's attribute set accepts only the attributes it knows, so the
    string attribute is added to the set directly; the IR is printed and parsed again.)"""
    def codegen(context, builder, signature, args):
        attributes = builder.function.attributes
        set.add(attributes, '"prefer-vector-width"="512"')
        set.add(attributes, '"min-legal-vector-width"="512"')
        return context.get_dummy_value()

    return types.none(), codegen


@njit(**_OPTIONS)
def multiply_add(acc, x0, x1, x2, x3, x4, x5, x6, x7, v, at):
    """The block: acc[i, :] += x_i * v[at : at + LANES] for i < 8 (acc (ROWS, LANES) flat). Eight
    scalars by name, not an array, and fixed counts, so that all of it stays in registers."""
    for o in range(LANES):
        w = v[at + uint64(o)]
        acc[o] += x0 * w
        acc[16 + o] += x1 * w
        acc[32 + o] += x2 * w
        acc[48 + o] += x3 * w
        acc[64 + o] += x4 * w
        acc[80 + o] += x5 * w
        acc[96 + o] += x6 * w
        acc[112 + o] += x7 * w


@njit(**_OPTIONS)
def multiply_add_wide(acc, x0, x1, x2, x3, v, at):
    """The 4 x 32 block: acc[i, :] += x_i * v[at : at + WIDE_LANES] for i < 4 (acc (WIDE_ROWS,
    WIDE_LANES) flat, the same 128 values as the 8 x 16 block)."""
    for o in range(WIDE_LANES):
        w = v[at + uint64(o)]
        acc[o] += x0 * w
        acc[32 + o] += x1 * w
        acc[64 + o] += x2 * w
        acc[96 + o] += x3 * w


@njit(**_OPTIONS)
def zero_block(acc):
    for i in range(ROWS * LANES):  # a fixed count: the compiler unrolls it and keeps acc in registers
        acc[i] = 0


@njit(**_OPTIONS)
def copy_block(acc, tile):
    """tile = acc, so that the stores with run-time bounds that follow index tile, not acc (an
    access at an index unknown when compiling would keep acc in memory)."""
    for i in range(ROWS * LANES):
        tile[i] = acc[i]


__all__ = ["ROWS", "LANES", "WIDE_ROWS", "WIDE_LANES", "stack_float32", "prefer_wide_vectors", "multiply_add",
           "multiply_add_wide", "zero_block", "copy_block"]
