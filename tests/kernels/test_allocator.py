"""The malloc thresholds glassnet sets when asked (kernels/allocator.py). What they change, and
that importing glassnet does not set them: tests/test_process_settings.py (in fresh processes,
as they cannot be undone)."""

from glassnet.kernels import allocator


def test_the_environment_variable_keeps_the_defaults(monkeypatch):
    monkeypatch.setenv("GLASSNET_KEEP_FREED_MEMORY", "0")
    assert allocator.keep_freed_memory() is False
