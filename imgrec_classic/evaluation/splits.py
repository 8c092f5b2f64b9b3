"""Splits for the image-recognition protocols: N per class, and train/validation/test."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

__all__ = ["per_class_split", "train_val_test_split"]


def per_class_split(y, n_train: int, n_test: int | None = None, random_state=0):
    """Indices of ``n_train`` training and up to ``n_test`` test samples per class.

    The standard protocol of Caltech-101 (30 / up to 50), Flowers-17 (40 / 40) and
    face datasets: each class is shuffled with ``random_state`` and split.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
    n_train : int
        Training samples per class; every class must have more.
    n_test : int, default=None
        Test samples per class at most; None takes all the rest.
    random_state : int, RandomState instance or None, default=0

    Returns
    -------
    train, test : ndarray of int64
        Sorted indices into ``y``.

    Examples
    --------
    >>> from imgrec_classic.evaluation import per_class_split
    >>> y = [0, 0, 0, 0, 1, 1, 1]
    >>> train, test = per_class_split(y, n_train=2, n_test=1, random_state=0)
    >>> len(train), len(test), sorted(set(train) & set(test))
    (4, 2, [])
    """
    y = np.asarray(y)
    if n_train < 1 or (n_test is not None and n_test < 1):
        raise ValueError(f"n_train and n_test must be positive, got {n_train} and {n_test}")
    rng = check_random_state(random_state)
    train, test = [], []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        if len(members) <= n_train:
            raise ValueError(f"class {label} has {len(members)} samples: n_train={n_train} "
                             "leaves none to test on")
        members = rng.permutation(members)
        train.append(members[:n_train])
        test.append(members[n_train:] if n_test is None else members[n_train:n_train + n_test])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def train_val_test_split(*arrays, val_size: float = 0.1, test_size: float = 0.2,
                         stratify=None, random_state=0):
    """Split arrays three ways: training, validation (for early stopping, tuning), test.

    Parameters
    ----------
    *arrays : sequences of the same length (images, labels, ...)
    val_size, test_size : float
        Fractions of the whole.
    stratify : array-like, default=None
        Keep class proportions in every part (usually the labels).
    random_state : int or None, default=0

    Returns
    -------
    splits : list
        ``[a_train, a_val, a_test]`` for each array, in order (as scikit-learn's
        ``train_test_split`` returns pairs).

    Examples
    --------
    >>> from imgrec_classic.evaluation import train_val_test_split
    >>> X, y = list(range(20)), [0, 1] * 10
    >>> X_tr, X_val, X_te, y_tr, y_val, y_te = train_val_test_split(X, y, stratify=y)
    >>> len(X_tr), len(X_val), len(X_te)
    (14, 2, 4)
    """
    if not 0 < val_size < 1 or not 0 < test_size < 1 or val_size + test_size >= 1:
        raise ValueError(f"val_size and test_size must be fractions summing below 1, got "
                         f"{val_size} and {test_size}")
    n = len(arrays[0])
    index = np.arange(n)
    rest, test = train_test_split(index, test_size=test_size, stratify=stratify,
                                  random_state=random_state)
    inner = None if stratify is None else np.asarray(stratify)[rest]
    train, val = train_test_split(rest, test_size=val_size / (1 - test_size), stratify=inner,
                                  random_state=random_state)
    out = []
    for array in arrays:
        for part in (train, val, test):
            out.append(_take(array, np.sort(part)))
    return out


def _take(array, index):
    if isinstance(array, np.ndarray):
        return array[index]
    return [array[i] for i in index]
