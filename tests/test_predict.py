import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.svm import SVC

from imgrec_classic.predict import ovr_decision_from_ovo, predict_top_k, predict_with_scores


@pytest.fixture(scope="module")
def problem():
    return make_classification(n_samples=300, n_features=10, n_informative=8, n_classes=7,
                               random_state=0)


@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_ovr_scores_equal_scikit_learn(problem, kernel):
    X, y = problem
    svc = SVC(kernel=kernel).fit(X, y)
    np.testing.assert_allclose(ovr_decision_from_ovo(svc, X[:40]), svc.decision_function(X[:40]),
                               rtol=1e-12, atol=1e-12)
    assert svc.decision_function_shape == "ovr"  # the shallow copy left the model alone


def test_scores_of_an_svc_are_its_decision_function(problem):
    X, y = problem
    svc = SVC().fit(X, y)
    y_pred, scores, kind = predict_with_scores(svc, X[:5])
    np.testing.assert_array_equal(y_pred, svc.predict(X[:5]))
    np.testing.assert_allclose(scores, svc.decision_function(X[:5]), atol=1e-12)
    top = predict_top_k(svc, X[:1], k=3)[0]
    assert kind == "decision" and len(top["top"]) == 3
    assert top["top"][0]["label"] == str(svc.classes_[scores[0].argmax()])


def test_linear_models_score_once_and_predict_as_their_own_predict(problem):
    from sklearn.svm import LinearSVC

    X, y = problem
    linear = LinearSVC().fit(X, y)
    y_pred, scores, kind = predict_with_scores(linear, X)
    np.testing.assert_array_equal(y_pred, linear.predict(X))
    np.testing.assert_allclose(scores, linear.decision_function(X))
    assert kind == "decision"
