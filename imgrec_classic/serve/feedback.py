"""Labelled images sent back by the users of a served model, stored for retraining."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from ..io.download import safe_label

__all__ = ["FeedbackStore"]

LOG = "feedback.jsonl"


class FeedbackStore:
    """``DIR/<label>/<sha256>.<ext>`` plus a JSON-lines log, written atomically.

    A folder of labelled images in the layout of
    :func:`~imgrec_classic.datasets.load_image_folder`, so ``imgrec update MODEL DIR``
    can learn from it. The same image given the same label twice is stored once.

    Parameters
    ----------
    root : path
        Created if needed.
    model_id : str, default=None
        Recorded with each entry (the served model file's SHA-256).
    remember : int, default=1024
        Recent predictions kept (their bytes) so that feedback can name one by id.
    remember_codes : int, default=256
        Of those, the most recent whose encoded rows (given to :meth:`remember`)
        are kept too: a fusion model's row is ~180 KB, so 256 hold ~46 MB.

    Examples
    --------
    >>> import tempfile, cv2, numpy as np
    >>> store = FeedbackStore(tempfile.mkdtemp())
    >>> png = cv2.imencode(".png", np.zeros((4, 4), np.uint8))[1].tobytes()
    >>> store.add(png, "cat", ".png", predicted="dog")["status"]
    'stored'
    >>> store.add(png, "cat", ".png", predicted="dog")["status"]
    'duplicate'
    """

    def __init__(self, root, model_id: str | None = None, remember: int = 1024,
                 remember_codes: int = 256):
        self.root, self.model_id = Path(root), model_id
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, tuple[bytes, str, str]] = OrderedDict()
        self._codes: OrderedDict[str, dict] = OrderedDict()
        self._remember, self._remember_codes = remember, remember_codes

    @staticmethod
    def check_label(label: str) -> str:
        """The label, or ValueError when it is not a safe, portable folder name."""
        label = (label or "").strip()
        if not label or safe_label(label, reserved={LOG}) != label:
            raise ValueError(f"label {label!r} is not usable as a folder name: letters, digits, "
                             "space, '-', '_' and '.' only, at most 100 bytes, not hidden")
        return label

    def remember(self, data: bytes, ext: str, predicted: str, codes: dict | None = None) -> str:
        """Keep a predicted image for a while; returns its id (its SHA-256).

        ``codes``: its encoded rows
        (:meth:`~imgrec_classic.compose.ImageEncoder.transform_with_codes`), kept
        for :meth:`codes`.
        """
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            _keep(self._recent, digest, (data, ext, predicted), self._remember)
            if codes is not None:
                _keep(self._codes, digest, codes, self._remember_codes)
        return digest

    def codes(self, digest: str) -> dict | None:
        """The encoded rows kept with the prediction of this image (by SHA-256), or None."""
        with self._lock:
            return self._codes.get(digest)

    def recall(self, prediction_id: str) -> tuple[bytes, str, str]:
        """The bytes, extension and predicted label of a remembered prediction."""
        with self._lock:
            if prediction_id not in self._recent:
                raise KeyError(prediction_id)
            return self._recent[prediction_id]

    def add(self, data: bytes, label: str, ext: str, predicted: str | None = None) -> dict:
        """Store one labelled image; returns the log entry with ``status``."""
        label = self.check_label(label)
        digest = hashlib.sha256(data).hexdigest()
        folder = self.root / label
        target = folder / f"{digest}{ext}"
        entry = {"time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                 "sha256": digest, "predicted": predicted, "label": label,
                 "model": self.model_id, "path": f"{label}/{target.name}"}
        with self._lock:  # one writer at a time: a burst of the same image is stored once
            if target.exists():
                return {**entry, "status": "duplicate"}
            folder.mkdir(exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(temp, target)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
            with open(self.root / LOG, "a", encoding="utf-8") as log:
                log.write(json.dumps(entry) + "\n")
        return {**entry, "status": "stored"}


def _keep(recent: OrderedDict, key: str, value, bound: int) -> None:
    """Insert as the newest entry, dropping the oldest beyond ``bound``."""
    recent[key] = value
    recent.move_to_end(key)
    while len(recent) > bound:
        recent.popitem(last=False)
