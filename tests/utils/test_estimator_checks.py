import numpy as np
import pytest

from imgrec_classic.features import LBP
from imgrec_classic.utils.estimator_checks import check_image_estimator

IMAGES = list(np.random.default_rng(0).integers(0, 256, (3, 24, 24), np.uint8))


class SetsAttributeInInit(LBP):
    def __init__(self, n_points=8, radius=1, method="uniform", grid=(4, 4), max_side=None,
                 n_jobs=None, verbose=False):
        super().__init__(n_points, radius, method, grid, max_side, n_jobs, verbose)
        self.cache_ = {}


class NotDeterministic(LBP):
    def _extract(self, image, context):
        return super()._extract(image, context) + np.random.default_rng().random()


class NoFitCheck(LBP):
    def transform(self, X):
        return self._combine(self.extract_images(list(X)))


@pytest.mark.parametrize("broken", [SetsAttributeInInit, NotDeterministic, NoFitCheck])
def test_broken_estimators_are_caught(broken):
    with pytest.raises(AssertionError):
        check_image_estimator(broken(), IMAGES)


def test_good_estimator_passes():
    check_image_estimator(LBP(grid=(2, 2)), IMAGES)

