import numpy as np
import pytest

torch = pytest.importorskip("torch")

from imgrec_classic.baselines import CNNClassifier  # noqa: E402
from imgrec_classic.robustness import fgsm, pgd, random_search_attack  # noqa: E402


@pytest.fixture(scope="module")
def data():
    from imgrec_classic.datasets import load_opencv_digits

    digits = load_opencv_digits()
    keep = digits.target < 3
    X, y = digits.images[keep][::3], digits.target[keep][::3]
    return X, y


@pytest.fixture(scope="module")
def cnn(data):
    X, y = data
    return CNNClassifier(input_size=20, color="gray", channels=(8, 16), hidden=32, epochs=8,
                         flip=False, crop_padding=0, n_threads=1, random_state=0).fit(X, y)


@pytest.mark.parametrize("attack", [fgsm, pgd])
def test_white_box_attacks_stay_in_budget_and_hurt(cnn, data, attack):
    X, y = data
    eps = 12 / 255
    adv = attack(cnn, X[:60], y[:60], epsilon=eps)
    assert len(adv) == 60 and adv[0].shape == (20, 20) and adv[0].dtype == np.uint8
    diff = np.abs(np.stack(adv).astype(int) - X[:60].astype(int))
    assert diff.max() <= 12
    clean_acc = np.mean(cnn.predict(X[:60]) == y[:60])
    adv_acc = np.mean(cnn.predict(np.stack(adv)) == y[:60])
    assert adv_acc < clean_acc


def test_pgd_is_at_least_as_strong_as_fgsm(cnn, data):
    X, y = data
    eps = 8 / 255
    acc_fgsm = np.mean(cnn.predict(np.stack(fgsm(cnn, X, y, eps))) == y)
    acc_pgd = np.mean(cnn.predict(np.stack(pgd(cnn, X, y, eps, steps=10))) == y)
    assert acc_pgd <= acc_fgsm + 0.02


def test_random_search_stays_in_budget(data):
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    from imgrec_classic.features import HOG

    X, y = data
    model = make_pipeline(HOG(image_shape=(20, 20), pixels_per_cell=(5, 5)), SVC()).fit(X, y)
    result = random_search_attack(model, list(X[:20]), y[:20], epsilon=24 / 255,
                                  max_queries=40, random_state=0)
    diff = np.abs(np.stack(result["images"]).astype(int) - X[:20].astype(int))
    assert diff.max() <= 24
    assert result["queries"].max() <= 41
    broken = result["success"]
    assert (model.predict(np.stack(result["images"]))[broken] != y[:20][broken]).all()
    assert 0 <= result["success_rate"] <= 1
