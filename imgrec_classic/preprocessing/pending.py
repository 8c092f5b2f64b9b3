"""Recorded preprocessing: images whose decoding and transforms wait for the worker.

A preprocessing transform given paths or bytes returns :class:`PendingImage` objects
(the source plus the operations); the engine's decode (:func:`load_views`) reads
the source once and applies them there. :func:`~imgrec_classic.io.read_image`
knows nothing of them: decoding and preprocessing stay two steps.
"""

from __future__ import annotations

import joblib
import numpy as np

from ..io.images import describe_source, read_image, read_views

__all__ = ["PendingImage", "load_image", "load_views"]


def load_views(src, modes=("rgb", "gray")) -> dict[str, np.ndarray]:
    """Decode one image source once, apply its recorded preprocessing, give each view.

    Parameters
    ----------
    src : image source or PendingImage
    modes : sequence of {"rgb", "gray"}

    Returns
    -------
    dict of str to ndarray
        As :func:`~imgrec_classic.io.read_views`.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.preprocessing import Resize
    >>> pending = PendingImage(np.zeros((40, 80), np.uint8), (Resize(max_side=20),))
    >>> load_views(pending, ("gray",))["gray"].shape
    (10, 20)
    """
    if not isinstance(src, PendingImage):
        return read_views(src, modes)
    return read_views(src.apply(read_image(src.source, mode="rgb")), modes)


def load_image(src, mode: str = "rgb") -> np.ndarray:
    """:func:`load_views` of one mode: ``read_image`` plus any recorded preprocessing."""
    return load_views(src, (mode,))[mode]


class PendingImage:
    """An image source plus the operations to apply once it is decoded.

    Preprocessing transformers return these for paths and bytes, so that a chain
    of transforms over 100,000 files holds no decoded image: the engine's worker
    decodes each one (:func:`load_views`), applies ``ops`` in order, and extracts
    its features.

    Parameters
    ----------
    source : image source
        A path, bytes, binary file object or array.
    ops : tuple
        Objects with an ``apply(image) -> image`` method, applied to the RGB (or
        already grayscale) uint8 image.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.preprocessing import Resize
    >>> pending = PendingImage(np.zeros((40, 80), np.uint8), (Resize(max_side=20),))
    >>> load_image(pending, mode="gray").shape
    (10, 20)
    """

    __slots__ = ("source", "ops")

    def __init__(self, source, ops: tuple = ()):
        self.source, self.ops = source, tuple(ops)

    @classmethod
    def chain(cls, src, op) -> PendingImage:
        """``src`` (a source or a PendingImage) followed by one more operation."""
        if isinstance(src, PendingImage):
            return cls(src.source, src.ops + (op,))
        return cls(src, (op,))

    def apply(self, image: np.ndarray) -> np.ndarray:
        """The operations, in order, on the decoded RGB image."""
        for op in self.ops:
            image = op.apply(image)
        return image

    def content_key(self) -> str:
        """What identifies the image for the descriptor cache: its source and operations."""
        from ..features.cache import content_key

        return joblib.hash((content_key(self.source), joblib.hash(self.ops)))

    def describe(self) -> str:
        """A short name for messages: the source and the operations."""
        names = " -> ".join(type(op).__name__ for op in self.ops)
        return f"PendingImage({describe_source(self.source)} -> {names})"

    def __getstate__(self):
        return self.source, self.ops

    def __setstate__(self, state):
        self.source, self.ops = state

    def __repr__(self) -> str:
        return self.describe()
