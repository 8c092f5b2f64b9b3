"""A linear SVM for long vectors and few images, trained through their Gram matrix."""

from __future__ import annotations

from numbers import Integral, Real

import cv2
import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.svm import SVC
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .utils._param_validation import Interval
from .utils.parallel import thread_map

__all__ = ["GramLinearSVC", "linear_svm_weights"]


def linear_svm_weights(K: np.ndarray, y, X, C: float = 1.0, *, tol: float = 1e-3,
                       n_jobs: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-vs-rest linear SVMs from the Gram matrix ``K = X @ X.T``, as weight vectors.

    Each class's libsvm problem is solved in the dual on ``K``; its decision
    function ``f(x) = sum_i a_i <x, x_i> + b`` is linear, so the weights come back
    as ``w = a @ X``, all classes in one product.

    Parameters
    ----------
    K : ndarray of shape (n_samples, n_samples)
    y : array-like of shape (n_samples,)
    X : ndarray of shape (n_samples, n_features)
        The vectors whose Gram matrix ``K`` is.
    C : float, default=1.0
    tol : float, default=1e-3
    n_jobs : int, default=None
        Classes solved in parallel.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
    coef : ndarray of shape (n_classes, n_features), or (1, n_features) for two classes
        In ``X``'s precision (float32 stays float32).
    intercept : ndarray of shape (n_classes,) or (1,)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.1]])
    >>> classes, coef, intercept = linear_svm_weights(X @ X.T, [0, 0, 1, 1], X, C=10)
    >>> (X @ coef.T + intercept).ravel() > 0
    array([False, False,  True,  True])
    """
    binarizer = LabelBinarizer(pos_label=1, neg_label=-1)
    targets = binarizer.fit_transform(y)
    K = np.asarray(K, np.float64)  # libsvm's kernel type
    svcs = Parallel(n_jobs=n_jobs)(
        delayed(_binary_svc)(K, column, C, tol) for column in targets.T)
    X = np.asarray(X)
    dtype = np.result_type(X.dtype, np.float32)
    dual = np.zeros((len(svcs), len(X)), dtype)
    for row, svc in zip(dual, svcs, strict=True):
        row[svc.support_] = np.ravel(svc.dual_coef_)
    intercept = np.array([float(np.ravel(svc.intercept_)[0]) for svc in svcs], dtype)
    return binarizer.classes_, dual @ X.astype(dtype, copy=False), intercept


def _binary_svc(K, target, C, tol) -> SVC:
    return SVC(kernel="precomputed", C=C, tol=tol).fit(K, target)


class GramLinearSVC(ClassifierMixin, BaseEstimator):
    """Linear SVM (one-vs-rest, hinge loss) trained in the dual on the Gram matrix.

    Fisher vectors and fused branches are long (10^5 values) and training sets
    small (10^3 images): one BLAS product gives the Gram matrix, libsvm solves
    each class on it, and the weights come back as explicit vectors
    (:func:`linear_svm_weights`). Far faster than a primal solver on the raw
    vectors, and the fitted model holds ``coef_`` only, not the training set:
    its size and predict time do not grow with the number of images. Same
    decision values as ``OneVsRestClassifier(SVC(kernel="linear", C=C))``.

    Parameters
    ----------
    C : float, default=1.0
        Penalty of the hinge loss.
    tol : float, default=1e-3
        libsvm's stopping tolerance.
    n_jobs : int, default=None
        Classes solved in parallel.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (n_classes, n_features), or (1, n_features) for two classes
        float32 for float32 input.
    intercept_ : ndarray of shape (n_classes,) or (1,)
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((30, 500), dtype=np.float32); y = np.arange(30) % 3
    >>> X[np.arange(30), y] += 3
    >>> model = GramLinearSVC(C=10).fit(X, y)
    >>> model.coef_.shape, model.coef_.dtype, model.score(X, y)
    ((3, 500), dtype('float32'), 1.0)
    """

    _parameter_constraints = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": [Integral, None],
    }

    def __init__(self, C=1.0, tol=1e-3, n_jobs=None):
        self.C = C
        self.tol = tol
        self.n_jobs = n_jobs

    def fit(self, X, y):
        """Fit one binary SVM per class (one for two classes) through ``X @ X.T``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self
        """
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        if len(np.unique(y)) < 2:
            raise ValueError("GramLinearSVC needs at least two classes in y, got one class")
        # The product in the vectors' precision (float32: twice the BLAS speed), the
        # sums of 10^5 terms then kept in float64 for libsvm.
        K = X @ X.T
        self.classes_, self.coef_, self.intercept_ = linear_svm_weights(
            K, y, X, self.C, tol=self.tol, n_jobs=self.n_jobs)
        return self

    def decision_function(self, X) -> np.ndarray:
        """Signed distances to each class's hyperplane.

        Returns
        -------
        ndarray of shape (n_samples, n_classes), or (n_samples,) for two classes
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float32, np.float64])
        coef = self.coef_.astype(X.dtype, copy=False)
        # A served request is one row against every weight (~90 MB for the fusion
        # preset): memory-bound work, split by classes over OpenCV's threads, each on
        # one BLAS thread. BLAS's own threads would spin on after the call and slow
        # the next request's image work by more than they save here.
        n_parts = max(1, min(len(coef), cv2.getNumThreads()))
        bounds = np.linspace(0, len(coef), n_parts + 1).astype(int)
        blocks = [slice(bounds[i], bounds[i + 1]) for i in range(n_parts)]
        parts = thread_map(lambda block: X @ coef[block].T, blocks)
        scores = np.hstack(parts) + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X) -> np.ndarray:
        """The class of the highest decision value."""
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]
