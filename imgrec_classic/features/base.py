"""Machinery shared by every feature extractor: decoding, resizing, parallel batches."""

from __future__ import annotations

import math
import os
from numbers import Integral

import cv2
import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from ..descriptors import Descriptors
from ..io.images import read_image
from ..stream import DescriptorStream
from ..utils._param_validation import Interval
from ..utils.images import as_image_list
from .cache import DescriptorCache

__all__ = [
    "BaseExtractor", "GlobalExtractor", "KeypointExtractor", "LocalExtractor",
    "keypoint_arrays", "resize_max_side",
]


def resize_max_side(image: np.ndarray, max_side: int | None) -> np.ndarray:
    """Shrink ``image`` so that its longer side is at most ``max_side`` (never enlarges)."""
    if max_side is None:
        return image
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


class BaseExtractor(TransformerMixin, BaseEstimator):
    """Base class of the extractors: a stateless transformer over a sequence of images.

    Subclasses set ``_color`` (``"gray"`` or ``"rgb"``), and implement
    ``_extract(image, context)`` for one decoded uint8 image; ``_context()``
    builds per-batch state (an OpenCV detector) inside the worker, because
    OpenCV objects neither pickle nor belong in parameters.

    Images are decoded inside the worker that processes them, so ``transform``
    over a list of paths never holds more decoded images than the workers are
    working on.
    """

    _parameter_constraints: dict = {
        "max_side": [Interval(Integral, 8, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "cache": [str, os.PathLike, None],
    }
    _color = "gray"

    def fit(self, X=None, y=None):
        """Check the parameters. Extractors learn nothing from the data.

        Parameters
        ----------
        X : sequence of images, ignored
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        self._check_params()
        self.fitted_ = True
        return self

    def fit_transform(self, X, y=None, **fit_params):
        # X may be a generator: materialise it once for both steps.
        images = as_image_list(X)
        return self.fit(images, y).transform(images)

    def transform(self, X):
        """Extract features from each image.

        Parameters
        ----------
        X : sequence of images
            Paths, encoded bytes, binary file objects or uint8/float arrays, in any
            iterable (list, tuple, generator, or a stacked (n, H, W[, C]) array).

        Returns
        -------
        features : Descriptors or ndarray of shape (n_images, n_features)
        """
        check_is_fitted(self)
        images = as_image_list(X)
        return self._combine(self._map(images))

    # -- hooks --------------------------------------------------------------------------
    def _check_params(self):
        """Cross-parameter checks beyond the declarative constraints."""

    def _context(self):
        return None

    def _extract(self, image: np.ndarray, context):
        raise NotImplementedError

    def _combine(self, results: list):
        raise NotImplementedError

    def _extract_one(self, image: np.ndarray, context):
        return self._extract(image, context)

    # -- machinery ----------------------------------------------------------------------
    def load(self, src) -> np.ndarray:
        """Decode and resize one image as this extractor sees it."""
        return resize_max_side(read_image(src, mode=self._color), self.max_side)

    def _run_batch(self, batch: list, single_thread: bool) -> list:
        return list(self._iter_batch(batch, single_thread))

    def _iter_batch(self, batch: list, single_thread: bool):
        """Decode and extract the images of ``batch`` one at a time, in this process."""
        threads = cv2.getNumThreads()
        if single_thread:
            # Avoid n_jobs x OpenCV threads oversubscribing the cores.
            cv2.setNumThreads(1)
        try:
            context = self._context()
            cache = None if self.cache is None else DescriptorCache(self.cache, self)
            for src in batch:
                yield self._extract_cached(src, context, cache)
        finally:
            cv2.setNumThreads(threads)

    def _extract_cached(self, src, context, cache):
        if cache is None:
            return self._extract_one(self.load(src), context)
        path = cache.path(src)  # hashed once for both the lookup and the store
        result = cache.get_at(path)
        if result is None:
            result = self._extract_one(self.load(src), context)
            cache.put_at(path, result)
        return result

    def _map(self, images: list) -> list:
        n_jobs = effective_n_jobs(self.n_jobs)
        batch_size = max(1, min(32, math.ceil(len(images) / (4 * n_jobs))))
        batches = [images[i:i + batch_size] for i in range(0, len(images), batch_size)]
        if len(batches) == 1:  # one image (a served request): no worker round trip
            return self._run_batch(batches[0], False)
        parallel = Parallel(n_jobs=self.n_jobs, return_as="generator")
        jobs = (delayed(self._run_batch)(b, n_jobs > 1) for b in batches)
        results: list = []
        with tqdm(total=len(images), disable=not self.verbose, unit="img",
                  desc=type(self).__name__) as bar:
            for out in parallel(jobs):
                results.extend(out)
                bar.update(len(out))
        return results

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags


class LocalExtractor(BaseExtractor):
    """Extractor giving many descriptors per image, gathered in a ``Descriptors``.

    ``_extract`` returns ``(positions_px, scales, values)`` for one image; this
    class normalises positions by the image size. With ``lazy=True``,
    ``transform`` returns a :class:`~imgrec_classic.stream.DescriptorStream`
    that encoders extract from batch by batch.
    """

    _parameter_constraints = {**BaseExtractor._parameter_constraints, "lazy": ["boolean"]}

    def transform(self, X):
        """Extract descriptors from each image.

        Parameters
        ----------
        X : sequence of images
            Paths, encoded bytes, binary file objects or arrays, in any iterable.

        Returns
        -------
        descriptors : Descriptors, or DescriptorStream when ``lazy=True``
        """
        if not self.lazy:
            return super().transform(X)
        check_is_fitted(self)
        return DescriptorStream(self, as_image_list(X))

    #: width of one descriptor; uint8 extractors give packed binary descriptors.
    n_dims: int = 0
    dtype = np.float32

    def _extract_one(self, image, context):
        positions, scales, values = self._extract(image, context)
        h, w = image.shape[:2]
        positions = np.asarray(positions, np.float32).reshape(-1, 2) / np.float32([w, h])
        return positions, np.asarray(scales, np.float32), values

    def _combine(self, results):
        positions, scales, values = zip(*results, strict=True)
        return Descriptors.from_list(values, positions, scales,
                                     n_dims=self.n_dims, dtype=self.dtype)


class GlobalExtractor(BaseExtractor):
    """Extractor giving one fixed-length vector per image."""

    def _combine(self, results):
        return np.vstack(results).astype(np.float32, copy=False)


class KeypointExtractor(LocalExtractor):
    """Local extractor over an OpenCV ``Feature2D``: ``_context`` returns the detector."""

    def _min_side(self) -> int:
        """Images with a shorter side have no keypoints (and may crash OpenCV)."""
        return 1

    def _extract(self, image, detector):
        if min(image.shape[:2]) < self._min_side():
            keypoints, values = (), None
        else:
            keypoints, values = detector.detectAndCompute(image, None)
        if values is None:
            values = np.zeros((0, self.n_dims), self.dtype)
        return (*keypoint_arrays(keypoints), self._finish(values))

    def _finish(self, values: np.ndarray) -> np.ndarray:
        return values


def keypoint_arrays(keypoints) -> tuple[np.ndarray, np.ndarray]:
    """Positions (n, 2) and sizes (n,) of OpenCV keypoints, as float32 arrays."""
    if not keypoints:
        return np.zeros((0, 2), np.float32), np.zeros(0, np.float32)
    positions = cv2.KeyPoint_convert(keypoints).reshape(-1, 2)
    return positions, np.fromiter((k.size for k in keypoints), np.float32, len(keypoints))
