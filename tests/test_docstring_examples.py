"""The examples in the docstrings of the layers, optimisers and data tools run as written (the
API reference on the documentation site shows them)."""

import doctest
import importlib

import pytest

MODULES = ["glassnet.nn.local", "glassnet.nn.tiled", "glassnet.nn.convmap", "glassnet.nn.subsampling",
           "glassnet.nn.container", "glassnet.nn.batchnorm", "glassnet.nn.loss", "glassnet.nn.conv", "glassnet.nn.pooling", "glassnet.nn.linear", "glassnet.nn.activation",
           "glassnet.nn.dropout", "glassnet.nn.fold", "glassnet.nn.padding", "glassnet.nn.upsampling", "glassnet.nn.pixelshuffle", "glassnet.nn.normalization", "glassnet.nn.module", "glassnet.nn.p4", "glassnet.nn.init", "glassnet.nn.utils.clip_grad", "glassnet.optim.sgd",
           "glassnet.optim.adam", "glassnet.optim.optimizer", "glassnet.optim.lr_scheduler",
           "glassnet.optim.adadelta", "glassnet.optim.adagrad", "glassnet.optim.adamax", "glassnet.optim.nadam",
           "glassnet.optim.radam", "glassnet.optim.rmsprop", "glassnet.optim.rprop",
           "glassnet.data.preprocess", "glassnet.data.dataloader", "glassnet.data.dataset", "glassnet.data.sampler", "glassnet.data.mnist",
           "glassnet.data.shapes", "glassnet.data.clips", "glassnet.data.mnist1d", "glassnet.data.collate",
           "glassnet.data.download", "glassnet.data.idx", "glassnet.data._worker", "glassnet.data.transforms", "glassnet.models.trained", "glassnet.explain.vec", "glassnet.explain.equivariance", "glassnet.explain.layers", "glassnet.explain.classic",
           "glassnet.explain.counting", "glassnet.explain.matrix", "glassnet.explain.trace", "glassnet.explain.receptive", "glassnet.functional.conv",
           "glassnet.functional.pooling", "glassnet.functional.p4", "glassnet.functional.binary_cross_entropy", "glassnet.functional.padding", "glassnet.functional.group_norm", "glassnet.functional.normalization", "glassnet.functional.regression_loss", "glassnet.functional.pixelshuffle", "glassnet.functional.fold", "glassnet.functional.upsampling", "glassnet.functional.dropout", "glassnet.functional.activation", "glassnet.functional.linear", "glassnet.functional.loss",
           "glassnet.functional.grid_sample", "glassnet.functional.local_response_norm", "glassnet.functional.local",
           "glassnet.functional.convmap", "glassnet.functional.subsampling"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_the_documented_classes_have_examples():
    from glassnet import nn, optim
    for cls in (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.MaxPool2d, nn.AvgPool2d, nn.Linear,
                nn.Flatten, nn.ReLU, nn.Dropout, optim.SGD, optim.Adam):
        assert ">>> " in (cls.__doc__ or ""), f"{cls.__name__} has no example"
