"""Feature extractors: scikit-learn transformers from images to descriptors.

Local extractors (:class:`SIFT`, :class:`DenseSIFT`, :class:`ORB`,
:class:`AKAZE`, :class:`LocalColorStatistics`) return
:class:`~imgrec_classic.Descriptors`, many vectors per image. Global ones
(:class:`HOG`, :class:`LBP`, :class:`ColorHistogram`)
return an array of shape (n_images, n_features). :class:`PretrainedCNN` (the
``[cnn]`` extra) gives either: an ImageNet network's embedding, or the cells of its
feature map as local descriptors.

SURF is not offered: it is patented and no PyPI build of OpenCV includes it.
Use SIFT, DenseSIFT, ORB or AKAZE instead.
"""

from .._compat import SURF_UNAVAILABLE
from .akaze import AKAZE
from .cnn import PretrainedCNN
from .color import ColorHistogram
from .dense_sift import DenseSIFT, dense_sift
from .hog import HOG, hog_image
from .lbp import LBP
from .local_color import LocalColorStatistics, local_color_statistics
from .orb import ORB
from .sift import SIFT, root_sift

__all__ = ["AKAZE", "HOG", "LBP", "ORB", "SIFT", "ColorHistogram", "DenseSIFT",
           "LocalColorStatistics", "PretrainedCNN", "dense_sift", "hog_image",
           "local_color_statistics", "root_sift"]


def __getattr__(name):
    if name == "SURF":
        raise ImportError(SURF_UNAVAILABLE)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
