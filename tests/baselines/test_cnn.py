"""CNNClassifier: the scikit-learn API, determinism, early stopping, time budget, learning."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone

torch = pytest.importorskip("torch")

from imgrec_classic.baselines import CNNClassifier  # noqa: E402
from imgrec_classic.utils.estimator_checks import image_estimator_checks  # noqa: E402

TINY = dict(input_size=16, color="gray", channels=(8,), hidden=16, epochs=3, batch_size=16,
            n_threads=1, random_state=0)


def _bars(n=60, seed=0):
    """Class 0: a vertical bar, class 1: a horizontal bar, anywhere, on noise."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 60, (n, 16, 16), np.uint8)
    y = np.arange(n) % 2
    for i in range(n):
        k = rng.integers(3, 13)
        if y[i]:
            X[i, k - 1:k + 2, 2:14] = 230
        else:
            X[i, 2:14, k - 1:k + 2] = 230
    return X, y


CHECKS = [(n, c) for n, c in image_estimator_checks(CNNClassifier(**TINY), list(_bars(8)[0]))
          if n not in ("check_not_fitted", "check_clone_and_pickle", "check_deterministic",
                       "check_input_containers")]


@pytest.mark.parametrize("name, check", CHECKS, ids=[n for n, _ in CHECKS])
def test_data_free_checks(name, check):
    check()


def test_learns_bars_and_predicts_probabilities():
    X, y = _bars(120)
    clf = CNNClassifier(**{**TINY, "epochs": 25, "channels": (8, 16), "patience": 25,
                           "learning_rate": 3e-3}).fit(X, y)
    X_test, y_test = _bars(60, seed=1)
    proba = clf.predict_proba(X_test)
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    assert (clf.predict(X_test) == y_test).mean() >= 0.85
    assert clf.classes_.tolist() == [0, 1]
    assert clf.n_parameters_ > 0 and len(clf.history_) >= 1


def test_deterministic_with_random_state_and_pickle():
    X, y = _bars(40)
    a = CNNClassifier(**TINY).fit(X, y).predict_proba(X)
    b = clone(CNNClassifier(**TINY)).fit(X, y)
    np.testing.assert_allclose(b.predict_proba(X), a, rtol=1e-5, atol=1e-6)
    c = pickle.loads(pickle.dumps(b))
    np.testing.assert_allclose(c.predict_proba(X), a, rtol=1e-5, atol=1e-6)


def test_string_labels_rgb_paths_and_thread_restore(tmp_path, astronaut):
    import cv2

    paths = []
    for i in range(8):
        path = tmp_path / f"{i}.png"
        cv2.imwrite(str(path), np.roll(astronaut, 20 * i, axis=1)[..., ::-1])
        paths.append(str(path))
    labels = np.array(["cat", "dog"] * 4)
    before = torch.get_num_threads()
    clf = CNNClassifier(**{**TINY, "color": "rgb", "validation_fraction": 0}).fit(paths, labels)
    assert torch.get_num_threads() == before
    assert set(clf.predict(paths)) <= {"cat", "dog"}
    assert clf.mean_.shape == (3,)


def test_early_stopping_and_time_budget():
    X, y = _bars(40)
    clf = CNNClassifier(**{**TINY, "epochs": 50, "patience": 1, "learning_rate": 1e-6}).fit(X, y)
    assert clf.stop_reason_ == "early_stopping" and len(clf.history_) < 50
    assert clf.best_epoch_ <= len(clf.history_)
    clf = CNNClassifier(**{**TINY, "epochs": 50, "max_time": 1e-3}).fit(X, y)
    assert clf.stop_reason_ == "max_time" and len(clf.history_) == 1


def test_bad_input():
    X, y = _bars(10)
    with pytest.raises(ValueError, match="labels"):
        CNNClassifier(**TINY).fit(X, y[:5])
    with pytest.raises(ValueError, match="two classes"):
        CNNClassifier(**TINY).fit(X, np.zeros(10))
    with pytest.raises(ValueError):
        CNNClassifier(**{**TINY, "epochs": 0}).fit(X, y)


def test_epoch_callback_sees_each_epoch_and_is_not_timed():
    import time

    X, y = _bars(40)
    seen = []

    def callback(clf, record):
        seen.append((record["epoch"], clf.predict(X[:4]).shape))
        time.sleep(0.3)

    start = time.perf_counter()
    clf = CNNClassifier(**{**TINY, "epochs": 3, "patience": 10,
                           "epoch_callback": callback}).fit(X, y)
    wall = time.perf_counter() - start
    assert seen == [(1, (4,)), (2, (4,)), (3, (4,))]
    # the three 0.3 s pauses are excluded from the recorded training time
    assert clf.fit_seconds_ <= wall - 0.85
    assert clf.history_[-1]["seconds"] <= clf.fit_seconds_ + 0.01  # rounded to 0.01 s


def test_jitter_changes_brightness_contrast_and_saturation_within_range():
    from imgrec_classic.baselines.cnn import _jitter

    rng = np.random.RandomState(0)
    mean, std = np.float32([0.5, 0.4, 0.3]), np.float32([0.2, 0.2, 0.2])
    pixels = torch.rand(16, 3, 8, 8) * 0.5 + 0.25
    x = (pixels - torch.from_numpy(mean)[:, None, None]) / torch.from_numpy(std)[:, None, None]
    out = _jitter(torch, x, 0.4, mean, std, rng)
    back = out * torch.from_numpy(std)[:, None, None] + torch.from_numpy(mean)[:, None, None]
    assert back.min() >= -1e-6 and back.max() <= 1 + 1e-6  # clipped to the pixel range
    shift = (back.mean((1, 2, 3)) - pixels.mean((1, 2, 3))).abs()
    assert shift.max() > 0.05  # brightness moved, by a different amount per image
    assert shift.std() > 0.01
    assert not torch.allclose(_jitter(torch, x, 0.4, mean, std, rng), out)
