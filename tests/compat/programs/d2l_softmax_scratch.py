# The shape of d2l.ai's "softmax regression from scratch": parameters as plain tensors, a
# hand-written softmax and cross-entropy (fancy indexing with range), and minibatch SGD that
# updates param in place under no_grad and zeroes param.grad. Written for the tests.
import torch

num_inputs, num_outputs, lr, batch_size = 784, 10, 0.1, 16


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition  # broadcasting


def net(params, X):
    W, b = params
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def build():
    W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
    b = torch.zeros(num_outputs, requires_grad=True)
    return [W, b], None


def make_loader(images, labels):
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(images), torch.tensor(labels)),
                                       batch_size=batch_size)


def forward_loss(params, X, y):
    y_hat = net(params, X)
    return y_hat, cross_entropy(y_hat, y).sum()


def train(train_iter, params, optimizer, num_epochs=2):
    losses = []
    for epoch in range(num_epochs):
        for X, y in train_iter:
            l = cross_entropy(net(params, X), y)
            l.sum().backward()
            sgd(params, lr, X.shape[0])
            losses.append(float(l.mean()))
    return losses
