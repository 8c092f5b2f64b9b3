"""imgrec-classic: classical image recognition as scikit-learn estimators.

Local and dense features (SIFT, dense SIFT, RootSIFT, ORB, AKAZE, HOG, LBP, colour
histograms) extracted with OpenCV, ready to be encoded and classified inside a
scikit-learn ``Pipeline``.

Submodules are imported lazily so that ``import imgrec_classic`` stays cheap.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = {"datasets", "features", "io", "utils", "cli"}
_ATTRIBUTES = {"Descriptors": "imgrec_classic.descriptors", "read_image": "imgrec_classic.io"}

__all__ = ["Descriptors", "read_image", "__version__", *sorted(_SUBMODULES)]


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"imgrec_classic.{name}")
    if name in _ATTRIBUTES:
        return getattr(importlib.import_module(_ATTRIBUTES[name]), name)
    raise AttributeError(f"module 'imgrec_classic' has no attribute {name!r}")


def __dir__():
    return __all__
