"""Machinery shared by the encoders: fitting on a sample, pooling over a pyramid, streaming."""

from __future__ import annotations

import math
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..descriptors import Descriptors
from ..utils._param_validation import Interval, StrOptions
from ..utils.parallel import map_batches
from .pyramid import check_pyramid, pyramid_cells
from .vocabulary import Vocabulary, descriptor_values, sample_descriptors

__all__ = ["BaseEncoder", "SamplePlan", "WordEncoder", "l2_normalize", "power_normalize"]


def l2_normalize(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Scale to unit L2 norm along ``axis``; zero vectors stay zero."""
    norm = np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
    return x / np.maximum(norm, np.finfo(np.float32).tiny)


def power_normalize(x: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Signed power ``sign(x) |x|**alpha`` (alpha=0.5: signed square root)."""
    return np.sign(x) * np.abs(x) ** alpha


class BaseEncoder(TransformerMixin, BaseEstimator):
    """Base class of the encoders: descriptors in, one row per image out.

    ``fit`` learns the model (codebook, GMM) from at most ``max_descriptors``
    descriptors sampled from at most ``max_images`` training images, after an
    optional PCA to ``pca_components`` dimensions (``pca_``).
    ``transform`` encodes image by image, in joblib batches: per image,
    ``_prepare(values)`` does the costly work once (nearest words, posteriors),
    ``_pool(state, rows)`` sums the contributions of the descriptors of one
    pyramid cell (it must be a sum, so that coarse cells can add up fine ones),
    and ``_normalize_cells`` turns the raw cell vectors into the output row.
    :meth:`encode` is the public per-image function; :meth:`plan_sample` and
    :meth:`fit_sampled` split ``fit`` so that the engine
    (:class:`~imgrec_classic.compose.ImageEncoder`) extracts only the images
    sampled for learning, and raw descriptors never pile up.
    """

    _parameter_constraints: dict = {
        "pyramid": [tuple, list],
        "max_descriptors": [Interval(Integral, 1, None, closed="left")],
        "max_images": [Interval(Integral, 1, None, closed="left")],
        "pca_components": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def fit(self, X, y=None):
        """Learn the encoder's model from a sample of the descriptors of ``X``.

        Parameters
        ----------
        X : Descriptors
            Local descriptors of the training images.
        y : ignored

        Returns
        -------
        self
        """
        X = _check_descriptors(X)
        plan = self.plan_sample(len(X))
        subset = Descriptors.concatenate([plan.reduce(_one_image(X, i), rank)
                                          for rank, i in enumerate(plan.images)])
        return self.fit_sampled(subset, plan, X)

    def plan_sample(self, n_images: int) -> SamplePlan:
        """Which of ``n_images`` training images to learn from, and how many of each
        one's descriptors to keep (the first half of ``fit``; the engine extracts
        only these images for it).

        Parameters
        ----------
        n_images : int

        Returns
        -------
        SamplePlan
        """
        self._validate_params()
        self.pyramid_ = check_pyramid(self.pyramid)
        if n_images < 1:
            raise ValueError("X holds no images")
        rng = check_random_state(self.random_state)
        picked = _sample_images(n_images, self.max_images, rng)
        # Each worker keeps a random share of its images' descriptors, so the raw
        # descriptors of all sampled images never sit in memory together.
        quota = _RowQuota(math.ceil(self.max_descriptors / len(picked)),
                          rng.randint(np.iinfo(np.int32).max))
        return SamplePlan(picked, quota, rng)

    def fit_sampled(self, subset: Descriptors, plan: SamplePlan, X: Descriptors | None = None):
        """Learn the model from the descriptors ``plan`` kept (the second half of ``fit``).

        Parameters
        ----------
        subset : Descriptors
            ``plan.reduce`` of each image of ``plan.images``, in order.
        plan : SamplePlan
            From :meth:`plan_sample`.
        X : Descriptors, default=None
            Every training image, for the statistics that need them all (tf-idf's
            document frequencies); without it they come from ``subset``.

        Returns
        -------
        self
        """
        rng = plan.rng
        self.n_dims_in_ = subset.n_dims
        if subset.n_descriptors > self.max_descriptors:
            rows = np.sort(rng.choice(subset.n_descriptors, self.max_descriptors, replace=False))
            subset = Descriptors(subset.values[rows], [0, len(rows)], subset.positions[rows])
        sample = sample_descriptors(subset, self.max_descriptors)
        self.pca_ = self._fit_pca(sample)
        self._fit_model(self._features(sample, subset.positions), subset if X is None else X)
        self.n_features_out_ = sum(n * n for n in self.pyramid_) * self._cell_size()
        return self

    def transform(self, X) -> np.ndarray:
        """Encode each image.

        Parameters
        ----------
        X : Descriptors

        Returns
        -------
        codes : ndarray of shape (n_images, n_features_out_), float32
        """
        check_is_fitted(self)
        X = _check_descriptors(X)
        if X.n_dims != self.n_dims_in_ and X.n_descriptors:
            raise ValueError(f"descriptors have {X.n_dims} dimensions, the encoder was fitted "
                             f"on {self.n_dims_in_}")
        # Rows are written as they arrive: no list of codes beside the output matrix.
        codes = np.empty((len(X), self.n_features_out_), np.float32)
        for i, code in enumerate(self._imap_images(X, self.encode)):
            codes[i] = code
        return codes

    def encode(self, X: Descriptors, index: int = 0) -> np.ndarray:
        """The code of one image (the engine's per-image call).

        Parameters
        ----------
        X : Descriptors
            The descriptors of one image (``len(X) == 1``).
        index : int, default=0
            Unused; the position of the image, for per-image maps.

        Returns
        -------
        ndarray of shape (n_features_out_,), float32
            All zeros for an image without descriptors.
        """
        out = np.zeros(self.n_features_out_, np.float32)
        values = descriptor_values(X)
        if len(values):  # else no descriptors, nothing to pool: an all-zero code
            out[:] = self._encode_values(values, X.positions)
        return out

    def _encode_values(self, values: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The code of one image's descriptor values (at least one) and positions."""
        # Projected first: the sort by cell then moves the shorter vectors.
        features, cells = self._by_cell(self._features(values, positions), positions)
        return self._normalize_cells(self._pool_pyramid(self._prepare(features), cells))

    def _map_images(self, X, func) -> list:
        """``func(one_image_descriptors, index)`` over every image, in parallel, in order."""
        return list(self._imap_images(X, func))

    def _imap_images(self, X, func):
        """:meth:`_map_images` as a generator: results in order, as batches finish."""
        return map_batches(_EachImage(func, X), np.arange(len(X)), n_jobs=self.n_jobs,
                           verbose=self.verbose, desc=type(self).__name__, max_batch=64)

    def _by_cell(self, values, positions):
        """Rows of ``values`` sorted by finest pyramid cell, and each cell's rows.

        Pools are sums over descriptors, so when every level divides the finest one
        only the finest cells are pooled (contiguous slices after the sort, no
        gathers) and coarser cells add them up; otherwise every cell of every level
        is pooled from its own row indices.
        """
        cell = self._finest_cells(positions)
        if cell is None:
            return values, pyramid_cells(positions, self.pyramid_)
        order = np.argsort(cell, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(cell,
                                                            minlength=max(self.pyramid_) ** 2))])
        slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        return values[order], slices

    def _finest_cells(self, positions: np.ndarray) -> np.ndarray | None:
        """Each descriptor's cell of the finest pyramid level (row-major), or None
        when a level does not divide the finest one (cells then do not nest)."""
        finest = max(self.pyramid_)
        if any(finest % n for n in self.pyramid_):
            return None
        xy = np.minimum((positions * finest).astype(np.int64), finest - 1)
        return xy[:, 1] * finest + xy[:, 0]

    def _pool_pyramid(self, state, cells: list) -> np.ndarray:
        """Pooled vectors of every pyramid cell, shape (n_cells, pool_size)."""
        pooled = np.stack([self._pool(state, rows) for rows in cells])
        if not isinstance(cells[0], slice):
            return pooled
        return self._sum_levels(pooled)

    def _sum_levels(self, pooled: np.ndarray) -> np.ndarray:
        """Every pyramid cell's pool from the finest cells' ones (n_finest_cells, ...)."""
        finest = max(self.pyramid_)
        fine = pooled.reshape(finest, finest, -1)
        return np.concatenate([
            fine.reshape(n, finest // n, n, finest // n, -1).sum(axis=(1, 3)).reshape(n * n, -1)
            for n in self.pyramid_])

    def _fit_pca(self, sample: np.ndarray) -> PCA | None:
        if self.pca_components is None:
            return None
        if self.pca_components > sample.shape[1]:
            raise ValueError(f"pca_components={self.pca_components} exceeds the "
                             f"{sample.shape[1]} descriptor dimensions")
        return PCA(self.pca_components, random_state=self.random_state).fit(sample)

    def _features(self, values: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The vectors the model is learned on and encodes: descriptors after PCA."""
        return self._project(values)

    def _project(self, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Descriptors in the PCA space the model lives in (unchanged without PCA),
        written to ``out`` (a float32 view of the right shape) when given."""
        if self.pca_ is None:
            if out is None:
                return values
            out[...] = values
            return out
        # PCA keeps float64 parameters; a float32 product is 4x faster on many descriptors.
        components = self.pca_.components_.T.astype(np.float32)
        projected = np.matmul(values, components, out=out)
        projected -= (self.pca_.mean_ @ self.pca_.components_.T).astype(np.float32)
        return projected

    def _levels(self, cells: np.ndarray) -> list[np.ndarray]:
        """Split the (n_cells, cell_size) array into one block per pyramid level."""
        bounds = np.cumsum([n * n for n in self.pyramid_])[:-1]
        return np.split(cells, bounds)

    # -- hooks ------------------------------------------------------------------------
    def _fit_model(self, sample: np.ndarray, X: Descriptors) -> None:
        raise NotImplementedError

    def _cell_size(self) -> int:
        raise NotImplementedError

    def _prepare(self, values: np.ndarray):
        raise NotImplementedError

    def _pool(self, state, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _normalize_cells(self, cells: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags


class WordEncoder(BaseEncoder):
    """Base of the encoders built on a k-means vocabulary (BoVW, VLAD).

    Declares what they share: ``n_words`` and the k-means ``algorithm``, and fits
    the vocabulary (``vocabulary_``) from the sample.
    """

    _parameter_constraints: dict = {
        **BaseEncoder._parameter_constraints,
        "n_words": [Interval(Integral, 1, None, closed="left")],
        "algorithm": [StrOptions({"minibatch", "kmeans", "faiss"})],
    }

    def _fit_vocabulary(self, sample: np.ndarray, **params) -> Vocabulary:
        """The k-means codebook of ``n_words`` words, or of as many as the sample holds.

        A first try on a small folder (20 images of 200 px) may give fewer descriptors
        than words: the vocabulary then has one word per descriptor, with a warning,
        rather than the fit failing. ``n_words_`` is the number learned.
        """
        self.n_words_ = min(self.n_words, len(sample))
        if self.n_words_ < self.n_words:
            warnings.warn(f"{type(self).__name__}: n_words={self.n_words} exceeds the "
                          f"{len(sample)} descriptors to learn from; learning "
                          f"{self.n_words_} words (more images, or a smaller n_words, "
                          "avoid this)", UserWarning, stacklevel=4)
        return Vocabulary(self.n_words_, self.algorithm, self.max_descriptors,
                          random_state=self.random_state, verbose=self.verbose,
                          **params).fit(sample)


class _RowQuota:
    """Keep at most ``quota`` random descriptors per image; image ``index`` draws
    from its own seed, so the result does not depend on how images are batched."""

    def __init__(self, quota: int, seed: int):
        self.quota, self.seed = quota, seed

    def __call__(self, X: Descriptors, index: int) -> Descriptors:
        n = X.n_descriptors
        if n <= self.quota:
            return X
        rng = np.random.default_rng([self.seed, index])
        rows = np.sort(rng.choice(n, self.quota, replace=False))
        return Descriptors(X.values[rows], [0, self.quota], X.positions[rows], X.scales[rows])


class _EachImage:
    """``func`` over the images of ``X`` whose indices a batch holds (a worker's job)."""

    def __init__(self, func, X: Descriptors):
        self.func, self.X = func, X

    def __call__(self, indices, start):
        return [self.func(_one_image(self.X, i), i) for i in indices]


class SamplePlan:
    """The images an encoder learns from and the descriptors it keeps of each.

    Attributes
    ----------
    images : ndarray of int
        Sorted indices of the training images to extract.
    rng : numpy.random.RandomState
        The encoder's random state, advanced past the choice of images.
    """

    def __init__(self, images, quota, rng):
        self.images, self.quota, self.rng = images, quota, rng

    def reduce(self, X: Descriptors, rank: int) -> Descriptors:
        """The descriptors kept of one image, the ``rank``-th of :attr:`images`."""
        return self.quota(X, rank)


def _one_image(X: Descriptors, i: int) -> Descriptors:
    """Image ``i`` of ``X`` as a one-image Descriptors of views, without copying."""
    lo, hi = X.offsets[i], X.offsets[i + 1]
    return Descriptors(X.values[lo:hi], [0, hi - lo], X.positions[lo:hi], X.scales[lo:hi])


def _sample_images(n: int, max_images: int, rng) -> np.ndarray:
    if n <= max_images:
        return np.arange(n)
    return np.sort(rng.choice(n, max_images, replace=False))


def _check_descriptors(X):
    if not isinstance(X, Descriptors):
        raise TypeError("encoders take the Descriptors returned by a local feature extractor "
                        f"(SIFT, DenseSIFT, ORB, AKAZE), got {type(X).__name__}")
    if len(X) == 0:
        raise ValueError("X holds no images")
    return X
