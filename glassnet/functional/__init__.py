"""Differentiable operations with torch.nn.functional's names and signatures.

One module per family; each defines Functions (forward/backward calling glassnet.kernels) and
the lowercase wrappers that users call.
"""

from .activation import *  # noqa: F401,F403
from .binary_cross_entropy import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .convmap import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .fold import *  # noqa: F401,F403
from .grid_sample import *  # noqa: F401,F403
from .group_norm import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .local import *  # noqa: F401,F403
from .local_response_norm import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .p4 import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .pixelshuffle import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .regression_loss import *  # noqa: F401,F403
from .subsampling import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403
