"""Resize, ToGray, Equalize, CenterCrop: eager on arrays, lazy on files, same result."""

from __future__ import annotations

import pickle

import cv2
import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from imgrec_classic.features import HOG, DenseSIFT
from imgrec_classic.io import read_image
from imgrec_classic.preprocessing import CenterCrop, Equalize, Resize, ToGray
from imgrec_classic.preprocessing.pending import PendingImage, load_image
from imgrec_classic.utils.estimator_checks import assert_same_output, image_estimator_checks

TRANSFORMS = [Resize(max_side=48), Resize(shape=(20, 30)), ToGray(), Equalize(),
              CenterCrop((16, 24))]


def _images():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (40, 60, 3), np.uint8), rng.integers(0, 256, (50, 30), np.uint8)]


CHECKS = [(t, n, c) for t in TRANSFORMS for n, c in image_estimator_checks(t, _images())]


@pytest.mark.parametrize("transform, name, check", CHECKS,
                         ids=[f"{type(t).__name__}-{n}" for t, n, _ in CHECKS])
def test_estimator_checks(transform, name, check):
    check()


@pytest.mark.parametrize("params, shape", [
    (dict(max_side=50), (25, 50)),
    (dict(max_side=400), (200, 400)),
    (dict(max_side=400, upscale=False), (100, 200)),
    (dict(shape=(32, 32)), (32, 32)),
    (dict(shape=(32, 32), keep_aspect=False), (32, 32)),
    (dict(shape=16), (16, 16)),
])
def test_resize_shapes(params, shape):
    image = np.zeros((100, 200, 3), np.uint8)
    assert Resize(**params).fit_transform([image])[0].shape == shape + (3,)


def test_resize_keep_aspect_crops_instead_of_stretching():
    image = np.zeros((100, 200), np.uint8)
    image[:, 50:150] = 255  # a centred square
    cropped = Resize(shape=(50, 50)).fit_transform([image])[0]
    stretched = Resize(shape=(50, 50), keep_aspect=False).fit_transform([image])[0]
    assert cropped.min() == 255  # the square fills the square output
    assert stretched[:, :10].max() == 0 and stretched[:, 20:30].min() == 255


def test_resize_needs_exactly_one_size():
    with pytest.raises(ValueError, match="exactly one"):
        Resize().fit([])
    with pytest.raises(ValueError, match="exactly one"):
        Resize(max_side=10, shape=10).fit([])


def test_to_gray_matches_opencv(astronaut):
    out = ToGray().fit_transform([astronaut])[0]
    np.testing.assert_array_equal(out, cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY))


def test_equalize_spreads_contrast_and_keeps_hue(astronaut):
    dull = (astronaut // 4 + 96).astype(np.uint8)
    out = Equalize(clip_limit=3).fit_transform([dull])[0]
    assert out.shape == dull.shape
    assert out.std() > 1.5 * dull.std()
    hue = lambda im: cv2.cvtColor(im, cv2.COLOR_RGB2HSV)[..., 0].astype(int)  # noqa: E731
    saturated = cv2.cvtColor(dull, cv2.COLOR_RGB2HSV)[..., 1] > 60
    diff = np.abs(hue(out) - hue(dull))[saturated]
    assert np.median(np.minimum(diff, 180 - diff)) <= 3


def test_center_crop_window():
    image = np.arange(100).reshape(10, 10).astype(np.uint8)
    np.testing.assert_array_equal(CenterCrop(4).fit_transform([image])[0], image[3:7, 3:7])
    assert CenterCrop((4, 20)).fit_transform([image])[0].shape == (4, 10)


@pytest.fixture()
def image_files(tmp_path, astronaut, camera):
    paths = []
    for i, image in enumerate([astronaut, camera, astronaut[100:400, 50:300]]):
        path = tmp_path / f"{i}.png"
        cv2.imwrite(str(path), image[..., ::-1] if image.ndim == 3 else image)
        paths.append(str(path))
    return paths


def test_lazy_chain_holds_no_decoded_images(image_files):
    chain = make_pipeline(Resize(max_side=64), Equalize(), ToGray())
    out = chain.fit_transform(image_files)
    assert all(isinstance(p, PendingImage) for p in out)
    assert [type(op) for op in out[0].ops] == [Resize, Equalize, ToGray]
    assert len(pickle.dumps(out)) < 5000  # paths and parameters, no pixels
    assert load_image(out[0], mode="gray").shape == (64, 64)


@pytest.mark.parametrize("extractor", [DenseSIFT(step=6), HOG(image_shape=(48, 48))],
                         ids=["DenseSIFT", "HOG"])
def test_lazy_features_equal_eager_features(image_files, extractor):
    steps = [Resize(max_side=96), Equalize(), CenterCrop((80, 90))]
    lazy = make_pipeline(*steps, extractor).fit_transform(image_files)
    decoded = [read_image(p) for p in image_files]
    eager = make_pipeline(*steps, extractor).fit_transform(decoded)
    assert_same_output(lazy, eager)


def test_lazy_features_in_parallel_workers(image_files):
    steps = [Resize(max_side=80), ToGray()]
    one = make_pipeline(*steps, DenseSIFT(step=8, n_jobs=1)).fit_transform(image_files * 3)
    two = make_pipeline(*steps, DenseSIFT(step=8, n_jobs=2)).fit_transform(image_files * 3)
    assert_same_output(one, two)


def test_bad_file_in_lazy_chain_names_it(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_text("nope")
    pending = Resize(max_side=10).fit_transform([str(bad)])
    with pytest.raises(Exception, match="bad.jpg"):
        DenseSIFT().fit_transform(pending)
