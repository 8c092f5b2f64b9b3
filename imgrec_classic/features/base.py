"""Machinery shared by every feature extractor: decoding, resizing, parallel batches."""

from __future__ import annotations

import os
from numbers import Integral

import cv2
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..descriptors import Descriptors
from ..preprocessing.pending import load_image, load_views
from ..utils._param_validation import Interval
from ..utils.images import as_image_list
from ..utils.parallel import map_batches
from .cache import DescriptorCache

__all__ = [
    "BaseExtractor", "GlobalExtractor", "KeypointExtractor", "LocalExtractor",
    "decode_and_extract", "keypoint_arrays", "resize_max_side",
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

    Subclasses set ``image_mode`` (``"gray"`` or ``"rgb"``, the view of the
    decoded image they work on) and implement ``_extract(image, context)`` for
    one prepared uint8 image; ``_context()`` builds per-batch state (an OpenCV
    detector) inside the worker, because OpenCV objects neither pickle nor belong
    in parameters.

    :meth:`extract_images` is the public per-batch function the engine
    (:class:`~imgrec_classic.compose.ImageEncoder`) calls on decoded images;
    ``transform`` runs it over image sources through the library's one loop
    (:func:`~imgrec_classic.utils.parallel.map_batches`), each image decoded in
    the worker that extracts it, so ``transform`` over a list of paths never holds
    more decoded images than the workers are working on.
    """

    _parameter_constraints: dict = {
        "max_side": [Interval(Integral, 8, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "cache": [str, os.PathLike, None],
    }
    #: the view of the decoded image the extractor works on.
    image_mode = "gray"
    #: True when each image gives many descriptors (to encode), False for one vector.
    local = False

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
        cache = None if self.cache is None else DescriptorCache(self.cache, self)
        results = map_batches(_ExtractTask(self, cache), images, n_jobs=self.n_jobs,
                              verbose=self.verbose, desc=type(self).__name__)
        return self._combine(list(results))

    def extract_images(self, images: list) -> list:
        """Features of decoded images, one result per image (the engine's per-batch call).

        Parameters
        ----------
        images : list of ndarray
            uint8 images in :attr:`image_mode` (grey (H, W) or RGB (H, W, 3)).

        Returns
        -------
        list
            A one-image :class:`~imgrec_classic.descriptors.Descriptors` per image
            (local extractors) or a 1-D float32 vector (global ones).
        """
        context = self._context()
        return [self._extract_one(self.prepare(image), context) for image in images]

    def extract_image(self, image: np.ndarray):
        """:meth:`extract_images` of one decoded image."""
        return self.extract_images([image])[0]

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """A decoded image as this extractor sees it (resized to ``max_side``)."""
        return resize_max_side(image, self.max_side)

    def load(self, src) -> np.ndarray:
        """Decode and prepare one image as this extractor sees it."""
        return self.prepare(load_image(src, mode=self.image_mode))

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags


class _ExtractTask:
    """A worker's part of an extractor's ``transform``: decode and extract a batch."""

    def __init__(self, extractor, cache):
        self.extractor, self.cache = extractor, cache

    def __call__(self, sources, start):
        results = decode_and_extract([self.extractor], sources, [self.cache])
        return [r[0] for r in results]


class LocalExtractor(BaseExtractor):
    """Extractor giving many descriptors per image, gathered in a ``Descriptors``.

    ``_extract`` returns ``(positions_px, scales, values)`` for one image; this
    class normalises positions by the image size and makes each image's result a
    one-image :class:`~imgrec_classic.descriptors.Descriptors`.
    """

    local = True
    #: width of one descriptor; uint8 extractors give packed binary descriptors.
    n_dims: int = 0
    dtype = np.float32

    def _extract_one(self, image, context):
        positions, scales, values = self._extract(image, context)
        h, w = image.shape[:2]
        positions = np.asarray(positions, np.float32).reshape(-1, 2) / np.float32([w, h])
        values = np.asarray(values).astype(self.dtype, copy=False).reshape(-1, self.n_dims)
        return Descriptors(values, [0, len(values)], positions, np.asarray(scales, np.float32))

    def _combine(self, results):
        return Descriptors.concatenate(results)


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


def decode_and_extract(extractors: list, sources: list, caches: list | None = None) -> list:
    """Per source, the result of every extractor, each image decoded once.

    Parameters
    ----------
    extractors : list of fitted extractors
        Each declares ``image_mode`` ("rgb" or "gray") and ``extract_images(images)``.
    sources : list of image sources
    caches : list of (DescriptorCache or None), default=None
        One per extractor; a source every cached extractor has already seen is not
        decoded.

    Returns
    -------
    list of list
        ``results[i][b]``: extractor ``b``'s result on source ``i``.
    """
    caches = caches or [None] * len(extractors)
    results = [[None] * len(extractors) for _ in sources]
    keys = [[cache.path(src) if cache is not None else None for cache in caches]
            for src in sources]
    for i, row in enumerate(keys):
        for b, key in enumerate(row):
            if key is not None:
                results[i][b] = caches[b].get_at(key)
    todo = [i for i in range(len(sources)) if any(r is None for r in results[i])]
    modes = sorted({e.image_mode for e in extractors})
    views = [load_views(sources[i], modes) for i in todo]
    for b, extractor in enumerate(extractors):
        need = [k for k, i in enumerate(todo) if results[i][b] is None]
        if not need:
            continue
        out = extractor.extract_images([views[k][extractor.image_mode] for k in need])
        for k, result in zip(need, out, strict=True):
            i = todo[k]
            results[i][b] = result
            if keys[i][b] is not None:
                caches[b].put_at(keys[i][b], result)
    return results
