"""torch.backends.cudnn: settable flags with PyTorch's defaults, read by nothing (there is no
cuDNN); is_available() is False."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None
