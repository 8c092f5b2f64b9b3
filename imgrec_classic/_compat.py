"""Differences between OpenCV 4.x and 5.x, and optional imports, in one place.

OpenCV 5 moved AKAZE, BRISK, KAZE and the bag-of-words classes from the main
``cv2`` namespace to ``cv2.xfeatures2d``. SURF is patented and built only with
``OPENCV_ENABLE_NONFREE``, which no PyPI wheel has, so it is not offered at all.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import cv2

CV2_VERSION = tuple(int(p) for p in cv2.__version__.split(".")[:2])

SURF_UNAVAILABLE = (
    "SURF is patented and is not built into any PyPI OpenCV wheel (it needs "
    "OPENCV_ENABLE_NONFREE). Use SIFT (free since OpenCV 4.4), DenseSIFT, ORB or AKAZE instead."
)


def cv2_attribute(name: str):
    """Return an OpenCV function or constant from ``cv2`` (4.x) or ``cv2.xfeatures2d`` (5.x)."""
    for namespace in (cv2, getattr(cv2, "xfeatures2d", None)):
        if namespace is not None and hasattr(namespace, name):
            return getattr(namespace, name)
    raise ImportError(
        f"cv2.{name} is not available in OpenCV {cv2.__version__}; install "
        "opencv-contrib-python-headless>=4.10"
    )


def optional_import(module: str, extra: str) -> ModuleType:
    """Import an optional dependency, or fail with the pip extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{module} is required for this feature: pip install 'imgrec-classic[{extra}]'"
        ) from exc
