import numpy as np
import pytest

from imgrec_classic.encoding import FisherVector
from imgrec_classic.utils.estimator_checks import image_estimator_checks

from .conftest import make_descriptors

CHECKS = list(image_estimator_checks(
    FisherVector(n_components=2, pca_components=4, max_iter=20, random_state=0),
    make_descriptors(np.random.default_rng(0))))


@pytest.mark.parametrize("name, check", CHECKS, ids=[n for n, _ in CHECKS])
def test_estimator_checks(name, check):
    check()


def reference_fisher(x, gmm):
    """Fisher vector by the textbook formulas (Sanchez et al., IJCV 2013), per component."""
    q = gmm.predict_proba(x)
    n = len(x)
    g_mu, g_sigma = [], []
    for k in range(gmm.n_components):
        w, mu, sigma = gmm.weights_[k], gmm.means_[k], np.sqrt(gmm.covariances_[k])
        z = (x - mu) / sigma
        g_mu.append((q[:, k:k + 1] * z).sum(0) / (n * np.sqrt(w)))
        g_sigma.append((q[:, k:k + 1] * (z ** 2 - 1)).sum(0) / (n * np.sqrt(2 * w)))
    return np.concatenate(g_mu + g_sigma)


def test_matches_textbook_formulas(descriptors):
    fv = FisherVector(n_components=3, pca_components=None, improved=False, random_state=0)
    F = fv.fit_transform(descriptors)
    assert F.shape == (6, 2 * 3 * 8) == (6, fv.n_features_out_)
    for i in (0, 3):
        np.testing.assert_allclose(F[i], reference_fisher(descriptors[i], fv.gmm_),
                                   rtol=2e-3, atol=2e-4)
    assert not F[1].any()


def test_improved_normalisation_and_pca(descriptors):
    fv = FisherVector(n_components=3, pca_components=5, pyramid=(1, 2), random_state=0)
    F = fv.fit_transform(descriptors)
    assert F.shape == (6, 5 * 2 * 3 * 5)
    np.testing.assert_allclose(np.linalg.norm(F[[0, 2]], axis=1), 1, rtol=1e-5)
    raw = FisherVector(n_components=3, pca_components=5, improved=False,
                       random_state=0).fit_transform(descriptors)
    ours = FisherVector(n_components=3, pca_components=5, random_state=0).fit_transform(
        descriptors)
    v = np.sign(raw[0]) * np.sqrt(np.abs(raw[0]))
    np.testing.assert_allclose(ours[0], v / np.linalg.norm(v), rtol=1e-4, atol=1e-6)


def test_too_many_pca_components(descriptors):
    with pytest.raises(ValueError, match="pca_components"):
        FisherVector(n_components=2, pca_components=50).fit(descriptors)


def test_spatial_augment_equals_fisher_of_augmented_descriptors(descriptors):
    from imgrec_classic import Descriptors

    fv = FisherVector(n_components=3, pca_components=None, spatial_augment=True, improved=False,
                      random_state=0)
    F = fv.fit_transform(descriptors)
    assert F.shape == (6, 2 * 3 * (8 + 2))
    augmented = Descriptors(np.hstack([descriptors.values, descriptors.positions - 0.5]),
                            descriptors.offsets, descriptors.positions)
    for i in (0, 3):
        np.testing.assert_allclose(F[i], reference_fisher(augmented[i], fv.gmm_),
                                   rtol=2e-3, atol=2e-4)
    assert fv.gmm_.means_.shape == (3, 10)


def test_dropping_negligible_posteriors_barely_changes_the_codes(descriptors):
    params = dict(n_components=6, pca_components=5, pyramid=(1, 2), random_state=0)
    exact = FisherVector(min_posterior=0, **params).fit(descriptors)
    sparse = FisherVector(min_posterior=1e-3, **params).fit(descriptors)
    a, b = exact.transform(descriptors), sparse.transform(descriptors)
    assert not np.array_equal(a, b)  # something was dropped
    # The signed square root magnifies the dropped terms (1e-5 becomes 3e-3).
    np.testing.assert_allclose(b, a, atol=1e-2)
    assert np.min(np.sum(a * b, axis=1)[[0, 2]]) > 0.999
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), np.linalg.norm(a, axis=1), rtol=1e-5)
