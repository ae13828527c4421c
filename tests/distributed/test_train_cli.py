"""`mpiexec -n N glassnet train`: data-parallel training from the command line, on real MPI jobs.

N ranks train as one process with the same --batch-size does (each on its share of every global
batch); rank 0 alone prints and writes the run's files; a run stopped at N ranks resumes at M;
a rank killed with SIGKILL ends the job within seconds, the last checkpoint loads, and the run
finishes when restarted."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from glassnet.serialization import load

MPIEXEC = str(Path(sys.executable).with_name("mpiexec"))
ARGS = ["train", "--model", "lenet5", "--dataset", "shapes", "--limit", "600", "--batch-size", "50",
        "--no-progress", "--seed", "2"]


def train(out, ranks=None, extra=(), timeout=300, **popen):
    cmd = ([MPIEXEC, "-n", str(ranks)] if ranks else []) + [sys.executable, "-m", "glassnet", *ARGS,
                                                            "--out", str(out), *extra]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if popen:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def assert_same_weights(a, b, rtol=1e-5, atol=1e-6):
    wa, wb = load(a / "model.safetensors"), load(b / "model.safetensors")
    assert list(wa) == list(wb)
    for key in wa:
        np.testing.assert_allclose(wb[key], wa[key], rtol=rtol, atol=atol, err_msg=key)


def test_two_and_three_ranks_train_as_one_process_and_rank_0_alone_writes(tmp_path):
    one = train(tmp_path / "one", extra=["--epochs", "2"])
    assert one.returncode == 0, one.stderr
    for n in (2, 3):
        run = train(tmp_path / f"n{n}", n, ["--epochs", "2"])
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.stdout.count("test accuracy:") == 1  # rank 0 reports, the others are quiet
        assert f"data-parallel on {n} MPI ranks" in run.stdout
        assert sorted(p.name for p in (tmp_path / f"n{n}").iterdir()) == \
            sorted(p.name for p in (tmp_path / "one").iterdir())
        # 50 does not divide by 3: the shares are weighted, and the training is still the same
        assert_same_weights(tmp_path / "one", tmp_path / f"n{n}")


def _rank_pids(out: Path) -> dict[int, int]:
    """pid of each rank of the glassnet train writing to `out` (from /proc: MPICH's PMI_RANK)."""
    ranks = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            if b"glassnet" not in cmdline or str(out).encode() not in cmdline:
                continue
            env = dict(v.split(b"=", 1) for v in (entry / "environ").read_bytes().split(b"\0") if b"=" in v)
        except OSError:
            continue
        if b"PMI_RANK" in env:
            ranks[int(env[b"PMI_RANK"])] = int(entry.name)
    return ranks


def _steps(out: Path) -> list[int]:
    folder = out / "checkpoints"
    return sorted(int(p.name[5:-5]) for p in folder.glob("step-*.json")) if folder.is_dir() else []


def test_a_killed_rank_ends_the_job_and_the_run_resumes_at_another_world_size(tmp_path):
    """SIGKILL rank 1 of 2 mid-epoch: the job ends within seconds, naming the dead process; the
    last checkpoint is whole; resumed at 3 ranks, the run ends with one process's weights."""
    one = train(tmp_path / "one", extra=["--epochs", "3"])
    assert one.returncode == 0, one.stderr
    out = tmp_path / "killed"
    job = train(out, 2, ["--epochs", "3", "--checkpoint-every", "1"], start_new_session=True)
    deadline = time.monotonic() + 120
    while (not _steps(out) or _steps(out)[-1] < 14) and time.monotonic() < deadline and job.poll() is None:
        time.sleep(0.005)  # into the second epoch (11 steps an epoch)
    pids = _rank_pids(out)
    assert job.poll() is None and set(pids) == {0, 1}, f"the job is not running as expected: {pids}"
    os.kill(pids[1], signal.SIGKILL)
    killed = time.monotonic()
    output, _ = job.communicate(timeout=60)
    assert time.monotonic() - killed < 20
    assert job.returncode != 0
    # mpiexec names the dead process, and glassnet's first line said which rank has that pid
    assert f"PID {pids[1]}" in output and "signal 9" in output and f"rank 1: pid {pids[1]}" in output
    assert not (out / "model.safetensors").exists()
    stopped_at = _steps(out)[-1]
    assert 14 <= stopped_at < 33
    resumed = train(out, 3, ["--resume"])
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"resumed from step-{stopped_at:08d}.json" in resumed.stdout or "resumed from" in resumed.stdout
    assert_same_weights(tmp_path / "one", out)
