"""The lectures, executable: convolution as a matrix, counting, worked-example traces, classic
kernels, equivariance and receptive fields (seeds 000-004).

    conv_matrix(weight, input_shape, ...)   M with vec(conv(x)) == M @ vec(x)       (matrix.py)
    matrix_counts, conv_matrix_pattern, find_convolution                             (matrix.py)
    output_size(n, k, s, p, d)              the size and its formula, numbers in      (counting.py)
    count(model, input_shape)               parameters, connections, multiply-adds    (counting.py)
    trace(x, weight, ..., groups=1)         each output as its sum of products        (trace.py)
    kernels["sobel_x"], apply_kernels       the classic hand-made kernels             (classic.py)
    equivariance(f, x, ...)                 translation / rotation / scaling checks   (equivariance.py)
    receptive_field(model, input_shape)     size, jump, start and exact extent of the units
                                            of every layer, any glassnet.nn model  (receptive.py)
    vec, unvec                              the two vectorisation orders               (vec.py)

Figures are in glassnet.viz; the command line is `python -m glassnet.explain --help`.
"""

from .classic import apply_kernels, kernel_bank, kernels, to_gray
from .counting import Counts, LayerCount, OutputSize, count, output_size
from .equivariance import Equivariance, equivariance
from .layers import Layer, as_layers, avg_pool, conv, flatten, linear, max_pool, pointwise
from .matrix import (FoundConvolution, MatrixCounts, conv_links, conv_matrix, conv_matrix_pattern,
                     find_convolution, matrix_counts)
from .receptive import ReceptiveField, receptive_field
from .trace import Step, Trace, trace
from .vec import unvec, vec

__all__ = ["conv_matrix", "conv_matrix_pattern", "conv_links", "matrix_counts", "find_convolution",
           "MatrixCounts", "FoundConvolution", "output_size", "OutputSize", "count", "Counts", "LayerCount",
           "trace", "Trace", "Step", "kernels", "kernel_bank", "apply_kernels", "to_gray", "equivariance",
           "Equivariance", "receptive_field", "ReceptiveField", "vec", "unvec", "Layer", "as_layers", "conv",
           "max_pool", "avg_pool", "linear", "flatten", "pointwise"]
