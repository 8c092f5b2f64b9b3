"""Colour histograms in HSV space, over the whole image or a grid of cells."""

from __future__ import annotations

from numbers import Integral

import cv2
import numpy as np

from ._cells import cell_histograms, check_grid
from .base import GlobalExtractor

__all__ = ["ColorHistogram"]


class ColorHistogram(GlobalExtractor):
    """Joint hue-saturation-value histograms.

    Each pixel is quantised into one of ``h_bins * s_bins * v_bins`` joint bins
    (OpenCV's HSV: hue in [0, 180), saturation and value in [0, 256)); one
    L1-normalised histogram per grid cell.

    Parameters
    ----------
    bins : tuple of int, default=(8, 4, 4)
        Bins for hue, saturation and value.
    grid : tuple of int, default=(1, 1)
        Cells along y and x; ``(1, 1)`` is one global histogram.
    max_side : int, default=None
    n_jobs : int, default=None
    verbose : bool or int, default=False
    cache : str or path, default=None
        Folder of an on-disk cache of per-image results, keyed by the image's content
        and this extractor's parameters: a second run (say, with another encoder)
        reads them instead of extracting again. See :mod:`imgrec_classic.features.cache`.

    Attributes
    ----------
    n_features_out_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.features import ColorHistogram
    >>> rng = np.random.default_rng(0)
    >>> X = ColorHistogram().fit_transform(rng.integers(0, 256, (2, 16, 16, 3), np.uint8))
    >>> X.shape, float(X[0].sum())
    ((2, 128), 1.0)
    """

    _parameter_constraints = {
        **GlobalExtractor._parameter_constraints,
        "bins": [tuple, list],
        "grid": [tuple, list],
    }
    image_mode = "rgb"

    def __init__(self, bins=(8, 4, 4), grid=(1, 1), max_side=None, n_jobs=None, verbose=False,
                 cache=None):
        self.bins = bins
        self.grid = grid
        self.max_side = max_side
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.cache = cache

    def _check_params(self):
        check_grid(self.grid)
        if len(self.bins) != 3 or not all(isinstance(b, Integral) and 1 <= b <= 256
                                           for b in self.bins):
            raise ValueError(f"bins must be three ints in [1, 256], got {self.bins!r}")
        self.n_features_out_ = self.grid[0] * self.grid[1] * int(np.prod(self.bins))

    def _context(self):
        # Each channel's value -> its share of the joint bin: three lookups and two
        # additions per pixel instead of integer divisions.
        h_bins, s_bins, v_bins = self.bins
        values = np.arange(256)
        return [(np.minimum(values * h_bins // 180, h_bins - 1) * s_bins * v_bins
                 ).astype(np.int32),
                (values * s_bins // 256 * v_bins).astype(np.int32),
                (values * v_bins // 256).astype(np.int32)]

    def _extract(self, image, luts):
        hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV)
        codes = luts[0][hsv[..., 0]]
        codes += luts[1][hsv[..., 1]]
        codes += luts[2][hsv[..., 2]]
        return cell_histograms(codes, int(np.prod(self.bins)), self.grid)
