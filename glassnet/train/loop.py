"""The training loop: one visible loop of evaluate, forward, backward, step, log (nanoGPT's habit).

    history = fit(model, optimizer, train_loader, epochs=10, val_loader=val_loader, out_dir="runs/a")

`val_loader` is the validation set, held out from the training data (never the test set): it
gives the per-epoch val_loss/val_accuracy, early stopping and the best epoch.

With `out_dir`, a checkpoint is written at the end of every epoch (and every `checkpoint_every`
steps), and `resume=True` continues from the newest usable one so that the final weights are
bit-identical to a run that was never interrupted, wherever it was killed: the model, the
optimiser, the scheduler, the global random generator (dropout), the data loader's position (its
order and augmentation depend only on seed, epoch and batch index), the running metrics of the
epoch in progress, the early-stopping counter and the best result so far are all restored.
(Bit-identical also needs the kernels to give the same bytes at every step: their sums over the
batch are added in fixed blocks in a fixed order, so they do at any thread count and load.) A Ctrl-C finishes the current
step, writes a checkpoint and raises TrainingInterrupted.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import functional as F
from ..autograd import no_grad
from ..nn.utils import clip_grad_norm_
from .checkpoint import (CheckpointError, TrainState, clean_leftovers, has_checkpoint_files, load_checkpoint,
                         resume_point, save_checkpoint)
from .metrics import accuracy, confusion_matrix
from .parallel import global_sums, unwrap, world


class TrainingDiverged(RuntimeError):
    """The loss or the gradients stopped being finite numbers."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during fit(): the step in progress was finished and `checkpoint` written."""

    def __init__(self, checkpoint: Path, epoch: int, step: int):
        super().__init__(f"interrupted in epoch {epoch + 1} after step {step}; checkpoint {checkpoint}")
        self.checkpoint, self.epoch, self.step = checkpoint, epoch, step


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


def evaluate(model, loader, loss_fn=F.cross_entropy, num_classes: int | None = None) -> dict:
    """Mean loss, accuracy and (with num_classes) the confusion matrix of `model` on `loader`."""
    was_training = model.training
    model.eval()
    total_loss, predictions, targets = 0.0, [], []
    with no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += float(loss_fn(logits, y, reduction="sum").item())
            predictions.append(logits.data.argmax(axis=1))
            targets.append(y.data)
    model.train(was_training)
    y_pred, y_true = np.concatenate(predictions), np.concatenate(targets)
    result = {"loss": total_loss / max(len(y_true), 1), "accuracy": accuracy(y_true, y_pred)}
    if num_classes is not None:
        result["confusion"] = confusion_matrix(y_true, y_pred, num_classes)
    return result


def fit(model, optimizer, train_loader, *, epochs: int, val_loader=None, loss_fn=F.cross_entropy,
        scheduler=None, out_dir=None, resume=False, checkpoint_every: int | None = None,
        grad_clip: float | None = None, patience: int | None = None, config: dict | None = None,
        on_improvement=None, progress: bool = True, log=print) -> list[dict]:
    """Train for `epochs` epochs; return one dict of metrics per epoch.

    val_loader: the validation set (held out from the training data), evaluated after every epoch.
    scheduler: stepped once per epoch (StepLR, CosineAnnealingLR).
    resume: False (a new run; `out_dir` must hold no checkpoints), True (continue from the newest
        usable checkpoint in `out_dir`; CheckpointError if there is none, naming every rejected
        file), "auto" (continue if there is one, else start from scratch), or a checkpoint's path.
    grad_clip: clip the global gradient norm to this value.
    patience: stop when validation accuracy has not improved for this many epochs.
    on_improvement(model, record): called when validation accuracy reaches a new best (e.g. to
        save the best weights), before that epoch's checkpoint.
    Raises TrainingDiverged when the loss becomes nan or inf, before anything is saved for that
    step, so the newest checkpoint is the last good state; TrainingInterrupted after a Ctrl-C.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    checkpoints = Path(out_dir) / "checkpoints" if out_dir is not None else None
    ranks = world()  # (rank, size) when training data-parallel on MPI ranks (train/parallel.py)
    main_rank = ranks is None or ranks[0] == 0
    if not main_rank:
        progress, log = False, (lambda *args, **kwargs: None)  # rank 0 alone reports
    net = unwrap(model)  # what checkpoints hold: the same state_dict at any number of ranks
    state = TrainState()
    if checkpoints is not None and main_rank:
        for name in clean_leftovers(checkpoints):
            log(f"removed {name}, left by an interrupted checkpoint write")
    if resume is not False:
        if checkpoints is None:
            raise ValueError("resume needs the out_dir that holds the run's checkpoints")
        found = Path(resume) if resume is not True and resume != "auto" else resume_point(checkpoints, resume, log)
        if found is not None:
            state, _ = load_checkpoint(found, model=net, optimizer=optimizer, scheduler=scheduler,
                                       loader=train_loader)
            if state.epoch > epochs:
                raise CheckpointError(f"{found}: has {state.epoch} epochs done, more than the {epochs} asked for")
            log(f"resumed from {found.name} (epoch {state.epoch}, step {state.step})")
    elif checkpoints is not None and has_checkpoint_files(checkpoints):
        raise CheckpointError(f"{checkpoints} already holds checkpoints of a run: resume=True continues "
                              "it; remove them to start a new run there")

    def checkpoint():
        if checkpoints is not None and main_rank:  # every rank holds the same state
            return save_checkpoint(checkpoints, model=net, optimizer=optimizer, state=state,
                                   scheduler=scheduler, loader=train_loader, config=config)

    with (_interrupt_between_steps() if checkpoints is not None else _never()) as interrupted:
        for epoch in range(state.epoch, epochs):
            if patience is not None and state.epochs_without_improvement >= patience:
                break  # a resumed run that had already stopped early
            position = train_loader.state_dict()
            mid_epoch = bool(state.extra)  # the checkpoint was written in the middle of this epoch
            if mid_epoch and position["epoch"] != epoch:
                raise CheckpointError(f"the checkpoint's data loader is in epoch {position['epoch'] + 1}, "
                                      f"its training state in epoch {epoch + 1}")
            if not mid_epoch:
                train_loader.set_epoch(epoch)  # order and augmentation of this epoch, from the seed
                state.extra = {"loss_sum": 0.0, "correct": 0, "seen": 0, "seconds": 0.0}
            model.train()
            start = time.perf_counter()
            # one iterator per epoch, made here: the loader's position is tied to the iterator it hands out
            bar = tqdm(iter(train_loader), desc=f"epoch {epoch + 1}/{epochs}", disable=not progress,
                       initial=position["batch"] if mid_epoch else 0, total=len(train_loader),
                       unit="batch", leave=False, dynamic_ncols=True,
                       mininterval=0.1 if sys.stderr.isatty() else 5.0)  # a log file gets a line every 5 s
            run = state.extra
            for x, y in bar:
                logits = model(x)
                loss = loss_fn(logits, y)
                loss_value = float(loss.item())
                if not math.isfinite(loss_value):
                    raise TrainingDiverged(f"loss became {loss_value} at step {state.step + 1} (epoch "
                                           f"{epoch + 1}); the newest checkpoint holds the last good state")
                optimizer.zero_grad()
                # on several ranks, a rank's loss counts by its share of the global batch (parallel.py)
                (loss if ranks is None else loss * train_loader.weight).backward()
                if grad_clip is not None:
                    norm = float(clip_grad_norm_(model.parameters(), grad_clip))  # a 0-d Tensor, as in torch
                    if not math.isfinite(norm):
                        raise TrainingDiverged(f"gradient norm became {norm} at step {state.step + 1}")
                optimizer.step()
                state.step += 1

                # running metrics of this epoch, kept in the state so a mid-epoch resume continues them
                counts = [loss_value * len(y), int((logits.data.argmax(axis=1) == y.data).sum()), len(y),
                          interrupted()]
                if ranks is not None:  # summed over the ranks: the global batch's, and any rank's Ctrl-C
                    total = global_sums(counts)
                    counts = [float(total[0]), int(total[1]), int(total[2]), bool(total[3])]
                run["loss_sum"] += counts[0]
                run["correct"] += counts[1]
                run["seen"] += counts[2]
                elapsed = run["seconds"] + time.perf_counter() - start
                # refresh=False: shown at the bar's next timed refresh (mininterval above), not written
                # out on every step (into a log file that was one line per batch)
                bar.set_postfix(loss=f"{run['loss_sum'] / run['seen']:.4f}",
                                acc=f"{run['correct'] / run['seen']:.3f}",
                                samples_s=f"{run['seen'] / max(elapsed, 1e-9):.0f}", refresh=False)
                last_batch = train_loader.state_dict()["batch"] == len(train_loader)  # the epoch's end checkpoints next
                stop_now = bool(counts[3])
                if stop_now or (checkpoint_every and state.step % checkpoint_every == 0 and not last_batch):
                    run["seconds"], start = elapsed, time.perf_counter()  # the epoch's time so far travels along
                    if stop_now:
                        log(f"Ctrl-C: writing a checkpoint after step {state.step} (Ctrl-C again to stop at once)")
                    path = checkpoint()
                    if stop_now:
                        bar.close()
                        raise TrainingInterrupted(path, epoch, state.step)
            bar.close()
            if scheduler is not None:
                scheduler.step()

            record = {"epoch": epoch + 1, "train_loss": run["loss_sum"] / max(run["seen"], 1),
                      "train_accuracy": run["correct"] / max(run["seen"], 1),
                      "seconds": run["seconds"] + time.perf_counter() - start}
            if val_loader is not None:
                val = evaluate(net, val_loader, loss_fn)
                record.update(val_loss=val["loss"], val_accuracy=val["accuracy"])
            state.history.append(record)
            state.epoch = epoch + 1
            log(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))

            if val_loader is not None:
                if state.best_metric is None or record["val_accuracy"] > state.best_metric:
                    state.best_metric, state.best_epoch = record["val_accuracy"], epoch + 1
                    state.epochs_without_improvement = 0
                    if on_improvement is not None:
                        on_improvement(net, record)
                else:
                    state.epochs_without_improvement += 1
            stop = patience is not None and state.epochs_without_improvement >= patience
            state.extra = {}
            path = checkpoint()
            stop_now = interrupted()
            if ranks is not None:
                stop_now = global_sums([stop_now])[0] > 0  # every rank stops together
            if stop_now:
                raise TrainingInterrupted(path, epoch, state.step)
            if stop:
                log(f"early stopping: no improvement in validation accuracy for {patience} epochs "
                    f"(best {state.best_metric:.4f} after epoch {state.best_epoch})")
                break
    return state.history


@contextmanager
def _never():
    yield lambda: False
