"""Kill a real `glassnet train` with SIGKILL at 20 moments spread over its steps, epoch ends and
checkpoint writes, with another program keeping the CPUs busy during half of them; resume it each
time; the final weights, optimiser state and validation metrics must equal, bit for bit, those of
a run that was never interrupted.

The runs use one kernel thread (glassnet.set_num_threads(1), set before the CLI's main() runs):
that takes the kernels' own splitting of a batch between threads out of the comparison, so this
test checks what resume restores (weights, optimiser, scheduler, loader position, random
generator, running metrics, early-stopping state), whatever the machine's load.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np

from glassnet.serialization import load, load_metadata

# glassnet train in one thread; everything else exactly as the command line runs it. With
# KILL_AT="<point> <file name>" the process SIGKILLs itself at that point of a checkpoint write
# (test code only: it wraps os.replace and Path.unlink in the child), which a kill from outside
# would hit only by rare luck -- a write takes a few milliseconds.
ENTRY = """
import os, pathlib, signal, sys
import glassnet
glassnet.set_num_threads(1)
if os.environ.get("KILL_AT"):
    point, target = os.environ["KILL_AT"].split(" ")
    def reached(here, path):
        if here == point and os.path.basename(path) == target:
            os.kill(os.getpid(), signal.SIGKILL)
    replace, unlink = os.replace, pathlib.Path.unlink
    def patched_replace(src, dst):
        reached("before-rename", dst)  # the temporary file is written and synced, not yet renamed
        replace(src, dst)
        reached("after-rename", dst)
    def patched_unlink(self, missing_ok=False):
        unlink(self, missing_ok=missing_ok)
        reached("after-unlink", self)
    os.replace, pathlib.Path.unlink = patched_replace, patched_unlink
from glassnet.cli import main
sys.exit(main(sys.argv[1:]))
"""
# fashion_cnn has batch norm (running statistics) and dropout (the global generator), the loader
# shuffles and crops at random, the schedule is cosine: everything resume must restore.
# 240 samples, 40 held out: 5 steps of 40 per epoch, 15 steps, a checkpoint after every step
EPOCHS, STEPS_PER_EPOCH = 3, 5
ARGS = ["train", "--model", "fashion_cnn", "--dataset", "shapes", "--limit", "240", "--val-split", "40",
        "--augment", "--batch-size", "40", "--epochs", str(EPOCHS), "--checkpoint-every", "1", "--seed", "5",
        "--no-progress", "--optimizer", "sgd", "--lr", "0.05", "--patience", "5"]
KILLS = 20


def _start(out, resume=False, kill_at=None):
    env = {**os.environ, "KILL_AT": kill_at or ""}
    return subprocess.Popen([sys.executable, "-c", ENTRY, *ARGS, "--out", str(out)]
                            + (["--resume=auto"] if resume else []),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)


def _newest_step(out) -> int:
    folder = out / "checkpoints"
    names = os.listdir(folder) if folder.is_dir() else []
    return max((int(n[5:-5]) for n in names if n.startswith("step-") and n.endswith(".json")), default=0)


def _where(out) -> str:
    """What a kill interrupted, as the run directory shows it."""
    names = os.listdir(out / "checkpoints") if (out / "checkpoints").is_dir() else []
    if any(n.endswith(".tmp") for n in names):
        return "checkpoint write"
    if {n[:-12] for n in names if n.endswith(".safetensors")} - {n[:-5] for n in names if n.endswith(".json")}:
        return "between a checkpoint's two files"
    return "step or evaluation"


def _weights(path):
    """The arrays of a safetensors file, as bytes, by name."""
    return {k: (v.dtype.str, v.shape, v.tobytes()) for k, v in load(path).items()}


def test_sigkill_at_20_moments_then_resume_is_bit_identical(tmp_path):
    reference = tmp_path / "reference"
    proc = _start(reference)
    assert proc.wait(timeout=600) == 0, proc.stderr.read()
    total_steps = EPOCHS * STEPS_PER_EPOCH
    assert _newest_step(reference) == total_steps

    # the moments, three kinds: from outside, a random delay of up to one step's time after a
    # step's checkpoint is committed (into the next step's forward and backward); from outside, up
    # to three steps' time after an epoch's second-to-last step (its last step, the validation
    # pass, the best weights, the epoch's checkpoint); from inside, in a checkpoint write: before
    # the rename of either file (a temporary file is left), between the two files (arrays without a
    # sidecar), or while pruning (the old sidecar removed, its arrays not yet). The delays are
    # fractions of a step as the reference run timed it, so the kills spread over the run however
    # fast this machine is: its fastest epoch (with no numba cache yet, the first epoch also
    # compiles the kernels, several times longer than the steps; the mean then sent every kill
    # past the last step).
    epochs_seconds = [e["seconds"] for e in json.loads((reference / "metrics.json").read_text())["epochs"]]
    step_seconds = float(min(epochs_seconds)) / STEPS_PER_EPOCH
    rng = random.Random(20261204)
    kinds = ["step"] * 8 + ["epoch end"] * 4 + ["write"] * 8
    rng.shuffle(kinds)
    moments = []
    for kind in kinds:
        if kind == "epoch end":
            moments.append((rng.randrange(1, EPOCHS + 1) * STEPS_PER_EPOCH - 1, kind,
                            rng.uniform(0.0, 3.0) * step_seconds))
        elif kind == "step":
            moments.append((rng.randint(0, total_steps - 1), kind, rng.uniform(0.0, 1.0) * step_seconds))
        else:
            point = rng.choice(["before-rename .safetensors", "before-rename .json", "after-rename .safetensors",
                                "after-unlink .json"])
            moments.append((rng.randint(1, total_steps), kind, point))
    moments.sort(key=lambda m: m[0])
    interrupted = tmp_path / "interrupted"
    landed = []
    for i, (step, kind, how) in enumerate(moments):
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if i % 2 else None
        try:
            if kind == "write":
                # a step the resumed run has still to write (the last kill may have passed `step`)
                step = max(step, _newest_step(interrupted) + 1)
                point, suffix = how.split(" ")
                # pruning after step s's checkpoint removes that of step s - 2 (two are kept)
                target = f"step-{step - 2 if point == 'after-unlink' else step:08d}{suffix}"
                if point == "after-unlink" and step < 3:
                    point, target = "before-rename", f"step-{step:08d}{suffix}"
                if step > total_steps:  # every checkpoint is written: kill while writing the weights
                    point, target = "before-rename", "model.safetensors"
                proc = _start(interrupted, resume=i > 0, kill_at=f"{point} {target}")
                assert proc.wait(timeout=120) == -signal.SIGKILL, f"kill {i + 1} ({point} {target}) did not happen"
            else:
                # past the checkpoint the run resumes from, so the kill lands in new work, not in startup
                newest = _newest_step(interrupted)
                if step <= newest:
                    step = newest + 1 if kind == "step" else -(-(newest + 2) // STEPS_PER_EPOCH) * STEPS_PER_EPOCH - 1
                step = min(step, total_steps)
                proc = _start(interrupted, resume=i > 0)
                deadline = time.monotonic() + 120
                while proc.poll() is None and _newest_step(interrupted) < step and time.monotonic() < deadline:
                    time.sleep(0.002)
                time.sleep(how)
                assert proc.poll() is None, f"kill {i + 1} came too late: the run had ended\n{proc.stderr.read()}"
                proc.send_signal(signal.SIGKILL)
                proc.wait()
            landed.append((_newest_step(interrupted), kind, _where(interrupted)))
        finally:
            if busy is not None:
                busy.kill()
                busy.wait()
    proc = _start(interrupted, resume=True)
    assert proc.wait(timeout=600) == 0, proc.stderr.read()
    print("kills (newest checkpoint step, aimed at, what the directory shows):", *landed, sep="\n  ")
    assert len({step for step, _, _ in landed}) >= 8, f"the kills did not spread over the run: {landed}"

    for name in ("model.safetensors", "best.safetensors"):
        a, b = _weights(reference / name), _weights(interrupted / name)
        for key in a:  # first, which tensor differs (a clearer message than the bytes')
            assert a[key] == b[key], f"{name}: {key} differs"
        assert load_metadata(reference / name) == load_metadata(interrupted / name)
        # and the files themselves: the same weights give the same bytes (serialization.py)
        assert (reference / name).read_bytes() == (interrupted / name).read_bytes(), f"{name}: the files differ"
    # the optimiser's state (momentum buffers) and the model in the last checkpoint
    last = f"checkpoints/step-{total_steps:08d}.safetensors"
    assert _weights(reference / last) == _weights(interrupted / last)
    # per-epoch metrics and the test result: equal but for the timings
    ma, mb = (json.loads((run / "metrics.json").read_text()) for run in (reference, interrupted))
    strip = [{k: v for k, v in e.items() if k != "seconds"} for e in ma["epochs"]]
    assert strip == [{k: v for k, v in e.items() if k != "seconds"} for e in mb["epochs"]]
    assert (ma["test_accuracy"], ma["test_loss"], ma["best"]) == (mb["test_accuracy"], mb["test_loss"], mb["best"])
    assert np.array_equal(ma["confusion_matrix"], mb["confusion_matrix"])
