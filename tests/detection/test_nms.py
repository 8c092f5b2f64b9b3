import numpy as np
import pytest

from imgrec_classic.detection import box_iou, non_max_suppression


def test_iou_by_hand():
    box = np.array([0, 0, 10, 10])
    others = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [10, 10, 20, 20], [0, 0, 5, 5]])
    np.testing.assert_allclose(box_iou(box, others), [1, 50 / 150, 0, 25 / 100])


def test_nms_hand_cases():
    boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [21, 21, 31, 31], [0, 0, 10, 10]]
    scores = [0.5, 0.9, 0.3, 0.4, 0.1]
    assert non_max_suppression(boxes, scores, iou=0.3).tolist() == [1, 3]
    assert non_max_suppression(boxes, scores, iou=1.0).tolist() == [1, 0, 3, 2, 4]
    assert non_max_suppression(boxes, scores, iou=0.3, max_boxes=1).tolist() == [1]
    # a chain: 0 suppresses 1, so 2 (overlapping 1 only) survives
    chain = [[0, 0, 10, 10], [6, 0, 16, 10], [12, 0, 22, 10]]
    assert non_max_suppression(chain, [3, 2, 1], iou=0.2).tolist() == [0, 2]


def test_nms_edge_cases():
    assert non_max_suppression(np.zeros((0, 4)), []).tolist() == []
    with pytest.raises(ValueError, match="scores"):
        non_max_suppression([[0, 0, 1, 1]], [1, 2])
    with pytest.raises(ValueError, match="iou"):
        non_max_suppression([[0, 0, 1, 1]], [1], iou=2)
