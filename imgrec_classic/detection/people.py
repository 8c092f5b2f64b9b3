"""OpenCV's pretrained HOG people detector, returning the library's box format."""

from __future__ import annotations

from numbers import Integral, Real

import cv2
import numpy as np
from sklearn.base import BaseEstimator

from ..io.images import read_image
from ..utils._param_validation import Interval
from .nms import non_max_suppression

__all__ = ["PeopleDetector"]


class PeopleDetector(BaseEstimator):
    """Pedestrians, with OpenCV's HOG + linear SVM trained by Dalal & Triggs (64x128 window).

    Nothing to train: ``detect`` works at once (``fit`` exists for pipelines and
    does nothing).

    Parameters
    ----------
    win_stride : int, default=8
        Window step in pixels.
    padding : int, default=8
    scale : float, default=1.05
        Pyramid step.
    threshold : float, default=0.0
        Minimum SVM score kept.
    nms_iou : float, default=0.3

    Examples
    --------
    >>> import numpy as np
    >>> boxes, scores = PeopleDetector().detect(np.zeros((200, 120), np.uint8))
    >>> boxes.shape
    (0, 4)
    """

    _parameter_constraints = {
        "win_stride": [Interval(Integral, 1, None, closed="left")],
        "padding": [Interval(Integral, 0, None, closed="left")],
        "scale": [Interval(Real, 1, None, closed="neither")],
        "threshold": [Real],
        "nms_iou": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, win_stride=8, padding=8, scale=1.05, threshold=0.0, nms_iou=0.3):
        self.win_stride = win_stride
        self.padding = padding
        self.scale = scale
        self.threshold = threshold
        self.nms_iou = nms_iou

    def fit(self, X=None, y=None):
        """Check the parameters (the detector is pretrained)."""
        self._validate_params()
        return self

    def detect(self, image) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (n, 4) as (x_min, y_min, x_max, y_max) and their scores, best first."""
        self._validate_params()
        gray = read_image(image, mode="gray")
        if gray.shape[0] < 128 or gray.shape[1] < 64:
            return np.zeros((0, 4)), np.zeros(0)
        hog = cv2.HOGDescriptor()
        hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        rects, weights = hog.detectMultiScale(
            gray, hitThreshold=float(self.threshold), winStride=(self.win_stride,) * 2,
            padding=(self.padding,) * 2, scale=float(self.scale))
        if len(rects) == 0:
            return np.zeros((0, 4)), np.zeros(0)
        rects = np.asarray(rects, float).reshape(-1, 4)
        boxes = np.column_stack([rects[:, :2], rects[:, :2] + rects[:, 2:]])
        scores = np.asarray(weights, float).ravel()
        keep = non_max_suppression(boxes, scores, self.nms_iou)
        return boxes[keep], scores[keep]
