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

The loop here is only the training: fit() runs the epochs, train_one_epoch() the steps. What
lets it stop and continue (the counters, the running metrics, the best result, the checkpoint
writes and the Ctrl-C flag) is kept by a `Bookkeeping` object, in bookkeeping.py.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import functional as F
from ..autograd import no_grad
from ..nn.utils import clip_grad_norm_
from .bookkeeping import Bookkeeping
from .metrics import accuracy, confusion_matrix
from .parallel import unwrap, world


class TrainingDiverged(RuntimeError):
    """The loss or the gradients stopped being finite numbers."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during fit(): the step in progress was finished and `checkpoint` written."""

    def __init__(self, checkpoint: Path, epoch: int, step: int):
        super().__init__(f"interrupted in epoch {epoch + 1} after step {step}; checkpoint {checkpoint}")
        self.checkpoint, self.epoch, self.step = checkpoint, epoch, step


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
    ranks = world()  # (rank, size) when training data-parallel on MPI ranks (train/parallel.py)
    if ranks is not None and ranks[0] != 0:
        progress, log = False, (lambda *args, **kwargs: None)  # rank 0 alone reports
    net = unwrap(model)  # what checkpoints hold: the same state_dict at any number of ranks
    # counters, history, best result, checkpoints and Ctrl-C: bookkeeping.py
    book = Bookkeeping(net, optimizer, train_loader, scheduler=scheduler, out_dir=out_dir, config=config,
                       ranks=ranks, log=log)
    book.open(resume, epochs)  # a new run, or the state of the newest usable checkpoint
    with book.ctrl_c():
        for epoch in range(book.state.epoch, epochs):
            if book.out_of_patience(patience):
                break  # a resumed run that had already stopped early
            train_one_epoch(model, optimizer, train_loader, loss_fn, book, epoch, epochs, grad_clip=grad_clip,
                            checkpoint_every=checkpoint_every, progress=progress)
            if scheduler is not None:
                scheduler.step()

            record = book.epoch_record(epoch)
            if val_loader is not None:
                val = evaluate(net, val_loader, loss_fn)
                record.update(val_loss=val["loss"], val_accuracy=val["accuracy"])
            book.end_epoch(record)
            log(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))
            if val_loader is not None and book.new_best(record) and on_improvement is not None:
                on_improvement(net, record)

            path = book.checkpoint_epoch_end()
            if book.stop_asked:
                raise TrainingInterrupted(path, epoch, book.state.step)
            if book.out_of_patience(patience):
                log(f"early stopping: no improvement in validation accuracy for {patience} epochs "
                    f"(best {book.state.best_metric:.4f} after epoch {book.state.best_epoch})")
                break
    return book.state.history


def train_one_epoch(model, optimizer, loader, loss_fn, book: Bookkeeping, epoch: int, epochs: int, *,
                    grad_clip: float | None = None, checkpoint_every: int | None = None,
                    progress: bool = True) -> None:
    """One pass over the training data: forward, loss, backward and an optimiser step per batch.

    `book` counts the steps, keeps the epoch's running metrics and writes the checkpoints due
    within the epoch (every `checkpoint_every` steps, and after a Ctrl-C, which then raises
    TrainingInterrupted)."""
    done = book.begin_epoch(epoch)  # batches of this epoch taken before a resume
    model.train()
    # one iterator per epoch, made here: the loader's position is tied to the iterator it hands out
    bar = tqdm(iter(loader), desc=f"epoch {epoch + 1}/{epochs}", disable=not progress, initial=done,
               total=len(loader), unit="batch", leave=False, dynamic_ncols=True,
               mininterval=0.1 if sys.stderr.isatty() else 5.0)  # a log file gets a line every 5 s
    for x, y in bar:
        logits = model(x)
        loss = loss_fn(logits, y)
        loss_value = float(loss.item())
        if not math.isfinite(loss_value):
            raise TrainingDiverged(f"loss became {loss_value} at step {book.state.step + 1} (epoch "
                                   f"{epoch + 1}); the newest checkpoint holds the last good state")
        optimizer.zero_grad()
        # on several ranks, a rank's loss counts by its share of the global batch (parallel.py)
        (loss if book.ranks is None else loss * loader.weight).backward()
        if grad_clip is not None:
            norm = float(clip_grad_norm_(model.parameters(), grad_clip))  # a 0-d Tensor, as in torch
            if not math.isfinite(norm):
                raise TrainingDiverged(f"gradient norm became {norm} at step {book.state.step + 1}")
        optimizer.step()
        book.step_taken(loss_value, logits, y)

        # refresh=False: shown at the bar's next timed refresh (mininterval above), not written
        # out on every step (into a log file that was one line per batch)
        bar.set_postfix(**book.running_metrics(), refresh=False)
        if book.checkpoint_due(checkpoint_every):
            path = book.checkpoint_mid_epoch()
            if book.stop_asked:
                bar.close()
                raise TrainingInterrupted(path, epoch, book.state.step)
    bar.close()
