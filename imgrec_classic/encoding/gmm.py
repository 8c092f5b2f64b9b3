"""Diagonal Gaussian mixtures fitted by EM in float32, for Fisher vectors.

scikit-learn's ``GaussianMixture`` works in float64 and spends most of its time in
per-component loops; on the 100,000 x 80 samples of a Fisher-vector recipe its EM
takes about a minute for 256 Gaussians. The E-step here is one float32 matrix
product (as VLFeat's ``vl_gmm`` does in C), about ten times faster; the result is
returned as a fitted ``GaussianMixture``, so everything downstream (and the tests,
which compare against scikit-learn's own EM) uses scikit-learn's object.
"""

from __future__ import annotations

import cv2
import numpy as np
import scipy.sparse
from sklearn.mixture import GaussianMixture
from sklearn.utils import check_random_state
from tqdm.auto import tqdm

from .nearest import nearest_words
from .vocabulary import Vocabulary

__all__ = ["fit_diagonal_gmm", "gmm_log_posteriors", "gmm_posterior_entries",
           "gmm_sparse_posteriors", "moment_rows"]


def moment_rows(x: np.ndarray) -> np.ndarray:
    """Rows ``[1, x, x**2]`` (n, 1 + 2d) in float32.

    One product of these rows with a (1 + 2d)-row matrix gives every diagonal
    Gaussian's log-density (:func:`gmm_log_posteriors`), and one product of the
    posteriors with them every raw statistic of the mixture (counts, first and
    second moments), which EM and Fisher vectors both need.
    """
    ones = np.ones((len(x), 1), np.float32)
    return np.concatenate([ones, x, x * x], axis=1, dtype=np.float32)


def log_density_matrix(weights, means, variances) -> np.ndarray:
    """The (1 + 2d, k) float32 matrix ``[log_norm; mu / s2; -1 / (2 s2)]``.

    The product of :func:`moment_rows` with it is every diagonal Gaussian's
    log-density plus its log-weight.
    """
    precisions = 1 / variances
    log_norm = (np.log(weights) - 0.5 * (np.log(variances).sum(1) + (means ** 2 * precisions)
                                         .sum(1) + means.shape[1] * np.log(2 * np.pi)))
    product = np.vstack([log_norm[None], (means * precisions).T, -0.5 * precisions.T])
    return product.astype(np.float32)


def gmm_log_posteriors(moments: np.ndarray, weights, means, variances):
    """Posteriors ``q`` (n, k) of each component and the log-likelihood of each row (n,).

    ``moments`` are the rows ``[1, x, x**2]`` of :func:`moment_rows`. One float32
    product with :func:`log_density_matrix` gives every Gaussian log-density; the
    softmax runs in place.
    """
    log_p = moments @ log_density_matrix(weights, means, variances)
    top = log_p.max(axis=1, keepdims=True)
    log_p -= top
    # Terms below e**-80 vanish beside the top one (e**0) in float32. OpenCV's exp is
    # ~5x faster than numpy's float32 exp on CPUs without AVX-512, but slow on inputs
    # that underflow: hence the clamp.
    np.maximum(log_p, -80, out=log_p)
    q = cv2.exp(log_p, dst=log_p)
    total = q.sum(axis=1, keepdims=True)
    q /= total
    return q, (np.log(total) + top).ravel()


def gmm_sparse_posteriors(moments: np.ndarray, weights, means, variances,
                          min_posterior: float = 1e-4,
                          chunk: int = 1024) -> scipy.sparse.csr_array:
    """Posteriors (n, k) with the negligible ones dropped, as a sparse matrix.

    A component whose posterior is below ``min_posterior`` times the row's largest
    one is left out and the rest renormalised to sum to one, as VLFeat's Fisher
    encoder skips them: with 256 Gaussians about 4 hold 99 % of a descriptor's
    mass, so the statistics pooled from these posteriors become a sparse product
    30 times smaller, and the softmax exponentiates only the kept entries.

    Parameters
    ----------
    moments : ndarray of shape (n, 1 + 2d)
        Rows ``[1, x, x**2]`` of :func:`moment_rows`.
    weights, means, variances : ndarray
        The mixture's parameters, shapes (k,), (k, d), (k, d).
    min_posterior : float, default=1e-4
        Relative to each row's top posterior; 0 keeps every entry.
    chunk : int, default=1024
        Rows per block: the (k, chunk) log-densities stay in cache.

    Returns
    -------
    q : scipy.sparse.csr_array of shape (n, k), float32
        Rows sum to one.

    See Also
    --------
    gmm_posterior_entries : The same posteriors as (row, column, value) triplets.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [5.0]], np.float32)
    >>> q = gmm_sparse_posteriors(moment_rows(x), np.array([0.5, 0.5]),
    ...                           np.array([[0.0], [5.0]]), np.array([[1.0], [1.0]]))
    >>> q.toarray().round(3)
    array([[1., 0.],
           [0., 1.]], dtype=float32)
    """
    rows, columns, values = gmm_posterior_entries(moments, weights, means, variances,
                                                  min_posterior=min_posterior, chunk=chunk)
    return scipy.sparse.csr_array((values, (rows, columns)), shape=(len(moments), len(weights)))


def gmm_posterior_entries(moments: np.ndarray, weights, means, variances,
                          min_posterior: float = 1e-4,
                          chunk: int = 1024) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kept posteriors of :func:`gmm_sparse_posteriors` as triplets.

    Blocks of ``chunk`` rows come in order, and within a block the entries are
    grouped by component: that is the order in which they are found fastest (the
    log-densities are computed as (k, chunk) so that each row's maximum runs along
    contiguous memory), and a COO product over them keeps a block's rows in cache.

    Parameters
    ----------
    moments, weights, means, variances, min_posterior, chunk
        As in :func:`gmm_sparse_posteriors`.

    Returns
    -------
    rows, columns : ndarray of shape (n_kept,), int64
        Row (descriptor) and column (component) of each kept posterior.
    values : ndarray of shape (n_kept,), float32
        The posteriors; those of each row sum to one.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [5.0]], np.float32)
    >>> rows, columns, values = gmm_posterior_entries(
    ...     moment_rows(x), np.array([0.5, 0.5]), np.array([[0.0], [5.0]]),
    ...     np.array([[1.0], [1.0]]))
    >>> rows.tolist(), columns.tolist(), values.round(3).tolist()
    ([0, 1], [0, 1], [1.0, 1.0])
    """
    product = np.ascontiguousarray(log_density_matrix(weights, means, variances).T)
    floor = np.float32(np.log(min_posterior)) if min_posterior > 0 else -np.inf
    found = [_block_entries(product @ moments[start:start + chunk].T, floor, start)
             for start in range(0, len(moments), chunk)]
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    return tuple(np.concatenate(parts) for parts in zip(*found, strict=True))


def _block_entries(log_p: np.ndarray, floor, start: int):
    """Kept (row, column, value) of one (k, m) block of log-densities, in place."""
    top = log_p.max(axis=0)
    flat = np.flatnonzero(log_p >= top + floor)
    columns, rows = np.divmod(flat, log_p.shape[1])
    kept = np.exp(log_p.ravel()[flat] - top[rows])
    kept /= np.bincount(rows, weights=kept, minlength=log_p.shape[1])[rows]
    return rows + start, columns, kept


def fit_diagonal_gmm(x: np.ndarray, n_components: int, max_iter: int = 100, tol: float = 1e-3,
                     reg_covar: float = 1e-4, random_state=None,
                     verbose: bool = False) -> GaussianMixture:
    """Fit a diagonal GMM by EM in float32, initialised from mini-batch k-means.

    Parameters
    ----------
    x : ndarray of shape (n, d)
    n_components : int
    max_iter : int, default=100
    tol : float, default=1e-3
        Stop when the mean log-likelihood gains less than this (scikit-learn's rule).
    reg_covar : float, default=1e-4
        Added to every variance, as in scikit-learn.
    random_state : int, RandomState instance or None
    verbose : bool, default=False
        A progress bar over EM iterations (up to ``max_iter``; it stops early at
        convergence).

    Returns
    -------
    gmm : sklearn.mixture.GaussianMixture
        With ``weights_``, ``means_``, ``covariances_``, ``precisions_cholesky_``,
        ``converged_``, ``n_iter_`` and ``lower_bound_`` set, ready for
        ``predict_proba`` and ``score``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.concatenate([np.random.default_rng(0).normal(m, 1, (200, 2)) for m in (0, 8)])
    >>> gmm = fit_diagonal_gmm(x.astype(np.float32), 2, random_state=0)
    >>> np.sort(np.abs(gmm.means_[:, 0].round()))
    array([0., 8.])
    """
    x = np.asarray(x, np.float32)
    n, _ = x.shape
    if n < n_components:
        raise ValueError(f"n_components={n_components} exceeds the {n} samples")
    rng = check_random_state(random_state)
    centers = Vocabulary(n_components, random_state=rng).fit(x).cluster_centers_
    moments = moment_rows(x)
    q = np.zeros((n, n_components), np.float32)
    q[np.arange(n), nearest_words(x, centers)[0][:, 0]] = 1
    previous, converged, n_iter = -np.inf, False, 0
    with tqdm(total=max_iter, disable=not verbose, unit="iter",
              desc=f"Gaussian mixture: {n_components} components, {n:,} descriptors") as bar:
        while n_iter < max_iter:
            n_iter += 1
            weights, means, variances = _m_step(moments, q, reg_covar)
            q, log_likelihood = gmm_log_posteriors(moments, weights, means, variances)
            current = float(log_likelihood.mean())
            bar.update()
            if abs(current - previous) < tol:
                converged = True
                break
            previous = current
    weights, means, variances = _m_step(moments, q, reg_covar)
    return _as_sklearn(weights, means, variances, reg_covar, max_iter, tol, converged,
                       n_iter, current)


def _m_step(moments, q, reg_covar):
    sums = (q.T @ moments).astype(np.float64)
    counts = sums[:, 0] + 10 * np.finfo(np.float32).eps
    d = sums.shape[1] // 2
    means, second = sums[:, 1:1 + d] / counts[:, None], sums[:, 1 + d:] / counts[:, None]
    variances = np.maximum(second - means ** 2, 0) + reg_covar
    return counts / counts.sum(), means, variances


def _as_sklearn(weights, means, variances, reg_covar, max_iter, tol, converged, n_iter,
                lower_bound) -> GaussianMixture:
    gmm = GaussianMixture(len(weights), covariance_type="diag", reg_covar=reg_covar,
                          max_iter=max_iter, tol=tol)
    gmm.weights_ = weights.astype(np.float64)
    gmm.means_ = means.astype(np.float64)
    gmm.covariances_ = variances.astype(np.float64)
    gmm.precisions_ = 1 / gmm.covariances_
    gmm.precisions_cholesky_ = 1 / np.sqrt(gmm.covariances_)
    gmm.converged_, gmm.n_iter_, gmm.lower_bound_ = converged, n_iter, lower_bound
    gmm.n_features_in_ = means.shape[1]
    return gmm
