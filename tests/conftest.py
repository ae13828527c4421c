"""Suite-wide settings.

PyTorch is the test oracle. Its default thread pool hands tiny operations to worker threads,
which on a busy 2-core machine turns a 3 ms step into half a second; one thread keeps the
oracle fast and its results independent of the machine's load.
"""

try:
    import torch
except ImportError:  # the suites that need torch import it themselves and fail loudly
    torch = None

if torch is not None:
    torch.set_num_threads(1)
