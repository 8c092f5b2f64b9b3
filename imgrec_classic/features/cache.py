"""On-disk cache of per-image extraction results, keyed by image content and parameters.

``cache/<extractor key>/<ab>/<content sha256>.npz``: the extractor key hashes the
extractor's class, its parameters (except ``n_jobs``, ``verbose`` and ``cache``),
the library version and the entry format, and for encoded entries the encoder's
parameters and learned state; the content key hashes the image's bytes (a file
is keyed by what it holds, not by its name), or for a preprocessed
:class:`~imgrec_classic.preprocessing.pending.PendingImage` its source plus the operations.
Files are written to a temporary name and renamed, so concurrent workers and
interrupted runs never leave a half-written entry; an unreadable entry is
recomputed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import joblib
import numpy as np

from ..descriptors import Descriptors

__all__ = ["DescriptorCache"]

_IGNORED = {"n_jobs", "verbose", "cache"}
_FORMAT = 2  # entries hold an array, or a one-image Descriptors' three arrays


class DescriptorCache:
    """The cache of one extractor configuration in folder ``root``.

    Parameters
    ----------
    root : path
    extractor : extractor
        Its class and parameters key the entries.
    encoder : estimator, default=None
        With one, the entries are the encoder's output on the extractor's results
        (an image's encoded row): its class, parameters and learned attributes
        (the public ones ending in ``_``) key them too, so a refitted encoder
        never reads another's rows.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from imgrec_classic.features import LBP
    >>> from imgrec_classic.features.cache import DescriptorCache
    >>> cache = DescriptorCache(tempfile.mkdtemp(), LBP())
    >>> image = np.zeros((8, 8), np.uint8)
    >>> cache.get(image) is None
    True
    >>> cache.put(image, np.ones(3, np.float32))
    >>> cache.get(image)
    array([1., 1., 1.], dtype=float32)
    """

    def __init__(self, root, extractor, encoder=None):
        from .. import __version__

        parts = [type(extractor).__qualname__, _params(extractor), __version__, _FORMAT]
        name = type(extractor).__name__
        if encoder is not None:
            learned = {k: v for k, v in vars(encoder).items()
                       if k.endswith("_") and not k.startswith("_")}
            parts += [type(encoder).__qualname__, _params(encoder), learned]
            name += f"-{type(encoder).__name__}"
        self.folder = Path(root) / f"{name}-{joblib.hash(parts)[:16]}"

    def path(self, src, digest: str | None = None) -> Path:
        """Where the result for ``src`` is stored (hashing its content, unless given)."""
        digest = content_key(src) if digest is None else digest
        return self.folder / digest[:2] / f"{digest}.npz"

    def get(self, src):
        """The stored result for ``src``, or None."""
        return self.get_at(self.path(src))

    def put(self, src, result) -> None:
        """Store ``result`` (an array or a one-image Descriptors) for ``src``, atomically."""
        self.put_at(self.path(src), result)

    @staticmethod
    def get_at(path: Path):
        """The result stored at ``path`` (from :meth:`path`), or None."""
        try:
            with np.load(path) as data:
                arrays = [data[f"arr_{i}"] for i in range(len(data.files))]
        except (OSError, ValueError, KeyError, EOFError):
            return None
        if len(arrays) == 1:
            return arrays[0]
        values, positions, scales = arrays
        return Descriptors(values, [0, len(values)], positions, scales)

    @staticmethod
    def put_at(path: Path, result) -> None:
        """Store ``result`` at ``path`` (from :meth:`path`), atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = ((result.values, result.positions, result.scales)
                  if isinstance(result, Descriptors) else (result,))
        fd, temp = tempfile.mkstemp(suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, *[np.asarray(a) for a in arrays])
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def _params(estimator) -> dict:
    return {k: v for k, v in estimator.get_params(deep=False).items() if k not in _IGNORED}


def content_key(src) -> str:
    """SHA-256 of an image source's content (file bytes, array bytes, or source + ops)."""
    h = hashlib.sha256()
    own = getattr(src, "content_key", None)
    if callable(own):  # a source that keys itself (a recorded preprocessing chain)
        h.update(own().encode())
    elif isinstance(src, np.ndarray):
        h.update(f"{src.shape}{src.dtype}".encode())
        h.update(np.ascontiguousarray(src).data)
    elif isinstance(src, (str, os.PathLike)):
        with open(src, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    elif isinstance(src, (bytes, bytearray, memoryview)):
        h.update(src)
    else:
        raise TypeError(f"cannot key a {type(src).__name__} for the descriptor cache "
                        "(use paths, bytes or arrays)")
    return h.hexdigest()
