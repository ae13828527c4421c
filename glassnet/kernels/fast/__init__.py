"""The fast engine behind glassnet/kernels: how the sums are evaluated quickly, not what they are.

The public kernels in glassnet/kernels (conv.py, pooling.py, ...) state each formula and choose,
in one visible line per path, which engine here evaluates it. This package holds the engines
and what they share: im2col + GEMM in bounded chunks (im2col.py), the FFT (fft_conv.py),
Winograd's F(2x2, 3x3) (winograd.py), the threads that share a batch (threads.py), the fixed
blocks that make the result the same bytes at any thread count (blocks.py), and the malloc
settings (allocator.py). The formulas themselves, written to be read, are in glassnet/reference.
"""
