"""Baselines to compare the classical pipelines with (the ``[cnn]`` extra).

:class:`CNNClassifier` trains a small network from scratch; :class:`FineTunedCNN`
fine-tunes the last blocks of a pretrained EfficientNet-Lite on the user's images.
"""

from .cnn import CNNClassifier, load_tensor_images
from .finetune import FineTunedCNN

__all__ = ["CNNClassifier", "FineTunedCNN", "load_tensor_images"]
