"""OpenCV's sample sheet of 5,000 handwritten digits, shipped inside the package."""

from __future__ import annotations

from importlib import resources

import numpy as np
from sklearn.utils import Bunch

from ..io.images import read_image

__all__ = ["load_opencv_digits"]

_DESCR = """OpenCV sample digits (samples/data/digits.png): 5,000 handwritten digits,
20x20 grayscale, 500 per class, white ink on black. Shipped with imgrec-classic
(Apache-2.0, from the OpenCV source tree). OpenCV's tutorials train on the left
half of each row and test on the right half."""

_CELL = 20
_ROWS_PER_DIGIT = 5


def load_opencv_digits() -> Bunch:
    """Load the 5,000 handwritten digits of OpenCV's ``digits.png`` (embedded).

    The sheet holds 50 rows of 100 digits, 20 x 20 pixels each; digit ``d``
    fills rows ``5d`` to ``5d + 4``. Nothing is downloaded: the file ships with
    imgrec-classic (Apache-2.0, from the OpenCV source tree).

    Returns
    -------
    data : sklearn.utils.Bunch
        images : ndarray of shape (5000, 20, 20), uint8
            White digits on black.
        target : ndarray of shape (5000,), int64
        target_names : list of str
            ``["0", ..., "9"]``.
        tutorial_train : ndarray of shape (5000,), bool
            The split used by OpenCV's tutorials: the left half of every row
            trains (2,500 images), the right half tests.
        DESCR : str

    Examples
    --------
    >>> from imgrec_classic.datasets import load_opencv_digits
    >>> digits = load_opencv_digits()
    >>> digits.images.shape, int(digits.tutorial_train.sum())
    ((5000, 20, 20), 2500)
    """
    path = resources.files("imgrec_classic.datasets").joinpath("data", "digits.png")
    sheet = read_image(path.read_bytes(), mode="gray")
    n_rows, n_cols = sheet.shape[0] // _CELL, sheet.shape[1] // _CELL
    images = (sheet.reshape(n_rows, _CELL, n_cols, _CELL).swapaxes(1, 2)
              .reshape(n_rows * n_cols, _CELL, _CELL))
    rows, cols = np.divmod(np.arange(n_rows * n_cols), n_cols)
    return Bunch(
        images=np.ascontiguousarray(images),
        target=(rows // _ROWS_PER_DIGIT).astype(np.int64),
        target_names=[str(d) for d in range(10)],
        tutorial_train=cols < n_cols // 2,
        DESCR=_DESCR,
    )
