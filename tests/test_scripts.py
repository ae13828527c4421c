"""scripts/train.sh, the main job, does what the README says: it trains LeNet-5 with
`glassnet train` on Fashion-MNIST when its files are here, else on the built-in shapes, says
which, takes extra arguments for `glassnet train`, and leaves runs/main/ with the run's files.

The script runs as written, from a copy of scripts/ in a scratch checkout whose setup step is a
stub and whose .venv/bin/glassnet runs this tree's glassnet; apt-get is a stub that fails, so the
test installs nothing (the script then goes on, as it does on a machine without apt-get)."""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from glassnet.data.registry import resolve_name
from glassnet.train.runconfig import defaults_for

ROOT = Path(__file__).resolve().parents[1]


def _executable(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _run_train_sh(checkout: Path, *args):
    bin_dir = checkout / "stub-bin"
    _executable(bin_dir / "apt-get", "#!/bin/sh\nexit 1\n")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["bash", str(checkout / "scripts" / "train.sh"), *args], capture_output=True,
                          text=True, env=env, timeout=600)


def test_train_sh_trains_lenet5_on_the_data_set_it_names_with_that_data_sets_defaults(tmp_path):
    checkout = tmp_path / "glassnet"
    shutil.copytree(ROOT / "scripts", checkout / "scripts")
    _executable(checkout / "scripts" / "setup.sh", "#!/usr/bin/env bash\ntouch setup-ran\n")
    _executable(checkout / ".venv" / "bin" / "glassnet",
                f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m glassnet "$@"\n')

    # extra arguments go to `glassnet train`, after the script's own: --epochs 1 wins over its 3
    proc = _run_train_sh(checkout, "--epochs", "1", "--limit", "200", "--no-progress")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert (checkout / "setup-ran").exists()
    name = resolve_name("auto")
    assert f"dataset: {name}" in proc.stdout  # it says which data set it trains on
    assert "test accuracy:" in proc.stdout.splitlines()[-1]
    run = checkout / "runs" / "main"
    for file in ("model.safetensors", "best.safetensors", "metrics.json", "curves.png", "confusion.png"):
        assert (run / file).is_file(), file
    assert list((run / "checkpoints").glob("step-*.json"))
    config = json.loads((run / "metrics.json").read_text())["config"]
    # LeNet-5 as the script asks, the extra arguments, and the data set's defaults for the rest
    assert {**defaults_for(name), "model": "lenet5", "epochs": 1, "limit": 200} == config

    # a second run into runs/main needs --overwrite (or --resume to continue the first)
    again = _run_train_sh(checkout, "--epochs", "1", "--limit", "200", "--no-progress")
    assert again.returncode == 1 and "--overwrite" in again.stderr and "--resume" in again.stderr
