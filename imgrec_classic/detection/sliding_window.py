"""Sliding-window object detection: HOG + linear SVM with hard negative mining (Dalal & Triggs)."""

from __future__ import annotations

from numbers import Integral, Real

import cv2
import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from sklearn.svm import LinearSVC
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..features.hog import HOG
from ..io.images import read_image
from ..utils._param_validation import Interval
from ..utils.images import as_image_list
from .nms import non_max_suppression

__all__ = ["SlidingWindowDetector", "hog_blocks", "image_pyramid"]


def hog_blocks(image: np.ndarray, hog: HOG) -> np.ndarray:
    """HOG blocks of a whole grayscale image, shape (block_rows, block_cols, bh, bw, bins).

    One OpenCV pass per image; any window aligned on the cell grid is then a slice
    of this array, laid out exactly as :class:`~imgrec_classic.features.HOG` lays
    out the vector of that window (``blocks[r:r+R, c:c+C].ravel()``).
    """
    (ch, cw), (bh, bw) = hog.pixels_per_cell, hog.cells_per_block
    rows, cols = image.shape[0] // ch, image.shape[1] // cw
    if rows < bh or cols < bw:
        return np.zeros((0, 0, bh, bw, hog.orientations), np.float32)
    sized = clone(hog).set_params(image_shape=(rows * ch, cols * cw))
    descriptor = sized._context()
    values = descriptor.compute(np.ascontiguousarray(image[:rows * ch, :cols * cw]))
    shape = (cols - bw + 1, rows - bh + 1, bw, bh, hog.orientations)
    return values.reshape(shape).transpose(1, 0, 3, 2, 4)


def image_pyramid(image: np.ndarray, scales):
    """Yield ``(fy, fx, resized)`` for each scale factor (1: original size)."""
    h, w = image.shape[:2]
    for scale in scales:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        resized = image if size == (w, h) else cv2.resize(
            image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        yield size[1] / h, size[0] / w, resized


class SlidingWindowDetector(BaseEstimator):
    """Find objects with a window classifier run over an image pyramid.

    HOG is computed once per pyramid level; every window aligned on the cell grid
    is a slice of it and all windows of a level are scored in one matrix product.
    Training takes object crops and images without the object: random windows of
    the latter are the first negatives, then each round of hard negative mining
    scans them and adds the windows the current classifier gets wrong.

    Parameters
    ----------
    window : (height, width), default=(64, 64)
        Window size in pixels, a multiple of the HOG cell size.
    feature : HOG, default=None
        The window descriptor's parameters (``image_shape`` is set to ``window``);
        None uses ``HOG()`` (9 bins, 8x8 cells, 2x2 blocks).
    classifier : estimator with decision_function, default=None
        None uses ``LinearSVC(C=0.01)``.
    scales : sequence of float, default=None
        Image scale factors to scan (1: original size, 2: objects half the window
        size). None: ``max_scale``, ``max_scale / scale_step``, ... while the image
        still holds a window.
    scale_step : float, default=1.2
    max_scale : float, default=1.0
    stride : int, default=None
        Window step in pixels, rounded to whole cells; None steps one cell.
    threshold : float, default=0.0
        ``detect`` keeps windows scoring above this.
    nms_iou : float, default=0.3
        Non-maximum suppression overlap.
    hard_negative_rounds : int, default=2
    negatives_per_image : int, default=10
        Random windows drawn from each negative image for the first round.
    max_hard_negatives : int, default=10_000
        Hard negatives added per round at most (the highest-scoring first).
    flip_positives : bool, default=True
        Also train on the mirror image of every positive crop.
    random_state : int, RandomState instance or None, default=None
    n_jobs : int, default=None
        Images scanned in parallel during hard negative mining and ``detect_many``.

    Attributes
    ----------
    classifier_ : fitted classifier
    feature_ : HOG
    hard_negatives_ : list of int
        Windows added by each round of mining.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.detection import SlidingWindowDetector
    >>> rng = np.random.default_rng(0)
    >>> crops = [np.pad(np.full((16, 16), 255, np.uint8), 8) for _ in range(10)]
    >>> backgrounds = [rng.integers(0, 60, (96, 96), np.uint8) for _ in range(5)]
    >>> det = SlidingWindowDetector(window=(32, 32), random_state=0).fit(crops, backgrounds)
    >>> scene = backgrounds[0].copy(); scene[40:56, 24:40] = 255
    >>> boxes, scores = det.detect(scene)
    >>> boxes[0].round().tolist()
    [16.0, 32.0, 48.0, 64.0]
    """

    _parameter_constraints = {
        "window": [tuple, list],
        "feature": [HOG, None],
        "classifier": "no_validation",
        "scales": [tuple, list, np.ndarray, None],
        "scale_step": [Interval(Real, 1, None, closed="neither")],
        "max_scale": [Interval(Real, 0, None, closed="neither")],
        "stride": [Interval(Integral, 1, None, closed="left"), None],
        "threshold": [Real],
        "nms_iou": [Interval(Real, 0, 1, closed="both")],
        "hard_negative_rounds": [Interval(Integral, 0, None, closed="left")],
        "negatives_per_image": [Interval(Integral, 1, None, closed="left")],
        "max_hard_negatives": [Interval(Integral, 1, None, closed="left")],
        "flip_positives": ["boolean"],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(self, window=(64, 64), feature=None, classifier=None, scales=None,
                 scale_step=1.2, max_scale=1.0, stride=None, threshold=0.0, nms_iou=0.3,
                 hard_negative_rounds=2, negatives_per_image=10, max_hard_negatives=10_000,
                 flip_positives=True, random_state=None, n_jobs=None):
        self.window = window
        self.feature = feature
        self.classifier = classifier
        self.scales = scales
        self.scale_step = scale_step
        self.max_scale = max_scale
        self.stride = stride
        self.threshold = threshold
        self.nms_iou = nms_iou
        self.hard_negative_rounds = hard_negative_rounds
        self.negatives_per_image = negatives_per_image
        self.max_hard_negatives = max_hard_negatives
        self.flip_positives = flip_positives
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- training ------------------------------------------------------------------------
    def fit(self, positive_crops, negative_images):
        """Train on object crops and on images that contain no object.

        Parameters
        ----------
        positive_crops : sequence of images
            The object, framed as the window frames it; resized to ``window``.
        negative_images : sequence of images
            Any size (at least one window); no object anywhere.

        Returns
        -------
        self
        """
        self._validate_params()
        self.feature_ = self._check_feature()
        rng = check_random_state(self.random_state)
        positives = [read_image(p, mode="gray") for p in as_image_list(positive_crops)]
        negatives = [read_image(n, mode="gray") for n in as_image_list(negative_images)]
        if not positives or not negatives:
            raise ValueError("need at least one positive crop and one negative image")
        if self.flip_positives:
            positives += [np.ascontiguousarray(p[:, ::-1]) for p in positives]
        X_pos = self.feature_.transform(positives)
        X_neg = np.vstack([self._random_windows(n, rng) for n in negatives])
        self.hard_negatives_ = []
        self.classifier_ = self._train(X_pos, X_neg)
        for _ in range(self.hard_negative_rounds):
            hard = self._mine(negatives)
            self.hard_negatives_.append(len(hard))
            if not len(hard):
                break
            X_neg = np.vstack([X_neg, hard])
            self.classifier_ = self._train(X_pos, X_neg)
        return self

    def _check_feature(self) -> HOG:
        h, w = self.window
        feature = clone(self.feature) if self.feature is not None else HOG()
        feature.set_params(image_shape=(int(h), int(w)), n_jobs=None)
        feature.fit()  # validates that the window is a whole number of cells and blocks
        return feature

    def _train(self, X_pos, X_neg):
        classifier = clone(self.classifier) if self.classifier is not None else LinearSVC(C=0.01)
        X = np.vstack([X_pos, X_neg])
        y = np.r_[np.ones(len(X_pos), int), np.zeros(len(X_neg), int)]
        return classifier.fit(X, y)

    def _random_windows(self, image, rng) -> np.ndarray:
        features, _ = self._windows(image, self._scales(image.shape))
        if not len(features):
            return np.zeros((0, self.feature_.n_features_out_), np.float32)
        picked = rng.choice(len(features), min(self.negatives_per_image, len(features)),
                            replace=False)
        return features[picked]

    def _mine(self, negatives) -> np.ndarray:
        """Windows of the negative images that the classifier scores above -1 (the margin)."""
        found = Parallel(n_jobs=self.n_jobs)(delayed(self._hard_windows)(n) for n in negatives)
        features = np.vstack([f for f, _ in found])
        scores = np.concatenate([s for _, s in found])
        order = np.argsort(-scores)[:self.max_hard_negatives]
        return features[order]

    def _hard_windows(self, image):
        features, _ = self._windows(image, self._scales(image.shape))
        if not len(features):
            return features, np.zeros(0)
        scores = self.classifier_.decision_function(features)
        hard = scores > -1
        return features[hard], scores[hard]

    # -- detection -----------------------------------------------------------------------
    def detect(self, image) -> tuple[np.ndarray, np.ndarray]:
        """Objects in one image.

        Parameters
        ----------
        image : image source (path, bytes, array)

        Returns
        -------
        boxes : ndarray of shape (n, 4)
            (x_min, y_min, x_max, y_max) in the image's pixels, best first.
        scores : ndarray of shape (n,)
            Classifier scores, all above ``threshold``.
        """
        check_is_fitted(self)
        boxes, scores = self.score_windows(image)
        keep = scores > self.threshold
        boxes, scores = boxes[keep], scores[keep]
        order = non_max_suppression(boxes, scores, self.nms_iou)
        return boxes[order], scores[order]

    def detect_many(self, images) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`detect` on each image, in parallel with ``n_jobs``."""
        check_is_fitted(self)
        return Parallel(n_jobs=self.n_jobs)(delayed(self.detect)(im)
                                            for im in as_image_list(images))

    def score_windows(self, image) -> tuple[np.ndarray, np.ndarray]:
        """Every window of every pyramid level with its score (no threshold, no NMS)."""
        check_is_fitted(self)
        gray = read_image(image, mode="gray")
        features, boxes = self._windows(gray, self._scales(gray.shape))
        if not len(features):
            return np.zeros((0, 4)), np.zeros(0)
        return boxes, self.classifier_.decision_function(features)

    # -- windows -------------------------------------------------------------------------
    def _scales(self, shape) -> list[float]:
        if self.scales is not None:
            return [float(s) for s in self.scales]
        h, w = self.window
        scales, scale = [], float(self.max_scale)
        while shape[0] * scale >= h and shape[1] * scale >= w:
            scales.append(scale)
            scale /= self.scale_step
        return scales

    def _windows(self, gray, scales) -> tuple[np.ndarray, np.ndarray]:
        """Window feature vectors (n, d) and their boxes (n, 4) over the given scales."""
        hog = self.feature_
        (ch, cw), (bh, bw) = hog.pixels_per_cell, hog.cells_per_block
        win_h, win_w = self.window
        nbr, nbc = win_h // ch - bh + 1, win_w // cw - bw + 1
        step = max(1, round((self.stride or cw) / cw))
        features, boxes = [], []
        for fy, fx, level in image_pyramid(gray, scales):
            blocks = hog_blocks(level, hog)
            if blocks.shape[0] < nbr or blocks.shape[1] < nbc:
                continue
            view = np.lib.stride_tricks.sliding_window_view(blocks, (nbr, nbc), axis=(0, 1))
            view = view[::step, ::step]  # (R, C, bh, bw, bins, nbr, nbc)
            rows, cols = view.shape[:2]
            features.append(view.transpose(0, 1, 5, 6, 2, 3, 4).reshape(rows * cols, -1))
            r, c = np.meshgrid(np.arange(rows) * step * ch, np.arange(cols) * step * cw,
                               indexing="ij")
            y, x = r.ravel() / fy, c.ravel() / fx
            boxes.append(np.column_stack([x, y, x + win_w / fx, y + win_h / fy]))
        if not features:
            return np.zeros((0, hog.n_features_out_), np.float32), np.zeros((0, 4))
        return np.vstack(features), np.vstack(boxes)
