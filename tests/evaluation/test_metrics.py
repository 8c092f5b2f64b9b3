"""Report agrees with sklearn.metrics; evaluate extracts features once."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC

from imgrec_classic.evaluation import Report, evaluate


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:1000], y[:1000], X[1000:], y[1000:]


def test_report_agrees_with_sklearn(digits):
    X, y, X_test, y_test = digits
    model = LogisticRegression(max_iter=2000).fit(X, y)
    report = evaluate(model, X_test, y_test)
    pred = model.predict(X_test)
    assert report.accuracy == pytest.approx(metrics.accuracy_score(y_test, pred))
    assert report.mean_class_accuracy == pytest.approx(
        metrics.balanced_accuracy_score(y_test, pred))
    p, r, f, _ = metrics.precision_recall_fscore_support(y_test, pred, average="macro")
    assert (report.precision, report.recall, report.f1) == pytest.approx((p, r, f))
    np.testing.assert_array_equal(report.confusion_matrix, metrics.confusion_matrix(y_test, pred))
    proba = model.decision_function(X_test)
    assert report.top_k_accuracy[3] == pytest.approx(
        metrics.top_k_accuracy_score(y_test, proba, k=3))
    assert report.top_k_accuracy[5] >= report.top_k_accuracy[3] >= report.accuracy
    per = metrics.precision_recall_fscore_support(y_test, pred)
    assert report.per_class["7"]["recall"] == pytest.approx(per[1][7])
    assert report.per_class["7"]["support"] == per[3][7]


def test_labels_name_the_classes(digits):
    X, y, X_test, y_test = digits
    names = [f"digit {d}" for d in range(10)]
    report = evaluate(SVC().fit(X, y), X_test, y_test, labels=names)
    assert report.labels == names
    assert "| digit 3 |" in report.to_markdown()


def test_serialisation(digits):
    X, y, X_test, y_test = digits
    report = evaluate(SVC().fit(X, y), X_test, y_test)
    d = json.loads(report.to_json())
    assert d["accuracy"] == report.accuracy
    assert np.array_equal(d["confusion_matrix"], report.confusion_matrix)
    md = report.to_markdown(per_class=False)
    assert md.startswith("| metric | value |") and f"{report.accuracy:.4f}" in md
    assert "accuracy" in str(report)


def test_pipeline_features_are_computed_once(digits):
    X, y, X_test, y_test = digits
    calls = []

    def spy(Z):
        calls.append(len(Z))
        return Z

    model = make_pipeline(FunctionTransformer(spy), StandardScaler(), SVC()).fit(X, y)
    calls.clear()
    report = evaluate(model, X_test, y_test)
    assert calls == [len(X_test)]
    assert 3 in report.top_k_accuracy
    assert report.top_k_accuracy[2] <= report.top_k_accuracy[3]


def test_binary_and_missing_classes():
    report = Report.from_predictions([0, 0, 1, 1], [0, 1, 1, 1])
    assert report.top_k_accuracy == {} and report.accuracy == 0.75
    assert report.to_dict()["top_k_accuracy"] is None  # not an empty {} that says nothing
    # a class predicted but never true does not dilute the macro recall
    report = Report.from_predictions([0, 0, 1], [0, 2, 1])
    assert report.recall == pytest.approx((0.5 + 1) / 2)
    assert report.confusion_matrix.shape == (3, 3)


def test_bad_input():
    with pytest.raises(ValueError, match="predictions"):
        Report.from_predictions([0, 1], [0])
    with pytest.raises(ValueError, match="zero"):
        Report.from_predictions([], [])


def test_plot(tmp_path, digits):
    pytest.importorskip("matplotlib")
    X, y, X_test, y_test = digits
    report = evaluate(SVC().fit(X, y), X_test, y_test)
    ax = report.plot()
    path = tmp_path / "cm.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 5000
    assert len(ax.get_xticklabels()) == 10


def test_top_k_counts_images_of_unknown_classes_as_misses():
    scores = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.5, 0.1, 0.4], [0.3, 0.3, 0.4]])
    report = Report.from_predictions(["a", "b", "c", "z"], ["a", "b", "a", "c"], scores,
                                     classes=np.array(["a", "b", "c"]))
    assert report.top_k_accuracy[2] == pytest.approx(3 / 4)  # c is second for its image
