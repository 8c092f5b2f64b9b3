"""Datasets: the embedded default, labelled image folders, MNIST-layout files, downloads."""

from ..io.download import download_images, read_url_list
from ..io.folders import list_images, load_image_folder, read_idx
from .digits import load_opencv_digits
from .mnist import load_mnist

__all__ = ["download_images", "list_images", "load_image_folder", "load_mnist",
           "load_opencv_digits", "read_idx", "read_url_list"]
