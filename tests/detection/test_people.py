import numpy as np

from imgrec_classic.detection import PeopleDetector, draw_boxes


def test_people_detector_box_format(astronaut):
    boxes, scores = PeopleDetector().detect(astronaut)
    assert boxes.ndim == 2 and boxes.shape[1] == 4 and len(scores) == len(boxes)
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
    empty, _ = PeopleDetector().detect(np.zeros((50, 30), np.uint8))
    assert empty.shape == (0, 4)


def test_draw_boxes_does_not_modify_input():
    image = np.zeros((40, 40, 3), np.uint8)
    out = draw_boxes(image, [[2, 2, 20, 20]], labels=["car"])
    assert image.max() == 0 and out.max() == 255
