import numpy as np
import pytest

from imgrec_classic.evaluation import per_class_split, train_val_test_split


def test_per_class_split_counts_and_disjointness():
    y = np.repeat(np.arange(5), [40, 35, 31, 60, 100])
    train, test = per_class_split(y, n_train=30, n_test=50, random_state=1)
    assert np.bincount(y[train]).tolist() == [30] * 5
    assert np.bincount(y[test]).tolist() == [10, 5, 1, 30, 50]
    assert not set(train) & set(test)
    again = per_class_split(y, n_train=30, n_test=50, random_state=1)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])
    other = per_class_split(y, n_train=30, n_test=50, random_state=2)
    assert not np.array_equal(train, other[0])


def test_per_class_split_all_rest_and_errors():
    y = np.repeat([0, 1], [5, 8])
    _, test = per_class_split(y, 3)
    assert len(test) == 2 + 5
    with pytest.raises(ValueError, match="class 0"):
        per_class_split(y, 5)


def test_train_val_test_split_stratified():
    X = [f"img{i}.jpg" for i in range(100)]
    y = np.array([0] * 50 + [1] * 50)
    X_tr, X_val, X_te, y_tr, y_val, y_te = train_val_test_split(
        X, y, val_size=0.2, test_size=0.2, stratify=y)
    assert (len(X_tr), len(X_val), len(X_te)) == (60, 20, 20)
    assert isinstance(X_tr, list) and isinstance(y_tr, np.ndarray)
    assert set(X_tr) | set(X_val) | set(X_te) == set(X)
    assert np.bincount(y_val).tolist() == [10, 10]
    assert [int(s[3:-4]) for s in X_te] == [i for i in range(100) if y[i] in y_te and
                                            f"img{i}.jpg" in X_te]
    with pytest.raises(ValueError):
        train_val_test_split(X, val_size=0.6, test_size=0.5)
