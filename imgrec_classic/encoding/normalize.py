"""Normalisers for encoded vectors: signed power + L2, and Hellinger."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._param_validation import Interval, StrOptions

__all__ = ["PowerNormalizer", "Hellinger"]


class _RowMap(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """A stateless row-wise map of 2-D arrays; subclasses implement ``_map``."""

    _parameter_constraints: dict = {}

    def fit(self, X, y=None):
        self._validate_params()
        validate_data(self, X, dtype=[np.float64, np.float32])
        return self

    def transform(self, X):
        check_is_fitted(self)
        return self._map(validate_data(self, X, reset=False, dtype=[np.float64, np.float32]))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags


class PowerNormalizer(_RowMap):
    """Signed power normalisation ``sign(x) |x|**alpha`` followed by a row norm.

    The standard post-processing of Fisher vectors and VLAD (Perronnin et al., 2010).

    Parameters
    ----------
    alpha : float, default=0.5
        Exponent; 0.5 is the signed square root, 1 leaves values unchanged.
    norm : {"l2", "l1"} or None, default="l2"
        Norm each row is scaled to after the power step.

    Attributes
    ----------
    n_features_in_ : int

    Examples
    --------
    >>> from imgrec_classic.encoding import PowerNormalizer
    >>> PowerNormalizer().fit_transform([[4.0, -9.0], [0.0, 0.0]]).round(3).tolist()
    [[0.555, -0.832], [0.0, 0.0]]
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "norm": [StrOptions({"l1", "l2"}), None],
    }

    def __init__(self, alpha=0.5, norm="l2"):
        self.alpha = alpha
        self.norm = norm

    def _map(self, X):
        return _row_normalize(np.sign(X) * np.abs(X) ** self.alpha, self.norm)


class Hellinger(_RowMap):
    """Hellinger map: L1-normalise each row, then take the (signed) square root.

    A linear classifier on the output equals the Bhattacharyya (Hellinger)
    kernel on histograms: the explicit feature map RootSIFT uses for SIFT.

    Attributes
    ----------
    n_features_in_ : int

    Examples
    --------
    >>> from imgrec_classic.encoding import Hellinger
    >>> Hellinger().fit_transform([[1.0, 3.0]]).round(3).tolist()
    [[0.5, 0.866]]
    """

    def _map(self, X):
        X = _row_normalize(X, "l1")
        return np.sign(X) * np.sqrt(np.abs(X))


def _row_normalize(X: np.ndarray, norm: str | None) -> np.ndarray:
    if norm is None:
        return X
    scale = np.abs(X).sum(axis=1) if norm == "l1" else np.sqrt((X * X).sum(axis=1))
    return X / np.where(scale > 0, scale, 1)[:, None]
