"""Descriptors extracted on demand, so that pipelines over many images stay memory-flat."""

from __future__ import annotations

import numpy as np

from .descriptors import Descriptors

__all__ = ["DescriptorStream"]


class DescriptorStream:
    """The descriptors of a sequence of images, extracted only when asked for.

    A local extractor with ``lazy=True`` returns this instead of
    :class:`Descriptors`. Encoders consume it batch by batch: each worker
    decodes, extracts and encodes its images and sends back only the codes, so
    the raw descriptors of the whole dataset never exist at once (about 5 MB per
    image for multi-scale dense SIFT).

    Parameters
    ----------
    extractor : fitted local extractor
    images : list
        Image sources (paths, bytes, arrays).

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.features import DenseSIFT
    >>> images = list(np.random.default_rng(0).integers(0, 256, (3, 48, 48), np.uint8))
    >>> stream = DenseSIFT(step=8, sizes=(4,), lazy=True).fit_transform(images)
    >>> len(stream), stream.extract([0, 2]).counts.tolist()
    (3, [25, 25])
    """

    def __init__(self, extractor, images: list):
        self.extractor = extractor
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    @property
    def n_dims(self) -> int:
        return self.extractor.n_dims

    def extract(self, index=None) -> Descriptors:
        """Extract (in parallel, with the extractor's ``n_jobs``) all images or a subset."""
        images = self.images if index is None else [self.images[i] for i in np.asarray(index)]
        return self.extractor._combine(self.extractor._map(images))

    def iter_images(self):
        """Yield each image's descriptors as a one-image :class:`Descriptors`, extracting
        them one at a time in this process on one thread: a worker's job."""
        for positions, scales, values in self.extractor._iter_batch(self.images, True):
            values = np.asarray(values).astype(self.extractor.dtype, copy=False)
            yield Descriptors(values, [0, len(values)], positions, scales)

    def __getitem__(self, index) -> DescriptorStream:
        picked = np.arange(len(self))[index]
        return DescriptorStream(self.extractor, [self.images[i] for i in np.atleast_1d(picked)])

    def __repr__(self) -> str:
        return f"DescriptorStream(n_images={len(self)}, extractor={self.extractor!r})"
