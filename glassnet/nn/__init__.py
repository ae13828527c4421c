"""Layers and models as torch.nn names them: Module, Parameter, containers, and the layers.

Every layer holds its parameters with torch's names, shapes and default initialisation, so a
model built the same way here and in PyTorch has the same state_dict keys and shapes, and the
weights of one load into the other.

Inputs must have the layer's dtype (float32 unless the module was converted with .double()):
integer or float64 inputs are refused with a TypeError naming both dtypes, never converted.
A wrong shape gives a ValueError naming the module, e.g. "Conv2d(3 -> 16) expected input of
shape (N, 3, H, W), got (8, 1, 28, 28) (1 channels instead of 3)".

Beside torch's layers, the ones the lectures describe and PyTorch lacks: `LocallyConnected*`,
`TiledConv*`, `ConvMap*` (connection tables, see nn.tables), `Subsampling*`, P4LiftConv2d/P4Conv2d/P4Pool.
"""

from . import functional, init, parallel, parameter, tables, utils  # functional: alias of glassnet.functional
from .activation import ELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softmax2d, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .container import ModuleDict, ModuleList, Sequential
from .conv import (Conv1d, Conv2d, Conv3d, ConvNd, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d,
                   ConvTransposeNd)
from .convmap import ConvMap1d, ConvMap2d, ConvMap3d, ConvMapNd
from .dropout import Dropout
from .fold import Fold, Unfold
from .lazy import (LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyConv1d, LazyConv2d, LazyConv3d,
                   LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d, LazyInstanceNorm1d,
                   LazyInstanceNorm2d, LazyInstanceNorm3d, LazyLinear, LazyModuleMixin, UninitializedBuffer,
                   UninitializedParameter)
from .linear import Flatten, Identity, Linear, Unflatten
from .local import LocallyConnected1d, LocallyConnected2d, LocallyConnected3d, LocallyConnectedNd
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss,
                   SmoothL1Loss)
from .module import Module, Parameter
from .normalization import (GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LayerNorm,
                            LocalResponseNorm, RMSNorm)
from .parallel import DataParallel
from .p4 import P4Conv2d, P4LiftConv2d, P4Pool
from .padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,
                      ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
                      ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d)
from .pixelshuffle import PixelShuffle, PixelUnshuffle
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d,
                      AdaptiveMaxPool2d, AdaptiveMaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d, MaxPool1d,
                      MaxPool2d, MaxPool3d)
from .subsampling import Subsampling1d, Subsampling2d, Subsampling3d, SubsamplingNd
from .tiled import TiledConv1d, TiledConv2d, TiledConv3d, TiledConvNd
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from .sync_batchnorm import SyncBatchNorm
from . import parallel  # noqa: E402  after the layers: DistributedDataParallel builds on Module
