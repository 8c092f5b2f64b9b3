"""Figures: confusion matrices and accuracy against time (matplotlib, the ``[plot]`` extra)."""

from __future__ import annotations

import numpy as np

from .._compat import optional_import

__all__ = ["plot_accuracy_vs_time", "plot_comparison", "plot_confusion_matrix"]


def _pyplot():
    matplotlib = optional_import("matplotlib", "plot")
    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo"):
        import os

        if not os.environ.get("DISPLAY"):
            matplotlib.use("Agg")  # headless machines: draw to files
    import matplotlib.pyplot as plt

    return plt


def plot_confusion_matrix(matrix, labels, ax=None, normalize: bool = True,
                          max_labels: int = 40):
    """Draw a confusion matrix (rows true, columns predicted); returns the Axes."""
    plt = _pyplot()
    matrix = np.asarray(matrix, float)
    if normalize:
        matrix = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    n = len(labels)
    if ax is None:
        size = min(4 + 0.25 * n, 14)
        _, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(matrix, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    if n <= max_labels:
        ax.set_xticks(range(n), labels, rotation=90, fontsize=8)
        ax.set_yticks(range(n), labels, fontsize=8)
    if n <= 12:
        for i in range(n):
            for j in range(n):
                value = matrix[i, j]
                ax.text(j, i, f"{value:.2f}" if normalize else f"{int(value)}", ha="center",
                        va="center", fontsize=8, color="white" if value > 0.5 * matrix.max()
                        else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix" + (" (row-normalised)" if normalize else ""))
    ax.figure.tight_layout()
    return ax


def plot_accuracy_vs_time(points, ax=None, title: str = "accuracy against training time"):
    """Scatter/line plot of accuracy against training seconds, one series per model.

    Parameters
    ----------
    points : dict
        ``{model name: [(seconds, accuracy), ...]}``.

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax)
    for name, series in points.items():
        series = sorted(series)
        ax.plot([s for s, _ in series], [a for _, a in series], marker="o", label=name)
    ax.legend()
    return _against_time(ax, "training time (s, log scale, 2 CPU cores)", "test accuracy", title)


def plot_comparison(rows: list[dict], ax=None):
    """Mean per-class accuracy against training time, one point per preset.

    Parameters
    ----------
    rows : list of dict
        From :func:`~imgrec_classic.evaluation.compare.compare_presets`.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax)
    for row in rows:
        ax.scatter(row["train_seconds"], row["mean_class_accuracy"], s=40)
        ax.annotate(row["preset"], (row["train_seconds"], row["mean_class_accuracy"]),
                    textcoords="offset points", xytext=(5, 5), fontsize=8)
    return _against_time(ax, "training time (s, log scale)", "mean per-class accuracy",
                         "presets on the same split")


def _axes(ax):
    """``ax``, or the axes of a new 6 x 4 inch figure."""
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(6, 4))
    return ax


def _against_time(ax, xlabel: str, ylabel: str, title: str):
    """Log time axis, labels, grid and layout shared by the accuracy-against-time plots."""
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.figure.tight_layout()
    return ax
