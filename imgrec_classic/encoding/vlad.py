"""VLAD: vectors of locally aggregated descriptors (residuals to the nearest word)."""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy import sparse

from ..utils._param_validation import Interval
from .base import WordEncoder, l2_normalize, power_normalize

__all__ = ["VLAD"]


class VLAD(WordEncoder):
    """Vectors of locally aggregated descriptors, pooled over a spatial pyramid.

    For each word, the sum of the residuals ``x - c`` of the descriptors
    assigned to it; then intra-normalisation (each word's block to unit L2),
    signed power normalisation and L2, per pyramid cell; cells share the unit
    norm equally.

    Parameters
    ----------
    n_words : int, default=64
    intra_norm : bool, default=True
        L2-normalise each word's residual block (Arandjelovic & Zisserman, 2013).
    alpha : float, default=0.5
        Exponent of the signed power normalisation; 1 disables it.
    pyramid : tuple of int, default=(1,)
    algorithm : {"minibatch", "kmeans", "faiss"}, default="minibatch"
    max_descriptors : int, default=100_000
    max_images : int, default=500
        Images sampled to learn the model from (descriptors are drawn from them).
    pca_components : int or None, default=None
        Project descriptors on this many principal components first (fitted
        on the same sample): cheaper word assignment, decorrelated dimensions.
    random_state : int, RandomState instance or None, default=None
    n_jobs : int, default=None
    verbose : bool or int, default=False

    Attributes
    ----------
    vocabulary_ : Vocabulary
    n_words_ : int
        Words learned: ``n_words``, or fewer (with a warning) when the training
        images hold fewer descriptors.
    pca_ : PCA or None
    n_features_out_ : int
        ``n_words_ * n_dims * sum(L * L for L in pyramid)``.

    References
    ----------
    H. Jegou, M. Douze, C. Schmid and P. Perez, "Aggregating local descriptors
    into a compact image representation", CVPR 2010. R. Arandjelovic and
    A. Zisserman, "All about VLAD", CVPR 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic import Descriptors
    >>> from imgrec_classic.encoding import VLAD
    >>> rng = np.random.default_rng(0)
    >>> X = Descriptors.from_list([rng.random((40, 8)) for _ in range(3)])
    >>> VLAD(n_words=4, random_state=0).fit_transform(X).shape
    (3, 32)
    """

    _parameter_constraints = {
        **WordEncoder._parameter_constraints,
        "intra_norm": ["boolean"],
        "alpha": [Interval(Real, 0, 1, closed="right")],
    }

    def __init__(self, n_words=64, intra_norm=True, alpha=0.5, pyramid=(1,),
                 algorithm="minibatch", max_descriptors=100_000, max_images=500,
                 pca_components=None, random_state=None, n_jobs=None, verbose=False):
        self.n_words = n_words
        self.intra_norm = intra_norm
        self.alpha = alpha
        self.pyramid = pyramid
        self.algorithm = algorithm
        self.max_descriptors = max_descriptors
        self.max_images = max_images
        self.pca_components = pca_components
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit_model(self, sample, X):
        self.vocabulary_ = self._fit_vocabulary(sample)

    def _cell_size(self):
        return self.n_words_ * self.vocabulary_.cluster_centers_.shape[1]

    def _prepare(self, values):
        return values, self.vocabulary_.predict(values)

    def _pool(self, state, rows):
        values, words = state
        centers = self.vocabulary_.cluster_centers_
        words = words[rows]
        n = len(words)
        assign = sparse.csr_matrix((np.ones(n, np.float32), (words, np.arange(n))),
                                   shape=(len(centers), n))
        sums = assign @ values[rows]
        counts = np.asarray(assign.sum(axis=1))
        return (sums - counts * centers).ravel()

    def _normalize_cells(self, cells):
        cells = cells.reshape(len(cells), self.n_words_, -1)
        if self.intra_norm:
            cells = l2_normalize(cells)
        cells = l2_normalize(power_normalize(cells.reshape(len(cells), -1), self.alpha))
        return (cells / np.sqrt(len(cells))).ravel()
