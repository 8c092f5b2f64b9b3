"""ORB: oriented FAST keypoints with rotated BRIEF binary descriptors (OpenCV)."""

from __future__ import annotations

from numbers import Integral, Real

import cv2
import numpy as np

from ..utils._param_validation import Interval, StrOptions
from .base import KeypointExtractor

__all__ = ["ORB"]

_SCORES = {"harris": cv2.ORB_HARRIS_SCORE, "fast": cv2.ORB_FAST_SCORE}


class ORB(KeypointExtractor):
    """ORB keypoints and 256-bit binary descriptors (Rublee et al., 2011).

    Parameters
    ----------
    n_features : int, default=500
        Maximum number of keypoints per image.
    scale_factor : float, default=1.2
        Ratio between pyramid levels.
    n_levels : int, default=8
        Number of pyramid levels.
    edge_threshold : int, default=31
        Border in pixels where no keypoint is detected; images smaller than
        about twice this give few or no keypoints.
    fast_threshold : int, default=20
    score_type : {"harris", "fast"}, default="harris"
    max_side : int, default=None
        Shrink images whose longer side exceeds this before extraction.
    n_jobs : int, default=None
    verbose : bool or int, default=False
    cache : str or path, default=None
        Folder of an on-disk cache of per-image results, keyed by the image's content
        and this extractor's parameters: a second run (say, with another encoder)
        reads them instead of extracting again. See :mod:`imgrec_classic.features.cache`.

    Attributes
    ----------
    fitted_ : bool

    See Also
    --------
    AKAZE : binary descriptors with a nonlinear scale space.

    Notes
    -----
    Descriptors are uint8 arrays of 32 bytes, eight bits packed per byte;
    compare them with the Hamming distance.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.features import ORB
    >>> rng = np.random.default_rng(0)
    >>> d = ORB(n_features=50).fit_transform([rng.integers(0, 256, (128, 128), np.uint8)])
    >>> d.values.dtype, d.n_dims
    (dtype('uint8'), 32)
    """

    _parameter_constraints = {
        **KeypointExtractor._parameter_constraints,
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "scale_factor": [Interval(Real, 1, None, closed="neither")],
        "n_levels": [Interval(Integral, 1, None, closed="left")],
        "edge_threshold": [Interval(Integral, 0, None, closed="left")],
        "fast_threshold": [Interval(Integral, 0, None, closed="left")],
        "score_type": [StrOptions(set(_SCORES))],
    }
    n_dims = 32
    dtype = np.uint8

    def __init__(self, n_features=500, scale_factor=1.2, n_levels=8, edge_threshold=31,
                 fast_threshold=20, score_type="harris", max_side=None,
                 n_jobs=None, verbose=False, cache=None):
        self.n_features = n_features
        self.scale_factor = scale_factor
        self.n_levels = n_levels
        self.edge_threshold = edge_threshold
        self.fast_threshold = fast_threshold
        self.score_type = score_type
        self.max_side = max_side
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.cache = cache

    def _min_side(self):
        # Keypoints keep edge_threshold pixels from every border.
        return 2 * int(self.edge_threshold) + 1

    def _context(self):
        return cv2.ORB_create(
            nfeatures=int(self.n_features), scaleFactor=float(self.scale_factor),
            nlevels=int(self.n_levels), edgeThreshold=int(self.edge_threshold),
            scoreType=_SCORES[self.score_type],
            fastThreshold=int(self.fast_threshold))
