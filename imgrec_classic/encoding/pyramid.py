"""Spatial pyramid pooling: which descriptors fall in which cell."""

from __future__ import annotations

from numbers import Integral

import numpy as np

__all__ = ["check_pyramid", "pyramid_cells"]


def check_pyramid(pyramid) -> tuple[int, ...]:
    """Validate a pyramid, e.g. ``(1,)``, ``(1, 2, 4)`` or ``(2, 4)``: cells per side per level."""
    try:
        levels = tuple(pyramid)
    except TypeError:
        levels = ()
    if not levels or not all(isinstance(n, Integral) and n >= 1 for n in levels):
        raise ValueError(f"pyramid must be a non-empty tuple of positive ints, got {pyramid!r}")
    return tuple(int(n) for n in levels)


def pyramid_cells(positions: np.ndarray, pyramid: tuple[int, ...]) -> list[np.ndarray]:
    """Row indices of the descriptors in each spatial cell.

    Parameters
    ----------
    positions : ndarray of shape (n, 2)
        Normalised (x, y) in [0, 1).
    pyramid : tuple of int
        Grid size of each level: level ``L`` splits the image into ``L x L`` cells.

    Returns
    -------
    cells : list of ndarray
        ``sum(L * L for L in pyramid)`` index arrays, level by level, cells in
        row-major order within a level.

    Examples
    --------
    >>> import numpy as np
    >>> cells = pyramid_cells(np.array([[0.1, 0.1], [0.9, 0.2], [0.6, 0.7]]), (1, 2))
    >>> [c.tolist() for c in cells]
    [[0, 1, 2], [0], [1], [], [2]]
    """
    cells = []
    for level in pyramid:
        if level == 1:
            cells.append(np.arange(len(positions)))
            continue
        xy = np.minimum((positions * level).astype(np.int64), level - 1)
        cell = xy[:, 1] * level + xy[:, 0]
        order = np.argsort(cell, kind="stable")
        cells.extend(np.split(order, np.cumsum(np.bincount(cell, minlength=level * level))[:-1]))
    return cells
