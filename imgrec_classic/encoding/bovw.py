"""Bag of visual words: histograms of nearest codebook words, with spatial pyramids."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from ..utils._param_validation import Interval, StrOptions
from .base import WordEncoder, l2_normalize, power_normalize
from .nearest import nearest_words

__all__ = ["BagOfVisualWords"]


class BagOfVisualWords(WordEncoder):
    """Histograms of visual words, pooled over a spatial pyramid.

    Parameters
    ----------
    n_words : int, default=1000
        Vocabulary size.
    assignment : {"hard", "soft"}, default="hard"
        ``"hard"`` counts each descriptor once for its nearest word; ``"soft"``
        spreads it over its ``n_neighbors`` nearest words with Gaussian weights
        ``exp(-d**2 / (2 sigma**2))`` (the kernel codebook of van Gemert et al.).
    n_neighbors : int, default=5
        Words sharing each descriptor in soft assignment.
    sigma : float, default=None
        Soft-assignment bandwidth; None uses the mean distance of the training
        sample to its nearest word.
    tfidf : bool, default=False
        Weight words by their inverse document frequency over the training images.
    pyramid : tuple of int, default=(1,)
        Spatial pyramid, e.g. ``(1, 2, 4)`` for Lazebnik's 1x1 + 2x2 + 4x4 cells,
        or ``(2, 4)`` as VLFeat's PHOW.
    norm : {"l1", "l2", "power"} or None, default="l1"
        Each pyramid level is normalised on its own (``"power"``: signed square
        root then L2), then levels share the unit mass or norm equally, as VLFeat's
        ``phow_caltech101`` does for ``"l1"``.
    algorithm : {"minibatch", "kmeans", "faiss"}, default="minibatch"
        k-means for the vocabulary, see :class:`Vocabulary`.
    search : {"exact", "approximate"}, default="exact"
        Nearest-word search, see :class:`Vocabulary`: ``"approximate"`` goes
        through a :class:`WordIndex`, several times faster on large vocabularies.
    max_descriptors : int, default=100_000
        Descriptors sampled to learn the vocabulary.
    max_images : int, default=500
        Images sampled to learn the model from (descriptors are drawn from them).
    pca_components : int or None, default=None
        Project descriptors on this many principal components first (fitted
        on the same sample): cheaper word assignment, decorrelated dimensions.
    random_state : int, RandomState instance or None, default=None
    n_jobs : int, default=None
        Images encoded in parallel through joblib.
    verbose : bool or int, default=False

    Attributes
    ----------
    vocabulary_ : Vocabulary
    n_words_ : int
        Words learned: ``n_words``, or fewer (with a warning) when the training
        images hold fewer descriptors.
    pca_ : PCA or None
    idf_ : ndarray of shape (n_words,)
        Only with ``tfidf=True``.
    sigma_ : float
        Only with ``assignment="soft"``.
    n_features_out_ : int
        ``n_words * sum(L * L for L in pyramid)``.

    See Also
    --------
    VLAD, FisherVector : richer encodings of the same descriptors.

    References
    ----------
    J. Sivic and A. Zisserman, "Video Google", ICCV 2003. S. Lazebnik, C. Schmid
    and J. Ponce, "Beyond bags of features", CVPR 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic import Descriptors
    >>> from imgrec_classic.encoding import BagOfVisualWords
    >>> rng = np.random.default_rng(0)
    >>> X = Descriptors.from_list([rng.random((50, 8)) for _ in range(4)],
    ...                           positions=[rng.random((50, 2)) for _ in range(4)])
    >>> bovw = BagOfVisualWords(n_words=10, pyramid=(1, 2), random_state=0)
    >>> bovw.fit_transform(X).shape
    (4, 50)
    """

    _parameter_constraints = {
        **WordEncoder._parameter_constraints,
        "assignment": [StrOptions({"hard", "soft"})],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "sigma": [Interval(Real, 0, None, closed="neither"), None],
        "tfidf": ["boolean"],
        "norm": [StrOptions({"l1", "l2", "power"}), None],
        "search": [StrOptions({"exact", "approximate"})],
    }

    def __init__(self, n_words=1000, assignment="hard", n_neighbors=5, sigma=None, tfidf=False,
                 pyramid=(1,), norm="l1", algorithm="minibatch", search="exact",
                 max_descriptors=100_000, max_images=500, pca_components=None,
                 random_state=None, n_jobs=None, verbose=False):
        self.n_words = n_words
        self.assignment = assignment
        self.n_neighbors = n_neighbors
        self.sigma = sigma
        self.tfidf = tfidf
        self.pyramid = pyramid
        self.norm = norm
        self.algorithm = algorithm
        self.search = search
        self.max_descriptors = max_descriptors
        self.max_images = max_images
        self.pca_components = pca_components
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit_model(self, sample, X):
        self.vocabulary_ = self._fit_vocabulary(sample, search=self.search)
        if self.assignment == "soft":
            d2 = nearest_words(sample, self.vocabulary_.cluster_centers_)[1]
            self.sigma_ = float(self.sigma or np.sqrt(d2).mean())
        if self.tfidf:
            # Document frequency needs every training image's words: one more pass.
            df = np.bincount(np.concatenate(self._map_images(X, self._words_present)),
                             minlength=self.n_words_)
            self.idf_ = (np.log((1 + len(X)) / (1 + df)) + 1).astype(np.float32)

    def _cell_size(self):
        return self.n_words_

    def _words_present(self, X, index=0):
        return np.unique(self.vocabulary_.predict(X)) if X.n_descriptors else np.zeros(0, int)

    def _prepare(self, values):
        if self.assignment == "hard":
            return self.vocabulary_.kneighbors(values, return_distance=False), None
        words, d2 = self.vocabulary_.kneighbors(values, min(self.n_neighbors, self.n_words_))
        weights = np.exp(-(d2 - d2[:, :1]) / (2 * self.sigma_ ** 2))  # shift: no underflow
        return words, weights / weights.sum(axis=1, keepdims=True)

    def _pool(self, state, rows):
        words, weights = state
        w = None if weights is None else weights[rows].ravel()
        return np.bincount(words[rows].ravel(), weights=w, minlength=self.n_words_)

    def _normalize_cells(self, cells):
        if self.tfidf:
            cells = cells * self.idf_
        levels = [level.ravel() for level in self._levels(cells.astype(np.float32))]
        n = len(levels)
        if self.norm == "l1":
            levels = [v / max(v.sum(), np.finfo(np.float32).tiny) / n for v in levels]
        elif self.norm in ("l2", "power"):
            if self.norm == "power":
                levels = [power_normalize(v) for v in levels]
            levels = [l2_normalize(v) / np.sqrt(n) for v in levels]
        return np.concatenate(levels)
