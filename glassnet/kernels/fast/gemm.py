"""A float32 matrix product callable from numba code that has released the GIL, on matrices
with any row stride.

numba's np.dot copies an operand that is not contiguous, and calling NumPy's matmul instead
means going back to Python, and to the GIL, between the steps of a kernel: with two threads
each taking the GIL about a thousand times per convolution, the waits for it cost more than
the second thread gained (Winograd's (128, 32, 28x28) forward: 28 ms at one thread, 19-20 ms at
two with the products in Python, 13.6 ms with the loop in one numba call). So the kernels call
the BLAS's sgemm themselves, through the entry point numba's own np.dot uses (numba_xxgemm, the
BLAS SciPy was built with), under the same single_threaded_blas hold as every other product.

The BLAS is column-major; these functions speak row-major, as NumPy does: a matrix is a view
whose first element is its (0, 0) and whose rows lie `ld` elements apart.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg.cython_blas  # noqa: F401  (the library numba_xxgemm looks its sgemm up in)
from numba import njit, types

_F32 = types.CPointer(types.float32)
_xxgemm = types.ExternalFunction("numba_xxgemm", types.intc(
    types.char, types.char, types.char,  # kind ('s': float32), transa, transb
    types.intp, types.intp, types.intp,  # m, n, k
    _F32, _F32, types.intp,  # alpha, a, lda
    _F32, types.intp,  # b, ldb
    _F32, _F32, types.intp))  # beta, c, ldc
_S, _N, _T = ord("s"), ord("n"), ord("t")


@njit(nogil=True, cache=True)
def matmul(a, lda, b, ldb, c, ldc, m, n, k, transpose_a, accumulate=False):
    """c (m, n) = a (m, k) @ b (k, n), or a^T @ b with a stored (k, m) when transpose_a, each a
    row-major view with rows lda, ldb, ldc elements apart (the arrays' own shapes are not read);
    accumulate: c += the product instead (the BLAS adds it in as it goes, no second pass)."""
    alpha = np.ones(1, np.float32)
    beta = np.ones(1, np.float32) if accumulate else np.zeros(1, np.float32)
    # row-major c is column-major c^T = b^T a^T: the BLAS sees b and a as stored, in that order
    _xxgemm(_S, _N, _T if transpose_a else _N, n, m, k, alpha.ctypes, b.ctypes, ldb, a.ctypes, lda,
            beta.ctypes, c.ctypes, ldc)
