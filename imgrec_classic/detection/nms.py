"""Non-maximum suppression and box helpers. Boxes are (x_min, y_min, x_max, y_max) floats."""

from __future__ import annotations

import numpy as np

__all__ = ["box_iou", "non_max_suppression"]


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one box with each of ``boxes`` (n, 4)."""
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, np.finfo(float).tiny)


def non_max_suppression(boxes, scores, iou: float = 0.3, max_boxes: int | None = None):
    """Greedy non-maximum suppression: keep the best box, drop those overlapping it, repeat.

    Parameters
    ----------
    boxes : array-like of shape (n, 4)
        (x_min, y_min, x_max, y_max).
    scores : array-like of shape (n,)
    iou : float, default=0.3
        Boxes whose intersection over union with a kept, better box exceeds this
        are dropped.
    max_boxes : int, default=None

    Returns
    -------
    keep : ndarray of int
        Indices of the kept boxes, best score first.

    Examples
    --------
    >>> boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]
    >>> non_max_suppression(boxes, [0.9, 0.8, 0.7]).tolist()
    [0, 2]
    """
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    scores = np.asarray(scores, float).ravel()
    if len(boxes) != len(scores):
        raise ValueError(f"{len(boxes)} boxes but {len(scores)} scores")
    if not 0 <= iou <= 1:
        raise ValueError(f"iou must lie in [0, 1], got {iou}")
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size and (max_boxes is None or len(keep) < max_boxes):
        best, order = order[0], order[1:]
        keep.append(best)
        order = order[box_iou(boxes[best], boxes[order]) <= iou]
    return np.asarray(keep, dtype=np.int64)
