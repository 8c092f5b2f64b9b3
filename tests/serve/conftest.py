import numpy as np
import pytest

from imgrec_classic.datasets import load_opencv_digits
from imgrec_classic.persistence import save_model
from imgrec_classic.pipelines import preset


@pytest.fixture(scope="session")
def digit_model_path(tmp_path_factory):
    """A small HOG + SVM on the embedded digits, classes named 'zero'...'nine', saved."""
    digits = load_opencv_digits()
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])
    model = preset("hog-svm", features__hog__image_shape=(24, 24)).fit(
        digits.images[::5], names[digits.target[::5]])
    path = tmp_path_factory.mktemp("model") / "digits.imgrec"
    save_model(model, path, preset="hog-svm", target_names=list(names))
    return path


@pytest.fixture(scope="session")
def digit_png(tmp_path_factory):
    """A '3' from the embedded sheet, enlarged, as PNG bytes."""
    import cv2

    digits = load_opencv_digits()
    image = digits.images[np.flatnonzero(digits.target == 3)[7]]
    return cv2.imencode(".png", cv2.resize(image, (64, 64)))[1].tobytes()
