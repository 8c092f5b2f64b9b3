import numpy as np
import pytest
from sklearn.metrics.pairwise import chi2_kernel
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from imgrec_classic.kernels import (
    PrecomputedKernel,
    chi2_distance,
    hellinger_kernel,
    intersection_kernel,
)


def test_intersection_against_loop(rng):
    X, Y = rng.random((7, 5)), rng.random((3, 5))
    expected = [[np.minimum(x, y).sum() for y in Y] for x in X]
    np.testing.assert_allclose(intersection_kernel(X, Y), expected, rtol=1e-6)
    np.testing.assert_allclose(intersection_kernel(X), intersection_kernel(X, X))


def test_chi2_and_hellinger_by_hand():
    x, y = np.array([[1.0, 3.0]]), np.array([[3.0, 1.0]])
    assert chi2_distance(x, y)[0, 0] == pytest.approx(4 / 4 + 4 / 4)
    assert hellinger_kernel(x, y)[0, 0] == pytest.approx(2 * np.sqrt(3))


@pytest.mark.parametrize("kernel", ["chi2", "intersection", "hellinger", "additive_chi2",
                                    "linear"])
def test_precomputed_kernel_in_an_svc_pipeline(rng, kernel):
    X = rng.random((40, 6))
    y = (X[:, 0] > X[:, 1]).astype(int)
    step = PrecomputedKernel(kernel)
    model = make_pipeline(step, SVC(kernel="precomputed", C=10)).fit(X[:30], y[:30])
    K = step.transform(X[30:])
    assert K.shape == (10, 30)
    assert model.score(X[:30], y[:30]) > 0.8
    if kernel == "chi2":
        np.testing.assert_allclose(K, chi2_kernel(X[30:], X[:30], gamma=step.gamma_))
        assert step.gamma_ == pytest.approx(1 / chi2_distance(X[:30]).mean())


def test_fixed_gamma_and_negative_input(rng):
    X = rng.random((5, 3))
    assert PrecomputedKernel(gamma=0.5).fit(X).gamma_ == 0.5
    with pytest.raises(ValueError, match="non-negative"):
        PrecomputedKernel("chi2").fit(X - 1)
    PrecomputedKernel("linear").fit(X - 1)


def test_select_kernel_weights_scores_as_scikit_learn_cross_validation():
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.svm import SVC

    from imgrec_classic.kernels import select_kernel_weights

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 9)
    A = np.eye(4)[y] + 0.8 * rng.standard_normal((36, 4))
    B = np.eye(4)[y] + 1.5 * rng.standard_normal((36, 4))
    kernels = {"a": A @ A.T, "b": B @ B.T}
    weights, trail = select_kernel_weights(kernels, y, {"b": [0.5, 2.0]}, {"a": 1.0}, C=3.0)
    assert [set(t) - {"cv"} for t in trail] == [{"a"}, {"a", "b"}, {"a", "b"}]
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    for t in trail:  # each trial's score is scikit-learn's, on the weighted kernel sum
        K = sum(t[name] * kernels[name] for name in ("a", "b") if name in t)
        expected = cross_val_score(OneVsRestClassifier(SVC(kernel="precomputed", C=3.0)), K, y,
                                   cv=folds, scoring="balanced_accuracy").mean()
        assert t["cv"] == pytest.approx(expected)
    best = max(trail, key=lambda t: t["cv"])
    assert weights == {k: v for k, v in best.items() if k != "cv"}


def test_select_kernel_weights_rejects_unknown_branches():
    from imgrec_classic.kernels import select_kernel_weights

    with pytest.raises(ValueError, match="without a kernel"):
        select_kernel_weights({"a": np.eye(6)}, np.arange(6) % 2, {"b": [1.0]})
