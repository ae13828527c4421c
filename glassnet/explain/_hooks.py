"""Running a glassnet.nn model once with forward hooks, as count, feature_maps and
receptive_field do to see what each module receives and produces (whatever the architecture:
chains, branches, skip connections)."""

from __future__ import annotations

CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")


def is_module(model) -> bool:
    """A glassnet.nn model, which the tools run, as opposed to a Layer or a list of them."""
    return hasattr(model, "register_forward_hook") and hasattr(model, "named_modules")


def leaf_modules(model) -> list[tuple[str, object]]:
    """[(name, module)] of the modules that compute something themselves: no sub-modules, and
    not a container (an empty Sequential has no sub-modules either)."""
    return [(name, m) for name, m in model.named_modules()
            if not list(m.children()) and type(m).__name__ not in CONTAINERS]


def run_with_hooks(model, x, hooks, grad: bool = False):
    """model(x) once, in evaluation mode (batch norm uses its running statistics, dropout is
    off), with the forward hooks [(module, hook), ...]; returns the output. The hooks are removed
    and the training mode restored afterwards, also when the call fails. grad=True records the
    graph (for tools that follow it), otherwise the call runs under no_grad."""
    from .. import enable_grad, no_grad
    handles = [module.register_forward_hook(hook) for module, hook in hooks]
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        with enable_grad() if grad else no_grad():
            return model(x)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
