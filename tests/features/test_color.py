import numpy as np
import pytest

from imgrec_classic.features import ColorHistogram


def test_pure_colours_fall_in_expected_bins():
    image = np.zeros((10, 20, 3), np.uint8)
    image[:, :10] = (255, 0, 0)  # red: hue 0, full saturation and value
    image[:, 10:] = (0, 0, 255)  # blue: OpenCV hue 120 of 180
    hist = ColorHistogram(bins=(6, 2, 2), grid=(1, 2)).fit_transform([image])[0].reshape(2, 6, 2, 2)
    assert hist[0, 0, 1, 1] == 1  # left cell: all red
    assert hist[1, 4, 1, 1] == 1  # right cell: all blue (120 * 6 // 180 = 4)
    global_hist = ColorHistogram(bins=(6, 2, 2)).fit_transform([image])[0].reshape(6, 2, 2)
    np.testing.assert_allclose([global_hist[0, 1, 1], global_hist[4, 1, 1]], [0.5, 0.5])


def test_gray_input_is_accepted_and_unsaturated():
    hist = ColorHistogram(bins=(4, 4, 4)).fit_transform([np.full((8, 8), 200, np.uint8)])[0]
    assert hist.reshape(4, 4, 4)[0, 0, 3] == 1


@pytest.mark.parametrize("bins, grid", [((8, 4, 4), (4, 4)), ((5, 3, 7), (1, 1)),
                                        ((16, 1, 1), (2, 3))])
def test_histograms_equal_numpy_histogramdd_per_cell(bins, grid):
    import cv2

    image = np.random.default_rng(1).integers(0, 256, (37, 53, 3), np.uint8)
    got = ColorHistogram(bins=bins, grid=grid).fit_transform([image])[0]
    hsv = cv2.cvtColor(image, cv2.COLOR_RGB2HSV).astype(float)
    expected = []
    for r in range(grid[0]):
        for c in range(grid[1]):
            y = np.flatnonzero(np.minimum(np.arange(37) * grid[0] // 37, grid[0] - 1) == r)
            x = np.flatnonzero(np.minimum(np.arange(53) * grid[1] // 53, grid[1] - 1) == c)
            cell = hsv[np.ix_(y, x)].reshape(-1, 3)
            counts = np.histogramdd(cell, bins=bins, range=[(0, 180), (0, 256), (0, 256)])[0]
            expected.append(counts.ravel() / len(cell))
    np.testing.assert_allclose(got, np.concatenate(expected), atol=1e-6)
