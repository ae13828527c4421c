"""examples/quickstart.py runs end to end and learns something."""

import importlib.util
import os

_PATH = os.path.join(os.path.dirname(__file__), "..", "examples", "quickstart.py")
_spec = importlib.util.spec_from_file_location("quickstart", _PATH)
quickstart = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(quickstart)


def test_tiny_run_on_shapes(tmp_path, capsys):
    accuracy = quickstart.main(["--dataset", "shapes", "--epochs", "3", "--limit", "2000", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "procedural shapes" in out and "test accuracy" in out
    assert accuracy > 0.4  # five classes: chance is 0.2
    assert list((tmp_path / "checkpoints").glob("step-*.json"))
