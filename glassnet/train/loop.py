"""The training loop: one visible loop of evaluate, forward, backward, step, log (nanoGPT's habit).

    history = fit(model, optimizer, train_loader, epochs=10, val_loader=val_loader, out_dir="runs/a")

With `out_dir`, a checkpoint is written at the end of every epoch (and every `checkpoint_every`
steps), and `resume=True` continues from the newest complete one so that the final weights are
bit-identical to a run that was never interrupted: the model, the optimiser, the scheduler, the
global random generator (dropout) and the data loader's position (its order and augmentation
depend only on seed, epoch and batch index) are all restored.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import functional as F
from ..autograd import no_grad
from ..nn.utils import clip_grad_norm_
from .checkpoint import TrainState, latest_checkpoint, load_checkpoint, save_checkpoint
from .metrics import accuracy, confusion_matrix


class TrainingDiverged(RuntimeError):
    """The loss or the gradients stopped being finite numbers."""


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
        scheduler=None, out_dir=None, resume: bool = False, checkpoint_every: int | None = None,
        grad_clip: float | None = None, patience: int | None = None, config: dict | None = None,
        progress: bool = True, log=print) -> list[dict]:
    """Train for `epochs` epochs; return one dict of metrics per epoch.

    scheduler: stepped once per epoch (StepLR, CosineAnnealingLR).
    grad_clip: clip the global gradient norm to this value.
    patience: stop when validation accuracy has not improved for this many epochs.
    Raises TrainingDiverged when the loss becomes nan or inf, before anything is saved for that
    step, so the newest checkpoint is the last good state.
    """
    checkpoints = Path(out_dir) / "checkpoints" if out_dir is not None else None
    state = TrainState()
    if resume:
        found = latest_checkpoint(checkpoints) if checkpoints else None
        if found is None:
            log(f"no checkpoint in {checkpoints}; starting from scratch")
        else:
            state, _ = load_checkpoint(found, model=model, optimizer=optimizer, scheduler=scheduler,
                                       loader=train_loader)
            log(f"resumed from {found.name} (epoch {state.epoch}, step {state.step})")

    def checkpoint():
        if checkpoints is not None:
            return save_checkpoint(checkpoints, model=model, optimizer=optimizer, state=state,
                                   scheduler=scheduler, loader=train_loader, config=config)

    for epoch in range(state.epoch, epochs):
        position = train_loader.state_dict()
        mid_epoch = resume and position["epoch"] == epoch and position["batch"] > 0
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
            loss.backward()
            if grad_clip is not None:
                norm = float(clip_grad_norm_(model.parameters(), grad_clip))  # a 0-d Tensor, as in torch
                if not math.isfinite(norm):
                    raise TrainingDiverged(f"gradient norm became {norm} at step {state.step + 1}")
            optimizer.step()
            state.step += 1

            # running metrics of this epoch, kept in the state so a mid-epoch resume continues them
            n = len(y)
            run["loss_sum"] += loss_value * n
            run["correct"] += int((logits.data.argmax(axis=1) == y.data).sum())
            run["seen"] += n
            elapsed = run["seconds"] + time.perf_counter() - start
            # refresh=False: shown at the bar's next timed refresh (mininterval above), not written
            # out on every step (into a log file that was one line per batch)
            bar.set_postfix(loss=f"{run['loss_sum'] / run['seen']:.4f}",
                            acc=f"{run['correct'] / run['seen']:.3f}",
                            samples_s=f"{run['seen'] / max(elapsed, 1e-9):.0f}", refresh=False)
            if checkpoint_every and state.step % checkpoint_every == 0:
                run["seconds"], start = elapsed, time.perf_counter()  # the epoch's time so far travels along
                checkpoint()
        bar.close()
        if scheduler is not None:
            scheduler.step()

        record = {"epoch": epoch + 1, "train_loss": run["loss_sum"] / max(run["seen"], 1),
                  "train_accuracy": run["correct"] / max(run["seen"], 1),
                  "seconds": run["seconds"] + time.perf_counter() - start}
        if val_loader is not None:
            val = evaluate(model, val_loader, loss_fn)
            record.update(val_loss=val["loss"], val_accuracy=val["accuracy"])
        state.history.append(record)
        state.epoch = epoch + 1
        log(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items()))

        stop = False
        if patience is not None and val_loader is not None:
            if state.best_metric is None or record["val_accuracy"] > state.best_metric:
                state.best_metric, state.epochs_without_improvement = record["val_accuracy"], 0
            else:
                state.epochs_without_improvement += 1
                stop = state.epochs_without_improvement >= patience
        state.extra = {}
        checkpoint()
        if stop:
            log(f"early stopping: no improvement in validation accuracy for {patience} epochs")
            break
    return state.history
