"""Turning the ``X`` of a Pipeline into a list of image sources."""

from __future__ import annotations

import os

import numpy as np

__all__ = ["as_image_list"]


def as_image_list(X) -> list:
    """Return ``X`` as a list of image sources (paths, bytes, file objects or arrays).

    Accepts any iterable of images, including a generator, a tuple, or a stacked
    ndarray of shape (n_images, H, W) or (n_images, H, W, C). A single path or a
    single 2-D image is refused, since it is almost always a mistake.

    Examples
    --------
    >>> import numpy as np
    >>> len(as_image_list(np.zeros((5, 8, 8), np.uint8)))
    5
    """
    if isinstance(X, (str, bytes, bytearray, os.PathLike)):
        raise TypeError(
            "X must be a sequence of images, got a single path or bytes object; "
            "wrap it in a list: [image]"
        )
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim not in (3, 4):
            raise ValueError(
                "an ndarray X must be a stack of images of shape (n_images, H, W) or "
                f"(n_images, H, W, C), got shape {X.shape}"
            )
        return list(X)
    try:
        images = list(X)
    except TypeError:
        raise TypeError(f"X must be an iterable of images, got {type(X).__name__}") from None
    if not images:
        raise ValueError("X contains no images")
    # Worker processes keep the folder they started in: a relative path is resolved here,
    # against the caller's current folder, before any worker sees it.
    return [os.path.abspath(im) if isinstance(im, (str, os.PathLike))
            and not os.path.isabs(im) else im for im in images]
