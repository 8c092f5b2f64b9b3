import numpy as np
import pytest

from imgrec_classic.features import DenseSIFT, LocalColorStatistics, local_color_statistics
from imgrec_classic.features.dense_sift import dense_grid


def _reference(image, step, size):
    """Mean and std of each RGB channel over every cell, with explicit windows."""
    pad = size  # the edge cells reach past the image: OpenCV's BORDER_REFLECT is "symmetric"
    rgb = np.pad(image.astype(np.float64) / 255, ((pad, pad), (pad, pad), (0, 0)), "symmetric")
    xs, ys = dense_grid(image.shape[:2], step, size)
    rows = []
    for y in ys:
        for x in xs:
            cells = []
            for i in range(4):
                for j in range(4):
                    cy = int(np.floor(ys[0] - 1.5 * size)) + int(y - ys[0]) + i * size
                    cx = int(np.floor(xs[0] - 1.5 * size)) + int(x - xs[0]) + j * size
                    top, left = pad + cy - size // 2, pad + cx - size // 2
                    window = rgb[top:top + size, left:left + size].reshape(-1, 3)
                    cells.append(np.concatenate([window.mean(0), window.std(0)]))
            rows.append(np.concatenate(cells))
    return np.array(rows)


@pytest.mark.parametrize("size", [4, 5, 8])
def test_matches_explicit_windows(size):
    image = np.random.default_rng(size).integers(0, 256, (70, 90, 3), np.uint8)
    _, _, desc = local_color_statistics(image, step=6, sizes=(size,))
    np.testing.assert_allclose(desc, _reference(image, 6, size), atol=2e-3)


def test_constant_colour_gives_its_mean_and_no_spread():
    image = np.zeros((64, 64, 3), np.uint8)
    image[:] = (51, 102, 204)
    _, _, desc = local_color_statistics(image, step=8, sizes=(4, 8))
    cells = desc.reshape(len(desc), 16, 6)
    np.testing.assert_allclose(cells[..., :3], np.broadcast_to([0.2, 0.4, 0.8], cells[..., :3]
                                                               .shape), atol=1e-5)
    np.testing.assert_allclose(cells[..., 3:], 0, atol=2e-3)


def test_shares_the_dense_sift_grid():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (80, 100, 3), np.uint8) for _ in range(2)]
    color = LocalColorStatistics(step=5, sizes=(4, 6)).fit_transform(images)
    sift = DenseSIFT(step=5, sizes=(4, 6)).fit_transform(images)
    assert color.n_dims == 96 and len(color) == 2
    np.testing.assert_allclose(color.positions, sift.positions)
    np.testing.assert_array_equal(color.scales, sift.scales)


def test_gray_input_to_the_function_is_an_error_and_tiny_images_are_empty():
    with pytest.raises(ValueError, match="RGB"):
        local_color_statistics(np.zeros((32, 32), np.uint8))
    positions, scales, desc = local_color_statistics(np.zeros((10, 10, 3), np.uint8), 4, (8,))
    assert desc.shape == (0, 96) and positions.shape == (0, 2)
    with pytest.raises(ValueError, match="sizes"):
        LocalColorStatistics(sizes=()).fit([np.zeros((32, 32, 3), np.uint8)])
