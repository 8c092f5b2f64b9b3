from pathlib import Path

import cv2
import numpy as np
import pytest

from imgrec_classic.features import DenseSIFT, dense_sift, root_sift
from imgrec_classic.features.dense_sift import (
    _WINDOW_WEIGHTS,
    _describe_size,
    _orientation_planes,
    dense_grid,
)
from imgrec_classic.features.sift import l2_clip_normalize

GOLDEN = Path(__file__).parent / "golden" / "dense_sift_camera.npy"

# Floors for agreement with OpenCV's SIFT on the same upright keypoints; measured
# median correlation 0.99 and nearest-neighbour rate 0.999 on 256x256 photographs.
MIN_MEDIAN_CORRELATION = 0.97
MIN_NN_MATCH_RATE = 0.95


def opencv_reference(image, positions, size):
    """OpenCV's SIFT descriptors at the same centres, for bin size ``size``.

    OpenCV's spatial bin is 1.5 x KeyPoint.size wide (SIFT_DESCR_SCL_FCTR * size / 2).
    """
    keypoints = [cv2.KeyPoint(float(x), float(y), size / 1.5, 0) for x, y in positions]
    kept, ref = cv2.SIFT_create().compute(image, keypoints)
    assert len(kept) == len(keypoints)
    return ref / np.linalg.norm(ref, axis=1, keepdims=True)


@pytest.mark.parametrize("size", [4, 8])
def test_agrees_with_opencv_sift(camera, size):
    image = cv2.resize(camera, (256, 256), interpolation=cv2.INTER_AREA)
    # magnif 5 smooths by ~1.6 px at size 8, like OpenCV's first octave.
    positions, _, ours = dense_sift(image, step=6, sizes=(size,), magnif=size / 1.6)
    ref = opencv_reference(image, positions, size)
    textured = ref.std(axis=1) > 0
    corr = [np.corrcoef(a, b)[0, 1] for a, b in zip(ours[textured], ref[textured], strict=True)]
    assert np.median(corr) >= MIN_MEDIAN_CORRELATION
    d2 = (ours ** 2).sum(1)[:, None] - 2 * ours @ ref.T + (ref ** 2).sum(1)[None]
    assert (d2.argmin(axis=1) == np.arange(len(ours))).mean() >= MIN_NN_MATCH_RATE


def test_agrees_with_opencv_on_caltech(caltech_paths):
    from imgrec_classic.io import read_image

    image = cv2.resize(read_image(caltech_paths[0], "gray"), (256, 256))
    positions, _, ours = dense_sift(image, step=8, sizes=(8,), magnif=5)
    ref = opencv_reference(image, positions, 8)
    corr = [np.corrcoef(a, b)[0, 1] for a, b in zip(ours, ref, strict=True) if b.std() > 0]
    assert np.median(corr) >= MIN_MEDIAN_CORRELATION


def test_vertical_edge_falls_in_orientation_zero():
    image = np.zeros((64, 64), np.uint8)
    image[:, 32:] = 255  # dark to bright along +x: gradient points along +x
    _, _, desc = dense_sift(image, step=4, sizes=(4,), magnif=0)
    cells = desc.reshape(-1, 4, 4, 8)
    energy = cells.sum(axis=(1, 2))
    textured = energy.sum(axis=1) > 0
    assert textured.any() and not textured.all()
    np.testing.assert_allclose(energy[textured][:, 1:], 0, atol=1e-6)


def test_horizontal_edge_orientation_follows_opencv_y_up():
    image = np.zeros((64, 64), np.uint8)
    image[:32] = 255  # bright on top: gradient points up, 90 degrees with y up = bin 2
    _, _, desc = dense_sift(image, step=4, sizes=(4,), magnif=0)
    energy = desc.reshape(-1, 4, 4, 8).sum(axis=(1, 2))
    textured = energy.sum(axis=1) > 0
    assert np.allclose(np.delete(energy[textured], 2, axis=1), 0, atol=1e-6)


def test_spatial_bins_are_rows_from_the_top():
    image = np.zeros((13, 13), np.uint8)
    image[2:] = 255  # an edge near the top of the single 13x13 patch
    positions, _, desc = dense_sift(image, step=100, sizes=(4,), magnif=0)
    assert positions.tolist() == [[6.0, 6.0]]
    rows = desc.reshape(4, 4, 8).sum(axis=(1, 2))
    assert rows[0] > rows[1] > 0
    np.testing.assert_array_equal(rows[2:], 0)


def test_grid_shapes_and_shared_centres(rng):
    image = rng.integers(0, 256, (70, 90), dtype=np.uint8)
    positions, scales, desc = dense_sift(image, step=5, sizes=(4, 6, 8))
    xs, ys = dense_grid(image.shape, 5, 8)
    n = xs.size * ys.size
    assert desc.shape == (3 * n, 128) and desc.dtype == np.float32
    assert scales.tolist() == [4] * n + [6] * n + [8] * n
    np.testing.assert_array_equal(positions[:n], positions[n:2 * n])
    assert positions[:, 0].min() >= 1.5 * 8 and positions[:, 0].max() <= 89 - 1.5 * 8
    np.testing.assert_allclose(np.linalg.norm(desc, axis=1), 1, rtol=1e-5)
    assert desc.max() < 0.5  # clipped at 0.2, then renormalised


def test_flat_and_tiny_images():
    _, _, flat = dense_sift(np.full((40, 40), 128, np.uint8), step=4, sizes=(4,))
    assert flat.shape[0] > 0 and np.all(flat == 0) and np.isfinite(flat).all()
    positions, scales, tiny = dense_sift(np.zeros((10, 10), np.uint8), sizes=(8,))
    assert tiny.shape == (0, 128) and positions.shape == (0, 2) and scales.shape == (0,)


def test_contrast_threshold_drops_flat_patches(rng):
    image = np.full((64, 128), 100, np.uint8)
    image[:, 64:] = rng.integers(0, 256, (64, 64))
    positions, _, desc = dense_sift(image, step=4, sizes=(4,), contrast_threshold=0.01)
    _, _, everything = dense_sift(image, step=4, sizes=(4,))
    assert 0 < len(desc) < len(everything)
    assert positions[:, 0].min() > 64 - 2 * 4  # only patches touching the noise survive
    assert np.all(np.linalg.norm(desc, axis=1) > 0.99)


def test_contrast_threshold_can_drop_everything():
    flat = np.full((64, 64), 100, np.uint8)
    positions, scales, desc = dense_sift(flat, step=4, sizes=(4, 8), contrast_threshold=0.01,
                                         root=True)
    assert desc.shape == (0, 128) and positions.shape == (0, 2) and scales.shape == (0,)


def test_root_option(rng):
    image = rng.integers(0, 256, (48, 48), dtype=np.uint8)
    _, _, plain = dense_sift(image, step=8, sizes=(4,))
    _, _, rooted = dense_sift(image, step=8, sizes=(4,), root=True)
    np.testing.assert_allclose(rooted, root_sift(plain), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(rooted, axis=1), 1, rtol=1e-5)


def test_uint8_and_float_input_agree(rng):
    image = rng.integers(0, 256, (48, 48), dtype=np.uint8)
    _, _, a = dense_sift(image, step=8, sizes=(4,))
    _, _, b = dense_sift(image / 255.0, step=8, sizes=(4,))
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_rejects_colour_image():
    with pytest.raises(ValueError, match="grayscale"):
        dense_sift(np.zeros((32, 32, 3)))


def test_golden_regression(camera):
    """Guards against silent drift.

    If the algorithm changes on purpose, regenerate with
    ``np.save(GOLDEN, dense_sift(camera[::4, ::4], step=16, sizes=(4, 8))[2])``.
    """
    _, _, desc = dense_sift(camera[::4, ::4], step=16, sizes=(4, 8))
    golden = np.load(GOLDEN)
    assert golden.shape == (98, 128)
    np.testing.assert_allclose(desc, golden, atol=1e-5)


def test_orientation_planes_equal_the_circular_distance_rule(rng):
    """Every plane is mag * max(0, 1 - d), d the circular distance in bins, to the bit
    (the implementation wraps only the two end planes, where the rule can differ)."""
    image = cv2.GaussianBlur(rng.random((61, 47), dtype=np.float32), (0, 0), 0.8)
    mag, planes = _orientation_planes(image)
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=1, scale=0.5)
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=1, scale=-0.5)
    t = cv2.cartToPolar(gx, gy)[1] * np.float32(8 / (2 * np.pi))
    for o in range(8):
        d = np.abs(t - np.float32(o))
        expected = np.maximum(1 - np.minimum(d, 8 - d), 0) * mag
        assert np.array_equal(planes[..., o], expected), o


@pytest.mark.parametrize("threshold", [None, 0.02])
def test_descriptors_equal_whole_grid_normalisation(rng, threshold):
    """Gathering and normalising a few grid rows at a time gives the same bits as
    normalising the whole gathered grid at once."""
    image = cv2.GaussianBlur(rng.random((150, 170), dtype=np.float32), (0, 0), 1.0)
    _, _, got = dense_sift(image, step=2, sizes=(4,), magnif=0, contrast_threshold=threshold,
                           root=True)
    xs, ys = dense_grid(image.shape, 2, 4)
    keep, view = _describe_size(image, 4, 2, xs, ys, threshold)
    assert keep.sum() > 0 and len(ys) > 1024 // len(xs)  # several blocks of grid rows
    raw = view[keep].reshape(-1, 128)
    expected = l2_clip_normalize(raw, weights=_WINDOW_WEIGHTS, root=True)
    assert np.array_equal(got, expected)


def test_estimator_positions_are_normalised(camera):
    d = DenseSIFT(step=16, sizes=(4, 8)).fit_transform([camera, camera[:256]])
    assert len(d) == 2 and d.n_dims == 128
    assert d.positions.min() >= 0 and d.positions.max() < 1
    assert set(np.unique(d.scales)) == {4, 8}
    # The same pixel grid on a half-height image gives the same x, different y.
    assert d.counts[1] < d.counts[0]


@pytest.mark.parametrize("sizes", [(), (0,), (4.5,), "8"])
def test_estimator_rejects_bad_sizes(sizes):
    with pytest.raises((ValueError, TypeError)):
        DenseSIFT(sizes=sizes).fit([np.zeros((32, 32))])
