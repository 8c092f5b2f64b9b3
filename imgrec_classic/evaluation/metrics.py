"""Evaluation reports: the standard classification metrics of one fitted model, in one object."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn import metrics

from ..predict import predict_with_scores

__all__ = ["Report", "evaluate"]


@dataclass
class Report:
    """Classification metrics on one test set, built from scikit-learn's metrics.

    Attributes
    ----------
    accuracy : float
    mean_class_accuracy : float
        Mean of the per-class recalls (the Caltech-101 protocol's figure; scikit-learn's
        balanced accuracy).
    precision, recall, f1 : float
        Macro averages over the classes.
    per_class : dict
        ``{class name: {"precision", "recall", "f1", "support"}}``.
    confusion_matrix : ndarray of shape (n_classes, n_classes)
        Rows are true classes, columns predicted ones, in ``labels`` order.
    labels : list of str
        Class names.
    top_k_accuracy : dict
        ``{k: accuracy}`` for each k of (2, 3, 5) below the number of classes, when
        the model gives scores; empty otherwise (``to_dict`` then writes None).
    n_samples : int
    predict_seconds : float or None
        Wall time of the predictions (when :func:`evaluate` made them).

    Examples
    --------
    >>> from imgrec_classic.evaluation import Report
    >>> r = Report.from_predictions([0, 1, 1, 2], [0, 1, 2, 2], labels=["a", "b", "c"])
    >>> round(r.accuracy, 2), r.confusion_matrix.tolist()
    (0.75, [[1, 0, 0], [0, 1, 1], [0, 0, 1]])
    """

    accuracy: float
    mean_class_accuracy: float
    precision: float
    recall: float
    f1: float
    per_class: dict
    confusion_matrix: np.ndarray
    labels: list
    top_k_accuracy: dict = field(default_factory=dict)
    n_samples: int = 0
    predict_seconds: float | None = None

    @classmethod
    def from_predictions(cls, y_true, y_pred, scores=None, classes=None, labels=None,
                         predict_seconds=None) -> Report:
        """Build a report from true labels, predicted labels and optional scores.

        Parameters
        ----------
        y_true, y_pred : array-like of shape (n_samples,)
        scores : array-like of shape (n_samples, n_classes), default=None
            ``predict_proba`` or ``decision_function`` output, columns in ``classes``
            order; enables top-k accuracy.
        classes : array-like, default=None
            The label values, in the order of the score columns (a classifier's
            ``classes_``); by default the sorted union of ``y_true`` and ``y_pred``.
        labels : list of str, default=None
            Display names of ``classes`` (e.g. a dataset's ``target_names`` when the
            labels are integers); by default ``str(c)``.
        predict_seconds : float, default=None
        """
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        if len(y_true) != len(y_pred):
            raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
        if len(y_true) == 0:
            raise ValueError("cannot evaluate on zero samples")
        classes = np.unique(np.concatenate([y_true, y_pred])) if classes is None \
            else np.asarray(classes)
        names = [str(c) for c in classes] if labels is None else [str(n) for n in labels]
        if len(names) != len(classes):
            raise ValueError(f"{len(names)} label names for {len(classes)} classes")
        p, r, f, s = metrics.precision_recall_fscore_support(
            y_true, y_pred, labels=classes, zero_division=0)
        present = s > 0  # macro averages over the classes that occur in y_true
        top_k = {}
        if scores is not None and len(classes) > 2:
            # Images of a class the model does not know count as misses.
            known = np.isin(y_true, classes)
            for k in (2, 3, 5):
                if k < len(classes):
                    hits = metrics.top_k_accuracy_score(
                        y_true[known], np.asarray(scores)[known], k=k, labels=classes,
                        normalize=False) if known.any() else 0
                    top_k[k] = float(hits) / len(y_true)
        return cls(
            accuracy=float(metrics.accuracy_score(y_true, y_pred)),
            mean_class_accuracy=float(np.mean(r[present])),
            precision=float(np.mean(p[present])), recall=float(np.mean(r[present])),
            f1=float(np.mean(f[present])),
            per_class={n: {"precision": float(p[i]), "recall": float(r[i]),
                           "f1": float(f[i]), "support": int(s[i])}
                       for i, n in enumerate(names)},
            confusion_matrix=metrics.confusion_matrix(y_true, y_pred, labels=classes),
            labels=names, top_k_accuracy=top_k, n_samples=len(y_true),
            predict_seconds=predict_seconds)

    def to_dict(self) -> dict:
        """Plain Python types only (JSON-serialisable)."""
        return {"accuracy": self.accuracy, "mean_class_accuracy": self.mean_class_accuracy,
                "precision": self.precision, "recall": self.recall, "f1": self.f1,
                "top_k_accuracy": {str(k): v for k, v in self.top_k_accuracy.items()} or None,
                "n_samples": self.n_samples, "predict_seconds": self.predict_seconds,
                "labels": list(self.labels), "per_class": self.per_class,
                "confusion_matrix": self.confusion_matrix.tolist()}

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def to_markdown(self, per_class: bool = True) -> str:
        """A summary table, then (optionally) one row per class."""
        rows = [("accuracy", self.accuracy), ("mean per-class accuracy", self.mean_class_accuracy),
                ("macro precision", self.precision), ("macro recall", self.recall),
                ("macro F1", self.f1)]
        rows += [(f"top-{k} accuracy", v) for k, v in self.top_k_accuracy.items()]
        lines = ["| metric | value |", "|---|---:|"]
        lines += [f"| {name} | {value:.4f} |" for name, value in rows]
        lines.append(f"| test images | {self.n_samples} |")
        if self.predict_seconds is not None:
            lines.append(f"| predict time (s) | {self.predict_seconds:.2f} |")
        if per_class:
            lines += ["", "| class | precision | recall | F1 | support |",
                      "|---|---:|---:|---:|---:|"]
            lines += [f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
                      f"{m['support']} |" for name, m in self.per_class.items()]
        return "\n".join(lines)

    def __str__(self) -> str:
        top = "".join(f", top-{k} {v:.4f}" for k, v in self.top_k_accuracy.items())
        return (f"accuracy {self.accuracy:.4f}, mean per-class accuracy "
                f"{self.mean_class_accuracy:.4f}, macro P/R/F1 {self.precision:.4f}/"
                f"{self.recall:.4f}/{self.f1:.4f}{top} ({self.n_samples} images)")

    def plot(self, ax=None, normalize: bool = True, max_labels: int = 40):
        """Draw the confusion matrix (needs the ``[plot]`` extra: matplotlib).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            A new figure when None.
        normalize : bool, default=True
            Show each row as fractions of its true class.
        max_labels : int, default=40
            Tick labels are omitted beyond this many classes.

        Returns
        -------
        ax : matplotlib Axes
        """
        from .plots import plot_confusion_matrix

        return plot_confusion_matrix(self.confusion_matrix, self.labels, ax=ax,
                                     normalize=normalize, max_labels=max_labels)


def evaluate(estimator, X, y, labels=None) -> Report:
    """Predict ``X`` with a fitted estimator and report the metrics against ``y``.

    Top-k accuracy is included when the estimator has ``predict_proba`` or
    ``decision_function``.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline
    X : sequence of images (or whatever the estimator takes)
    y : array-like of shape (n_samples,)
    labels : list of str, default=None
        Display names of ``estimator.classes_`` (e.g. a dataset's ``target_names``).

    Returns
    -------
    Report

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.svm import SVC
    >>> from imgrec_classic.evaluation import evaluate
    >>> X, y = load_digits(return_X_y=True)
    >>> report = evaluate(SVC().fit(X[:1000], y[:1000]), X[1000:], y[1000:])
    >>> report.accuracy > 0.9, report.confusion_matrix.shape
    (True, (10, 10))
    """
    start = time.perf_counter()
    y_pred, scores, _ = predict_with_scores(estimator, X)
    seconds = time.perf_counter() - start
    classes = getattr(estimator, "classes_", None)
    if classes is not None and labels is not None and len(labels) != len(classes):
        labels = [labels[c] for c in classes] if np.issubdtype(np.asarray(classes).dtype,
                                                                np.integer) else None
    return Report.from_predictions(y, y_pred, scores, classes, labels, seconds)

