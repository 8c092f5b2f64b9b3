"""Predictions with per-class scores: the one function behind the CLI, the HTTP API and reports."""

from __future__ import annotations

import copy

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC, NuSVC

__all__ = ["ovr_decision_from_ovo", "predict_top_k", "predict_with_scores", "score_shares",
           "top_k_entry"]


def predict_with_scores(model, X):
    """Predicted labels and class scores, computing the features once.

    Returns
    -------
    y_pred : ndarray of shape (n,)
        Exactly ``model.predict(X)``.
    scores : ndarray of shape (n, n_classes) or None
        ``predict_proba`` when the final step has it, else ``decision_function``,
        in ``model.classes_`` order; None for binary problems or models with neither.
    kind : {"probability", "decision", None}
    """
    final = model
    if isinstance(model, Pipeline) and len(model) > 1:
        X, final = model[:-1].transform(X), model[-1]
    if _is_linear(final) and len(final.classes_) > 2:
        # Its predict is the argmax of decision_function: one pass over the weights,
        # not two (they are most of a Fisher-vector model's size).
        scores = np.asarray(final.decision_function(X), dtype=float)
        return final.classes_[scores.argmax(axis=1)], scores, "decision"
    y_pred = final.predict(X)
    classes = getattr(final, "classes_", None)
    if classes is None:
        return y_pred, None, None
    if _is_ovo_svc(final):
        return y_pred, ovr_decision_from_ovo(final, X), "decision"
    for method, kind in (("predict_proba", "probability"), ("decision_function", "decision")):
        if hasattr(final, method):
            scores = np.asarray(getattr(final, method)(X), dtype=float)
            if scores.ndim == 1:  # binary decision_function: one column for classes_[1]
                scores = np.column_stack([-scores, scores])
            return y_pred, scores, kind
    return y_pred, None, None


def _is_linear(estimator) -> bool:
    """A linear classifier (weights ``coef_``, no support vectors), whose prediction is
    the class of the highest decision value: LinearSVC, GramLinearSVC, LogisticRegression."""
    return (getattr(estimator, "coef_", None) is not None and hasattr(estimator, "classes_")
            and not hasattr(estimator, "support_"))


def _is_ovo_svc(estimator) -> bool:
    # Without probabilities (``predict_proba`` would be preferred, as below).
    return (isinstance(estimator, (SVC, NuSVC)) and not hasattr(estimator, "predict_proba")
            and estimator.decision_function_shape == "ovr" and len(estimator.classes_) > 2)


def ovr_decision_from_ovo(svc, X) -> np.ndarray:
    """``svc.decision_function(X)`` of a multi-class libsvm SVC, without the Python loop.

    scikit-learn turns the ``n (n - 1) / 2`` one-vs-one values into one-vs-rest
    scores (votes plus bounded summed confidences) in a Python loop over class
    pairs: about 200 ms per call with 102 classes, ten times the SVM itself. The
    same arithmetic as weighted bincounts gives the same values.
    """
    ovo = copy.copy(svc)  # shallow: shares the fitted arrays, changes one setting
    ovo.decision_function_shape = "ovo"
    dec = ovo.decision_function(X)
    n_samples, n = len(dec), len(svc.classes_)
    first, second = np.triu_indices(n, 1)  # libsvm's pair order: (0, 1), (0, 2), ...
    offset = n * np.arange(n_samples)[:, None]  # one bincount for all samples

    def per_class(index, weights=None):
        index = np.broadcast_to(index + offset, dec.shape).ravel()
        total = np.bincount(index, weights=weights, minlength=n_samples * n)
        return total.reshape(n_samples, n)

    votes = per_class(np.where(dec >= 0, first, second))
    confidence = per_class(first, dec.ravel()) - per_class(second, dec.ravel())
    return votes + confidence / (3 * (np.abs(confidence) + 1))


def predict_top_k(model, X, k: int = 5) -> list[dict]:
    """For each image: the predicted label and the ``k`` best classes with scores.

    Decision values (SVMs) are turned into shares by a softmax, so that they read
    like probabilities for display; their ``score_kind`` says so.

    Returns
    -------
    results : list of dict
        ``{"label": str, "score_kind": "probability" | "decision" | None,
        "top": [{"label": str, "score": float}, ...]}`` per image.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> model = LogisticRegression().fit([[0.0], [1.0], [2.0]], ["a", "b", "c"])
    >>> out = predict_top_k(model, [[2.0]], k=2)
    >>> out[0]["label"], [t["label"] for t in out[0]["top"]]
    ('c', ['c', 'b'])
    """
    y_pred, scores, kind = predict_with_scores(model, X)
    shares = None if scores is None else score_shares(scores, kind)
    return [top_k_entry(model.classes_, label, None if shares is None else shares[i], kind, k)
            for i, label in enumerate(y_pred)]


def score_shares(scores: np.ndarray, kind: str | None) -> np.ndarray:
    """Scores as shares summing to one per row: decision values through a softmax
    (for display, not calibrated), probabilities as they are."""
    if kind != "decision":
        return np.asarray(scores, float)
    shares = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shares / shares.sum(axis=1, keepdims=True)


def top_k_entry(classes, label, shares: np.ndarray | None, kind: str | None, k: int) -> dict:
    """One image's ``{"label", "score_kind", "top"}`` from its row of shares."""
    top = []
    if shares is not None:
        order = np.argsort(-shares, kind="stable")[:k]
        top = [{"label": str(classes[j]), "score": float(shares[j])} for j in order]
    return {"label": str(label), "score_kind": kind, "top": top}
