"""load_mnist on the real Fashion-MNIST files."""

import numpy as np
import pytest

from imgrec_classic.datasets import load_mnist

from ..conftest import dataset_path


def test_fashion_mnist_test_set():
    data = load_mnist(dataset_path("fashion_mnist"), "test")
    assert data.images.shape == (10000, 28, 28) and data.images.dtype == np.uint8
    assert np.bincount(data.target).tolist() == [1000] * 10
    assert data.target_names[9] == "Ankle boot"
    assert 0 < data.images.mean() < 255


def test_bad_subset_and_missing_files(tmp_path):
    with pytest.raises(ValueError, match="subset"):
        load_mnist(tmp_path, "val")
    with pytest.raises(FileNotFoundError, match="t10k-images"):
        load_mnist(tmp_path, "test")
