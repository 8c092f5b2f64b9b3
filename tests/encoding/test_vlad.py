import numpy as np
import pytest

from imgrec_classic.encoding import VLAD
from imgrec_classic.utils.estimator_checks import image_estimator_checks

from .conftest import make_descriptors

CHECKS = list(image_estimator_checks(VLAD(n_words=3, random_state=0),
                                     make_descriptors(np.random.default_rng(0))))


@pytest.mark.parametrize("name, check", CHECKS, ids=[n for n, _ in CHECKS])
def test_estimator_checks(name, check):
    check()


def reference_vlad(x, centers, words, intra_norm, alpha):
    """Per-word loop, straight from Jegou et al. and Arandjelovic & Zisserman."""
    blocks = []
    for k, c in enumerate(centers):
        r = (x[words == k] - c).sum(axis=0)
        if intra_norm and np.linalg.norm(r) > 0:
            r = r / np.linalg.norm(r)
        blocks.append(r)
    v = np.concatenate(blocks)
    v = np.sign(v) * np.abs(v) ** alpha
    return v / np.linalg.norm(v)


@pytest.mark.parametrize("intra_norm, alpha", [(True, 0.5), (False, 1.0)])
def test_matches_reference(descriptors, intra_norm, alpha):
    vlad = VLAD(n_words=4, intra_norm=intra_norm, alpha=alpha, random_state=0)
    V = vlad.fit_transform(descriptors)
    assert V.shape == (6, 4 * 8) == (6, vlad.n_features_out_)
    centers = vlad.vocabulary_.cluster_centers_
    for i in (0, 2, 5):
        x = descriptors[i]
        expected = reference_vlad(x, centers, vlad.vocabulary_.predict(x), intra_norm, alpha)
        np.testing.assert_allclose(V[i], expected, rtol=1e-4, atol=1e-5)
    assert not V[1].any()


def test_pyramid_cells_are_each_normalised(descriptors):
    V = VLAD(n_words=3, pyramid=(1, 2), random_state=0).fit_transform(descriptors)
    assert V.shape == (6, 5 * 3 * 8)
    np.testing.assert_allclose(np.linalg.norm(V[0]), 1, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(V[0, :24]), 1 / np.sqrt(5), rtol=1e-5)
