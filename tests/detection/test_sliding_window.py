"""SlidingWindowDetector on synthetic scenes; HOG blocks against the HOG extractor."""

from __future__ import annotations

import numpy as np
import pytest

from imgrec_classic.detection import SlidingWindowDetector, hog_blocks
from imgrec_classic.detection.nms import box_iou
from imgrec_classic.features import HOG
from imgrec_classic.io import ImageDecodeError


def _object(size: int) -> np.ndarray:
    """A bright ring with a cross: the synthetic 'object'."""
    import cv2

    patch = np.zeros((size, size), np.uint8)
    c = size // 2
    cv2.circle(patch, (c, c), int(size * 0.4), 255, max(1, size // 10))
    cv2.line(patch, (c, int(size * 0.2)), (c, int(size * 0.8)), 255, max(1, size // 12))
    return patch


def _background(rng, shape):
    import cv2

    noise = rng.integers(0, 255, shape, np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 2)


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    crops = []
    for _ in range(40):
        bg = _background(rng, (32, 32))
        obj = _object(24)
        crop = bg.copy()
        crop[4:28, 4:28] = np.maximum(bg[4:28, 4:28], obj)
        crops.append(crop)
    negatives = [_background(rng, (120, 160)) for _ in range(15)]
    detector = SlidingWindowDetector(window=(32, 32), feature=HOG(pixels_per_cell=(4, 4)),
                                     hard_negative_rounds=2, random_state=0)
    return detector.fit(crops, negatives), rng


def test_hog_blocks_match_the_extractor(camera):
    hog = HOG(pixels_per_cell=(8, 8), image_shape=(64, 96)).fit()
    crop = camera[100:164, 200:296]
    np.testing.assert_allclose(hog_blocks(crop, hog).ravel(), hog.transform([crop])[0],
                               rtol=1e-5, atol=1e-6)
    # an interior window of a bigger image is a slice of that image's blocks
    blocks = hog_blocks(camera[92:180, 184:320], hog)
    window = blocks[1:1 + 7, 2:2 + 11].ravel()  # offset (8, 16) px, 64x96 -> 7x11 blocks
    assert np.corrcoef(window, hog.transform([crop])[0])[0, 1] > 0.99


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_finds_a_pasted_object_at_the_right_place_and_scale(trained, scale):
    detector, rng = trained
    scene = _background(rng, (160, 200))
    size = int(24 * scale)
    top, left = 50, 90
    scene[top:top + size, left:left + size] = np.maximum(
        scene[top:top + size, left:left + size], _object(size))
    boxes, scores = detector.detect(scene)
    assert len(boxes) >= 1
    margin = 4 * scale  # the crop had a 4-pixel border around the 24-pixel object
    truth = np.array([left - margin, top - margin, left + size + margin, top + size + margin])
    assert box_iou(truth, boxes[:1])[0] > 0.5, (boxes[0], truth)
    assert scores[0] == scores.max()


def test_boxes_scale_with_the_pyramid_level(trained):
    detector, rng = trained
    boxes, _ = detector.score_windows(_background(rng, (100, 100)))
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    expected = np.array([32 / s for s in detector._scales((100, 100))])
    # every window is the 32-pixel window seen at one of the pyramid's scales
    nearest = np.abs(widths[:, None] - expected[None]).min(axis=1)
    assert (nearest <= 0.03 * widths).all()
    assert len(np.unique(np.round(widths))) == len(expected)
    np.testing.assert_allclose(widths, heights, rtol=0.03)
    assert boxes.min() >= 0 and boxes[:, 2:].max() <= 100 * 1.03


def test_hard_negative_mining_ran(trained):
    detector, _ = trained
    assert len(detector.hard_negatives_) >= 1


def test_errors(trained, tmp_path):
    detector, _ = trained
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    with pytest.raises(ImageDecodeError, match="bad.png"):
        detector.detect(str(bad))
    with pytest.raises(ValueError, match="multiple"):
        SlidingWindowDetector(window=(30, 30)).fit([np.zeros((30, 30), np.uint8)],
                                                   [np.zeros((60, 60), np.uint8)])
    small_boxes, _ = detector.detect(np.zeros((10, 10), np.uint8))
    assert small_boxes.shape == (0, 4)
