import numpy as np
from sklearn.utils.estimator_checks import parametrize_with_checks

from imgrec_classic.encoding import Hellinger, PowerNormalizer


@parametrize_with_checks([PowerNormalizer(), PowerNormalizer(alpha=1.0, norm=None), Hellinger()])
def test_scikit_learn_compatible(estimator, check):
    check(estimator)


def test_power_normalizer_values(rng):
    X = rng.normal(size=(5, 7))
    out = PowerNormalizer(alpha=0.5).fit_transform(X)
    expected = np.sign(X) * np.sqrt(np.abs(X))
    np.testing.assert_allclose(out, expected / np.linalg.norm(expected, axis=1, keepdims=True))
    l1 = PowerNormalizer(alpha=1.0, norm="l1").fit_transform(X)
    np.testing.assert_allclose(np.abs(l1).sum(1), 1)
    assert not PowerNormalizer().fit_transform(np.zeros((2, 3))).any()


def test_hellinger_is_the_bhattacharyya_map(rng):
    X = rng.random((4, 6))
    H = Hellinger().fit_transform(X)
    P = X / X.sum(1, keepdims=True)
    np.testing.assert_allclose(H @ H.T, np.sqrt(P[:, None] * P[None]).sum(-1))
