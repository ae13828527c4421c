"""The new layers together, in the shapes the programs that need them use (written here, in the
style of a fast-neural-style transformer, a DCGAN discriminator and a sub-pixel super-resolution
net): built the same way in glassnet and torch, torch's weights loaded into glassnet, then the
loss and every parameter gradient compared, and a few optimiser steps tracked."""

import numpy as np
import pytest
import torch

import glassnet
import glassnet.functional
import glassnet.nn  # noqa: F401 -- makes glassnet.nn an attribute
import glassnet.optim  # noqa: F401


def _style_net(lib):
    nn = lib.nn

    class Upsampled(nn.Module):
        def __init__(self):
            super().__init__()
            self.pad, self.conv = nn.ReflectionPad2d(1), nn.Conv2d(8, 4, 3)

        def forward(self, x):
            return self.conv(self.pad(_functional(lib).interpolate(x, scale_factor=2, mode="nearest")))

    # no bias right before a normalisation: its gradient is rounding noise, which Adam would amplify
    return nn.Sequential(nn.ReflectionPad2d(2), nn.Conv2d(3, 8, 5, stride=2, bias=False),
                         nn.InstanceNorm2d(8, affine=True), nn.ReLU(), Upsampled(), nn.GroupNorm(2, 4),
                         nn.Conv2d(4, 3, 1))


def _discriminator(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1, bias=False), nn.LeakyReLU(0.2), nn.Conv2d(8, 16, 4, 2, 1, bias=False),
                         nn.BatchNorm2d(16), nn.LeakyReLU(0.2), nn.Conv2d(16, 1, 4, 1, 0, bias=False), nn.Flatten(0),
                         nn.Sigmoid())


def _super_resolution(lib):
    nn = lib.nn
    return nn.Sequential(nn.ZeroPad2d(1), nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Conv2d(8, 9, 3, padding=1),
                         nn.PixelShuffle(3), nn.LayerNorm((12, 12)))


def _functional(lib):
    return lib.nn.functional if lib is torch else glassnet.functional


CASES = [  # (builder, input shape, loss, optimiser)
    (_style_net, (2, 3, 8, 8), lambda F, y, t: F.mse_loss(y, t), "Adam"),
    (_discriminator, (4, 3, 16, 16), lambda F, y, t: F.binary_cross_entropy(y, t), "RMSprop"),
    (_super_resolution, (2, 1, 4, 4), lambda F, y, t: F.l1_loss(y, t), "Adagrad"),
]


@pytest.mark.parametrize("build, shape, loss_fn, optimiser", CASES, ids=["style", "dcgan_d", "super_resolution"])
def test_model_matches_torch_and_trains_alike(build, shape, loss_fn, optimiser):
    torch.manual_seed(0)
    theirs, ours = build(torch), build(glassnet)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    target_shape = tuple(theirs(torch.tensor(x)).shape)
    target = (rng.uniform(0, 1, target_shape) if optimiser == "RMSprop" else rng.standard_normal(target_shape))
    target = target.astype(np.float32)
    opt = getattr(glassnet.optim, optimiser)(ours.parameters(), lr=1e-3)
    topt = getattr(torch.optim, optimiser)(theirs.parameters(), lr=1e-3)
    for step in range(5):
        opt.zero_grad(), topt.zero_grad()
        loss = loss_fn(_functional(glassnet), ours(glassnet.tensor(x)), glassnet.tensor(target))
        tloss = loss_fn(_functional(torch), theirs(torch.tensor(x)), torch.tensor(target))
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=2e-5, err_msg=f"loss at step {step}")
        loss.backward(), tloss.backward()
        if step == 0:
            for (key, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
                np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-3, atol=1e-5, err_msg=key)
        opt.step(), topt.step()
    for (key, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=key)
