"""Kill a training process with SIGKILL at random moments, resume it each time, and check the
final weights are bit-identical to those of a run that was never interrupted."""

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np

from glassnet.serialization import load

# fashion_cnn has batch norm (running statistics) and dropout (the global generator), the
# loader shuffles and crops at random: everything resume must restore
ARGS = ["train", "--model", "fashion_cnn", "--dataset", "shapes", "--limit", "320", "--augment",
        "--batch-size", "32", "--epochs", "3", "--checkpoint-every", "2", "--seed", "5", "--no-progress",
        "--optimizer", "sgd", "--lr", "0.05"]


def _start(out, resume=False):
    return subprocess.Popen([sys.executable, "-m", "glassnet", *ARGS, "--out", str(out)]
                            + (["--resume"] if resume else []),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _checkpoints(out):
    folder = out / "checkpoints"
    return sorted(folder.glob("step-*.json")) if folder.is_dir() else []


def test_sigkill_at_random_points_then_resume_is_bit_identical(tmp_path):
    reference = tmp_path / "reference"
    proc = _start(reference)
    assert proc.wait(timeout=600) == 0, proc.stderr.read()

    interrupted = tmp_path / "interrupted"
    rng = random.Random(2024)
    kills = 0
    proc = _start(interrupted)
    for attempt in range(4):
        # wait for progress beyond the last kill, then kill at a random moment after it
        seen = _checkpoints(interrupted)[-1:] if _checkpoints(interrupted) else []
        deadline = time.monotonic() + 300
        while proc.poll() is None and _checkpoints(interrupted)[-1:] == seen and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.4))
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        proc = _start(interrupted, resume=True)
    assert proc.wait(timeout=600) == 0, proc.stderr.read()
    assert kills >= 3, f"only {kills} kills landed before training finished: the test proved too little"

    a, b = load(reference / "model.safetensors"), load(interrupted / "model.safetensors")
    assert list(a) == list(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert os.path.getsize(reference / "metrics.json") > 0
