"""The bookkeeping around fit()'s loop: where a run is, what it has recorded, its checkpoints.

fit() (loop.py) is the loop a student expects: for each epoch, train, evaluate, record,
checkpoint. What lets that loop stop anywhere and continue bit for bit lives here, in one
`Bookkeeping` object per run:

- opening the run directory: removing what an interrupted checkpoint write left, then either
  refusing to overwrite another run's checkpoints or resuming from the newest usable one;
- the TrainState that checkpoints carry: epoch and step counters, the history, the best
  validation result and the early-stopping counter, and the running metrics of the epoch in
  progress (loss and correct answers so far, seconds), so that a mid-epoch resume continues them;
- writing checkpoints (rank 0 alone: every rank holds the same state), and the Ctrl-C that asks
  for one between two steps.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from .checkpoint import (CheckpointError, TrainState, clean_leftovers, has_checkpoint_files, load_checkpoint,
                         resume_point, save_checkpoint)
from .parallel import global_sums


@contextmanager
def _interrupt_between_steps():
    """While active, a first Ctrl-C (SIGINT) only sets a flag that the loop reads between steps;
    a second one interrupts at once as usual. Yields the flag's reader."""
    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield flag.is_set  # not ours to take over (another thread, or a handler someone installed)
        return

    def handler(signum, frame):  # no printing here: it could land inside another print
        flag.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, handler)
    try:
        yield flag.is_set
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@contextmanager
def _never():
    yield lambda: False


class Bookkeeping:
    """Everything fit() keeps about a run besides the model's and the optimiser's own state.

    net: the model as checkpoints hold it (out of DistributedDataParallel); loader: the training
    loader, whose position checkpoints carry; out_dir: the run directory (None: no checkpoints);
    ranks: (rank, size) when training data-parallel, else None; log: where messages go.
    """

    def __init__(self, net, optimizer, loader, *, scheduler=None, out_dir=None, config: dict | None = None,
                 ranks=None, log=print):
        self.net, self.optimizer, self.loader, self.scheduler = net, optimizer, loader, scheduler
        self.checkpoints = Path(out_dir) / "checkpoints" if out_dir is not None else None
        self.config, self.ranks, self.log = config, ranks, log
        self.main_rank = ranks is None or ranks[0] == 0
        self.state = TrainState()
        self.stop_asked = False  # a Ctrl-C (on any rank) asks to checkpoint and stop
        self._ctrl_c = lambda: False  # the reader of the Ctrl-C flag while ctrl_c() is active
        self._since = 0.0  # when the clock of the epoch in progress last started (time.perf_counter)
        self._elapsed = 0.0  # the epoch's seconds so far, as of the last step

    # ---- the run directory -----------------------------------------------------------------

    def open(self, resume, epochs: int) -> None:
        """Start the run: resume False (a new run; the directory must hold no checkpoints), True
        (the newest usable checkpoint; CheckpointError if there is none), "auto" (that, or a new
        run) or a checkpoint's path."""
        checkpoints = self.checkpoints
        if checkpoints is not None and self.main_rank:
            for name in clean_leftovers(checkpoints):
                self.log(f"removed {name}, left by an interrupted checkpoint write")
        if resume is not False:
            if checkpoints is None:
                raise ValueError("resume needs the out_dir that holds the run's checkpoints")
            found = Path(resume) if resume is not True and resume != "auto" else \
                resume_point(checkpoints, resume, self.log)
            if found is not None:
                self.state, _ = load_checkpoint(found, model=self.net, optimizer=self.optimizer,
                                                scheduler=self.scheduler, loader=self.loader)
                if self.state.epoch > epochs:
                    raise CheckpointError(f"{found}: has {self.state.epoch} epochs done, more than the {epochs} "
                                          f"asked for")
                self.log(f"resumed from {found.name} (epoch {self.state.epoch}, step {self.state.step})")
        elif checkpoints is not None and has_checkpoint_files(checkpoints):
            raise CheckpointError(f"{checkpoints} already holds checkpoints of a run: resume=True continues "
                                  "it; remove them to start a new run there")

    def checkpoint(self) -> Path | None:
        """Write the run's state (on rank 0 alone: every rank holds the same); its path, or None."""
        if self.checkpoints is not None and self.main_rank:
            return save_checkpoint(self.checkpoints, model=self.net, optimizer=self.optimizer, state=self.state,
                                   scheduler=self.scheduler, loader=self.loader, config=self.config)
        return None

    @contextmanager
    def ctrl_c(self):
        """While active (and the run writes checkpoints), a Ctrl-C is kept for the loop to read
        between steps instead of stopping a step half-way."""
        with (_interrupt_between_steps() if self.checkpoints is not None else _never()) as pressed:
            self._ctrl_c = pressed
            try:
                yield
            finally:
                self._ctrl_c = lambda: False

    # ---- the epoch in progress ---------------------------------------------------------------

    def begin_epoch(self, epoch: int) -> int:
        """Set the loader to `epoch` (or check that a mid-epoch checkpoint left it there) and start
        the epoch's clock; returns how many of its batches are done already."""
        position = self.loader.state_dict()
        mid_epoch = bool(self.state.extra)  # the checkpoint was written in the middle of this epoch
        if mid_epoch and position["epoch"] != epoch:
            raise CheckpointError(f"the checkpoint's data loader is in epoch {position['epoch'] + 1}, "
                                  f"its training state in epoch {epoch + 1}")
        if not mid_epoch:
            self.loader.set_epoch(epoch)  # order and augmentation of this epoch, from the seed
            self.state.extra = {"loss_sum": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}
        self._since = time.perf_counter()
        return position["batch"] if mid_epoch else 0

    def step_taken(self, loss_value: float, logits, y) -> None:
        """Count an optimiser step and add its batch to the epoch's running metrics (summed over
        the ranks: the global batch's); reads the Ctrl-C flag (any rank's)."""
        self.state.step += 1
        # running metrics of this epoch, kept in the state so a mid-epoch resume continues them
        counts = [loss_value * len(y), int((logits.data.argmax(axis=1) == y.data).sum()), len(y), self._ctrl_c()]
        if self.ranks is not None:  # summed over the ranks: the global batch's, and any rank's Ctrl-C
            total = global_sums(counts)
            counts = [float(total[0]), int(total[1]), int(total[2]), bool(total[3])]
        run = self.state.extra
        run["loss_sum"] += counts[0]
        run["correct"] += counts[1]
        run["seen"] += counts[2]
        self._elapsed = run["seconds"] + time.perf_counter() - self._since
        self.stop_asked = bool(counts[3])

    def running_metrics(self) -> dict:
        """The epoch's loss, accuracy and speed so far, as the progress bar shows them."""
        run = self.state.extra
        return {"loss": f"{run['loss_sum'] / run['seen']:.4f}", "acc": f"{run['correct'] / run['seen']:.3f}",
                "samples_s": f"{run['seen'] / max(self._elapsed, 1e-9):.0f}"}

    def checkpoint_due(self, every: int | None) -> bool:
        """A Ctrl-C, or `every` steps done, except at the epoch's last batch (the epoch's end
        writes a checkpoint next)."""
        last_batch = self.loader.state_dict()["batch"] == len(self.loader)
        return self.stop_asked or bool(every and self.state.step % every == 0 and not last_batch)

    def checkpoint_mid_epoch(self) -> Path | None:
        """A checkpoint in the middle of an epoch, its running metrics and seconds so far included."""
        self.state.extra["seconds"], self._since = self._elapsed, time.perf_counter()
        if self.stop_asked:
            self.log(f"Ctrl-C: writing a checkpoint after step {self.state.step} (Ctrl-C again to stop at once)")
        return self.checkpoint()

    # ---- the end of an epoch -----------------------------------------------------------------

    def epoch_record(self, epoch: int) -> dict:
        """The epoch's training metrics: {'epoch', 'train_loss', 'train_accuracy', 'seconds'}."""
        run = self.state.extra
        return {"epoch": epoch + 1, "train_loss": run["loss_sum"] / max(run["seen"], 1),
                "train_accuracy": run["correct"] / max(run["seen"], 1),
                "seconds": run["seconds"] + time.perf_counter() - self._since}

    def end_epoch(self, record: dict) -> None:
        """Add the epoch's record to the history and count the epoch as done."""
        self.state.history.append(record)
        self.state.epoch = record["epoch"]

    def new_best(self, record: dict) -> bool:
        """Keep the best validation accuracy and the epochs since it (for early stopping); True when
        `record` is a new best."""
        state = self.state
        if state.best_metric is None or record["val_accuracy"] > state.best_metric:
            state.best_metric, state.best_epoch = record["val_accuracy"], record["epoch"]
            state.epochs_without_improvement = 0
            return True
        state.epochs_without_improvement += 1
        return False

    def out_of_patience(self, patience: int | None) -> bool:
        """Validation accuracy has not improved for `patience` epochs (never with patience None)."""
        return patience is not None and self.state.epochs_without_improvement >= patience

    def checkpoint_epoch_end(self) -> Path | None:
        """The checkpoint of a finished epoch (no running metrics); reads the Ctrl-C flag, and on
        several ranks every rank's, so that all stop together."""
        self.state.extra = {}
        path = self.checkpoint()
        stop = self._ctrl_c()
        if self.ranks is not None:
            stop = global_sums([stop])[0] > 0  # every rank stops together
        self.stop_asked = bool(stop)
        return path
