# The shape of d2l.ai's batch normalisation and ResNet chapters: a Residual block with an
# optional 1x1 convolution, BatchNorm2d, global average pooling, trained with SGD. Small
# channels and 24x24 images keep it fast. Written for the tests.
import torch
from torch import nn
from torch.nn import functional as F


class Residual(nn.Module):
    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels, use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return blk


def build():
    b1 = nn.Sequential(nn.Conv2d(1, 8, kernel_size=7, stride=2, padding=3),
                       nn.BatchNorm2d(8), nn.ReLU(),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
    b2 = nn.Sequential(*resnet_block(8, 8, 1, first_block=True))
    b3 = nn.Sequential(*resnet_block(8, 16, 1))
    net = nn.Sequential(b1, b2, b3, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(16, 10))
    return net, torch.optim.SGD(net.parameters(), lr=0.05)


loss = nn.CrossEntropyLoss()


def make_loader(images, labels):
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(images), torch.tensor(labels)),
                                       batch_size=16)


def forward_loss(net, X, y):
    y_hat = net(X)
    return y_hat, loss(y_hat, y)


def train(train_iter, net, optimizer, num_epochs=3):
    losses = []
    for epoch in range(num_epochs):
        net.train()
        for X, y in train_iter:
            optimizer.zero_grad()
            l = loss(net(X), y)
            l.backward()
            optimizer.step()
            losses.append(l.item())
    return losses
