"""Baselines to compare the classical pipelines with: a small CNN (the ``[cnn]`` extra)."""

from .cnn import CNNClassifier, load_tensor_images

__all__ = ["CNNClassifier", "load_tensor_images"]
