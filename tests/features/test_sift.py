import cv2
import numpy as np
import pytest

from imgrec_classic.features import SIFT, root_sift
from imgrec_classic.features.sift import l2_clip_normalize
from imgrec_classic.io import read_image

MIN_CORRECT_MATCHES = 40
MIN_MATCH_PRECISION = 0.7  # measured 0.73 (scale 0.5) to 0.99 (90 degrees)


def _transform(image, angle, scale):
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    return cv2.warpAffine(image, matrix, (w, h)), matrix


def _matches(d, matrix, shape, ratio=0.8):
    """Lowe ratio-test matches from image 0 to image 1, and how many are geometrically right."""
    a, b = d[0], d[1]
    dist = np.sqrt(np.maximum((a ** 2).sum(1)[:, None] - 2 * a @ b.T + (b ** 2).sum(1), 0))
    nearest = np.argsort(dist, axis=1)[:, :2]
    rows = np.arange(len(a))
    good = dist[rows, nearest[:, 0]] < ratio * dist[rows, nearest[:, 1]]
    size = np.float32([shape[1], shape[0]])
    src = d.positions_of(0)[good] * size
    dst = d.positions_of(1)[nearest[good, 0]] * size
    expected = src @ matrix[:, :2].T + matrix[:, 2]
    correct = np.linalg.norm(expected - dst, axis=1) < 3
    return int(good.sum()), int(correct.sum())


@pytest.mark.parametrize("angle, scale", [(30, 1.0), (90, 1.0), (0, 0.5), (20, 0.7)])
@pytest.mark.parametrize("root", [False, True])
def test_matches_survive_rotation_and_scale(camera, angle, scale, root):
    moved, matrix = _transform(camera, angle, scale)
    d = SIFT(root=root).fit_transform([camera, moved])
    n_good, n_correct = _matches(d, matrix, camera.shape)
    assert n_correct >= MIN_CORRECT_MATCHES
    assert n_correct / n_good >= MIN_MATCH_PRECISION


def test_matches_on_caltech_image(caltech_paths):
    image = read_image(caltech_paths[0], "gray")
    moved, matrix = _transform(image, 25, 0.8)
    n_good, n_correct = _matches(SIFT().fit_transform([image, moved]), matrix, image.shape)
    assert n_correct >= 20 and n_correct / n_good >= MIN_MATCH_PRECISION


def test_descriptors_match_opencv_up_to_scale(camera):
    d = SIFT(n_features=200).fit_transform([camera])
    keypoints, ref = cv2.SIFT_create(200).detectAndCompute(camera, None)
    assert len(d[0]) == len(keypoints)
    np.testing.assert_allclose(d[0], ref / np.linalg.norm(ref, axis=1, keepdims=True), atol=1e-6)
    np.testing.assert_allclose(d.scales, [k.size for k in keypoints], rtol=1e-6)
    np.testing.assert_allclose(d.positions * [512, 512], cv2.KeyPoint_convert(keypoints),
                               atol=1e-3)


def test_root_sift_is_hellinger(rng):
    x = rng.random((5, 128)).astype(np.float32)
    r = root_sift(x)
    np.testing.assert_allclose(np.linalg.norm(r, axis=1), 1, rtol=1e-5)
    # <root(a), root(b)> is the Hellinger kernel of the L1-normalised vectors.
    p = x / x.sum(1, keepdims=True)
    np.testing.assert_allclose(r @ r.T, np.sqrt(p[:, None] * p[None]).sum(-1), rtol=1e-5)
    np.testing.assert_array_equal(root_sift(np.zeros((1, 128))), 0)


def test_n_features_caps_keypoints(camera):
    assert SIFT(n_features=50).fit_transform([camera]).counts[0] <= 53  # ties may add a few


def test_normalisation_options_match_the_plain_steps(rng):
    raw = rng.random((3000, 128), dtype=np.float32)
    weights = rng.random(128, dtype=np.float32)
    expected = root_sift(l2_clip_normalize(raw * weights))
    out = np.empty_like(raw)
    got = l2_clip_normalize(raw, weights=weights, root=True, out=out)
    assert got is out
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    plain = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    plain = np.minimum(plain, 0.2)
    np.testing.assert_allclose(l2_clip_normalize(raw),
                               plain / np.linalg.norm(plain, axis=1, keepdims=True), rtol=1e-5)
    assert not l2_clip_normalize(np.zeros((2, 128), np.float32)).any()
