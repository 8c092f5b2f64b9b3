"""Behaviour every extractor shares: the scikit-learn API, inputs, parallelism, edge cases."""

import numpy as np
import pytest
from sklearn.base import clone

from imgrec_classic import Descriptors
from imgrec_classic.features import (
    AKAZE,
    HOG,
    LBP,
    ORB,
    SIFT,
    ColorHistogram,
    DenseSIFT,
    LocalColorStatistics,
)
from imgrec_classic.io import ImageDecodeError
from imgrec_classic.utils.estimator_checks import assert_same_output, image_estimator_checks

LOCAL = [SIFT(), DenseSIFT(step=8), ORB(), AKAZE(), AKAZE(descriptor_type="kaze"),
         LocalColorStatistics(step=8)]
GLOBAL = [HOG(), LBP(), ColorHistogram(grid=(2, 2))]
ALL = LOCAL + GLOBAL


def _small_images():
    from skimage import data

    astronaut = data.astronaut()
    return [astronaut[:160, :200], astronaut[200:, 100:], data.camera()[::3, ::3]]


CHECKS = [(est, name, check) for est in ALL
          for name, check in image_estimator_checks(est, _small_images())]


@pytest.mark.parametrize("estimator, name, check", CHECKS,
                         ids=[f"{type(e).__name__}-{n}" for e, n, _ in CHECKS])
def test_estimator_checks(estimator, name, check):
    check()


@pytest.mark.parametrize("estimator", LOCAL, ids=lambda e: type(e).__name__)
def test_local_extractors_give_descriptors(estimator, astronaut):
    d = clone(estimator).fit_transform([astronaut, astronaut[::2, ::2]])
    assert isinstance(d, Descriptors) and len(d) == 2
    assert d.n_dims == estimator.n_dims and d.values.dtype == estimator.dtype
    assert d.counts.min() > 0
    assert d.positions.min() >= 0 and d.positions.max() < 1
    assert (d.scales > 0).all()


@pytest.mark.parametrize("estimator", GLOBAL, ids=lambda e: type(e).__name__)
def test_global_extractors_give_fixed_length_rows(estimator, astronaut):
    fitted = clone(estimator).fit(None)
    X = fitted.transform([astronaut, astronaut[:100], astronaut[:, :77]])
    assert X.shape == (3, fitted.n_features_out_) and X.dtype == np.float32
    assert np.isfinite(X).all()


@pytest.mark.parametrize("estimator", ALL, ids=lambda e: type(e).__name__)
def test_flat_and_tiny_images(estimator):
    images = [np.full((64, 64, 3), 90, np.uint8), np.zeros((3, 3), np.uint8),
              np.zeros((1, 1, 3), np.uint8)]
    out = clone(estimator).fit_transform(images)
    assert len(out) == 3
    if isinstance(out, Descriptors):
        assert out.counts[1] == out.counts[2] == 0 and np.isfinite(out.values).all()
        assert out.n_dims == estimator.n_dims
    else:
        assert np.isfinite(out).all()


@pytest.mark.parametrize("estimator", ALL, ids=lambda e: type(e).__name__)
def test_on_caltech_paths(estimator, caltech_paths):
    """Documented shapes on real Caltech-101 files, decoded lazily from paths."""
    fitted = clone(estimator).set_params(n_jobs=2).fit(caltech_paths)
    out = fitted.transform(caltech_paths)
    assert len(out) == len(caltech_paths)
    if isinstance(out, Descriptors):
        assert out.n_dims == estimator.n_dims and out.counts.min() > 0
    else:
        assert out.shape == (len(caltech_paths), fitted.n_features_out_)


def test_max_side_shrinks_before_extraction(camera):
    full = DenseSIFT(step=8, sizes=(4,)).fit_transform([camera])
    small = DenseSIFT(step=8, sizes=(4,), max_side=128).fit_transform([camera])
    assert small.counts[0] < full.counts[0] / 10
    big = np.zeros((40, 60), np.uint8)
    assert DenseSIFT().load(big).shape == (40, 60)
    assert DenseSIFT(max_side=30).load(big).shape == (20, 30)


def test_corrupt_file_raises_naming_it(tmp_path, camera):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    for n_jobs in (1, 2):
        with pytest.raises(ImageDecodeError, match="broken.jpg"):
            SIFT(n_jobs=n_jobs).fit_transform([camera, bad])


def test_stacked_array_and_bad_containers(rng):
    stack = rng.integers(0, 256, (4, 32, 32), np.uint8)
    assert_same_output(LBP().fit_transform(stack), LBP().fit_transform(list(stack)))
    with pytest.raises(TypeError, match="single path"):
        LBP().fit_transform("image.png")
    with pytest.raises(ValueError, match="stack of images"):
        LBP().fit_transform(np.zeros((32, 32)))
    with pytest.raises(ValueError, match="no images"):
        LBP().fit_transform([])
    with pytest.raises(TypeError, match="iterable"):
        LBP().fit_transform(3)


def test_progress_bar_goes_to_stderr(capsys, rng):
    LBP(verbose=True).fit_transform(list(rng.integers(0, 256, (3, 16, 16), np.uint8)))
    err = capsys.readouterr().err
    assert "LBP" in err and "3/3" in err


@pytest.mark.parametrize(
    "estimator",
    [HOG(pixels_per_cell=(7, 7)), HOG(image_shape=(8, 8)), LBP(grid=(0, 2)),
     ColorHistogram(bins=(8, 4)), SIFT(sigma=0), ORB(score_type="best"), DenseSIFT(step=0),
     AKAZE(descriptor_type="surf"), SIFT(max_side=2)],
    ids=repr)
def test_invalid_parameters_raise_in_fit(estimator):
    with pytest.raises(ValueError):
        estimator.fit([np.zeros((8, 8), np.uint8)])


def test_surf_is_absent_with_a_reason():
    import imgrec_classic.features as features

    with pytest.raises(ImportError, match="patented.*SIFT"):
        features.SURF  # noqa: B018
