"""Figures of a training run: learning curves and the confusion matrix (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from .io import new_figure, save_png


def plot_curves(history: list[dict], path) -> Path:
    """Loss and accuracy per epoch, training and validation side by side."""
    epochs = [h["epoch"] for h in history]
    fig = new_figure(9, 3.5)
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(epochs, [h["train_loss"] for h in history], "o-", label="train")
    ax_acc.plot(epochs, [h["train_accuracy"] for h in history], "o-", label="train")
    if history and "val_loss" in history[0]:
        ax_loss.plot(epochs, [h["val_loss"] for h in history], "s-", label="validation")
        ax_acc.plot(epochs, [h["val_accuracy"] for h in history], "s-", label="validation")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.grid(alpha=0.3)
        ax.legend()
    save_png(fig, path)
    return Path(path)


def plot_confusion(confusion: np.ndarray, classes: list[str], path) -> Path:
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
    ax.set(xlabel="predicted", ylabel="true", title="confusion matrix")
    save_png(fig, path)
    return Path(path)
