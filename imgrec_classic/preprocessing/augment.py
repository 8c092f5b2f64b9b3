"""Training-time augmentation: more training images in ``fit``, nothing at predict time."""

from __future__ import annotations

from numbers import Integral, Real

import cv2
import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..utils._param_validation import Interval
from ..utils.images import as_image_list
from .pending import PendingImage

__all__ = ["Augmented", "Augmenter", "RandomAugmentation"]


class RandomAugmentation:
    """One drawn augmentation: fixed parameters, applied by ``apply(image)``.

    Drawn by :class:`Augmenter` in the main process, so the result does not depend
    on which worker applies it.
    """

    __slots__ = ("flip", "angle", "crop", "center", "gain", "bias", "shift")

    def __init__(self, flip, angle, crop, center, gain, bias, shift):
        self.flip, self.angle, self.crop, self.center = flip, angle, crop, center
        self.gain, self.bias, self.shift = gain, bias, shift

    def __getstate__(self):
        return tuple(getattr(self, k) for k in self.__slots__)

    def __setstate__(self, state):
        for k, v in zip(self.__slots__, state, strict=True):
            setattr(self, k, v)

    def apply(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        if self.flip:
            image = image[:, ::-1]
        # Rotation about the crop centre, then the crop scaled back to full size: one warp.
        cx, cy = self.center[0] * w, self.center[1] * h
        matrix = cv2.getRotationMatrix2D((cx, cy), self.angle, 1.0 / self.crop)
        matrix[:, 2] += (w / 2 - cx, h / 2 - cy)
        image = cv2.warpAffine(np.ascontiguousarray(image), matrix, (w, h),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        out = image.astype(np.float32) * self.gain + self.bias
        if out.ndim == 3:
            out += np.asarray(self.shift, np.float32)
        return np.clip(out, 0, 255).astype(np.uint8)


class Augmenter(BaseEstimator):
    """Random flips, rotations, crops, colour and brightness/contrast changes.

    A sampler in the imbalanced-learn sense: ``fit_resample(X, y)`` returns the
    training images plus ``n_augmented`` altered copies of each (with their labels).
    It never runs at predict time. Use it through :class:`Augmented`, which wraps
    any estimator or scikit-learn ``Pipeline``, or as a step of imbalanced-learn's
    ``Pipeline``, which calls samplers during ``fit`` only.

    The copies are :class:`~imgrec_classic.preprocessing.pending.PendingImage` objects: nothing
    is decoded here, the feature extractor's workers apply each drawn change.

    Parameters
    ----------
    n_augmented : int, default=1
        Altered copies per training image.
    keep_original : bool, default=True
        Keep the original images too.
    flip : float, default=0.5
        Probability of a left-right mirror (0: never, 1: every copy).
    max_rotation : float, default=10
        Rotation drawn uniformly in [-max_rotation, max_rotation] degrees.
    crop_scale : (float, float), default=(0.8, 1.0)
        Side of the random crop as a fraction of the image's, drawn uniformly; the
        crop is scaled back to the original size.
    brightness, contrast : float, default=0.1
        Intensity ``v * c + 255 * b`` with ``c`` in ``1 +- contrast`` and ``b`` in
        ``+- brightness``.
    color_shift : float, default=0.05
        Per-channel offsets in ``+- 255 * color_shift`` (colour images only).
    random_state : int, RandomState instance or None, default=None

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.preprocessing import Augmenter
    >>> X = [np.zeros((8, 8, 3), np.uint8), np.ones((8, 8, 3), np.uint8)]
    >>> X2, y2 = Augmenter(n_augmented=2, random_state=0).fit_resample(X, [0, 1])
    >>> len(X2), y2.tolist()
    (6, [0, 1, 0, 0, 1, 1])
    """

    _parameter_constraints = {
        "n_augmented": [Interval(Integral, 0, None, closed="left")],
        "keep_original": ["boolean"],
        "flip": [Interval(Real, 0, 1, closed="both")],
        "max_rotation": [Interval(Real, 0, 180, closed="both")],
        "crop_scale": [tuple, list],
        "brightness": [Interval(Real, 0, 1, closed="both")],
        "contrast": [Interval(Real, 0, 1, closed="both")],
        "color_shift": [Interval(Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_augmented=1, keep_original=True, flip=0.5, max_rotation=10,
                 crop_scale=(0.8, 1.0), brightness=0.1, contrast=0.1, color_shift=0.05,
                 random_state=None):
        self.n_augmented = n_augmented
        self.keep_original = keep_original
        self.flip = flip
        self.max_rotation = max_rotation
        self.crop_scale = crop_scale
        self.brightness = brightness
        self.contrast = contrast
        self.color_shift = color_shift
        self.random_state = random_state

    def fit_resample(self, X, y):
        """The training set with augmented copies, originals first.

        Parameters
        ----------
        X : sequence of images
        y : array-like of shape (n_images,)

        Returns
        -------
        X_resampled : list
            ``X`` (if ``keep_original``) followed by the copies of image 0, then of
            image 1, and so on.
        y_resampled : ndarray
        """
        self._validate_params()
        low, high = self.crop_scale
        if not 0 < low <= high <= 1:
            raise ValueError(f"crop_scale must satisfy 0 < low <= high <= 1, got {self.crop_scale}")
        images, y = as_image_list(X), np.asarray(y)
        if len(images) != len(y):
            raise ValueError(f"X has {len(images)} images but y has {len(y)} labels")
        rng = check_random_state(self.random_state)
        copies = [PendingImage.chain(im, self._draw(rng))
                  for im in images for _ in range(self.n_augmented)]
        out_x = (images if self.keep_original else []) + copies
        out_y = np.concatenate([y] * self.keep_original + [np.repeat(y, self.n_augmented)])
        if not out_x:
            raise ValueError("n_augmented=0 with keep_original=False leaves no images")
        return out_x, out_y

    def _draw(self, rng) -> RandomAugmentation:
        crop = rng.uniform(*self.crop_scale)
        margin = (1 - crop) / 2
        return RandomAugmentation(
            flip=bool(rng.random_sample() < self.flip),
            angle=float(rng.uniform(-self.max_rotation, self.max_rotation)),
            crop=float(crop),
            center=tuple(0.5 + rng.uniform(-margin, margin, 2)),
            gain=float(rng.uniform(1 - self.contrast, 1 + self.contrast)),
            bias=float(255 * rng.uniform(-self.brightness, self.brightness)),
            shift=tuple(255 * rng.uniform(-self.color_shift, self.color_shift, 3)))


def _estimator_has(name):
    return lambda self: hasattr(self.estimator, name)


class Augmented(MetaEstimatorMixin, BaseEstimator):
    """Fit ``estimator`` on an augmented training set; predict on images as given.

    The scikit-learn way to use :class:`Augmenter`: a scikit-learn ``Pipeline``
    cannot change the number of samples, so the augmentation wraps the pipeline.
    Cross-validation and grid search see one estimator and augment only the
    training folds.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Fitted (a clone) on ``augmenter.fit_resample(X, y)``.
    augmenter : Augmenter, default=None
        ``None`` uses ``Augmenter()`` (one flipped/rotated/cropped copy per image).

    Attributes
    ----------
    estimator_ : the fitted clone of ``estimator``
    classes_ : ndarray

    Examples
    --------
    >>> from imgrec_classic.pipelines import preset
    >>> from imgrec_classic.preprocessing import Augmented, Augmenter
    >>> mirror = Augmenter(flip=1.0, max_rotation=0, crop_scale=(1, 1), brightness=0,
    ...                    contrast=0, color_shift=0)
    >>> model = Augmented(preset("hog-svm"), mirror)
    >>> # model.fit(train_images, y) trains on the images and their mirror images
    """

    def __init__(self, estimator, augmenter=None):
        self.estimator = estimator
        self.augmenter = augmenter

    def fit(self, X, y, **fit_params):
        """Augment ``(X, y)`` and fit a clone of ``estimator`` on the result."""
        augmenter = clone(self.augmenter) if self.augmenter is not None else Augmenter()
        X_aug, y_aug = augmenter.fit_resample(X, y)
        self.estimator_ = clone(self.estimator).fit(X_aug, y_aug, **fit_params)
        if hasattr(self.estimator_, "classes_"):
            self.classes_ = self.estimator_.classes_
        return self

    @available_if(_estimator_has("predict"))
    def predict(self, X):
        check_is_fitted(self)
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        check_is_fitted(self)
        return self.estimator_.decision_function(X)

    @available_if(_estimator_has("transform"))
    def transform(self, X):
        check_is_fitted(self)
        return self.estimator_.transform(X)

    @available_if(_estimator_has("score"))
    def score(self, X, y, sample_weight=None):
        check_is_fitted(self)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.estimator_type = inner.estimator_type
        tags.input_tags.two_d_array = False
        return tags
