"""How glassnet uses the CPU's cores: its own helper threads, and OpenBLAS at one thread inside its kernels.

The parallelism is glassnet's: a convolution, a pooling or a ReLU cuts its work into contiguous
parts, one per worker (the calling thread and up to get_num_threads() - 1 helper threads), with
`split_batch`; each worker runs single-threaded GEMMs, copies and scatter-adds on its own part
side by side (NumPy and numba release the GIL). Inside glassnet's kernels OpenBLAS runs at one
thread (single_threaded_blas), because a multi-threaded OpenBLAS on the modest products of a CNN
only adds hand-offs between its threads: on a busy 2-core machine a (64, 400) @ (400, 120)
product took 69 ms at two OpenBLAS threads and 0.07 ms at one (docs/benchmarks.md). When the
kernel returns, OpenBLAS gets back the count it had, so the user's own NumPy products keep their
cores; glassnet.use_process_settings() (what the `glassnet` command calls) leaves it at one.

How many threads. get_num_threads() starts at GLASSNET_NUM_THREADS if that is set, else at
OMP_NUM_THREADS (what NumPy and PyTorch users set to limit threads), else at the number of CPUs
this process may run on (os.sched_getaffinity, which a container's or taskset's limit
narrows; os.cpu_count() where affinity cannot be read). set_num_threads(n) changes it.

The same bits at any thread count. Where a kernel sums over the batch (a convolution's weight
and bias gradients) it cuts the batch into blocks whose size follows from the problem's shape,
never from the number of threads, and adds the blocks' partial sums in a fixed order
(kernels/fast/blocks.py); the parts handed to the workers are whole blocks. So the result is the
same bytes at 1, 2, 3 or 16 threads and when the fallback below runs a split in one thread.

The hand-off. A thread that sleeps lets its CPU go idle, and waking an idle CPU is slow in a
virtual machine that does not poll before halting (50-150 us on the 2-core machine of
docs/benchmarks.md). So neither side sleeps while a training step is under way: after each
task a helper waits for the next one by spinning for SPIN_ROUNDS rounds of 0.5-0.6 us (about
6 ms) without the GIL, and the caller waits for each helper's part the same way, each yielding
its CPU on every round (sched_yield); only then do they sleep. OpenMP runtimes do the same
(GOMP_SPINCOUNT, KMP_BLOCKTIME). A LeNet-5 training step took 6.35 ms with sleeping waits and
5.94 ms with these (docs/benchmarks.md). A helper that sees a task spins SETTLE_SECONDS more
before it takes the GIL, which the caller is still holding for a few microseconds: taken at
once, the helper found it held and slept until woken (_spin_until_above). Small problems still
stay in one thread: a split costs tens of microseconds even with every thread awake. When
other programs keep the CPUs busy, splits fall back to one thread for a while (_Pool). With
more workers than CPUs (set on purpose, or a narrow affinity) nobody spins and nothing is
pinned: the workers sleep between hand-offs and the scheduler shares the CPUs among them.

Kernels whose parts also exist as compiled functions split with split_compiled (ReLU's two
passes, direct.py's three sums, single_channel.py's forward and weight gradient, max pooling
and its backward, in float32): while the helpers wait awake, a part is handed over and run
without either thread taking the GIL (handoff.py). The Python path above remains for every
other split, and for these when a helper is asleep.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import sys
import threading
import time
import warnings

import numpy as np
from numba import njit, types
from threadpoolctl import ThreadpoolController

from . import handoff

# Pooling, elementwise and layout kernels split arrays of more than this many bytes (a split
# costs tens of microseconds). At 256 KiB LeNet-5's maps (0.3-1.2 MB) were split, and that once
# made a training step 5-10% faster; after the hand-off and pinning changes it made it slower
# (two threads, paired: a step with the maps in one thread took 0.90-0.91 of the time; a ReLU
# on (64, 6, 28, 28) 97 us forward in one thread against 148 in two). Splitting still paid from
# 1.6 MB on ((16, 32, 28, 28): 0.97) and at 6.4 MB ((64, 32, 28, 28): 0.69). With the results
# in pooled memory (allocator.py, no page faults), LeNet-5's 1.2 MB maps pay again in the step:
# 1 MiB against 1.5 MiB, paired, two threads, 11 blocks: LeNet-5 step 0.966-0.984 (elementwise
# and pooling alone 0.961-0.972, at 512 KiB 0.960-0.987, at 256 KiB 0.998-1.018).
PARALLEL_BYTES = 1 << 20
SPIN_ROUNDS = 10_000  # sched_yield rounds of 0.5-0.6 us each: a helper stays awake about 6 ms
WAIT_ROUNDS = 20_000  # and the caller waits awake up to about 12 ms for each helper's part
# A helper that sees a task waits this long, awake and without the GIL, before it takes the GIL
# (see _spin_until_above): the caller lets go of the GIL a few microseconds after posting.
SETTLE_SECONDS = 20e-6
LOST_SECONDS = 1e-3  # a spin kept off its CPU longer than this lost it to another program ...
CONTENDED_SECONDS = 1.0  # ... and after two of those splits run in one thread for this long
# sched_yield from the C library, called from numba; GLASSNET_SPIN=0 makes the threads sleep
# between hand-offs instead (OMP_WAIT_POLICY=passive's counterpart, for machines shared with
# other jobs: less CPU time taken from them, slower splits)
_CAN_SPIN = sys.platform.startswith("linux") and os.environ.get("GLASSNET_SPIN", "1") != "0"

_pool: _Pool | None = None
_pool_lock = threading.Lock()
_part = threading.local()  # .running: this thread runs one part of a split (it does not split again)

_blas = None  # (get, set) thread-count functions of the BLAS libraries NumPy and SciPy loaded
_blas_lock = threading.Lock()
_blas_depth = 0  # single_threaded_blas blocks open now, in any thread
_blas_saved: list[int] = []  # the libraries' thread counts when the outermost block began
_blas_for_process = False  # hold_blas_for_process() was called


def _allowed_cpus() -> list[int] | None:
    """The CPUs this process may run on, sorted; None where affinity cannot be read (not Linux)."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def _default_threads() -> int:
    """GLASSNET_NUM_THREADS, else OMP_NUM_THREADS (its first level: "4,2" means 4), else the CPUs
    this process may use. A value that is not a positive integer is ignored with a warning, as
    OpenMP runtimes ignore a bad OMP_NUM_THREADS."""
    for name in ("GLASSNET_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").split(",")[0].strip()
        if not value:
            continue
        if value.isdigit() and int(value) >= 1:
            return int(value)
        warnings.warn(f"{name}={os.environ[name]!r} is not a positive integer; ignored", RuntimeWarning,
                      stacklevel=2)
    cpus = _allowed_cpus()
    return len(cpus) if cpus else max(1, os.cpu_count() or 1)


_workers = _default_threads()


def get_num_threads() -> int:
    """Threads a kernel splits its work over (torch.get_num_threads's name)."""
    return _workers


def set_num_threads(n: int) -> None:
    """Use up to n threads (any n >= 1) in glassnet's kernels; 1 makes every kernel single-threaded."""
    global _workers
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"set_num_threads expected a positive int, got {n!r}")
    _workers = int(n)


def executor() -> _Pool:
    """The helper threads (the calling thread is worker 0), started as splits first need them."""
    global _pool
    if _pool is None:  # the lock only for the first call, not on every split
        with _pool_lock:
            if _pool is None:
                _pool = _Pool()
    return _pool


class _Task:
    """One call fn(*args) handed to a helper; result() waits for it and returns or raises."""

    __slots__ = ("fn", "args", "spin", "_done", "_value", "_error", "_helper", "_number")

    def __init__(self, fn, args, spin: bool, helper: _Helper, number: int):
        self.fn, self.args, self.spin = fn, args, spin
        self._done = threading.Lock()
        self._done.acquire()  # released by run(): a plain lock is CPython's cheapest wait
        self._value = self._error = None
        self._helper, self._number = helper, number  # done once helper.finished[0] >= number

    def run(self) -> None:
        """Run the call; the helper then counts it finished (_Helper._serve)."""
        try:
            self._value = self.fn(*self.args)
        except BaseException as error:  # handed to the caller, who re-raises it
            self._error = error
        finally:
            self.fn = self.args = None
            self._done.release()

    def wait(self) -> None:
        """Return once the task has run (awake first: a thread that sleeps is woken slowly)."""
        if self.spin:
            executor().note_spin(_spin_timed(_spin_until_above, self._helper.finished, self._number - 1,
                                             WAIT_ROUNDS, _NOTHING, 0))
        with self._done:
            pass

    def result(self):
        """The call's value, or its error raised here; call after wait()."""
        with self._done:
            pass
        if self._error is not None:
            raise self._error
        return self._value


class _Helper:
    """A daemon thread running its submitted tasks one after another. Between tasks it spins
    for the next one without the GIL (when the task asked for it), then sleeps on its queue."""

    def __init__(self, index: int):
        self._tasks = queue.SimpleQueue()
        # counters read by spinning threads without the GIL; each is changed by one side only
        self.posted = np.zeros(1, dtype=np.int64)  # tasks submitted (by callers, under the GIL)
        self.finished = np.zeros(1, dtype=np.int64)  # tasks finished (by the helper)
        self.cpus = None  # what the thread is pinned to; changed by the thread only
        self.box = handoff.mailbox()  # where callers post compiled parts while it waits in handoff.serve
        threading.Thread(target=self._serve, name=f"glassnet-worker-{index}", daemon=True).start()

    def submit(self, spin: bool, fn, *args) -> _Task:
        task = _Task(fn, args, spin, self, int(self.posted[0]) + 1)
        self._tasks.put(task)
        self.posted[0] += 1  # after the put: a helper that sees the count finds the task
        return task

    def _serve(self) -> None:
        while True:
            task = self._tasks.get()
            spin = task.spin
            task.run()
            del task
            if spin:  # count the task finished once this thread has let go of the GIL, then wait
                pool = executor()  # awake, running the compiled parts posted meanwhile (handoff.py)
                pool.note_spin(_spin_timed(handoff.serve, self.box, self.posted, self.finished[0] + 1,
                                           SPIN_ROUNDS, self.finished, pool.settle_rounds))
            else:
                self.finished[0] += 1


class _Pool:
    """The helper threads, and whether the CPUs look busy with other programs.

    Spinning assumes the CPUs are glassnet's. When another program keeps one of them busy, a
    spinning thread that yields its CPU gets it back only a time slice later (a LeNet-5 step
    took 48 ms instead of 9 with a busy loop on the helper's CPU), and even without spinning a
    part pinned to the busy CPU runs at half speed (18 ms), while one unpinned thread simply
    uses the free CPU (9 ms; docs/benchmarks.md). So each spin measures the time its thread
    was kept off its CPU (wall time minus the thread's CPU time), and when two of about the last
    three spins lost more than LOST_SECONDS, splits run in one thread for CONTENDED_SECONDS;
    then the threads are tried again. (Lateness alone is not the signal: a helper that waits
    for the GIL is late too, and on an idle virtual machine about 1 in 500 spins loses a
    millisecond to the host, hence two.) The blocks a kernel sums are the same either way, so
    the fallback changes the time a step takes, never its result.
    """

    def __init__(self):
        self._helpers: list[_Helper] = []
        self._lock = threading.Lock()
        self.contended_until = 0.0  # perf_counter time before which splits run in one thread
        self._lost = 0.0  # recent spins that lost their CPU, each weighing 0.75 times less per spin since
        self.settle_rounds = 0  # SETTLE_SECONDS in rounds of sched_yield, measured here
        if _CAN_SPIN:  # load the compiled spin now: its first call takes a while, not to be read as lost time
            _spin_until_above(np.zeros(1, dtype=np.int64), 0, 0, _NOTHING, 0)
            start = time.perf_counter()
            _spin_until_above(np.zeros(1, dtype=np.int64), 0, 1000, _NOTHING, 0)  # 1000 rounds that find nothing
            per_round = max((time.perf_counter() - start) / 1000, 1e-8)
            self.settle_rounds = min(int(SETTLE_SECONDS / per_round), 1000)

    def helper(self, i: int) -> _Helper:
        """Helper thread i (1, 2, ...), started on first use."""
        if i > len(self._helpers):
            with self._lock:
                while len(self._helpers) < i:
                    self._helpers.append(_Helper(len(self._helpers) + 1))
        return self._helpers[i - 1]

    def contended(self) -> bool:
        """Whether the CPUs looked busy with other programs a moment ago."""
        return time.perf_counter() < self.contended_until

    def note_spin(self, lost: float) -> None:
        """Count one spin whose thread was kept off its CPU for `lost` seconds."""
        self._lost = 0.75 * self._lost + (lost > LOST_SECONDS)
        if self._lost >= 1.5:  # two long losses in a row, or with one short between them
            self.contended_until = time.perf_counter() + CONTENDED_SECONDS
            self._lost = 0.0


def _spin_timed(wait, *args) -> float:
    """wait(*args), an awake wait that yields its CPU every round (_spin_until_above,
    handoff.serve), returning the seconds this thread spent off its CPU meanwhile (wall time
    minus the thread's CPU time: _Pool.note_spin's measure; _run_compiled takes it inline)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    wait(*args)
    return (time.perf_counter() - wall) - (time.thread_time() - cpu)


if _CAN_SPIN:
    _sched_yield = types.ExternalFunction("sched_yield", types.int32())

    _NOTHING = np.zeros(0, dtype=np.int64)

    @njit(nogil=True, cache=True)
    def _spin_until_above(counter, value, rounds, finished, settle):
        """Whether counter[0] > value within `rounds` yields of the CPU. (The call to the C
        library each round also makes the loop read counter[0] afresh.) finished, a helper's
        count of finished tasks (or an empty array), is counted up first: here the helper no
        longer holds the GIL, so the caller that sees the count can take the GIL at once. (Counted
        in Python before the GIL was let go, the caller woke while the helper still held it, and
        waiting for it cost a sleep and a wake-up: a split that did nothing took 79 us, 28 of
        them between the helper's end and the caller's return.)

        Once the count is above value, `settle` more rounds pass before returning (about
        SETTLE_SECONDS; the helper's wait for a task passes Pool.settle_rounds). The return takes
        the GIL, which the caller holds from posting the task until its own part's compiled code
        starts, some microseconds later; a thread that finds the GIL taken sleeps on a condition
        variable, and waking it took about 25 us here (the direct forward of (64, 6, 14x14) ->
        16, 5x5 at two threads: the helper's part began 26 us after the caller's, the same 26
        with 1.5 us of settling, 7-23 us in three traces with 20 us of it). Where the caller
        holds the GIL longer, the helper sleeps as before, woken at the same moment."""
        for i in range(finished.shape[0]):
            finished[i] += 1
        for _ in range(rounds):
            if counter[0] > value:
                for _ in range(settle):
                    _sched_yield()
                return True
            _sched_yield()
        return counter[0] > value


def single_threaded_blas() -> _SingleThreadedBlas:
    """OpenBLAS (NumPy's, and SciPy's, which numba's np.dot calls) at one thread inside the block,
    and back at the count it had when the outermost such block ends, so that the user's own
    NumPy products outside glassnet keep their cores. Blocks nest, also across threads: the count
    is read when the first one opens and set back when the last one closes (a count saved per
    block would restore the 1 an inner block found). It is set only where it is not 1 already,
    through OpenBLAS's own functions: a block costs 1.4 us, 2.0 us when the count must be set and
    restored (_SingleThreadedBlas), and a LeNet-5 training step opens 9 (the compiled splits
    open none: split_compiled), with no OpenBLAS thread left polling (docs/benchmarks.md,
    "Process-wide settings"). After hold_blas_for_process() the count stays
    at one instead. One BLAS thread also keeps each product's summation order fixed."""
    return _HOLD


class _SingleThreadedBlas:
    """single_threaded_blas()'s block. A class rather than a @contextlib.contextmanager
    generator: that cost 2.8 us a block with OpenBLAS at two threads (2.1 at one), this 2.0
    (1.4). It keeps no state of its own (the depth and the saved counts are the module's), so
    one instance serves every block, nested or in any thread."""

    __slots__ = ()

    def __enter__(self) -> None:
        global _blas_depth, _blas_saved
        with _blas_lock:
            libraries = _blas_libraries()
            if _blas_depth == 0:
                _blas_saved = [get() for get, _ in libraries]
                for (_, set_threads), n in zip(libraries, _blas_saved):
                    if n != 1:
                        set_threads(1)
            _blas_depth += 1

    def __exit__(self, *error) -> None:
        global _blas_depth
        with _blas_lock:
            _blas_depth -= 1
            if _blas_depth == 0 and not _blas_for_process:
                for (_, set_threads), n in zip(_blas_libraries(), _blas_saved):
                    if n != 1:
                        set_threads(n)


_HOLD = _SingleThreadedBlas()


def hold_blas_for_process() -> None:
    """OpenBLAS at one thread from now on, for the whole process (glassnet's calls no longer
    restore the count they found)."""
    global _blas_for_process
    with _blas_lock:
        _blas_for_process = True
        for get, set_threads in _blas_libraries():
            if get() != 1:
                set_threads(1)


def _blas_libraries() -> list[tuple]:
    """(get_num_threads, set_num_threads) of each BLAS library NumPy and SciPy loaded, found once.
    OpenBLAS's own functions are called directly where they exist: threadpoolctl's setter costs
    twice as much, and (threadpoolctl 3.8) on a pthreads OpenBLAS it obeys only the first thread
    that called it, so a glassnet call from a second thread would leave OpenBLAS as it is."""
    global _blas
    if _blas is None:
        import scipy.linalg.cython_blas  # noqa: F401  the BLAS numba's np.dot calls: load it before the lookup
        _blas = [_openblas_functions(lib) or (lib.get_num_threads, lib.set_num_threads)
                 for lib in ThreadpoolController().select(user_api="blas").lib_controllers]
    return _blas


def _openblas_functions(lib) -> tuple | None:
    """openblas_get_num_threads and openblas_set_num_threads of a pthreads OpenBLAS (with the
    prefix and suffix its build gave their names), or None."""
    dynlib = getattr(lib, "dynlib", None)  # threadpoolctl's handle on the loaded library
    if lib.internal_api != "openblas" or getattr(lib, "threading_layer", None) == "openmp" or dynlib is None:
        return None
    for prefix, suffix in itertools.product(("", "scipy_"), ("", "64_", "_64")):
        get = getattr(dynlib, f"{prefix}openblas_get_num_threads{suffix}", None)
        set_threads = getattr(dynlib, f"{prefix}openblas_set_num_threads{suffix}", None)
        if get is not None and set_threads is not None:
            return get, set_threads
    return None


def workers_for(n: int, worth_it: bool = True) -> int:
    """How many workers a split of n units gets now: 1 when one thread is asked for, when there
    is a single unit, when the caller judges the work too small (worth_it=False), inside a part
    of another split (its threads are busy with the other parts) or while the CPUs look busy
    with other programs; else min(get_num_threads(), n)."""
    if not worth_it or n < 2 or _workers < 2 or getattr(_part, "running", False) or executor().contended():
        return 1
    return min(_workers, n)


def parts(n: int, k: int) -> list[tuple[int, int]]:
    """range(n) cut into k contiguous parts whose sizes differ by at most one, the larger ones
    first (the first part runs in the calling thread, which starts on it at once)."""
    size, larger = divmod(n, k)
    cuts = [i * size + min(i, larger) for i in range(k + 1)]
    return list(zip(cuts[:-1], cuts[1:]))


def split_batch(n: int, work, worth_it: bool = True, most: int | None = None) -> list:
    """[work(lo, hi) for each part of range(n)], with OpenBLAS held at one thread: the parts
    (parts(n, workers_for(n, worth_it)), but no more than `most` when given) run side by side, the
    first in the calling thread and each other one in a helper thread. [work(0, n)] in this
    thread alone when that makes 1."""
    with single_threaded_blas():
        k = workers_for(n, worth_it) if most is None else max(min(workers_for(n, worth_it), most), 1)
        if k == 1:
            return [work(0, n)]
        return run_side_by_side([(work, lo, hi) for lo, hi in parts(n, k)])


def split_compiled(n: int, work, part: int, block, worth_it: bool = True) -> None:
    """split_batch(n, work, worth_it) for work that also exists as a compiled part: `part` is the
    address of a C function `void part(int64 block)` (0: none) that does work(lo, hi) given
    block(lo, hi), an int64 array (handoff.py). When every helper waits awake and pinned to its
    CPU (the splits of the last few milliseconds put it there), each part runs compiled, the
    caller's too, and no thread takes the GIL between the hand-off and the end; otherwise the
    parts run as split_batch's. Either way each part does the same work, so the bytes are the same.
    Unlike split_batch it does not hold OpenBLAS at one thread: the work is compiled loops that
    make no BLAS call (a hold is 1.4-2 us, and a LeNet-5 step makes nine such splits)."""
    k = workers_for(n, worth_it)
    if k == 1:
        work(0, n)
        return
    cuts = parts(n, k)
    if not (part and _CAN_SPIN and _run_compiled(part, [block(lo, hi) for lo, hi in cuts], work, cuts)):
        run_side_by_side([(work, lo, hi) for lo, hi in cuts])


def _run_compiled(part: int, blocks: list[np.ndarray], work, cuts: list[tuple[int, int]]) -> bool:
    """Run part(blocks[0]) here and part(blocks[i]) in helper i, through the compiled hand-off;
    False (nothing run) unless the workers can be pinned each to a CPU of its own and the helpers
    already are. A helper that is not waiting in handoff.serve gets its part as a Python task,
    work(*cuts[i]) (which leaves it waiting there afterwards)."""
    pool = executor()
    helpers = [pool.helper(i) for i in range(1, len(blocks))]
    with _pinned(len(blocks)) as (cpus, pinned):
        if not pinned or any(h.cpus != cpus[i] for i, h in enumerate(helpers, start=1)):
            return False
        _set_cpus(cpus[0])
        # timed as _spin_timed times a wait, but inline: a closure around these steps cost 2 us a split
        wall, cpu = time.perf_counter(), time.thread_time()
        addresses = [handoff.address(b) for b in blocks]
        tasks = []
        # two workers (the common case): post, run and wait in one compiled call
        if len(blocks) > 2 or handoff.run_pair(helpers[0].box, part, addresses[1], addresses[0]) < 0:
            posted = []
            for i, h in enumerate(helpers, start=1):
                done = handoff.post(h.box, part, addresses[i])
                if done >= 0:
                    posted.append((h, done))
                else:
                    tasks.append(h.submit(True, _on_cpus, h, cpus[i], work, *cuts[i]))
            handoff.call(part, addresses[0])
            for h, done in posted:
                handoff.wait(h.box, done)
        pool.note_spin((time.perf_counter() - wall) - (time.thread_time() - cpu))
        for task in tasks:
            task.wait()
        for task in tasks:
            task.result()
    return True


def run_side_by_side(calls: list[tuple]) -> list:
    """[fn(*args) for (fn, *args) in calls]: calls[0] in this thread, calls[i] in helper i, at the
    same time. When there are no more workers than CPUs, each is pinned to a CPU of its own
    for the call and they wait for each other awake; otherwise the scheduler places them and
    they sleep between hand-offs. If any call raises, every call is still waited for (the helpers
    write arrays the caller owns) and then the first error is raised."""
    pool = executor()
    with _pinned(len(calls)) as (cpus, pinned):
        spin = _CAN_SPIN and pinned
        helpers = [pool.helper(i) for i in range(1, len(calls))]
        tasks = [h.submit(spin, _on_cpus, h, cpus[i], *call)
                 for i, (h, call) in enumerate(zip(helpers, calls[1:]), start=1)]
        if pinned:
            _set_cpus(cpus[0])
        try:
            fn, *args = calls[0]
            first = _as_part(fn, *args)
        except BaseException:
            for task in tasks:
                task.wait()
            raise
        # wait while still pinned: a helper's wake-up call would otherwise move this thread to
        # that helper's CPU, where it then ran the single-threaded operations beside the
        # spinning helper
        for task in tasks:
            task.wait()
        return [first] + [task.result() for task in tasks]


@contextlib.contextmanager
def _pinned(k: int):
    """(cpus, pinned) for the k workers of one split: cpus[i] is the set of CPUs worker i runs
    on, and the caller's affinity is restored afterwards. With at least k CPUs in the caller's
    allowed set each worker gets one of its own (pinned=True); with fewer, every worker may run
    on all of them (pinned=False), and where affinity cannot be read (not Linux) cpus[i] is None
    (left as it is). Why pin: a helper is woken by the caller, and Linux tends to wake a thread
    on its waker's CPU; after a pause of some milliseconds two parts then often shared one CPU
    for a while, the caller's taking twice the helper's. Pinned, after a 0.15 s pause: a
    (64, 6, 14x14) convolution's forward and backward 2.35 ms instead of 3.22, a LeNet-5 step
    9.4 ms instead of 10.7 (docs/benchmarks.md)."""
    allowed = _allowed_cpus()
    if allowed is None:
        yield [None] * k, False
    elif len(allowed) < k:
        yield [set(allowed)] * k, False
    else:
        try:
            yield [{cpu} for cpu in allowed[:k]], True
        finally:
            _set_cpus(set(allowed))


def _set_cpus(cpus) -> bool:
    """Pin this thread to `cpus` (None: leave it); whether that was done."""
    if cpus is None:
        return False
    try:
        os.sched_setaffinity(0, cpus)
    except OSError:  # e.g. the CPU went offline: run wherever the scheduler likes
        return False
    return True


def _on_cpus(helper: _Helper, cpus, work, *args):
    """work(*args) in `helper`, its thread set to run on `cpus` (it stays there until a task
    asks for other CPUs, so the system call is made only then; None leaves it as it is)."""
    if cpus is not None and cpus != helper.cpus and _set_cpus(cpus):
        helper.cpus = cpus
    return _as_part(work, *args)


def _as_part(work, *args):
    """work(*args) as one part of a split: a split it asks for runs in this thread."""
    outer = getattr(_part, "running", False)
    _part.running = True
    try:
        return work(*args)
    finally:
        _part.running = outer


def run_both(first, second, worth_it: bool = True) -> tuple:
    """(first(), second()), with OpenBLAS held at one thread: side by side in this thread and a
    helper when two workers are free (workers_for), each then running its own splits in one
    thread; else one after the other. For two independent pieces of work that are each too small
    to share among threads (a small convolution's input and weight gradients)."""
    with single_threaded_blas():
        if workers_for(2, worth_it) < 2:
            return first(), second()
        return tuple(run_side_by_side([(first,), (second,)]))


def _forget_helpers_after_fork() -> None:
    """A forked child (e.g. a data-loading worker) inherits the helper objects but not their
    threads: submitting to them would wait forever, so the child starts helpers of its own."""
    global _pool, _pool_lock, _blas_lock, _blas_depth
    _pool, _pool_lock = None, threading.Lock()
    # a block open in another thread at the fork never ends in the child (its BLAS then stays
    # at the one thread it was forked with until a glassnet call restores what it finds)
    _blas_lock, _blas_depth = threading.Lock(), 0


os.register_at_fork(after_in_child=_forget_helpers_after_fork)
