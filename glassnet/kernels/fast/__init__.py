"""The fast engine behind glassnet/kernels: how the sums are evaluated quickly, not what they are.

The public kernels in glassnet/kernels (conv.py, pooling.py, ...) state each formula and choose,
in one visible line per path, which engine here evaluates it:

    im2col.py          convolution as patch matrices in bounded chunks, one GEMM per chunk
    single_channel.py  convolution of a one-channel input at stride 1, without a patch matrix
    direct.py          convolution with few channels, by blocks of multiply-adds in registers
    winograd.py        3x3 stride-1 convolution by Winograd's minimal filtering, all three sums:
                       F(4x4, 3x3) (winograd_f4.py) or F(2x2, 3x3) (winograd_f2.py) by the channels
    fft_conv.py        long kernels at stride 1 through the FFT
    pooling.py         the pooling loops
    elementwise.py     activations, their passes shared among the threads
    relu.py            ReLU's two passes as compiled loops

and what they share: the register blocks of the direct kernels (registers.py), the runs of
Winograd tiles along rows (tile_rows.py), channels-last
copies and per-thread scratch (layout.py), a matrix product numba code can call without the
GIL on strided matrices (gemm.py), the threads that share a batch (threads.py), the fixed
blocks that make the result the same bytes at any thread count (blocks.py), and the malloc
settings (allocator.py). The formulas written to be read, and
the oracle these engines are tested against, are in glassnet/reference.
"""
