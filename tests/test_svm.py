import numpy as np
import pytest
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from imgrec_classic.kernels import PrecomputedKernel
from imgrec_classic.svm import GramLinearSVC


def _data(n_classes, n=60, d=40, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    X = rng.standard_normal((n, d)).astype(np.float32)
    X[np.arange(n), y] += 1.5
    return X, y


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_decisions_equal_scikit_learn_one_vs_rest_linear_svc(n_classes):
    X, y = _data(n_classes)
    X_test, _ = _data(n_classes, seed=1)
    ours = GramLinearSVC(C=0.5).fit(X, y)
    reference = OneVsRestClassifier(SVC(kernel="linear", C=0.5)).fit(X.astype(np.float64), y)
    np.testing.assert_allclose(ours.decision_function(X_test),
                               reference.decision_function(X_test.astype(np.float64)),
                               rtol=1e-3, atol=3e-3)  # libsvm stops at tol=1e-3
    np.testing.assert_array_equal(ours.predict(X_test), reference.predict(X_test))


def test_predictions_equal_the_precomputed_kernel_tail():
    from sklearn.pipeline import make_pipeline

    X, y = _data(4)
    X_test, _ = _data(4, seed=2)
    tail = make_pipeline(PrecomputedKernel("linear"),
                         OneVsRestClassifier(SVC(kernel="precomputed", C=10))).fit(X, y)
    ours = GramLinearSVC(C=10).fit(X, y)
    np.testing.assert_array_equal(ours.predict(X_test), tail.predict(X_test))
    assert ours.coef_.dtype == np.float32


def test_labels_are_kept_and_one_class_is_an_error():
    X, y = _data(3)
    names = np.array(["cat", "dog", "owl"])[y]
    model = GramLinearSVC().fit(X, names)
    assert set(model.predict(X)) <= set(names)
    assert model.score(X, names) > 0.9
    with pytest.raises(ValueError, match="two classes"):
        GramLinearSVC().fit(X, np.zeros(len(X)))


def test_results_do_not_depend_on_n_jobs():
    X, y = _data(5)
    one = GramLinearSVC(n_jobs=1).fit(X, y)
    two = GramLinearSVC(n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(one.coef_, two.coef_)


@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_decisions_do_not_depend_on_opencv_threads(threads):
    # One row's decisions are split by classes over OpenCV's threads.
    import cv2

    X, y = _data(5)
    model = GramLinearSVC().fit(X, y)
    before = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        scores = model.decision_function(X[:1])
        many = model.decision_function(X)
    finally:
        cv2.setNumThreads(before)
    expected = X @ model.coef_.T + model.intercept_
    np.testing.assert_allclose(scores, expected[:1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(many, expected, rtol=1e-5, atol=1e-6)


@parametrize_with_checks([GramLinearSVC()])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
