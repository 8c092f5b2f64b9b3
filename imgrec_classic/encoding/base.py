"""Machinery shared by the encoders: fitting on a sample, pooling over a pyramid, streaming."""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import PCA
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from ..descriptors import Descriptors
from ..stream import DescriptorStream
from ..utils._param_validation import Interval
from .pyramid import check_pyramid, pyramid_cells
from .vocabulary import Vocabulary, descriptor_values, sample_descriptors

__all__ = ["BaseEncoder", "l2_normalize", "power_normalize"]


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
    Given a :class:`~imgrec_classic.stream.DescriptorStream`, each
    worker extracts its own batch, so raw descriptors never pile up.
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
        X : Descriptors or DescriptorStream
            Local descriptors of the training images.
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        X = _check_descriptors(X)
        self.pyramid_ = check_pyramid(self.pyramid)
        self.n_dims_in_ = X.n_dims
        rng = check_random_state(self.random_state)
        picked = _sample_images(len(X), self.max_images, rng)
        # Each worker keeps a random share of its images' descriptors, so the raw
        # descriptors of all sampled images never sit in memory together.
        quota = _RowQuota(math.ceil(self.max_descriptors / len(picked)),
                          rng.randint(np.iinfo(np.int32).max))
        subset = Descriptors.concatenate(self._map_images(X[picked], quota))
        if subset.n_descriptors > self.max_descriptors:
            rows = np.sort(rng.choice(subset.n_descriptors, self.max_descriptors, replace=False))
            subset = Descriptors(subset.values[rows], [0, len(rows)], subset.positions[rows])
        sample = sample_descriptors(subset, self.max_descriptors)
        self.pca_ = self._fit_pca(sample)
        self._fit_model(self._features(sample, subset.positions), X)
        self.n_features_out_ = sum(n * n for n in self.pyramid_) * self._cell_size()
        return self

    def transform(self, X) -> np.ndarray:
        """Encode each image.

        Parameters
        ----------
        X : Descriptors or DescriptorStream

        Returns
        -------
        codes : ndarray of shape (n_images, n_features_out_), float32
        """
        check_is_fitted(self)
        X = _check_descriptors(X)
        if X.n_dims != self.n_dims_in_ and (isinstance(X, DescriptorStream) or X.n_descriptors):
            raise ValueError(f"descriptors have {X.n_dims} dimensions, the encoder was fitted "
                             f"on {self.n_dims_in_}")
        # Rows are written as they arrive: no list of codes beside the output matrix.
        codes = np.empty((len(X), self.n_features_out_), np.float32)
        for i, code in enumerate(self._imap_images(X, self._encode_one)):
            codes[i] = code
        return codes

    def _map_images(self, X, func) -> list:
        """``func(one_image_descriptors, index)`` over every image, in parallel, in order."""
        return list(self._imap_images(X, func))

    def _imap_images(self, X, func):
        """:meth:`_map_images` as a generator: results in order, as batches finish."""
        n_jobs = effective_n_jobs(self.n_jobs)
        # Workers handle one image at a time (a stream extracts it there and then), so the
        # batch size only trades scheduling overhead against load balance.
        size = max(1, min(64, math.ceil(len(X) / (4 * n_jobs))))
        if size >= len(X):  # one batch (a served request): no worker round trip
            yield from _apply_each(func, X, 0)
            return
        jobs = (delayed(_apply_each)(func, X[start:start + size], start)
                for start in range(0, len(X), size))
        with tqdm(total=len(X), disable=not self.verbose, unit="img",
                  desc=type(self).__name__) as bar:
            for out in Parallel(n_jobs=self.n_jobs, return_as="generator")(jobs):
                yield from out
                bar.update(len(out))

    def _encode_one(self, X: Descriptors, index: int = 0) -> np.ndarray:
        """The code of a one-image ``X``, shape (1, n_features_out_)."""
        out = np.zeros((1, self.n_features_out_), np.float32)
        values = descriptor_values(X)
        if len(values):  # else no descriptors, nothing to pool: an all-zero code
            # Projected first: the sort by cell then moves the shorter vectors.
            features, cells = self._by_cell(self._features(values, X.positions), X.positions)
            out[0] = self._normalize_cells(self._pool_pyramid(self._prepare(features), cells))
        return out

    def _by_cell(self, values, positions):
        """Rows of ``values`` sorted by finest pyramid cell, and each cell's rows.

        Pools are sums over descriptors, so when every level divides the finest one
        only the finest cells are pooled (contiguous slices after the sort, no
        gathers) and coarser cells add them up; otherwise every cell of every level
        is pooled from its own row indices.
        """
        finest = max(self.pyramid_)
        if any(finest % n for n in self.pyramid_):
            return values, pyramid_cells(positions, self.pyramid_)
        xy = np.minimum((positions * finest).astype(np.int64), finest - 1)
        cell = xy[:, 1] * finest + xy[:, 0]
        order = np.argsort(cell, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(cell, minlength=finest ** 2))])
        slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        return values[order], slices

    def _pool_pyramid(self, state, cells: list) -> np.ndarray:
        """Pooled vectors of every pyramid cell, shape (n_cells, pool_size)."""
        pooled = np.stack([self._pool(state, rows) for rows in cells])
        if not isinstance(cells[0], slice):
            return pooled
        finest = max(self.pyramid_)
        fine = pooled.reshape(finest, finest, -1)
        return np.concatenate([
            fine.reshape(n, finest // n, n, finest // n, -1).sum(axis=(1, 3)).reshape(n * n, -1)
            for n in self.pyramid_])

    def _fit_vocabulary(self, sample: np.ndarray, **params) -> Vocabulary:
        """The k-means codebook of the encoders built on words (BoVW, VLAD)."""
        return Vocabulary(self.n_words, self.algorithm, self.max_descriptors,
                          random_state=self.random_state, **params).fit(sample)

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

    def _project(self, values: np.ndarray) -> np.ndarray:
        """Descriptors in the PCA space the model lives in (unchanged without PCA)."""
        if self.pca_ is None:
            return values
        # PCA keeps float64 parameters; a float32 product is 4x faster on many descriptors.
        components = self.pca_.components_.T.astype(np.float32)
        projected = values @ components
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


def _apply_each(func, part, start: int) -> list:
    if isinstance(part, DescriptorStream):
        images = part.iter_images()
    else:
        images = (_one_image(part, i) for i in range(len(part)))
    return [func(one, start + i) for i, one in enumerate(images)]


def _one_image(X: Descriptors, i: int) -> Descriptors:
    """Image ``i`` of ``X`` as a one-image Descriptors of views, without copying."""
    lo, hi = X.offsets[i], X.offsets[i + 1]
    return Descriptors(X.values[lo:hi], [0, hi - lo], X.positions[lo:hi], X.scales[lo:hi])


def _sample_images(n: int, max_images: int, rng) -> np.ndarray:
    if n <= max_images:
        return np.arange(n)
    return np.sort(rng.choice(n, max_images, replace=False))


def _check_descriptors(X):
    if not isinstance(X, (Descriptors, DescriptorStream)):
        raise TypeError("encoders take the Descriptors returned by a local feature extractor "
                        f"(SIFT, DenseSIFT, ORB, AKAZE), got {type(X).__name__}")
    if len(X) == 0:
        raise ValueError("X holds no images")
    return X
