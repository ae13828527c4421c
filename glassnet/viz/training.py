"""Figures of a training run: learning curves and the confusion matrix (matplotlib, headless)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from .io import new_figure, save_png


def plot_curves(history: list[dict], path, title: str = "") -> Path:
    """Write curves_figure(history, title) as a PNG at path."""
    save_png(curves_figure(history, title), path)
    return Path(path)


def curves_figure(history: list[dict], title: str = ""):
    """Loss and accuracy per epoch, training and validation side by side (a Figure).

    Accuracy is drawn on its whole range [0, 1] and loss from 0, so that one run's curves can be
    read against another's and a single epoch's two points do not fill a magnified axis; the
    last value of every curve is written beside it.
    """
    epochs = [h["epoch"] for h in history]
    fig = new_figure(9, 3.6 if title else 3.3)
    ax_loss, ax_acc = fig.subplots(1, 2)
    # training figures are running means over the epoch while the weights still change, which
    # is why after one epoch they lie below the validation figures, taken at its end
    series = [("train", "train (mean during the epoch)", "o-"), ("val", "validation (end of the epoch)", "s-")]
    for key, label, style in series:
        if not history or f"{key}_loss" not in history[0]:
            continue
        for ax, metric in ((ax_loss, "loss"), (ax_acc, "accuracy")):
            values = [h[f"{key}_{metric}"] for h in history]
            line, = ax.plot(epochs, values, style, label=label)
            ax.annotate(f"{values[-1]:.3f}", (epochs[-1], values[-1]), textcoords="offset points",
                        xytext=(6, 4 if key == "train" else -10), fontsize=8, color=line.get_color())
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    top = max((h[k] for h in history for k in ("train_loss", "val_loss") if k in h), default=1.0)
    ax_loss.set_ylim(0, 1.15 * top)  # room for the value labels
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1.02))
    for ax in (ax_loss, ax_acc):
        if len(epochs) <= 12:
            ax.set_xticks(epochs)  # epochs are whole numbers
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(min(epochs, default=1) - 0.5, max(epochs, default=1) + 0.7)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left" if ax is ax_acc else "best", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_confusion(confusion: np.ndarray, classes: list[str], path, title: str = "confusion matrix") -> Path:
    """Counts of (true class, predicted class), rows normalised for the colour scale."""
    confusion = np.asarray(confusion)
    k = len(classes)
    rates = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    fig = new_figure(1.0 + 0.6 * k, 0.8 + 0.6 * k)
    ax = fig.subplots()
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(confusion[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if rates[i, j] > 0.5 else "black")
    ax.set_xticks(range(k), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), classes, fontsize=8)
    ax.set(xlabel="predicted", ylabel="true")
    ax.set_title(textwrap.fill(title, 8 * k), fontsize=9)  # wrapped to the figure's width
    save_png(fig, path)
    return Path(path)
