"""Images whose decoding and preprocessing are deferred to the worker that needs them."""

from __future__ import annotations

import numpy as np

__all__ = ["PendingImage"]


class PendingImage:
    """An image source plus the operations to apply once it is decoded.

    Preprocessing transformers return these for paths and bytes, so that a chain
    of transforms over 100,000 files holds no decoded image: the extractor's worker
    decodes each one (:func:`~imgrec_classic.io.read_image` accepts a
    ``PendingImage``), applies ``ops`` in order, and extracts its features.

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
    >>> from imgrec_classic.io import read_image
    >>> from imgrec_classic.preprocessing import Resize
    >>> pending = PendingImage(np.zeros((40, 80), np.uint8), (Resize(max_side=20),))
    >>> read_image(pending, mode="gray").shape
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

    def read(self, mode: str = "rgb") -> np.ndarray:
        from .images import read_image

        image = read_image(self.source, mode="rgb")
        for op in self.ops:
            image = op.apply(image)
        return read_image(image, mode=mode)

    def __getstate__(self):
        return self.source, self.ops

    def __setstate__(self, state):
        self.source, self.ops = state

    def __repr__(self) -> str:
        from .images import describe_source

        names = " -> ".join(type(op).__name__ for op in self.ops)
        return f"PendingImage({describe_source(self.source)} -> {names})"
