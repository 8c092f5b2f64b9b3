import numpy as np
import pytest
from skimage.feature import local_binary_pattern

from imgrec_classic.features import LBP


def reference(image, n_points, radius, grid):
    """Per-cell histograms computed with an explicit loop over cells."""
    codes = local_binary_pattern(image, n_points, radius, "uniform")
    rows = np.array_split(np.arange(image.shape[0]), grid[0])
    cols = np.array_split(np.arange(image.shape[1]), grid[1])
    out = []
    for r in rows:
        for c in cols:
            hist = np.bincount(codes[np.ix_(r, c)].astype(int).ravel(), minlength=n_points + 2)
            out.append(hist / hist.sum())
    return np.concatenate(out)


@pytest.mark.parametrize("grid, points, radius", [((4, 4), 8, 1), ((3, 2), 16, 2)])
def test_matches_explicit_cell_loop(camera, grid, points, radius):
    image = camera[::4, ::4]
    ours = LBP(n_points=points, radius=radius, grid=grid).fit_transform([image])[0]
    np.testing.assert_allclose(ours, reference(image, points, radius, grid), atol=1e-6)


def test_flat_image_has_one_pattern():
    X = LBP(grid=(2, 2)).fit_transform([np.full((20, 20), 7, np.uint8)])
    cells = X.reshape(4, 10)
    np.testing.assert_allclose(cells.sum(axis=1), 1)
    # Inside a flat image every neighbour ties: all bits set, uniform code n_points.
    # Border pixels see scikit-image's padding, hence not 100 %.
    assert (cells.argmax(axis=1) == 8).all() and (cells[:, 8] >= 0.8).all()


def test_dimensions_per_method():
    for method, n in [("uniform", 10), ("nri_uniform", 59), ("default", 256)]:
        lbp = LBP(method=method, grid=(1, 1)).fit(None)
        assert lbp.n_features_out_ == n
        assert lbp.transform([np.eye(16, dtype=np.uint8)]).shape == (1, n)
