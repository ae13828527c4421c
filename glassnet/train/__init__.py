"""Training: the fit loop, evaluation, metrics and resumable checkpoints."""

from .checkpoint import TrainState, latest_checkpoint, load_checkpoint, save_checkpoint
from .loop import TrainingDiverged, evaluate, fit
from .metrics import accuracy, confusion_matrix, per_class_accuracy

__all__ = ["fit", "evaluate", "TrainingDiverged", "TrainState", "save_checkpoint", "load_checkpoint",
           "latest_checkpoint", "accuracy", "confusion_matrix", "per_class_accuracy"]
