"""The engine: one decode per image per pass, rows equal plain composition, flat memory."""

import tracemalloc

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.preprocessing import Normalizer

from imgrec_classic.compose import ImageEncoder
from imgrec_classic.encoding import BagOfVisualWords, FisherVector, Hellinger
from imgrec_classic.features import HOG, ColorHistogram, DenseSIFT
from imgrec_classic.features import base as features_base


def _images(n=12, seed=0, side=64):
    rng = np.random.default_rng(seed)
    return list(rng.integers(0, 256, (n, side, side, 3), np.uint8))


def _branches():
    return [("sift", DenseSIFT(step=8, sizes=(4, 8)), FisherVector(n_components=2,
                                                                     random_state=0)),
            ("hog", HOG(image_shape=(32, 32)), Hellinger()),
            ("color", ColorHistogram(bins=(4, 2, 2)), None)]


def _plain(branches, images, weights):
    """The same rows by plain composition: each branch on its own, then stacked."""
    blocks = []
    for name, extractor, encoder in branches:
        out = extractor.fit_transform(images)
        if encoder is not None:
            out = encoder.fit_transform(out)
        blocks.append(weights.get(name, 1.0) * np.asarray(out, np.float32))
    return np.hstack(blocks)


def test_rows_equal_plain_composition_with_weights():
    images, weights = _images(), {"hog": 0.5, "color": 2.0}
    encoder = ImageEncoder(_branches(), weights=weights)
    out = encoder.fit_transform(images)
    expected = _plain(_branches(), images, weights)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(encoder.transform(images[:3]), expected[:3], rtol=1e-5,
                               atol=1e-6)
    fisher = encoder.branches[0][2]
    assert encoder.widths_ == {"sift": fisher.n_features_out_, "hog": 324, "color": 16}
    assert out.dtype == np.float32 and encoder.n_features_out_ == out.shape[1]


def test_each_image_is_decoded_once_per_pass(decode_counts):
    counts, images = decode_counts, _images(n=10)
    sift, fisher = DenseSIFT(step=8, sizes=(4,)), FisherVector(n_components=2, max_images=4,
                                                             random_state=0)
    encoder = ImageEncoder([("sift", sift, fisher), *_branches()[1:]])
    encoder.fit_transform(images)
    sampled = {id(images[i]) for i in fisher.plan_sample(len(images)).images}
    # one decode per image, plus one for each image sampled for the mixture
    assert {k: counts[id(im)] for k, im in enumerate(images)} == {
        k: 1 + (id(im) in sampled) for k, im in enumerate(images)}
    counts.clear()
    encoder.transform(images)
    assert sorted(counts.values()) == [1] * len(images)  # grey and colour from one decode


def test_row_cache_spares_every_decode_of_seen_images_and_gives_the_same_rows(
        decode_counts, tmp_path):
    import copy
    import pickle

    images = _images(n=8)
    encoder = ImageEncoder(_branches(), cache=tmp_path)
    first = encoder.fit_transform(images)
    counts = decode_counts
    counts.clear()
    again = encoder.transform(images)
    assert sum(counts.values()) == 0  # every row came from the cache
    np.testing.assert_array_equal(again, first)
    np.testing.assert_array_equal(
        first, clone(encoder).set_params(cache=None).fit_transform(images))
    # the cache keys the fitted state, not the object: a copy and a reloaded one hit
    for twin in (copy.deepcopy(encoder), pickle.loads(pickle.dumps(encoder))):
        counts.clear()
        np.testing.assert_array_equal(twin.set_params(n_jobs=2).transform(images[:3]),
                                      first[:3])
        assert sum(counts.values()) == 0
    # new images are decoded once; a branch whose encoder is fitted again misses
    counts.clear()
    encoder.transform(_images(n=2, seed=5))
    assert sum(counts.values()) == 2
    refitted = clone(encoder).set_params(sift_encoding__random_state=1).fit(images)
    counts.clear()
    refitted.transform(images[:2])
    assert sum(counts.values()) == 2


def test_codes_kept_from_a_pass_are_what_the_row_cache_serves_later(decode_counts, tmp_path):
    import hashlib

    import cv2

    blobs = [cv2.imencode(".png", im)[1].tobytes() for im in _images(n=4)]
    encoder = ImageEncoder(_branches(), weights={"hog": 0.5, "color": 0.0}).fit(blobs)
    rows, codes = encoder.transform_with_codes(blobs)
    np.testing.assert_array_equal(rows, encoder.transform(blobs))
    assert [sorted(c) for c in codes] == [["hog", "sift"]] * 4  # a zero weight: no code
    widths = encoder.widths_
    np.testing.assert_array_equal(codes[0]["sift"], rows[0, :widths["sift"]])
    # Stored codes are read back, not recomputed: give one image codes of ones.
    ones = {name: np.ones_like(code) for name, code in codes[1].items()}
    encoder.cache_codes(tmp_path, ones, hashlib.sha256(blobs[1]).hexdigest())
    decode_counts.clear()
    cached = encoder.set_params(cache=str(tmp_path)).transform(blobs[1:2])
    assert sum(decode_counts.values()) == 0
    assert set(cached[0, :widths["sift"]]) == {1.0}
    assert set(cached[0, widths["sift"]:widths["sift"] + widths["hog"]]) == {0.5}


def test_results_do_not_depend_on_n_jobs():
    images = _images(n=40)
    one = ImageEncoder(_branches(), n_jobs=1).fit_transform(images)
    two = ImageEncoder(_branches(), n_jobs=2, batch_size=3).fit_transform(images)
    np.testing.assert_array_equal(one, two)


def test_params_have_one_name_per_knob_and_drop_works():
    encoder = ImageEncoder(_branches())
    params = encoder.get_params()
    assert params["sift__step"] == 8 and params["sift_encoding__n_components"] == 2
    encoder.set_params(sift__step=6, sift_encoding__n_components=3, hog="drop")
    assert encoder.get_params()["sift__step"] == 6
    assert clone(encoder).get_params()["sift_encoding__n_components"] == 3
    out = encoder.fit_transform(_images(n=6))
    assert set(encoder.widths_) == {"sift", "color"}
    assert out.shape[1] == encoder.branches[0][2].n_features_out_ + 16
    with pytest.raises(ValueError, match="did you mean sift__step"):
        encoder.set_params(sift__stepp=4)
    with pytest.raises(ValueError, match="invalid parameter .color_encoding__norm"):
        ImageEncoder(_branches()).set_params(color_encoding__norm="l1")


@pytest.mark.parametrize("branches, message", [
    ([], "non-empty"),
    ([("a__b", HOG(), None)], "without '__'"),
    ([("a", HOG(), None), ("a", HOG(), None)], "unique"),
    ([("weights", HOG(), None)], "unique"),
    ([("a", Normalizer(), None)], "not an image extractor"),
    ([("a", "drop", None)], "every branch is dropped"),
    ([("a", DenseSIFT(), None)], "need an encoder"),
    ([("a", DenseSIFT(), Hellinger())], "need an encoder"),
    ([("a", HOG(), FisherVector())], "one vector per image"),
])
def test_bad_branches_are_refused_before_any_image_is_read(branches, message, monkeypatch):
    monkeypatch.setattr(features_base, "load_views", None)  # any decode would fail
    with pytest.raises((ValueError, TypeError), match=message):
        ImageEncoder(branches).fit(_images(n=2))


def test_memory_beyond_the_output_is_a_few_batches():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (80, 80), dtype=np.uint8) for _ in range(300)]
    encoder = ImageEncoder([("sift", DenseSIFT(step=4, sizes=(4, 8)),
                             BagOfVisualWords(n_words=20, pyramid=(1, 2), max_images=20,
                                              random_state=0))]).fit(images)
    one_image = DenseSIFT(step=4, sizes=(4, 8)).fit_transform(images[:1]).values.nbytes
    tracemalloc.start()
    try:
        out = encoder.transform(images)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.shape == (300, 100)
    # The output and the descriptors of one batch (32 images) at a time, not all of them.
    assert peak < out.nbytes + 40 * one_image < one_image * len(images) / 4


def _labelled(n_per_class=12, seed=0):
    """Images of three classes told apart by their colour, and a noisy texture branch."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), n_per_class)
    images = []
    for label in y:
        image = rng.integers(0, 256, (48, 48, 3), np.uint8)
        image[..., label] = np.clip(image[..., label].astype(int) + 120, 0, 255)
        images.append(image)
    return images, y


def _search_branches():
    return [("color", ColorHistogram(bins=(4, 4, 4)), Hellinger()),
            ("hog", HOG(image_shape=(32, 32)), Hellinger())]


def test_weight_search_keeps_the_useful_branch_and_skips_the_other(monkeypatch):
    images, y = _labelled()
    encoder = ImageEncoder(_search_branches(), weight_grid={"color": [1.0],
                                                            "hog": [0.3, 1.0]})
    out = encoder.fit_transform(images, y)
    assert encoder.weights_ == {"color": 1.0, "hog": 0.0}
    assert len(encoder.weight_trail_) == 3
    expected = _plain(_search_branches(), images, encoder.weights_)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert clone(encoder).fit(images, y).weights_ == encoder.weights_

    def fail(self, images):
        raise AssertionError("a left-out branch ran")

    monkeypatch.setattr(HOG, "extract_images", fail)
    np.testing.assert_allclose(encoder.transform(images[:4]), expected[:4], rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("grid, message", [({"nope": [1.0]}, "unknown branches"),
                                           ({"hog": []}, "positive"),
                                           ({"hog": [-1.0]}, "positive"), ({}, "non-empty")])
def test_weight_search_checks_its_parameters_before_reading_images(grid, message,
                                                                   monkeypatch):
    images, y = _labelled(n_per_class=3)
    monkeypatch.setattr(features_base, "load_views", None)
    with pytest.raises(ValueError, match=message):
        ImageEncoder(_search_branches(), weight_grid=grid).fit(images, y)
    with pytest.raises(ValueError, match="needs y"):
        ImageEncoder(_search_branches(), weight_grid={"hog": [1.0]}).fit(images)
    with pytest.raises(ValueError, match="weight_cv"):
        ImageEncoder(_search_branches(), weight_grid={"hog": [1.0]}, weight_cv=1).fit(
            images, y)


def test_too_few_images_per_class_keeps_the_given_weights():
    images, y = _labelled(n_per_class=2)
    encoder = ImageEncoder(_search_branches(), weights={"hog": 0.5},
                           weight_grid={"color": [1.0], "hog": [1.0]})
    with pytest.warns(UserWarning, match="fewer than the 3 folds"):
        encoder.fit(images, y)
    assert encoder.weights_ == {"color": 1.0, "hog": 0.5}
    assert encoder.weight_trail_ == []
