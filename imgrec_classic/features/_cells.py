"""Histograms of integer codes over a grid of image cells (LBP, colour)."""

from __future__ import annotations

from numbers import Integral

import numpy as np


def cell_histograms(codes: np.ndarray, n_bins: int, grid: tuple[int, int]) -> np.ndarray:
    """L1-normalised histograms of ``codes`` in each cell of a ``grid`` (rows, cols).

    Parameters
    ----------
    codes : ndarray of shape (H, W), int
        Values in ``[0, n_bins)``.
    n_bins : int
    grid : (int, int)
        Cells along y and x; cell borders split the image as evenly as possible,
        so images of any size give ``grid[0] * grid[1] * n_bins`` values.

    Returns
    -------
    histograms : ndarray of shape (grid[0] * grid[1] * n_bins,), float32
        Cells in row-major order, each summing to 1 (or 0 for an empty cell).
    """
    h, w = codes.shape
    if tuple(grid) == (1, 1):
        counts = np.bincount(codes.ravel(), minlength=n_bins)
    else:
        rows = np.minimum(np.arange(h) * grid[0] // h, grid[0] - 1)
        cols = np.minimum(np.arange(w) * grid[1] // w, grid[1] - 1)
        cell = rows[:, None] * grid[1] + cols[None, :]
        counts = np.bincount((cell * n_bins + codes).ravel(),
                             minlength=grid[0] * grid[1] * n_bins)
    counts = counts.reshape(-1, n_bins).astype(np.float32)
    counts /= np.maximum(counts.sum(axis=1, keepdims=True), 1)
    return counts.ravel()


def check_grid(grid) -> None:
    """Raise unless ``grid`` is a pair of positive ints."""
    if len(grid) != 2 or not all(isinstance(g, Integral) and g >= 1 for g in grid):
        raise ValueError(f"grid must be two positive ints (rows, cols), got {grid!r}")
