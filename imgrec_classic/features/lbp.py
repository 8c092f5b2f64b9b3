"""Local binary patterns: histograms of uniform patterns over a grid of cells."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from skimage.feature import local_binary_pattern

from ..utils._param_validation import Interval, StrOptions
from ._cells import cell_histograms, check_grid
from .base import GlobalExtractor

__all__ = ["LBP"]


def _n_patterns(n_points: int, method: str) -> int:
    return {"uniform": n_points + 2, "nri_uniform": n_points * (n_points - 1) + 3,
            "default": 2 ** n_points, "ror": 2 ** n_points}[method]


class LBP(GlobalExtractor):
    """Local binary pattern histograms (Ojala et al., 2002) on a grid of cells.

    Codes are computed by :func:`skimage.feature.local_binary_pattern`; one
    L1-normalised histogram per cell, concatenated in row-major order.

    Parameters
    ----------
    n_points : int, default=8
        Circularly symmetric neighbours.
    radius : float, default=1
    method : {"uniform", "nri_uniform", "default", "ror"}, default="uniform"
        ``"uniform"`` gives ``n_points + 2`` rotation-invariant bins.
    grid : tuple of int, default=(4, 4)
        Cells along y and x.
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
        ``grid[0] * grid[1] * n_patterns``.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.features import LBP
    >>> rng = np.random.default_rng(0)
    >>> LBP().fit_transform(rng.integers(0, 256, (2, 32, 32), np.uint8)).shape
    (2, 160)
    """

    _parameter_constraints = {
        **GlobalExtractor._parameter_constraints,
        "n_points": [Interval(Integral, 1, 24, closed="both")],
        "radius": [Interval(Real, 0, None, closed="neither")],
        "method": [StrOptions({"uniform", "nri_uniform", "default", "ror"})],
        "grid": [tuple, list],
    }

    def __init__(self, n_points=8, radius=1, method="uniform", grid=(4, 4), max_side=None,
                 n_jobs=None, verbose=False, cache=None):
        self.n_points = n_points
        self.radius = radius
        self.method = method
        self.grid = grid
        self.max_side = max_side
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.cache = cache

    def _check_params(self):
        check_grid(self.grid)
        self.n_features_out_ = (self.grid[0] * self.grid[1]
                                * _n_patterns(self.n_points, self.method))

    def _extract(self, image, context):
        codes = local_binary_pattern(image, self.n_points, self.radius, self.method)
        return cell_histograms(codes.astype(np.int64), _n_patterns(self.n_points, self.method),
                               self.grid)

