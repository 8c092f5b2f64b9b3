"""Exact nearest-word search: squared distances from one matrix product per chunk."""

from __future__ import annotations

import numpy as np

__all__ = ["nearest_words", "product_weights", "search_product"]

CHUNK = 512  # descriptors per distance block: small enough to stay in cache


def product_weights(centers: np.ndarray) -> np.ndarray:
    """The (n_dims + 1, n_centers) matrix ``[-2 c, |c|^2]`` that ranks centres by distance.

    ``|x - c|^2 - |x|^2 = [x, 1] . [-2c, |c|^2]``: one product gives the ranking.
    """
    centers = np.asarray(centers, np.float32)
    return np.vstack([-2 * centers.T, np.einsum("ij,ij->i", centers, centers)[None]])


def search_product(values: np.ndarray, weights: np.ndarray, n_neighbors: int = 1,
                   return_distance: bool = True):
    """Nearest centres of each row given :func:`product_weights`, see :func:`nearest_words`."""
    n, n_dims = values.shape
    block = np.ones((min(n, CHUNK), n_dims + 1), np.float32)
    indices = np.empty((n, n_neighbors), np.int64)
    distances = np.empty((n, n_neighbors), np.float32) if return_distance else None
    for start in range(0, n, CHUNK):
        rows = values[start:start + CHUNK]
        block[:len(rows), :n_dims] = rows
        d2 = block[:len(rows)] @ weights
        if n_neighbors == 1:
            idx = d2.argmin(axis=1)[:, None]
        else:
            idx = np.argpartition(d2, n_neighbors - 1, axis=1)[:, :n_neighbors]
            idx = np.take_along_axis(idx, np.take_along_axis(d2, idx, 1).argsort(1), 1)
        indices[start:start + CHUNK] = idx
        if return_distance:  # hard assignment needs no distances: skip a third of the work
            part = np.take_along_axis(d2, idx, 1) + np.einsum("ij,ij->i", rows, rows)[:, None]
            distances[start:start + CHUNK] = np.maximum(part, 0)
    return (indices, distances) if return_distance else indices


def nearest_words(values: np.ndarray, centers: np.ndarray, n_neighbors: int = 1,
                  return_distance: bool = True):
    """Indices and squared distances of the ``n_neighbors`` nearest centres of each row.

    Distances come from one float32 matrix product per chunk of rows, so memory
    stays bounded whatever the number of descriptors.

    Returns
    -------
    indices : ndarray of shape (n, n_neighbors), int64
    sq_distances : ndarray of shape (n, n_neighbors), float32
        Sorted nearest first; only with ``return_distance=True`` (else the
        indices alone are returned, as scikit-learn's ``kneighbors`` does).

    Examples
    --------
    >>> import numpy as np
    >>> centers = np.array([[0, 0], [10, 0]], np.float32)
    >>> idx, d2 = nearest_words(np.array([[1, 0], [9, 1]], np.float32), centers)
    >>> idx.ravel().tolist(), d2.ravel().tolist()
    ([0, 1], [1.0, 2.0])
    """
    return search_product(values, product_weights(centers), n_neighbors, return_distance)
