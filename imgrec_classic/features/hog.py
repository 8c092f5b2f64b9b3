"""Histograms of oriented gradients, computed by OpenCV's HOGDescriptor."""

from __future__ import annotations

from numbers import Integral

import cv2
import numpy as np

from ..utils._param_validation import Interval
from .base import GlobalExtractor

__all__ = ["HOG", "hog_image"]


class HOG(GlobalExtractor):
    """Histogram of oriented gradients (Dalal & Triggs, 2005).

    Computed with OpenCV's ``HOGDescriptor`` (several times faster than
    scikit-image), with parameters named as in :func:`skimage.feature.hog`.
    Every image is resized to ``image_shape`` first, so all vectors have the
    same length. Blocks step by one cell and are L2-Hys normalised; values
    are laid out as scikit-image's ``hog(..., feature_vector=True)``: block
    row, block column, cell row, cell column, orientation. OpenCV also weights
    each block with a Gaussian and interpolates trilinearly, so values differ
    from scikit-image's (correlation about 0.8).

    Parameters
    ----------
    orientations : int, default=9
        Orientation bins over 0-180 degrees (or 0-360 with ``signed_gradient``).
    pixels_per_cell : tuple of int, default=(8, 8)
        Cell size (rows, cols).
    cells_per_block : tuple of int, default=(2, 2)
        Block size in cells (rows, cols).
    image_shape : tuple of int, default=(64, 64)
        (height, width) every image is resized to; each must be a multiple of
        the cell size and at least one block.
    signed_gradient : bool, default=False
    transform_sqrt : bool, default=False
        Gamma (square-root) compression before computing gradients.
    max_side : int, default=None
        Ignored in practice (images are resized to ``image_shape``); kept so
        that every extractor shares one signature.
    n_jobs : int, default=None
    verbose : bool or int, default=False
    cache : str or path, default=None
        Folder of an on-disk cache of per-image results, keyed by the image's content
        and this extractor's parameters: a second run (say, with another encoder)
        reads them instead of extracting again. See :mod:`imgrec_classic.features.cache`.

    Attributes
    ----------
    n_features_out_ : int
        Length of each HOG vector.

    See Also
    --------
    hog_image : a picture of the cell histograms, for figures.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.features import HOG
    >>> rng = np.random.default_rng(0)
    >>> HOG().fit_transform(rng.integers(0, 256, (2, 40, 50), np.uint8)).shape
    (2, 1764)
    """

    _parameter_constraints = {
        **GlobalExtractor._parameter_constraints,
        "orientations": [Interval(Integral, 1, None, closed="left")],
        "pixels_per_cell": [tuple, list],
        "cells_per_block": [tuple, list],
        "image_shape": [tuple, list],
        "signed_gradient": ["boolean"],
        "transform_sqrt": ["boolean"],
    }

    def __init__(self, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2),
                 image_shape=(64, 64), signed_gradient=False, transform_sqrt=False,
                 max_side=None, n_jobs=None, verbose=False, cache=None):
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block
        self.image_shape = image_shape
        self.signed_gradient = signed_gradient
        self.transform_sqrt = transform_sqrt
        self.max_side = max_side
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.cache = cache

    def _check_params(self):
        pairs = {"pixels_per_cell": self.pixels_per_cell,
                 "cells_per_block": self.cells_per_block, "image_shape": self.image_shape}
        for name, pair in pairs.items():
            if len(pair) != 2 or not all(isinstance(v, Integral) and v >= 1 for v in pair):
                raise ValueError(f"{name} must be two positive ints, got {pair!r}")
        cells = [s // c for s, c in zip(self.image_shape, self.pixels_per_cell, strict=True)]
        if any(s % c for s, c in zip(self.image_shape, self.pixels_per_cell, strict=True)) or any(
                n < b for n, b in zip(cells, self.cells_per_block, strict=True)):
            raise ValueError(
                f"image_shape {tuple(self.image_shape)} must be a multiple of pixels_per_cell "
                f"{tuple(self.pixels_per_cell)} and hold at least one block")
        blocks = [n - b + 1 for n, b in zip(cells, self.cells_per_block, strict=True)]
        self.n_features_out_ = (blocks[0] * blocks[1] * self.cells_per_block[0]
                                * self.cells_per_block[1] * self.orientations)

    def _context(self):
        (ch, cw), (bh, bw) = self.pixels_per_cell, self.cells_per_block
        h, w = self.image_shape
        # OpenCV sizes are (width, height).
        return cv2.HOGDescriptor(
            _winSize=(w, h), _blockSize=(bw * cw, bh * ch), _blockStride=(cw, ch),
            _cellSize=(cw, ch), _nbins=int(self.orientations), _derivAperture=1,
            _winSigma=-1, _histogramNormType=0, _L2HysThreshold=0.2,
            _gammaCorrection=bool(self.transform_sqrt), _nlevels=64,
            _signedGradient=bool(self.signed_gradient))

    def prepare(self, image):
        """A decoded image resized to ``max_side``, then to ``image_shape``."""
        image = super().prepare(image)
        h, w = self.image_shape
        if image.shape[:2] != (h, w):
            interp = cv2.INTER_AREA if image.shape[0] * image.shape[1] > h * w else cv2.INTER_LINEAR
            image = cv2.resize(image, (w, h), interpolation=interp)
        return image

    def _extract(self, image, descriptor):
        # OpenCV walks blocks and cells column by column; reorder to scikit-image's
        # (block row, block col, cell row, cell col, orientation).
        (ch, cw), (bh, bw) = self.pixels_per_cell, self.cells_per_block
        h, w = self.image_shape
        shape = (w // cw - bw + 1, h // ch - bh + 1, bw, bh, self.orientations)
        return descriptor.compute(image).reshape(shape).transpose(1, 0, 3, 2, 4).ravel()

    def visualize(self, image) -> np.ndarray:
        """Picture of the HOG cells of one image, as :func:`hog_image` draws it."""
        return hog_image(self.load(image), self.orientations, self.pixels_per_cell,
                         self.cells_per_block)


def hog_image(image, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2)):
    """Draw the cell orientation histograms of a grayscale image as line glyphs.

    Uses :func:`skimage.feature.hog` with ``visualize=True``; the picture shows
    what :class:`HOG` measures with the same parameters.

    Parameters
    ----------
    image : ndarray of shape (H, W)
    orientations, pixels_per_cell, cells_per_block
        As in :class:`HOG`.

    Returns
    -------
    picture : ndarray of shape (H, W), float
        Brighter lines for stronger gradients; scale it for display.

    Examples
    --------
    >>> import numpy as np
    >>> hog_image(np.eye(32, dtype=np.uint8) * 255).shape
    (32, 32)
    """
    from skimage.feature import hog

    _, picture = hog(np.asarray(image), orientations=orientations,
                     pixels_per_cell=tuple(pixels_per_cell),
                     cells_per_block=tuple(cells_per_block), visualize=True)
    return picture
