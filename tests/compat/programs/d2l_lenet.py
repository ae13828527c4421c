# The shape of d2l.ai's LeNet chapter: an nn.Sequential LeNet with sigmoids and average pooling,
# Xavier initialisation through net.apply, SGD at a large learning rate, d2l's accuracy helper.
# Written for the tests.
import torch
from torch import nn


def init_weights(m):
    if type(m) == nn.Linear or type(m) == nn.Conv2d:
        nn.init.xavier_uniform_(m.weight)


def build():
    net = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))
    net.apply(init_weights)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.9)
    return net, optimizer


loss = nn.CrossEntropyLoss()


def make_loader(images, labels):
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(images), torch.tensor(labels)),
                                       batch_size=16, shuffle=False)


def forward_loss(net, X, y):
    y_hat = net(X)
    return y_hat, loss(y_hat, y)


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def train(train_iter, net, optimizer, num_epochs=3):
    losses = []
    for epoch in range(num_epochs):
        net.train()
        for i, (X, y) in enumerate(train_iter):
            optimizer.zero_grad()
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
            with torch.no_grad():
                losses.append(float(l))
                accuracy(y_hat, y)
    return losses
