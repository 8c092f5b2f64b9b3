"""The ragged container of local descriptors: many vectors per image."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["Descriptors"]


class Descriptors:
    """Local descriptors of a set of images, stored flat with offsets.

    Image ``i`` owns rows ``offsets[i]:offsets[i + 1]`` of ``values``,
    ``positions`` and ``scales``. Stored as a handful of contiguous arrays, it is
    cheap to pickle, to send to a worker and to concatenate, and holds no
    OpenCV objects.

    Parameters
    ----------
    values : ndarray of shape (n_descriptors, n_dims)
        float32 for real-valued descriptors (SIFT), uint8 for binary ones (ORB,
        AKAZE), whose bits are packed eight to a byte.
    offsets : ndarray of shape (n_images + 1,)
        Non-decreasing int64, ``offsets[0] == 0`` and ``offsets[-1] == n_descriptors``.
    positions : ndarray of shape (n_descriptors, 2), default=None
        x and y of each descriptor's centre divided by the image width and
        height, so in [0, 1). Zeros when None.
    scales : ndarray of shape (n_descriptors,), default=None
        Each descriptor's scale in pixels of the image it was computed on (the
        keypoint diameter for detectors, the spatial bin size for dense SIFT).
        Zeros when None.

    Attributes
    ----------
    n_descriptors : int
    n_dims : int
    counts : ndarray of shape (n_images,)
        Number of descriptors per image.

    See Also
    --------
    imgrec_classic.features.DenseSIFT : produces Descriptors.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic import Descriptors
    >>> d = Descriptors.from_list([np.ones((3, 4)), np.zeros((0, 4)), np.ones((2, 4))])
    >>> len(d), d.n_descriptors, d.counts.tolist()
    (3, 5, [3, 0, 2])
    >>> d[2].shape
    (2, 4)
    >>> len(d[[0, 2]])
    2
    """

    __slots__ = ("values", "offsets", "positions", "scales")

    def __init__(self, values, offsets, positions=None, scales=None):
        values = np.asarray(values)
        if values.ndim != 2:
            raise ValueError(f"values must be 2-D (n_descriptors, n_dims), got {values.shape}")
        if values.dtype != np.uint8:
            values = values.astype(np.float32, copy=False)
        offsets = np.asarray(offsets, dtype=np.int64)
        n = values.shape[0]
        if (
            offsets.ndim != 1
            or offsets.size == 0
            or offsets[0] != 0
            or offsets[-1] != n
            or np.any(np.diff(offsets) < 0)
        ):
            raise ValueError(
                "offsets must be non-decreasing, start at 0 and end at n_descriptors "
                f"({n}), got {offsets!r}"
            )
        positions = (np.zeros((n, 2), np.float32) if positions is None
                     else np.asarray(positions, dtype=np.float32))
        scales = np.zeros(n, np.float32) if scales is None else np.asarray(scales, np.float32)
        if positions.shape != (n, 2):
            raise ValueError(f"positions must have shape ({n}, 2), got {positions.shape}")
        if scales.shape != (n,):
            raise ValueError(f"scales must have shape ({n},), got {scales.shape}")
        self.values, self.offsets, self.positions, self.scales = values, offsets, positions, scales

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_list(cls, values, positions=None, scales=None, n_dims=None, dtype=None):
        """Build from one (n_i, D) array per image, e.g. descriptors computed elsewhere.

        Parameters
        ----------
        values : sequence of array-like of shape (n_i, n_dims)
        positions : sequence of array-like of shape (n_i, 2), default=None
        scales : sequence of array-like of shape (n_i,), default=None
        n_dims : int, default=None
            Needed only when every block is empty and so carries no width.
        dtype : dtype, default=None
            float32 unless all blocks are uint8.

        Returns
        -------
        Descriptors
        """
        blocks = [np.asarray(v) for v in values]
        widths = ({b.shape[1] for b in blocks if b.ndim == 2 and b.shape[0] > 0}
                  or {b.shape[1] for b in blocks if b.ndim == 2})
        if n_dims is None:
            if len(widths) > 1:
                raise ValueError(f"blocks have different widths: {sorted(widths)}")
            n_dims = widths.pop() if widths else 0
        if dtype is None:
            dtype = np.uint8 if blocks and all(b.dtype == np.uint8 for b in blocks) else np.float32
        blocks = [np.zeros((0, n_dims), b.dtype) if b.size == 0 else b for b in blocks]
        bad = [i for i, b in enumerate(blocks) if b.ndim != 2 or b.shape[1] != n_dims]
        if bad:
            raise ValueError(f"block {bad[0]} has shape {blocks[bad[0]].shape}, "
                             f"expected (n, {n_dims})")
        offsets = np.zeros(len(blocks) + 1, np.int64)
        np.cumsum([b.shape[0] for b in blocks], out=offsets[1:])
        stacked = (np.concatenate(blocks).astype(dtype, copy=False) if blocks
                   else np.zeros((0, n_dims), dtype))
        return cls(stacked, offsets, _stack(positions, (0, 2)), _stack(scales, (0,)))

    @classmethod
    def concatenate(cls, parts: Sequence[Descriptors]) -> Descriptors:
        """Join the images of several Descriptors, in order."""
        parts = list(parts)
        if not parts:
            raise ValueError("need at least one Descriptors to concatenate")
        widths = {p.n_dims for p in parts if p.n_descriptors}
        if len(widths) > 1:
            raise ValueError(f"cannot concatenate descriptors of widths {sorted(widths)}")
        starts = np.cumsum([0] + [p.n_descriptors for p in parts[:-1]])
        shifted = [p.offsets[1:] + s for p, s in zip(parts, starts, strict=True)]
        offsets = np.concatenate([[0], *shifted])
        values = np.concatenate([p.values for p in parts if p.n_descriptors] or [parts[0].values])
        return cls(values, offsets,
                   np.concatenate([p.positions for p in parts]),
                   np.concatenate([p.scales for p in parts]))

    # -- access ------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.offsets.size - 1

    @property
    def n_descriptors(self) -> int:
        return self.values.shape[0]

    @property
    def n_dims(self) -> int:
        return self.values.shape[1]

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    def image_index(self) -> np.ndarray:
        """Image number of every descriptor, shape (n_descriptors,)."""
        return np.repeat(np.arange(len(self)), self.counts)

    def __getitem__(self, key):
        """``d[i]`` is image i's (n_i, n_dims) block; ``d[indices]`` a subset Descriptors."""
        if isinstance(key, (int, np.integer)):
            i = range(len(self))[key]  # bounds check and negative indices
            return self.values[self.offsets[i]:self.offsets[i + 1]]
        index = np.arange(len(self))[key]
        rows = _rows_of(self.offsets, index)
        offsets = np.zeros(index.size + 1, np.int64)
        np.cumsum(self.counts[index], out=offsets[1:])
        return Descriptors(self.values[rows], offsets, self.positions[rows], self.scales[rows])

    def positions_of(self, i: int) -> np.ndarray:
        """Normalised (x, y) positions of image i's descriptors, shape (n_i, 2)."""
        return self.positions[self.offsets[i]:self.offsets[i + 1]]

    def scales_of(self, i: int) -> np.ndarray:
        """Scales of image i's descriptors, shape (n_i,)."""
        return self.scales[self.offsets[i]:self.offsets[i + 1]]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __getstate__(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state):
        for k, v in state.items():
            object.__setattr__(self, k, v)

    def __eq__(self, other):
        if not isinstance(other, Descriptors):
            return NotImplemented
        return all(np.array_equal(getattr(self, k), getattr(other, k)) for k in self.__slots__)

    __hash__ = None

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, k).nbytes for k in self.__slots__)

    def __repr__(self) -> str:
        return (f"Descriptors(n_images={len(self)}, n_descriptors={self.n_descriptors}, "
                f"n_dims={self.n_dims}, dtype={self.values.dtype})")


def _rows_of(offsets: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Row numbers of the descriptors of the images in ``index``, in that order."""
    starts, counts = offsets[index], offsets[index + 1] - offsets[index]
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    # Within-block ramps without a Python loop: global ramp minus each block's start.
    block_start = np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + (np.arange(total) - block_start)


def _stack(blocks, tail_shape):
    if blocks is None:
        return None
    arrays = [np.asarray(b, np.float32).reshape((-1,) + tail_shape[1:]) for b in blocks]
    return np.concatenate(arrays) if arrays else np.zeros(tail_shape, np.float32)
