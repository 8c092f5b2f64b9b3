"""MNIST-layout datasets (MNIST, Fashion-MNIST) from their IDX files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from sklearn.utils import Bunch

from ..io.folders import read_idx

__all__ = ["load_mnist"]

FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot"]


def load_mnist(folder: str | os.PathLike, subset: Literal["train", "test"] = "train",
               target_names: list[str] | None = None) -> Bunch:
    """Load the training or test part of an MNIST-layout dataset.

    ``folder`` holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each optionally
    gzip-compressed (``.gz``), as MNIST and Fashion-MNIST are distributed.

    Parameters
    ----------
    folder : path
    subset : {"train", "test"}, default="train"
    target_names : list of str, default=None
        Class names; by default the digits "0" to "9", or Fashion-MNIST's article
        names when the folder's name contains "fashion".

    Returns
    -------
    data : Bunch
        ``images`` (n, 28, 28) uint8, ``target`` (n,) int64, ``target_names``.

    Examples
    --------
    >>> data = load_mnist("../shared/datasets/fashion_mnist", "test")  # doctest: +SKIP
    >>> data.images.shape, data.target_names[9]  # doctest: +SKIP
    ((10000, 28, 28), 'Ankle boot')
    """
    if subset not in ("train", "test"):
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}")
    folder = Path(folder)
    prefix = "train" if subset == "train" else "t10k"
    images = read_idx(_find(folder, f"{prefix}-images-idx3-ubyte"))
    target = read_idx(_find(folder, f"{prefix}-labels-idx1-ubyte")).astype("int64")
    if len(images) != len(target):
        raise ValueError(f"{len(images)} images but {len(target)} labels in {str(folder)!r}")
    if target_names is None:
        fashion = "fashion" in folder.resolve().name.lower()
        target_names = FASHION_MNIST_CLASSES if fashion else [str(d) for d in range(10)]
    return Bunch(images=images, target=target, target_names=list(target_names))


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(f"{stem}[.gz] not found in {str(folder)!r}")
