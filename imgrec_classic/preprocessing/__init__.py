"""Image preprocessing and training-time augmentation, as scikit-learn estimators.

On decoded arrays the transforms apply at once; on paths or bytes they return
:class:`~imgrec_classic.preprocessing.pending.PendingImage` objects and run inside the
feature extractor's worker as each image is decoded, so a chain over 100,000
files holds no decoded image.
"""

from .augment import Augmented, Augmenter, RandomAugmentation
from .base import ImageTransform
from .pending import PendingImage, load_image, load_views
from .transforms import CenterCrop, Equalize, Resize, ToGray

__all__ = ["Augmented", "Augmenter", "CenterCrop", "Equalize", "ImageTransform",
           "PendingImage", "RandomAugmentation", "Resize", "ToGray", "load_image", "load_views"]
