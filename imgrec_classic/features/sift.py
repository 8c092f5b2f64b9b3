"""Keypoint SIFT (OpenCV's detector and descriptor), and RootSIFT."""

from __future__ import annotations

from numbers import Integral, Real

import cv2
import numpy as np

from ..utils._param_validation import Interval
from .base import KeypointExtractor

__all__ = ["SIFT", "l2_clip_normalize", "root_sift"]


def _l2(values: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm, in place; rows of zeros stay zero."""
    norms = np.sqrt(np.einsum("ij,ij->i", values, values))
    values *= (1 / np.maximum(norms, np.float32(1e-12)))[:, None]
    return values


def l2_clip_normalize(values: np.ndarray, clip: float = 0.2, copy: bool = True,
                      weights: np.ndarray | None = None, root: bool = False,
                      out: np.ndarray | None = None) -> np.ndarray:
    """SIFT normalisation: L2 normalise, clip each value at ``clip``, L2 normalise again.

    Rows of zeros stay zero. ``weights`` (one per column) multiplies non-negative
    values first, e.g. a spatial window; ``root=True`` ends with RootSIFT (see
    :func:`root_sift`). The result goes to ``out`` when given, else to a copy,
    or with ``copy=False`` over a float32 input.
    """
    if out is None:
        out = values = np.array(values, np.float32, copy=copy or None)
    in_place = out is values
    # Blocks that stay in cache make the passes over the data much cheaper.
    for start in range(0, len(values), 1024):
        block = out[start:start + 1024]
        if weights is not None:
            np.multiply(values[start:start + 1024], weights, out=block)
        elif not in_place:
            block[...] = values[start:start + 1024]
        # Clipping at clip * norm, then normalising, equals normalising, clipping
        # at clip and normalising again, with one pass less.
        norms = np.sqrt(np.einsum("ij,ij->i", block, block))
        np.minimum(block, np.float32(clip) * norms[:, None], out=block)
        if root:  # RootSIFT starts with an L1 normalisation, blind to any prior scale
            _root(block)
        else:
            _l2(block)
    return out


def _root(values: np.ndarray) -> np.ndarray:
    """RootSIFT of non-negative rows, in place."""
    l1 = values.sum(axis=1, keepdims=True)
    values *= 1 / np.maximum(l1, np.float32(1e-12))
    return np.sqrt(values, out=values)


def root_sift(values: np.ndarray) -> np.ndarray:
    """RootSIFT (Arandjelovic & Zisserman, 2012): L1 normalise, then square root.

    Comparing RootSIFT vectors with the Euclidean distance equals comparing the
    original SIFT vectors with the Hellinger kernel. Output rows have unit L2 norm.
    """
    return _root(np.maximum(np.asarray(values, np.float32), 0))


class SIFT(KeypointExtractor):
    """SIFT keypoints and descriptors (Lowe, 2004), computed by OpenCV.

    Parameters
    ----------
    n_features : int, default=0
        Keep at most this many strongest keypoints per image; 0 keeps all.
    n_octave_layers : int, default=3
    contrast_threshold : float, default=0.04
    edge_threshold : float, default=10
    sigma : float, default=1.6
    root : bool, default=False
        Return RootSIFT (Arandjelovic & Zisserman, 2012) instead of SIFT.
    max_side : int, default=None
        Shrink images whose longer side exceeds this before extraction.
    n_jobs : int, default=None
        Images processed in parallel through joblib; -1 uses all cores.
    verbose : bool or int, default=False
        Show a progress bar.
    cache : str or path, default=None
        Folder of an on-disk cache of per-image results, keyed by the image's content
        and this extractor's parameters: a second run (say, with another encoder)
        reads them instead of extracting again. See :mod:`imgrec_classic.features.cache`.

    Attributes
    ----------
    fitted_ : bool
        Set by ``fit``; the extractor learns nothing from the data.

    See Also
    --------
    DenseSIFT : SIFT on a regular grid, the workhorse of classification.

    Notes
    -----
    Descriptors are float32 with unit L2 norm (OpenCV's own are scaled to
    0-255); ``scales`` holds ``KeyPoint.size``, a diameter in pixels. An
    image without keypoints gives an empty block.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.features import SIFT
    >>> rng = np.random.default_rng(0)
    >>> images = [rng.integers(0, 256, (64, 64), dtype=np.uint8) for _ in range(2)]
    >>> d = SIFT().fit_transform(images)
    >>> len(d), d.n_dims
    (2, 128)
    """

    _parameter_constraints = {
        **KeypointExtractor._parameter_constraints,
        "n_features": [Interval(Integral, 0, None, closed="left")],
        "n_octave_layers": [Interval(Integral, 1, None, closed="left")],
        "contrast_threshold": [Interval(Real, 0, None, closed="left")],
        "edge_threshold": [Interval(Real, 0, None, closed="left")],
        "sigma": [Interval(Real, 0, None, closed="neither")],
        "root": ["boolean"],
    }
    n_dims = 128

    def __init__(self, n_features=0, n_octave_layers=3, contrast_threshold=0.04,
                 edge_threshold=10, sigma=1.6, root=False, max_side=None,
                 n_jobs=None, verbose=False, cache=None):
        self.n_features = n_features
        self.n_octave_layers = n_octave_layers
        self.contrast_threshold = contrast_threshold
        self.edge_threshold = edge_threshold
        self.sigma = sigma
        self.root = root
        self.max_side = max_side
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.cache = cache

    def _context(self):
        return cv2.SIFT_create(int(self.n_features), int(self.n_octave_layers),
                               float(self.contrast_threshold), float(self.edge_threshold),
                               float(self.sigma))

    def _finish(self, values):
        values = values.astype(np.float32)
        return root_sift(values) if self.root else _l2(values)
