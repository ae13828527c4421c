"""Training: the fit loop, evaluation, metrics and resumable checkpoints."""

from .checkpoint import (CheckpointError, TrainState, find_checkpoint, latest_checkpoint, load_checkpoint,
                         save_checkpoint)
from .loop import TrainingDiverged, TrainingInterrupted, evaluate, fit
from .metrics import accuracy, confusion_matrix, per_class_accuracy

__all__ = ["fit", "evaluate", "TrainingDiverged", "TrainingInterrupted", "TrainState", "CheckpointError",
           "save_checkpoint", "load_checkpoint", "latest_checkpoint", "find_checkpoint", "accuracy",
           "confusion_matrix", "per_class_accuracy"]
