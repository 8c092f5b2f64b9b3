"""Accuracy of a fitted model under every corruption and severity."""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from ..predict import predict_with_scores
from .corruptions import CORRUPTIONS, Corruption

__all__ = ["evaluate_under_corruptions"]


def evaluate_under_corruptions(model, X, y, corruptions=CORRUPTIONS, severities=(1, 2, 3, 4, 5),
                               random_state: int = 0, verbose: bool = False) -> dict:
    """Accuracy on clean images and on each corruption at each severity.

    Parameters
    ----------
    model : fitted classifier or Pipeline taking images
    X : sequence of images
    y : array-like of shape (n,)
    corruptions : sequence of str, default=all of :data:`CORRUPTIONS`
    severities : sequence of int, default=(1, 2, 3, 4, 5)
    random_state : int, default=0
    verbose : bool, default=False

    Returns
    -------
    results : dict
        ``clean_accuracy``; ``accuracy`` as ``{corruption: {severity: accuracy}}``;
        ``mean_corruption_accuracy`` over every corruption and severity; and
        ``relative_robustness`` (that mean divided by the clean accuracy).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> flat = FunctionTransformer(lambda X: np.array([np.ravel(x) for x in X]))
    >>> model = make_pipeline(flat, DummyClassifier()).fit([np.zeros((4, 4))] * 2, [0, 1])
    >>> r = evaluate_under_corruptions(model, [np.zeros((4, 4), np.uint8)] * 2, [0, 0],
    ...                                corruptions=["blur"], severities=[1])
    >>> r["clean_accuracy"], r["accuracy"]["blur"][1]
    (1.0, 1.0)
    """
    y = np.asarray(y)
    images = list(X)
    clean = float(np.mean(predict_with_scores(model, images)[0] == y))
    table = {}
    todo = [(c, s) for c in corruptions for s in severities]
    for kind, severity in tqdm(todo, disable=not verbose, desc="corruptions"):
        corrupted = Corruption(kind, severity, random_state).fit_transform(images)
        table.setdefault(kind, {})[int(severity)] = float(
            np.mean(predict_with_scores(model, corrupted)[0] == y))
    mean = float(np.mean([a for row in table.values() for a in row.values()]))
    return {"clean_accuracy": clean, "accuracy": table, "mean_corruption_accuracy": mean,
            "relative_robustness": mean / clean if clean else float("nan")}
