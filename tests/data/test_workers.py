"""DataLoader worker processes: the same batches as without workers, per-worker seeding, errors
carried home with their traceback, and no process left behind after an error, an early break,
a timeout, a dead worker, Ctrl-C or a killed parent."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch.utils.data as tud

import glassnet
from glassnet import functional as F
from glassnet.data import DataLoader, Dataset, TensorDataset, get_worker_info
from glassnet.data import transforms as T
from glassnet.data.dataloader import base_seed

from .test_dataloader import Stream, TorchStream, _assert_same, _plain

ROOT = Path(__file__).resolve().parents[2]

# more workers than this 2-CPU machine has, on purpose (glassnet and torch both warn)
pytestmark = pytest.mark.filterwarnings("ignore:This DataLoader will create")


def children() -> set[int]:
    """pids of this process's children, zombies included (read from /proc), except the resource
    tracker that Python's multiprocessing starts once for the spawn method and keeps."""
    me, found = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:  # it ended while we looked
                continue
            # the parent pid is the 2nd field after the parenthesised command name
            if int(stat.rsplit(")", 1)[1].split()[1]) == me and b"resource_tracker" not in cmdline:
                found.add(int(entry))
    return found


@pytest.fixture
def no_leftover_processes():
    before = children()
    yield
    assert children() - before == set(), "worker processes were left behind"


def exists(pid: int) -> bool:
    """Whether process `pid` still runs. An exited process whose parent died is reaped by init;
    until then (or forever, under an init that does not reap) it is a zombie: it has exited."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def gone_within(pids, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(exists(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def batches_of(loader):
    return [[t.data.copy() for t in batch] for batch in loader]


def assert_same_batches(a, b):
    assert len(a) == len(b)
    for ba, bb in zip(a, b):
        assert len(ba) == len(bb)
        for ta, tb in zip(ba, bb):
            np.testing.assert_array_equal(ta, tb)


class Samples(Dataset):
    """A map-style dataset (the per-sample path) recording which process and generators made each sample."""

    def __init__(self, n, fail_at=None, sleep=0.0, exit_at=None):
        self.n, self.fail_at, self.sleep, self.exit_at = n, fail_at, sleep, exit_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise ValueError(f"sample {i} is corrupt")
        if i == self.exit_at:
            os._exit(3)
        time.sleep(self.sleep)
        info = get_worker_info()
        return {"index": i, "worker": -1 if info is None else info.id, "seed": -1 if info is None else info.seed,
                "pid": os.getpid(), "numpy": np.random.randint(2 ** 30), "python": random.getrandbits(30),
                "glassnet": int(glassnet.random.default_generator().integers(2 ** 30))}


def augmented(n=203):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 1, 12, 12)).astype(np.float32)
    return TensorDataset(x, np.arange(n), transform=T.Compose([T.RandomCrop(12, padding=3), T.RandomHorizontalFlip()]))


@pytest.mark.parametrize("num_workers,prefetch_factor", [(1, 1), (2, 2), (3, 1), (2, 5)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_workers_give_the_same_batches_as_one_process(num_workers, prefetch_factor, drop_last, no_leftover_processes):
    ds = augmented()
    one = DataLoader(ds, 16, shuffle=True, drop_last=drop_last, seed=3)
    many = DataLoader(ds, 16, shuffle=True, drop_last=drop_last, seed=3, num_workers=num_workers,
                      prefetch_factor=prefetch_factor)
    for _ in range(2):  # two epochs: a new order and new augmentation each, identical in both
        assert_same_batches(batches_of(one), batches_of(many))


def test_per_sample_path_with_workers_keeps_order(no_leftover_processes):
    loader = DataLoader(Samples(23), batch_size=4, num_workers=3, seed=0)
    batches = list(loader)
    assert np.concatenate([b["index"].data for b in batches]).tolist() == list(range(23))
    # batch b was built by worker b % 3, in a process of its own
    assert [int(b["worker"].data[0]) for b in batches] == [b % 3 for b in range(len(batches))]
    assert len({int(b["pid"].data[0]) for b in batches} | {os.getpid()}) == 4


def test_per_worker_seeding(no_leftover_processes):
    loader = DataLoader(Samples(12), batch_size=2, num_workers=2, seed=5)
    first, second = list(loader), list(loader)
    for epoch, batches in enumerate([first, second]):
        expected = base_seed(5, epoch)
        for b, batch in enumerate(batches):
            assert batch["seed"].data.tolist() == [expected + b % 2] * 2  # base_seed + worker_id
    # the two workers' generators differ; the same loader seed repeats them; epochs differ
    draws = {w: [int(v) for b in first[w::2] for v in b["glassnet"].data] for w in (0, 1)}
    assert draws[0] != draws[1]
    again = list(DataLoader(Samples(12), batch_size=2, num_workers=2, seed=5))
    for key in ("numpy", "python", "glassnet"):
        assert [b[key].data.tolist() for b in again] == [b[key].data.tolist() for b in first]
        assert [b[key].data.tolist() for b in second] != [b[key].data.tolist() for b in first]
    # each worker's generators are seeded as in PyTorch: glassnet's and Python's with base_seed + id
    seed = base_seed(5, 0)
    assert int(first[1]["python"].data[0]) == random.Random(seed + 1).getrandbits(30)
    assert int(first[0]["glassnet"].data[0]) == int(np.random.default_rng(seed).integers(2 ** 30))
    assert get_worker_info() is None


def _record_init(worker_id):
    os.environ["GLASSNET_TEST_INIT"] = f"{worker_id}:{get_worker_info().num_workers}"


class InitSeen(Dataset):
    def __len__(self):
        return 6

    def __getitem__(self, i):
        return os.environ.get("GLASSNET_TEST_INIT", "none")


def test_worker_init_fn_runs_in_each_worker(no_leftover_processes):
    batches = list(DataLoader(InitSeen(), batch_size=2, num_workers=3, worker_init_fn=_record_init))
    assert batches == [["0:3", "0:3"], ["1:3", "1:3"], ["2:3", "2:3"]]
    assert "GLASSNET_TEST_INIT" not in os.environ


def test_worker_exception_is_reraised_with_its_traceback(no_leftover_processes):
    loader = DataLoader(Samples(20, fail_at=9), batch_size=2, num_workers=2)
    seen = []
    with pytest.raises(ValueError) as info:
        for batch in loader:
            seen.append(batch["index"].data.tolist())
    message = str(info.value)
    assert "Caught ValueError in DataLoader worker process 0" in message  # batch 4 (indices 8, 9): worker 0
    assert "Traceback (most recent call last)" in message and "in __getitem__" in message
    assert "sample 9 is corrupt" in message
    assert seen == [[0, 1], [2, 3], [4, 5], [6, 7]]  # every batch before the bad one, in order


def test_exception_in_worker_init_fn_and_unpicklable_types(no_leftover_processes):
    def bad_init(worker_id):
        raise KeyError("no such setting")

    with pytest.raises(RuntimeError, match="(?s)Caught KeyError in DataLoader worker process 0.*no such setting"):
        list(DataLoader(Samples(4), batch_size=2, num_workers=1, worker_init_fn=bad_init))

    class Local(Exception):  # defined in a function: cannot travel by name, so it comes back as RuntimeError
        pass

    class Raises(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            raise Local("local trouble")

    with pytest.raises(RuntimeError, match="(?s)Caught exception in DataLoader worker.*local trouble"):
        list(DataLoader(Raises(), batch_size=1, num_workers=1))


def test_early_break_stops_the_workers():
    before = children()
    loader = DataLoader(Samples(100), batch_size=2, num_workers=3)
    for i, _ in enumerate(loader):
        if i == 1:
            assert len(children() - before) == 3  # the workers exist while the pass runs
            break
    assert children() - before == set()


def test_timeout(no_leftover_processes):
    # a sample takes 30 s: without the timeout, next() would return it instead of raising
    loader = DataLoader(Samples(4, sleep=30.0), batch_size=1, num_workers=1, timeout=0.3)
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.3 seconds"):
        next(iter(loader))


def test_dead_worker_is_reported(no_leftover_processes):
    loader = DataLoader(Samples(8, exit_at=2), batch_size=1, num_workers=2)
    with pytest.raises(RuntimeError, match=r"DataLoader worker 0 \(pid \d+\) exited unexpectedly with exit code 3"):
        list(loader)


def test_persistent_workers(no_leftover_processes):
    before = children()
    ds = augmented(64)
    loader = DataLoader(ds, 8, shuffle=True, seed=1, num_workers=2, persistent_workers=True)
    reference = DataLoader(ds, 8, shuffle=True, seed=1)
    assert_same_batches(batches_of(loader), batches_of(reference))
    workers = children() - before
    assert len(workers) == 2  # still there between epochs
    for i, _ in enumerate(loader):  # an epoch left early: what was in flight is dropped
        if i == 2:
            break
    reference_epoch_1 = batches_of(reference)
    assert_same_batches(batches_of(loader), batches_of(reference))  # epoch 2, in full
    assert children() - before == workers  # the same two processes all along
    assert reference_epoch_1  # (epoch 1 of the reference was read to keep the epochs aligned)
    del loader
    assert gone_within(workers, 5.0)


def test_persistent_workers_keep_their_seeds_as_in_torch(no_leftover_processes):
    loader = DataLoader(Samples(4), batch_size=2, num_workers=2, persistent_workers=True, seed=2)
    first, second = list(loader), list(loader)
    assert [b["pid"].data.tolist() for b in first] == [b["pid"].data.tolist() for b in second]
    assert [b["seed"].data.tolist() for b in second] == [b["seed"].data.tolist() for b in first]
    # not reseeded: the workers' generators continue where the first epoch left them
    assert [b["numpy"].data.tolist() for b in second] != [b["numpy"].data.tolist() for b in first]


def test_resume_mid_epoch_with_workers(no_leftover_processes):
    ds = augmented(50)
    full = DataLoader(ds, 4, shuffle=True, seed=9)
    expected = batches_of(full)
    resumed = DataLoader(ds, 4, shuffle=True, seed=0, num_workers=2)
    resumed.load_state_dict({"seed": 9, "epoch": 0, "batch": 5})
    it = iter(resumed)
    assert_same_batches([[t.data for t in next(it)]], expected[5:6])
    assert resumed.state_dict() == {"seed": 9, "epoch": 0, "batch": 6}
    assert_same_batches([[t.data for t in b] for b in it], expected[6:])


def test_large_batches_arrive_intact_and_writable(no_leftover_processes):
    x = np.random.default_rng(0).standard_normal((6, 3, 256, 256)).astype(np.float32)  # 2.3 MiB per batch of 3
    batches = list(DataLoader(TensorDataset(x, np.arange(6)), batch_size=3, num_workers=2))
    np.testing.assert_array_equal(np.concatenate([b[0].data for b in batches]), x)
    batches[0][0].data *= 2  # the arrays own fresh memory
    assert batches[0][0].data.flags.writeable


@pytest.mark.parametrize("num_workers,batch_size,drop_last", [(2, 3, False), (3, 2, False), (3, 2, True),
                                                              (2, None, False)])
def test_iterable_dataset_sharded_over_workers_as_in_torch(num_workers, batch_size, drop_last,
                                                          no_leftover_processes):
    kwargs = dict(batch_size=batch_size, drop_last=drop_last, num_workers=num_workers)
    ours = [_plain(b) for b in DataLoader(Stream(17), **kwargs)]
    theirs = [_plain(b) for b in tud.DataLoader(TorchStream(17), **kwargs)]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        _assert_same(a, b)
    # each worker's batches in turn, until every worker has run out
    if batch_size == 3 and num_workers == 2:
        labels = [b[1].tolist() for b in ours]
        assert labels == [[0, 2, 4], [1, 3, 5], [6, 8, 10], [7, 9, 11], [12, 14, 16], [13, 15]]


class Convolve(Dataset):
    """Runs a glassnet convolution inside the worker (forked after the parent ran one at two threads)."""

    def __init__(self, x, w):
        self.x, self.w = x, w

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        out = F.conv2d(glassnet.tensor(self.x[i:i + 1]), glassnet.tensor(self.w), padding=1)
        return out.data[0]


def test_fork_after_a_convolution(two_threads, no_leftover_processes):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3, 16, 16)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    expected = F.conv2d(glassnet.tensor(x), glassnet.tensor(w), padding=1).data  # starts the helper thread
    got = np.concatenate([b.data for b in DataLoader(Convolve(x, w), batch_size=2, num_workers=2)])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_spawn_context(no_leftover_processes):
    ds = augmented(30)
    spawned = DataLoader(ds, 8, shuffle=True, seed=4, num_workers=1, multiprocessing_context="spawn")
    assert_same_batches(batches_of(spawned), batches_of(DataLoader(ds, 8, shuffle=True, seed=4)))


SCRIPT = textwrap.dedent("""
    import os, sys, time
    from glassnet.data import DataLoader, Dataset

    class Slow(Dataset):
        def __len__(self):
            return 10 ** 6
        def __getitem__(self, i):
            time.sleep(0.01)
            return i

    loader = DataLoader(Slow(), batch_size=2, num_workers=2)
    it = iter(loader)
    next(it)
    print(" ".join(str(p.pid) for p in it._workers), flush=True)
    for _ in it:
        pass
""")


@pytest.mark.parametrize("how", ["ctrl-c", "sigint-parent", "sigkill-parent"])
def test_no_workers_survive_their_parent(how, tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        workers = [int(p) for p in proc.stdout.readline().split()]
        assert len(workers) == 2 and all(exists(p) for p in workers), proc.stderr.read()
        if how == "ctrl-c":  # the terminal sends SIGINT to the whole foreground process group
            os.killpg(proc.pid, signal.SIGINT)
        elif how == "sigint-parent":
            proc.send_signal(signal.SIGINT)
        else:
            proc.send_signal(signal.SIGKILL)
        code = proc.wait(timeout=20)
        if how != "sigkill-parent":
            assert code != 0 and "KeyboardInterrupt" in proc.stderr.read()
        # a killed parent cannot stop its workers: they notice it is gone within a second or two
        assert gone_within(workers, 10.0), f"workers still running after {how}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_persistent_workers_follow_load_state_dict(no_leftover_processes):
    ds = augmented(40)
    loader = DataLoader(ds, 8, shuffle=True, seed=1, num_workers=2, persistent_workers=True)
    batches_of(loader)  # the workers start with seed 1
    loader.load_state_dict({"seed": 6, "epoch": 3, "batch": 2})
    expected = DataLoader(ds, 8, shuffle=True, seed=6)
    expected.set_epoch(3)
    assert_same_batches(batches_of(loader), batches_of(expected)[2:])


def test_persistent_workers_restart_an_iterable_dataset_each_epoch(no_leftover_processes):
    loader = DataLoader(Stream(11), batch_size=2, num_workers=2, persistent_workers=True)
    fresh = [_plain(b) for b in DataLoader(Stream(11), batch_size=2, num_workers=2)]
    for _ in range(2):
        epoch = [_plain(b) for b in loader]
        assert len(epoch) == len(fresh)
        for a, b in zip(epoch, fresh):
            _assert_same(a, b)


def test_a_batch_that_cannot_be_pickled_is_an_error_not_a_hang(no_leftover_processes):
    def collate(samples):
        return lambda: samples  # a function made here cannot travel to the main process

    loader = DataLoader(Samples(4), batch_size=2, num_workers=1, collate_fn=collate, timeout=60)
    with pytest.raises(Exception, match="(?si)Caught .* in DataLoader worker process 0.*pickle"):
        next(iter(loader))


class Marks(Dataset):
    """Leaves a file per sample read, so the test can count what the workers have fetched."""

    def __init__(self, folder, n):
        self.folder, self.n = folder, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        (self.folder / str(i)).touch()
        return i


@pytest.mark.parametrize("num_workers,prefetch_factor", [(1, 1), (2, 3)])
def test_prefetch_factor_bounds_the_batches_in_flight(tmp_path, num_workers, prefetch_factor, no_leftover_processes):
    it = iter(DataLoader(Marks(tmp_path, 200), batch_size=2, num_workers=num_workers,
                         prefetch_factor=prefetch_factor))
    next(it)

    def fetched_batches():
        return len(list(tmp_path.iterdir())) // 2

    deadline = time.monotonic() + 30
    while fetched_batches() < 2 and time.monotonic() < deadline:  # the workers work ahead ...
        time.sleep(0.05)
    assert fetched_batches() >= 2
    time.sleep(1.0)  # ... and would fetch far more in this time (a sample takes microseconds) if allowed
    # the batch handed out, and at most prefetch_factor per worker asked for since
    assert fetched_batches() <= 1 + prefetch_factor * num_workers
    del it
