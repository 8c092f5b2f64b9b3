"""Local colour statistics: RGB mean and standard deviation in 4x4 cells of dense patches."""

from __future__ import annotations

from numbers import Integral

import cv2
import numpy as np

from ..utils._param_validation import Interval
from .base import LocalExtractor
from .dense_sift import N_BINS, _grid_view, check_sizes, dense_grid

__all__ = ["LocalColorStatistics", "local_color_statistics"]

N_STATS = 6  # mean and standard deviation of R, G and B


def local_color_statistics(image: np.ndarray, step: int = 4, sizes=(8,)):
    """Local colour statistics (LCS) of one RGB image on a dense grid.

    Each patch of ``4 x size`` pixels is split into 4 x 4 cells; a cell gives the
    mean and the standard deviation of each RGB channel (values in [0, 1]), so a
    descriptor has 96 values, ordered (cell row, cell column, [mean R, G, B, std
    R, G, B]). Cell sums come from one box filter per size over the six planes
    ``[R, G, B, R^2, G^2, B^2]``, read off at every cell centre by strided slicing.
    The grid is :func:`~imgrec_classic.features.dense_sift.dense_grid`'s, so
    descriptors share their centres with dense SIFT of the same step and sizes.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3)
        RGB, uint8 (0-255) or float (0-1).
    step : int, default=4
    sizes : sequence of int, default=(8,)
        Cell sizes in pixels.

    Returns
    -------
    positions : ndarray of shape (n, 2), float32
        Patch centres (x, y) in pixels.
    scales : ndarray of shape (n,), float32
    descriptors : ndarray of shape (n, 96), float32

    References
    ----------
    S. Clinchant, G. Csurka, F. Perronnin and J.-M. Renders, "XRCE's participation
    to ImageEval", 2007; J. Sanchez et al., "Image classification with the Fisher
    vector: theory and practice", IJCV 2013.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.full((48, 48, 3), (255, 0, 0), np.uint8)
    >>> positions, scales, desc = local_color_statistics(image, step=8, sizes=(4,))
    >>> desc.shape, desc[0, :6].tolist()
    ((25, 96), [1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"local_color_statistics needs an RGB image, got shape {image.shape}")
    scale = np.float32(1 / 255 if image.dtype == np.uint8 else 1.0)
    rgb = image.astype(np.float32) * scale
    planes = cv2.merge([*cv2.split(rgb), *cv2.split(rgb * rgb)])
    sizes = [int(s) for s in sizes]
    xs, ys = dense_grid(image.shape[:2], step, max(sizes))
    n_dims = N_BINS * N_BINS * N_STATS
    if xs.size == 0 or ys.size == 0:
        return np.zeros((0, 2), np.float32), np.zeros(0, np.float32), np.zeros((0, n_dims),
                                                                              np.float32)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    parts = []
    for size in sizes:
        means = cv2.boxFilter(planes, cv2.CV_32F, (size, size), borderType=cv2.BORDER_REFLECT)
        x0, y0 = int(np.floor(xs[0] - 1.5 * size)), int(np.floor(ys[0] - 1.5 * size))
        cells = _grid_view(means, size, step, x0, y0, (ys.size, xs.size)).reshape(
            -1, N_BINS * N_BINS, N_STATS)
        out = np.empty_like(cells)
        out[..., :3] = cells[..., :3]
        np.sqrt(np.maximum(cells[..., 3:] - cells[..., :3] ** 2, 0), out=out[..., 3:])
        parts.append(out.reshape(-1, n_dims))
    positions = np.tile(grid, (len(sizes), 1))
    scales = np.repeat(np.float32(sizes), len(grid))
    return positions, scales, np.concatenate(parts)


class LocalColorStatistics(LocalExtractor):
    """Dense local colour statistics: RGB mean and standard deviation in 4x4 cells.

    The colour counterpart of :class:`~imgrec_classic.features.DenseSIFT` (same
    grid, same sizes), for Fisher vectors of colour as in Perronnin and Sanchez's
    recipes, where SIFT and colour Fisher vectors are combined.
    See :func:`local_color_statistics`.

    Parameters
    ----------
    step : int, default=4
    sizes : tuple of int, default=(4, 6, 8, 10)
    max_side : int, default=None
    n_jobs : int, default=None
    verbose : bool or int, default=False
    cache : str or path, default=None

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.features import LocalColorStatistics
    >>> rng = np.random.default_rng(0)
    >>> images = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(2)]
    >>> d = LocalColorStatistics(step=8, sizes=(4, 8)).fit_transform(images)
    >>> len(d), d.n_dims
    (2, 96)
    """

    _parameter_constraints = {
        **LocalExtractor._parameter_constraints,
        "step": [Interval(Integral, 1, None, closed="left")],
        "sizes": [tuple, list],
    }
    image_mode = "rgb"
    n_dims = N_BINS * N_BINS * N_STATS

    def __init__(self, step=4, sizes=(4, 6, 8, 10), max_side=None, n_jobs=None,
                 verbose=False, cache=None):
        self.step = step
        self.sizes = sizes
        self.max_side = max_side
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.cache = cache

    def _check_params(self):
        check_sizes(self.sizes)

    def _extract(self, image, context):
        return local_color_statistics(image, self.step, self.sizes)
