import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import FunctionTransformer, StandardScaler

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
