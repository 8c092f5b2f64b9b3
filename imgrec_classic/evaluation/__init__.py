"""Evaluation: metric reports, protocol splits and figures."""

from .metrics import Report, evaluate
from .splits import per_class_split, train_val_test_split

__all__ = ["Report", "evaluate", "per_class_split", "train_val_test_split"]
