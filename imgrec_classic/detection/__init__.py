"""Object detection: sliding windows over an image pyramid, NMS, OpenCV's people detector."""

from .draw import draw_boxes
from .nms import box_iou, non_max_suppression
from .people import PeopleDetector
from .sliding_window import SlidingWindowDetector, hog_blocks, image_pyramid

__all__ = ["PeopleDetector", "SlidingWindowDetector", "box_iou", "draw_boxes", "hog_blocks",
           "image_pyramid", "non_max_suppression"]
