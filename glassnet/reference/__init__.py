"""Every operation as the lecture writes it: the readable reference kernels.

Each module holds forward/backward pairs in plain NumPy, written from the lecture decks' formulas
and in their notation (A the input of a layer, W its weights, Z = W * A + b its net input, and
dA, dW, db, dZ the derivatives of the loss F with respect to each, seed 003). The loops run over
kernel offsets, never over samples or pixels, and slice whole arrays (seed 004's "patches"
vectorisation); there are no threads, no numba, no layout tricks and no caches.

They are the oracle the fast kernels in glassnet/kernels are tested against, and a student can
step through them: `with glassnet.reference_mode():` runs every model on these functions.

    conv          convolution (N-D, stride, dilation, groups, every padding form and mode, flip)
                  and transposed convolution
    pooling       max, average and adaptive pooling
    subsampling   trainable subsampling (LeNet-5's S layers, seed 003's average pooling with weight)
    local         locally connected and tiled convolution
    convmap       connection-table convolution (seed 003's connection matrix)
    p4            p4 group-equivariant convolution (seed 004)
    linear, activation, normalization, loss
"""
