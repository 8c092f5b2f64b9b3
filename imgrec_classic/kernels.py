"""Kernels for histograms: chi2, histogram intersection, Hellinger.

:class:`PrecomputedKernel` turns them into a pipeline step for
``SVC(kernel="precomputed")``: ``fit`` keeps the training rows, ``transform``
returns the kernel between its input and them. For linear classifiers on large
sets, the explicit maps scale better: scikit-learn's
:class:`~sklearn.kernel_approximation.AdditiveChi2Sampler` (chi2) and
:class:`~imgrec_classic.encoding.Hellinger`.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.metrics.pairwise import additive_chi2_kernel, chi2_kernel
from sklearn.utils.validation import check_is_fitted, validate_data

from .utils._param_validation import Interval, StrOptions

__all__ = ["PrecomputedKernel", "intersection_kernel", "hellinger_kernel",
           "chi2_distance", "select_kernel_weights"]

_CHUNK = 256  # rows of X per block of the (X, Y, n_features) temporary


def intersection_kernel(X, Y=None) -> np.ndarray:
    """Histogram intersection ``k(x, y) = sum_i min(x_i, y_i)`` (Swain & Ballard, 1991).

    Examples
    --------
    >>> intersection_kernel([[1.0, 2.0]], [[2.0, 1.0], [0.0, 5.0]]).tolist()
    [[2.0, 2.0]]
    """
    X = np.asarray(X, np.float32)
    Y = X if Y is None else np.asarray(Y, np.float32)
    out = np.empty((len(X), len(Y)), np.float32)
    step = max(1, _CHUNK * 256 // max(1, X.shape[1]))
    for start in range(0, len(X), step):
        out[start:start + step] = np.minimum(X[start:start + step, None], Y[None]).sum(-1)
    return out


def hellinger_kernel(X, Y=None) -> np.ndarray:
    """Bhattacharyya / Hellinger kernel ``sum_i sqrt(x_i y_i)`` of non-negative rows."""
    X = np.sqrt(np.asarray(X))
    Y = X if Y is None else np.sqrt(np.asarray(Y))
    return X @ Y.T


def chi2_distance(X, Y=None) -> np.ndarray:
    """Chi2 distance ``sum_i (x_i - y_i)**2 / (x_i + y_i)`` (non-negative rows)."""
    return -additive_chi2_kernel(X, Y)


class PrecomputedKernel(TransformerMixin, BaseEstimator):
    """Kernel matrix against the training rows, for ``SVC(kernel="precomputed")``.

    Parameters
    ----------
    kernel : {"chi2", "intersection", "hellinger", "additive_chi2", "linear"}, default="chi2"
        ``"chi2"`` is the exponential chi2 kernel ``exp(-gamma * chi2_distance)``
        (Zhang et al., 2007), the strongest for bag-of-words histograms.
    gamma : float or "auto", default="auto"
        For ``"chi2"``; ``"auto"`` is 1 / the mean chi2 distance between
        training rows.

    Attributes
    ----------
    X_fit_ : ndarray of shape (n_train, n_features)
    gamma_ : float
        The chi2 gamma in use.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import SVC
    >>> X = np.abs(np.random.default_rng(0).random((20, 5)))
    >>> y = np.arange(20) % 2
    >>> model = make_pipeline(PrecomputedKernel("intersection"), SVC(kernel="precomputed"))
    >>> model.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        "kernel": [StrOptions({"chi2", "intersection", "hellinger", "additive_chi2", "linear"})],
        "gamma": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
    }

    def __init__(self, kernel="chi2", gamma="auto"):
        self.kernel = kernel
        self.gamma = gamma

    def fit(self, X, y=None):
        self._validate_params()
        # float32 stays float32: Fisher-vector training sets reach gigabytes.
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        self._check_non_negative(X)
        self.X_fit_ = X
        self.gamma_ = 1.0
        if self.kernel == "chi2":
            if self.gamma == "auto":
                mean = chi2_distance(X[:1000]).mean()
                self.gamma_ = 1.0 / mean if mean > 0 else 1.0
            else:
                self.gamma_ = float(self.gamma)
        return self

    def transform(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        self._check_non_negative(X)
        return self._kernel(X, self.X_fit_)

    def _kernel(self, X, Y):
        if self.kernel == "chi2":
            K = chi2_kernel(X, Y, gamma=self.gamma_)
        elif self.kernel == "intersection":
            K = intersection_kernel(X, Y)
        elif self.kernel == "hellinger":
            K = hellinger_kernel(X, Y)
        elif self.kernel == "additive_chi2":
            K = additive_chi2_kernel(X, Y)
        else:
            K = X @ Y.T
        # libsvm wants float64; the kernel matrix is small (n_samples x n_train).
        return np.asarray(K, np.float64)

    def _check_non_negative(self, X):
        if self.kernel != "linear" and (X < 0).any():
            raise ValueError(f"the {self.kernel} kernel needs non-negative features "
                             "(histograms); got negative values")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = False
        tags.input_tags.positive_only = self.kernel != "linear"
        return tags


def select_kernel_weights(kernels: dict, y, grid: dict, start: dict | None = None, *,
                          cv: int = 3, C: float = 10.0, n_jobs: int | None = None,
                          random_state: int = 0, verbose: bool = False) -> tuple[dict, list]:
    """Weights of a sum of kernels, chosen greedily by cross-validation.

    Starting from ``start``, the branches of ``grid`` are tried one at a time, in
    its order: each takes the value of its grid whose kernel ``sum(w_b K_b)`` gives
    the best mean per-class accuracy of a one-vs-rest SVM over ``cv`` stratified
    folds, if that beats the best so far; otherwise it stays out (weight 0). One
    branch at a time keeps the cost linear in the grid's size, where a full grid
    would be its product.

    Parameters
    ----------
    kernels : dict of str to ndarray of shape (n_samples, n_samples)
        Each branch's kernel between the training samples (for unit-norm feature
        blocks, their Gram matrix ``A @ A.T``).
    y : array-like of shape (n_samples,)
    grid : dict of str to sequence of float
        Candidate kernel weights of the branches to search.
    start : dict of str to float, default=None
        Weights held from the start (the branches not searched); ``None`` starts
        from nothing, and the first branch of ``grid`` always takes one of its values.
    cv : int, default=3
        Stratified folds (shuffled with ``random_state``).
    C : float, default=10.0
        The SVM's penalty, as in the presets' linear tail.
    n_jobs : int, default=None
        Folds scored in parallel.
    random_state : int, default=0
    verbose : bool, default=False
        A progress bar over the trials.

    Returns
    -------
    weights : dict of str to float
        The chosen kernel weights; a branch left out has none.
    trail : list of dict
        Every trial: its weights and its score (``"cv"``, mean per-class accuracy).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 15)
    >>> useful = np.c_[y + 0.3 * rng.standard_normal(30), np.ones(30)]
    >>> noise = rng.standard_normal((30, 5))
    >>> kernels = {"useful": useful @ useful.T, "noise": noise @ noise.T}
    >>> weights, trail = select_kernel_weights(kernels, y, {"useful": [1.0],
    ...                                                     "noise": [0.1, 1.0]})
    >>> weights
    {'useful': 1.0}
    """
    from joblib import Parallel, delayed
    from sklearn.model_selection import StratifiedKFold
    from tqdm.auto import tqdm

    y = np.asarray(y)
    unknown = sorted(set(grid) - set(kernels))
    if unknown:
        raise ValueError(f"grid names branches without a kernel: {unknown}")
    if not all(len(values) for values in grid.values()):
        raise ValueError("every branch of the grid needs at least one candidate weight")
    folds = list(StratifiedKFold(cv, shuffle=True, random_state=random_state).split(y, y))

    def score(weights: dict) -> float:
        K = sum(w * np.asarray(kernels[b], np.float64) for b, w in weights.items() if w)
        return float(np.mean(Parallel(n_jobs=n_jobs)(
            delayed(_fold_score)(K, y, fit, held, C) for fit, held in folds)))

    weights, best, trail = dict(start or {}), -np.inf, []
    if weights:
        best = score(weights)
        trail.append({**weights, "cv": best})
    bar = tqdm(total=sum(map(len, grid.values())), disable=not verbose,
               desc="branch weights", unit="trial")
    for name, values in grid.items():
        for value in values:
            trial = {**weights, name: float(value)}
            trial_score = score(trial)
            trail.append({**trial, "cv": trial_score})
            bar.update()
            if trial_score > best:
                best, weights = trial_score, trial
    bar.close()
    return weights, trail


def _fold_score(K, y, fit, held, C) -> float:
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import SVC

    model = OneVsRestClassifier(SVC(kernel="precomputed", C=C)).fit(K[np.ix_(fit, fit)], y[fit])
    return balanced_accuracy_score(y[held], model.predict(K[np.ix_(held, fit)]))
