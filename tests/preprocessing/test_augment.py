"""Augmenter: deterministic, correct geometry, and absent at predict time."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import GridSearchCV

from imgrec_classic.preprocessing import Augmented, Augmenter, RandomAugmentation, load_image

IDENTITY = dict(flip=False, angle=0.0, crop=1.0, center=(0.5, 0.5), gain=1.0, bias=0.0,
                shift=(0.0, 0.0, 0.0))


def _decode_all(images):
    return [load_image(im) for im in images]


def test_identity_augmentation_changes_nothing(astronaut):
    np.testing.assert_array_equal(RandomAugmentation(**IDENTITY).apply(astronaut), astronaut)


def test_flip_is_a_mirror(astronaut):
    out = RandomAugmentation(**{**IDENTITY, "flip": True}).apply(astronaut)
    np.testing.assert_array_equal(out, astronaut[:, ::-1])


def test_crop_zooms_into_the_chosen_centre():
    image = np.zeros((100, 100), np.uint8)
    image[:50, :50] = 200  # top-left quadrant
    out = RandomAugmentation(**{**IDENTITY, "crop": 0.5, "center": (0.25, 0.25)}).apply(image)
    assert out[5:-5, 5:-5].min() == 200  # the quadrant fills the whole output


def test_brightness_and_colour_shift():
    image = np.full((4, 4, 3), 100, np.uint8)
    out = RandomAugmentation(**{**IDENTITY, "gain": 1.5, "bias": 10.0,
                                "shift": (5.0, 0.0, -5.0)}).apply(image)
    assert out[0, 0].tolist() == [165, 160, 155]


def test_fit_resample_layout_and_determinism(astronaut, camera):
    X, y = [astronaut, camera], np.array([3, 7])
    aug = Augmenter(n_augmented=3, random_state=0)
    X1, y1 = aug.fit_resample(X, y)
    X2, y2 = clone(aug).fit_resample(X, y)
    assert len(X1) == 8 and y1.tolist() == [3, 7, 3, 3, 3, 7, 7, 7]
    assert X1[0] is astronaut and X1[1] is camera
    for a, b in zip(_decode_all(X1), _decode_all(X2), strict=True):
        np.testing.assert_array_equal(a, b)
    X3, _ = Augmenter(n_augmented=3, random_state=1).fit_resample(X, y)
    assert not np.array_equal(load_image(X1[2]), load_image(X3[2]))
    assert all(load_image(x).shape == astronaut.shape for x in X1[2:5])


def test_without_originals():
    X, y = [np.zeros((8, 8), np.uint8)] * 2, [0, 1]
    X2, y2 = Augmenter(n_augmented=2, keep_original=False, random_state=0).fit_resample(X, y)
    assert len(X2) == 4 and y2.tolist() == [0, 0, 1, 1]


def test_bad_arguments():
    with pytest.raises(ValueError, match="crop_scale"):
        Augmenter(crop_scale=(0.9, 0.5)).fit_resample([np.zeros((4, 4))], [0])
    with pytest.raises(ValueError, match="labels"):
        Augmenter().fit_resample([np.zeros((4, 4))] * 2, [0])
    with pytest.raises(ValueError):
        Augmenter(max_rotation=-1).fit_resample([np.zeros((4, 4))], [0])


class _Spy(ClassifierMixin, BaseEstimator):
    """Records how many images it sees in fit and predict."""

    def fit(self, X, y):
        self.n_fit_ = len(X)
        self.classes_ = np.unique(y)
        self.fit_images_ = list(X)
        return self

    def predict(self, X):
        self.predict_images_ = list(X)
        return np.full(len(X), self.classes_[0])


def test_augmented_expands_fit_only(astronaut, camera):
    X, y = [astronaut, camera], [0, 1]
    model = Augmented(_Spy(), Augmenter(n_augmented=2, random_state=0)).fit(X, y)
    assert model.estimator_.n_fit_ == 6
    assert model.classes_.tolist() == [0, 1]
    model.predict(X)
    seen = model.estimator_.predict_images_
    assert len(seen) == 2 and seen[0] is astronaut and seen[1] is camera  # untouched
    assert not hasattr(model, "predict_proba")


def test_augmented_works_in_grid_search(astronaut, camera):
    X = [astronaut, camera] * 3
    y = [0, 1] * 3
    search = GridSearchCV(Augmented(_Spy(), Augmenter(random_state=0)),
                          {"augmenter__n_augmented": [1, 2]}, cv=3).fit(X, y)
    assert search.best_estimator_.estimator_.n_fit_ in (12, 18)


def test_flip_probability_one_mirrors_every_copy(astronaut, camera):
    mirror = Augmenter(n_augmented=1, flip=1.0, max_rotation=0, crop_scale=(1, 1),
                       brightness=0, contrast=0, color_shift=0, random_state=0)
    X2, _ = mirror.fit_resample([astronaut, camera], [0, 1])
    np.testing.assert_array_equal(load_image(X2[2]), astronaut[:, ::-1])
    np.testing.assert_array_equal(load_image(X2[3], mode="gray"), camera[:, ::-1])
