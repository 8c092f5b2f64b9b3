"""Fisher vectors: gradients of a diagonal Gaussian mixture's log-likelihood."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse

from ..utils._param_validation import Interval
from ..utils.parallel import thread_map
from .base import BaseEncoder, l2_normalize, power_normalize
from .gmm import (
    fit_diagonal_gmm,
    gmm_log_posteriors,
    gmm_posterior_entries,
    gmm_sparse_posteriors,
    moment_rows,
)

__all__ = ["FisherVector"]


class FisherVector(BaseEncoder):
    """Improved Fisher vectors (Perronnin et al., 2010), pooled over a spatial pyramid.

    Descriptors are optionally reduced by PCA, a Gaussian mixture with diagonal
    covariances is fitted to a sample, and each cell of each image is described
    by the normalised gradients of the log-likelihood with respect to the means
    and standard deviations (``2 * n_components * n_dims`` values), followed by
    signed square root and L2 normalisation (``improved=True``).

    Parameters
    ----------
    n_components : int, default=64
        Gaussians in the mixture.
    pca_components : int or None, default=64
        Reduce descriptors to this many dimensions first (decorrelating them, as
        a diagonal GMM assumes); None keeps them whole.
    improved : bool, default=True
        Signed square root and L2 normalisation of each cell's vector.
    spatial_augment : bool, default=False
        Append each descriptor's position (x and y, centred on 0) to it after PCA,
        so the mixture models where things are (Sanchez et al., 2012): a spatial
        layout without the cost of a pyramid.
    pyramid : tuple of int, default=(1,)
    max_iter : int, default=100
        EM iterations of the mixture.
    reg_covar : float, default=1e-4
        Added to every variance of the mixture.
    min_posterior : float, default=1e-4
        Posteriors below this fraction of a descriptor's largest one are dropped
        (and the rest renormalised) before the statistics are pooled, as VLFeat's
        encoder does: with 256 Gaussians about 4 hold 99 % of the mass, so the
        pooled product becomes a sparse one, several times faster, and codes change
        by about 1e-4 of their scale. 0 keeps every posterior (exact).
    max_descriptors : int, default=100_000
    max_images : int, default=500
        Images sampled to learn the model from (descriptors are drawn from them).
    random_state : int, RandomState instance or None, default=None
    n_jobs : int, default=None
    verbose : bool or int, default=False

    Attributes
    ----------
    pca_ : PCA or None
    gmm_ : GaussianMixture
    n_features_out_ : int

    References
    ----------
    J. Sanchez, F. Perronnin and T. de Campos, "Modeling the spatial layout of
    images beyond spatial pyramids", Pattern Recognition Letters, 2012.
    F. Perronnin, J. Sanchez and T. Mensink, "Improving the Fisher kernel for
    large-scale image classification", ECCV 2010. K. Chatfield et al., "The devil
    is in the details", BMVC 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic import Descriptors
    >>> from imgrec_classic.encoding import FisherVector
    >>> rng = np.random.default_rng(0)
    >>> X = Descriptors.from_list([rng.random((60, 8)) for _ in range(3)])
    >>> fv = FisherVector(n_components=4, pca_components=None, random_state=0)
    >>> fv.fit_transform(X).shape
    (3, 64)
    """

    _parameter_constraints = {
        **BaseEncoder._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "improved": ["boolean"],
        "spatial_augment": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "reg_covar": [Interval(Real, 0, None, closed="left")],
        "min_posterior": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, n_components=64, pca_components=64, improved=True,
                 spatial_augment=False, pyramid=(1,), max_iter=100, reg_covar=1e-4,
                 min_posterior=1e-4, max_descriptors=100_000, max_images=500,
                 random_state=None, n_jobs=None, verbose=False):
        self.n_components = n_components
        self.pca_components = pca_components
        self.improved = improved
        self.spatial_augment = spatial_augment
        self.pyramid = pyramid
        self.max_iter = max_iter
        self.reg_covar = reg_covar
        self.min_posterior = min_posterior
        self.max_descriptors = max_descriptors
        self.max_images = max_images
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _features(self, values, positions):
        values = self._project(values)
        if not self.spatial_augment:
            return values
        return np.hstack([values, positions - np.float32(0.5)])

    def _fit_model(self, sample, X):
        self.gmm_ = fit_diagonal_gmm(sample, self.n_components, max_iter=self.max_iter,
                                     reg_covar=self.reg_covar, random_state=self.random_state,
                                     verbose=self.verbose)
        self._means = self.gmm_.means_.astype(np.float32)
        self._precisions = (1 / self.gmm_.covariances_).astype(np.float32)

    def _cell_size(self):
        return 2 * self.n_components * self._means.shape[1]

    def _prepare(self, values):
        # Rows [1, x, x^2]: one product per cell then gives every raw statistic at once.
        stats = moment_rows(values)
        parts = self.gmm_.weights_, self.gmm_.means_, self.gmm_.covariances_
        if self.min_posterior > 0:  # sparse (n, k): the pooled product skips the zeros
            return stats, gmm_sparse_posteriors(stats, *parts, min_posterior=self.min_posterior)
        return stats, gmm_log_posteriors(stats, *parts)[0]

    def _encode_values(self, values, positions):
        # The fast path: moments written in one buffer, sparse posteriors, and every
        # finest cell's statistics from one sparse product with the cell folded into
        # the row index (no sort of the descriptors by cell).
        fine = self._finest_cells(positions)
        if fine is None or self.min_posterior == 0:
            return super()._encode_values(values, positions)
        # The raw statistics are sums over descriptors: halves of an image pool on
        # OpenCV's threads (a served request's latency) and add up.
        half = len(values) // 2 if len(values) >= 2048 else 0
        parts = [slice(0, half), slice(half, None)] if half else [slice(None)]
        pooled = sum(thread_map(lambda rows: self._pool_fine(values[rows], positions[rows],
                                                             fine[rows]), parts))
        return self._normalize_cells(self._sum_levels(pooled))

    def _pool_fine(self, values, positions, fine):
        """Raw statistics of every finest cell, (n_fine, k * (1 + 2d))."""
        moments = self._moments(values, positions)
        rows, gauss, q = gmm_posterior_entries(moments, self.gmm_.weights_, self.gmm_.means_,
                                               self.gmm_.covariances_,
                                               min_posterior=self.min_posterior)
        k, n_fine = self.n_components, max(self.pyramid_) ** 2
        # COO in the entries' own order: sorting them for CSR would cost more than it saves.
        by_cell = scipy.sparse.coo_array((q, (fine[rows] * k + gauss, rows)),
                                         shape=(n_fine * k, len(values)))
        return (by_cell @ moments).reshape(n_fine, -1)

    def _moments(self, values, positions):
        """:func:`moment_rows` of :meth:`_features`, built in place in one buffer."""
        d_pca = self.pca_.n_components_ if self.pca_ is not None else values.shape[1]
        d = d_pca + 2 * self.spatial_augment
        moments = np.empty((len(values), 1 + 2 * d), np.float32)
        moments[:, 0] = 1
        x = moments[:, 1:1 + d]
        self._project(values, out=x[:, :d_pca])
        if self.spatial_augment:
            np.subtract(positions, np.float32(0.5), out=x[:, d_pca:])
        np.multiply(x, x, out=moments[:, 1 + d:])
        return moments

    def _pool(self, state, rows):
        # Raw statistics [sum q | sum q x | sum q x^2]: additive, so coarse pyramid
        # cells are sums of fine ones; the gradients come in _normalize_cells.
        stats, q = state
        return (q[rows].T @ stats[rows]).ravel()

    def _normalize_cells(self, cells):
        k, d = self._means.shape
        stats = cells.reshape(len(cells), k, 1 + 2 * d)
        s0, s1, s2 = stats[:, :, :1], stats[:, :, 1:1 + d], stats[:, :, 1 + d:]
        # The posteriors of each descriptor sum to one: sum of s0 is the cell's count.
        n = np.maximum(s0.sum(axis=(1, 2)), 1)[:, None, None]
        mu, sigma = self._means, 1 / np.sqrt(self._precisions)
        w = self.gmm_.weights_[:, None].astype(np.float32)
        g_mu = (s1 - s0 * mu) / (sigma * n * np.sqrt(w))
        g_sigma = ((s2 - 2 * mu * s1 + (mu ** 2 - sigma ** 2) * s0)
                   / (sigma ** 2 * n * np.sqrt(2 * w)))
        cells = np.concatenate([g_mu.reshape(len(cells), -1), g_sigma.reshape(len(cells), -1)], 1)
        if self.improved:
            cells = l2_normalize(power_normalize(cells))
        return (cells / np.sqrt(len(cells))).ravel()
