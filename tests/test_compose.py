import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import FunctionTransformer, Normalizer, StandardScaler

from imgrec_classic.compose import ChunkedFeatureUnion


class _Counting(TransformerMixin, BaseEstimator):
    """Records how many rows each transform call receives."""

    def fit(self, X, y=None):
        self.calls_ = []
        return self

    def transform(self, X):
        self.calls_.append(len(X))
        return np.asarray(X, np.float32) * 2


def _branches():
    return [("scale", StandardScaler()), ("square", FunctionTransformer(np.square)),
            ("count", _Counting())]


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 100])
def test_equals_feature_union_with_weights(chunk_size):
    X = np.random.default_rng(0).normal(size=(20, 4))
    weights = {"scale": 0.5, "square": 2.0}
    expected = FeatureUnion(_branches(), transformer_weights=weights).fit_transform(X)
    union = ChunkedFeatureUnion(_branches(), chunk_size=chunk_size, transformer_weights=weights)
    np.testing.assert_allclose(union.fit_transform(X), expected, rtol=1e-6)
    np.testing.assert_allclose(union.transform(X[:5]), expected[:5], rtol=1e-6)


def test_branches_never_see_more_than_a_chunk():
    X = np.arange(50.0).reshape(25, 2)
    union = ChunkedFeatureUnion(_branches(), chunk_size=8).fit(X)
    union.transform(X)
    assert union.named_transformers["count"].calls_ == [8, 8, 8, 1]


def test_clone_params_and_bad_input():
    union = ChunkedFeatureUnion(_branches(), chunk_size=4)
    assert clone(union).get_params()["chunk_size"] == 4
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match="chunk_size"):
        union.set_params(chunk_size=0).fit(X).transform(X)
    with pytest.raises(ValueError, match="no images"):
        ChunkedFeatureUnion(_branches()).fit(X).transform(X[:0])


def test_dropped_branch_is_skipped():
    X = np.random.default_rng(1).normal(size=(6, 3))
    union = ChunkedFeatureUnion([("a", StandardScaler()), ("b", "drop")], chunk_size=4)
    assert union.fit_transform(X).shape == (6, 3)


def test_generator_input_is_read_once_for_fit_and_transform():
    X = np.random.default_rng(2).normal(size=(9, 2))
    expected = ChunkedFeatureUnion(_branches(), chunk_size=4).fit_transform(X)
    got = ChunkedFeatureUnion(_branches(), chunk_size=4).fit_transform(row for row in X)
    np.testing.assert_allclose(got, expected)


def test_transform_before_fit_is_an_error():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ChunkedFeatureUnion(_branches()).transform(np.ones((2, 2)))


class _Wide(TransformerMixin, BaseEstimator):
    """Turns each row into 1,000 float64 values (8 kB), like a Fisher-vector branch."""

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        return np.ones((len(X), 1000))


def test_memory_beyond_the_output_is_one_chunk():
    import tracemalloc

    X, chunk = np.zeros((400, 1)), 100
    union = ChunkedFeatureUnion([("wide", _Wide())], chunk_size=chunk,
                                transformer_weights={"wide": 0.5}).fit(X)
    tracemalloc.start()
    try:
        out = union.transform(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    one_chunk = chunk * 1000 * 8
    assert peak - out.nbytes < 1.5 * one_chunk


def _labelled(n_per_class=12, seed=0):
    """A branch that separates three classes, and one of pure noise."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), n_per_class)
    signal = np.eye(3)[y] + 0.3 * rng.standard_normal((len(y), 3))
    noise = rng.standard_normal((len(y), 20))
    return np.c_[signal, noise], y


def _split_branches():
    pick = [("signal", FunctionTransformer(lambda X: X[:, :3])),
            ("noise", FunctionTransformer(lambda X: X[:, 3:]))]
    return [(name, make_pipeline(branch, Normalizer())) for name, branch in pick]


def test_weight_search_keeps_the_useful_branch_and_skips_the_other():
    X, y = _labelled()
    union = ChunkedFeatureUnion(_split_branches(), weight_grid={"signal": [1.0],
                                                                "noise": [0.3, 1.0]})
    out = union.fit_transform(X, y)
    assert union.weights_ == {"signal": 1.0, "noise": 0.0}
    assert len(union.weight_trail_) == 3
    expected = FeatureUnion(_split_branches(), transformer_weights=union.weights_).fit_transform(X)
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    np.testing.assert_allclose(union.transform(X), expected, rtol=1e-6)
    # fit alone learns the same weights as fit_transform
    assert clone(union).fit(X, y).weights_ == union.weights_


def test_a_left_out_branch_is_not_computed():
    X, y = _labelled()
    counting = _Counting()
    union = ChunkedFeatureUnion([*_split_branches(), ("count", counting)],
                                weight_grid={"signal": [1.0], "count": [0.5]})
    union.fit(X, y)
    assert union.weights_["count"] == 0.0
    calls = list(union.named_transformers["count"].calls_)
    union.transform(X[:5])
    assert union.named_transformers["count"].calls_ == calls


def test_weight_search_checks_its_parameters_before_fitting():
    X, y = _labelled()
    counting = [("count", _Counting())]
    for grid, message in [({"nope": [1.0]}, "unknown branches"), ({"count": []}, "positive"),
                          ({"count": [-1.0]}, "positive"), ({}, "non-empty")]:
        union = ChunkedFeatureUnion(counting, weight_grid=grid)
        with pytest.raises(ValueError, match=message):
            union.fit(X, y)
        assert not hasattr(union.named_transformers["count"], "calls_")
    with pytest.raises(ValueError, match="needs y"):
        ChunkedFeatureUnion(counting, weight_grid={"count": [1.0]}).fit(X)
    with pytest.raises(ValueError, match="weight_cv"):
        ChunkedFeatureUnion(counting, weight_grid={"count": [1.0]}, weight_cv=1).fit(X, y)


def test_too_few_images_per_class_keeps_the_given_weights():
    X, y = _labelled(n_per_class=2)
    union = ChunkedFeatureUnion(_split_branches(), transformer_weights={"noise": 0.5},
                                weight_grid={"signal": [1.0], "noise": [1.0]})
    with pytest.warns(UserWarning, match="fewer than the 3 folds"):
        union.fit(X, y)
    assert union.weights_ == {"signal": 1.0, "noise": 0.5}
    assert union.weight_trail_ == []
