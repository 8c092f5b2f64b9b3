"""Drawing detections for figures."""

from __future__ import annotations

import cv2
import numpy as np

from ..io.images import read_image

__all__ = ["draw_boxes"]


def draw_boxes(image, boxes, scores=None, color=(255, 64, 0), thickness: int = 2,
               labels=None) -> np.ndarray:
    """A copy of ``image`` (RGB) with the boxes drawn, and scores or labels written above.

    Examples
    --------
    >>> import numpy as np
    >>> out = draw_boxes(np.zeros((50, 50), np.uint8), [[5, 5, 30, 40]], [1.5])
    >>> out.shape, int(out[5, 10, 0])
    ((50, 50, 3), 255)
    """
    canvas = read_image(image).copy()
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    for i, (x1, y1, x2, y2) in enumerate(np.round(boxes).astype(int)):
        cv2.rectangle(canvas, (x1, y1), (x2, y2), color, thickness)
        text = labels[i] if labels is not None else (
            f"{scores[i]:.2f}" if scores is not None else None)
        if text:
            cv2.putText(canvas, str(text), (x1, max(10, y1 - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                        color, 1, cv2.LINE_AA)
    return canvas
