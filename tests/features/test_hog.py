import cv2
import numpy as np
import pytest
from skimage.feature import hog as skimage_hog

from imgrec_classic.features import HOG, hog_image

# OpenCV adds Gaussian block weighting and trilinear interpolation that scikit-image
# lacks; measured correlation 0.71-0.78 with the same layout, 0.1-0.45 with a wrong one.
MIN_CORRELATION_WITH_SKIMAGE = 0.65


@pytest.mark.parametrize("name", ["camera", "coins", "astronaut"])
def test_layout_and_values_follow_scikit_image(name):
    from skimage import color, data

    image = getattr(data, name)()
    image = (color.rgb2gray(image) * 255).astype(np.uint8) if image.ndim == 3 else image
    image = cv2.resize(image, (48, 96), interpolation=cv2.INTER_AREA)
    ours = HOG(image_shape=(96, 48), cells_per_block=(3, 2)).fit_transform([image])[0]
    ref = skimage_hog(image, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(3, 2),
                      block_norm="L2-Hys")
    assert ours.shape == ref.shape
    assert np.corrcoef(ours, ref)[0, 1] >= MIN_CORRELATION_WITH_SKIMAGE


def test_vertical_edge_lies_between_the_end_bins():
    # OpenCV centres unsigned bin i on (i + 0.5) * 20 degrees: 0 degrees splits 0 and 8.
    image = np.zeros((32, 32), np.uint8)
    image[:, 16:] = 255
    cells = HOG(image_shape=(32, 32)).fit_transform([image]).reshape(3, 3, 2, 2, 9)
    energy = cells.sum(axis=(0, 1, 2, 3))
    assert energy[0] + energy[8] > 0.99 * energy.sum()
    assert energy[0] == pytest.approx(energy[8], rel=1e-4)


def test_resizes_to_image_shape(camera):
    hog = HOG(image_shape=(32, 48)).fit(None)
    assert hog.load(camera).shape == (32, 48)
    X = hog.transform([camera, camera[:100, :300]])
    assert X.shape == (2, 3 * 5 * 4 * 9) == (2, hog.n_features_out_)


def test_visualisation(camera):
    picture = HOG(image_shape=(64, 64)).visualize(camera)
    assert picture.shape == (64, 64) and picture.max() > 0
    assert hog_image(np.zeros((16, 16), np.uint8), pixels_per_cell=(4, 4)).max() == 0
