"""Datasets: the embedded default and loaders for image collections."""

from .digits import load_opencv_digits

__all__ = ["load_opencv_digits"]
