import numpy as np

from imgrec_classic.datasets import load_opencv_digits
from imgrec_classic.io import read_image

from ..conftest import dataset_path


def test_shapes_and_classes():
    digits = load_opencv_digits()
    assert digits.images.shape == (5000, 20, 20) and digits.images.dtype == np.uint8
    assert np.bincount(digits.target).tolist() == [500] * 10
    assert digits.target_names == [str(d) for d in range(10)]
    train = digits.tutorial_train
    assert train.sum() == 2500
    assert np.bincount(digits.target[train]).tolist() == [250] * 10
    assert "5,000" in digits.DESCR


def test_cells_are_cut_from_the_sheet():
    digits = load_opencv_digits()
    sheet = np.zeros((1000, 2000), np.uint8)
    for k, image in enumerate(digits.images):
        r, c = divmod(k, 100)
        sheet[r * 20:(r + 1) * 20, c * 20:(c + 1) * 20] = image
    np.testing.assert_array_equal(sheet, read_image(
        dataset_path("opencv_digits", "digits.png"), mode="gray"))
    # Ink is white on black, and every cell holds some ink.
    assert (digits.images.reshape(5000, -1).max(axis=1) > 128).all()
