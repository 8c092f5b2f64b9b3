import numpy as np
import pytest

from imgrec_classic.robustness import CORRUPTIONS, Corruption, corrupt, evaluate_under_corruptions


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_severity_zero_is_identity_and_distortion_grows(kind, astronaut):
    image = astronaut[::2, ::2]
    np.testing.assert_array_equal(corrupt(image, kind, 0), image)
    distortion = [np.abs(corrupt(image, kind, s, np.random.default_rng(0)).astype(float)
                         - image).mean() for s in range(6)]
    assert distortion[0] == 0
    assert all(b > a for a, b in zip(distortion, distortion[1:], strict=False)), distortion


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_shapes_dtype_and_gray(kind, camera):
    gray = camera[::4, ::4]
    out = corrupt(gray, kind, 3, np.random.default_rng(1))
    assert out.shape == gray.shape and out.dtype == np.uint8


def test_deterministic_per_image_and_lazy_equals_eager(tmp_path, astronaut):
    import cv2

    images = [astronaut[::3, ::3], astronaut[::4, ::4]]
    a = Corruption("gaussian_noise", 4, random_state=7).fit_transform(images)
    b = Corruption("gaussian_noise", 4, random_state=7).fit_transform(images)
    c = Corruption("gaussian_noise", 4, random_state=8).fit_transform(images)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])
    paths = []
    for i, im in enumerate(images):
        paths.append(str(tmp_path / f"{i}.png"))
        cv2.imwrite(paths[-1], im[..., ::-1])
    from imgrec_classic.preprocessing import load_image

    lazy = Corruption("gaussian_noise", 4, random_state=7).fit_transform(paths)
    np.testing.assert_array_equal(load_image(lazy[1]), a[1])


def test_bad_arguments(camera):
    with pytest.raises(ValueError, match="unknown corruption"):
        corrupt(camera, "fog", 1)
    with pytest.raises(ValueError, match="severity"):
        corrupt(camera, "blur", 6)
    with pytest.raises(ValueError):
        Corruption("blur", 9).fit([camera])


def test_evaluation_agrees_with_a_manual_loop():
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    from imgrec_classic.datasets import load_opencv_digits
    from imgrec_classic.features import HOG

    digits = load_opencv_digits()
    X, y = digits.images[::10], digits.target[::10]
    model = make_pipeline(HOG(image_shape=(24, 24), pixels_per_cell=(6, 6)), SVC()).fit(X, y)
    X_test, y_test = list(digits.images[5::50]), digits.target[5::50]
    result = evaluate_under_corruptions(model, X_test, y_test, corruptions=["blur", "occlusion"],
                                        severities=[1, 5], random_state=3)
    for kind in ("blur", "occlusion"):
        for severity in (1, 5):
            manual = np.mean(model.predict(
                [corrupt(im, kind, severity, np.random.default_rng([3, i]))
                 for i, im in enumerate(X_test)]) == y_test)
            assert result["accuracy"][kind][severity] == pytest.approx(manual)
    assert result["clean_accuracy"] == pytest.approx(np.mean(model.predict(X_test) == y_test))
    values = [a for row in result["accuracy"].values() for a in row.values()]
    assert result["mean_corruption_accuracy"] == pytest.approx(np.mean(values))
