"""The float32 EM against scikit-learn's GaussianMixture (the reference)."""

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from imgrec_classic.encoding.gmm import (
    fit_diagonal_gmm,
    gmm_log_posteriors,
    gmm_posterior_entries,
    gmm_sparse_posteriors,
    moment_rows,
)


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 6, (5, 4))
    scales = rng.uniform(0.5, 2, (5, 4))
    x = np.concatenate([rng.normal(c, s, (400, 4)) for c, s in zip(centers, scales, strict=True)])
    return x.astype(np.float32), centers


def test_matches_sklearn_em(blobs):
    x, centers = blobs
    ours = fit_diagonal_gmm(x, 5, random_state=0)
    ref = GaussianMixture(5, covariance_type="diag", reg_covar=1e-4, random_state=0).fit(x)
    assert ours.converged_
    assert ours.score(x) == pytest.approx(ref.score(x), abs=1e-3)
    order_ours = np.lexsort(ours.means_.T[::-1])
    order_ref = np.lexsort(ref.means_.T[::-1])
    np.testing.assert_allclose(ours.means_[order_ours], ref.means_[order_ref], atol=0.05)
    np.testing.assert_allclose(ours.covariances_[order_ours], ref.covariances_[order_ref],
                               rtol=0.05)
    np.testing.assert_allclose(ours.weights_[order_ours], ref.weights_[order_ref], atol=0.01)


def test_posteriors_equal_sklearn_predict_proba(blobs):
    x, _ = blobs
    gmm = fit_diagonal_gmm(x, 5, random_state=0)
    q, log_likelihood = gmm_log_posteriors(moment_rows(x), gmm.weights_, gmm.means_,
                                           gmm.covariances_)
    np.testing.assert_allclose(q, gmm.predict_proba(x), atol=2e-4)
    np.testing.assert_allclose(log_likelihood, gmm.score_samples(x), rtol=1e-4, atol=1e-3)


def test_too_few_samples():
    with pytest.raises(ValueError, match="n_components"):
        fit_diagonal_gmm(np.zeros((3, 2), np.float32), 5)


def test_posteriors_of_far_points_stay_finite_and_exact(blobs):
    # Far from every component, almost every density underflows float32: the
    # posteriors must still be those of scikit-learn (float64), one-hot here.
    x, _ = blobs
    gmm = fit_diagonal_gmm(x, 5, random_state=0)
    far = (x[:20] * 50).astype(np.float32)
    q, log_likelihood = gmm_log_posteriors(moment_rows(far), gmm.weights_, gmm.means_,
                                           gmm.covariances_)
    assert np.isfinite(q).all() and np.isfinite(log_likelihood).all()
    np.testing.assert_allclose(q.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_allclose(q, gmm.predict_proba(far), atol=2e-4)
    np.testing.assert_allclose(log_likelihood, gmm.score_samples(far), rtol=1e-4)


def test_moment_rows():
    x = np.array([[1, 2], [3, -4]], np.float32)
    np.testing.assert_array_equal(moment_rows(x), [[1, 1, 2, 1, 4], [1, 3, -4, 9, 16]])


@pytest.mark.parametrize("chunk", [7, 1024])
def test_sparse_posteriors_keep_the_large_ones_renormalised(blobs, chunk):
    x, _ = blobs
    # Overlapping components, so that rows hold several non-negligible posteriors.
    gmm = fit_diagonal_gmm(x, 12, random_state=0)
    parts = gmm.weights_, gmm.means_, gmm.covariances_
    dense = gmm.predict_proba(x)
    q = gmm_sparse_posteriors(moment_rows(x), *parts, min_posterior=1e-3, chunk=chunk)
    assert q.shape == dense.shape and q.dtype == np.float32
    kept = dense >= 1e-3 * dense.max(axis=1, keepdims=True)
    q = q.toarray()
    np.testing.assert_array_equal(q > 0, kept)
    assert 1 < kept.sum(axis=1).max() < 12
    np.testing.assert_allclose(q.sum(axis=1), 1, rtol=1e-5)
    expected = np.where(kept, dense, 0)
    np.testing.assert_allclose(q, expected / expected.sum(axis=1, keepdims=True), atol=2e-4)
    everything = gmm_sparse_posteriors(moment_rows(x), *parts, min_posterior=0, chunk=chunk)
    np.testing.assert_allclose(everything.toarray(), dense, atol=2e-4)


def test_posterior_entries_are_the_sparse_posteriors_block_by_block(blobs):
    x, _ = blobs
    gmm = fit_diagonal_gmm(x, 12, random_state=0)
    parts = gmm.weights_, gmm.means_, gmm.covariances_
    moments = moment_rows(x)
    rows, columns, values = gmm_posterior_entries(moments, *parts, min_posterior=1e-3, chunk=64)
    assert rows.dtype == columns.dtype == np.int64 and values.dtype == np.float32
    # Blocks of 64 rows in order; within a block, grouped by component.
    block = rows // 64
    assert np.all(np.diff(block) >= 0)
    assert all(np.all(np.diff(columns[block == b]) >= 0) for b in np.unique(block))
    q = np.zeros((len(x), 12), np.float32)
    q[rows, columns] = values
    dense = gmm.predict_proba(x)
    kept = dense >= 1e-3 * dense.max(axis=1, keepdims=True)
    np.testing.assert_array_equal(q > 0, kept)
    expected = np.where(kept, dense, 0)
    np.testing.assert_allclose(q, expected / expected.sum(axis=1, keepdims=True), atol=2e-4)
    np.testing.assert_allclose(np.bincount(rows, weights=values), 1, rtol=1e-5)


def test_posterior_entries_of_no_rows():
    parts = np.array([1.0]), np.zeros((1, 2)), np.ones((1, 2))
    rows, columns, values = gmm_posterior_entries(np.zeros((0, 5), np.float32), *parts)
    assert rows.shape == columns.shape == values.shape == (0,)
