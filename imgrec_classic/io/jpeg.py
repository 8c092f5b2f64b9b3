"""JPEG validity as the decoder judges it: missing or corrupt image data is refused.

OpenCV decodes a JPEG whose image data stops short (a transfer cut off, then an end
marker appended) into a picture with a grey bottom part, and reports the damage only
as a libjpeg warning on the process's standard error. This module checks the file's
structure before decoding and reads libjpeg's warnings where damage is possible:
for progressive files (whose damage leaves no trace in the pixels) and for
sequential ones whose decoded corner is the exact grey (128) that libjpeg fills
missing blocks with. Other images take the plain decode.
"""

from __future__ import annotations

import os
import struct
import sys
import tempfile
import threading

import cv2
import numpy as np

from .header import jpeg_frame

__all__ = ["JPEG_DAMAGE", "decode_jpeg", "jpeg_structure_error"]

_SOI, _EOI, _SOS = b"\xff\xd8", b"\xff\xd9", b"\xff\xda"
_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}
#: libjpeg warnings that mean image data is missing or unreadable (the picture is
#: partly filled in); others, such as extraneous bytes before a marker, are harmless.
JPEG_DAMAGE = ("premature end of data segment", "bad huffman code", "premature end of jpeg")

_STDERR_LOCK = threading.Lock()  # the redirection is per process: one at a time


def jpeg_structure_error(data: bytes) -> str | None:
    """Why ``data`` (a JPEG) cannot hold a whole image, from its markers alone; or None.

    The main image's last scan must be followed by an end marker. Bytes after it
    (cameras and messaging apps append some) are fine; an embedded thumbnail's end
    marker comes before the scan, so it does not count.

    Examples
    --------
    >>> jpeg_structure_error(b"\\xff\\xd8\\xff\\xda....")
    'truncated JPEG (no end-of-image marker after its image data)'
    """
    if data.rfind(_EOI) < data.rfind(_SOS):
        return "truncated JPEG (no end-of-image marker after its image data)"
    return None


def decode_jpeg(data: bytes, flags: int) -> tuple[np.ndarray | None, str | None]:
    """``cv2.imdecode`` of a JPEG, and the damage libjpeg reported, if any.

    Parameters
    ----------
    data : bytes
        A JPEG file's bytes.
    flags : int
        ``cv2.IMREAD_*`` flags.

    Returns
    -------
    image : ndarray or None
        As ``cv2.imdecode`` returns it.
    damage : str or None
        libjpeg's warning when image data is missing or corrupt, else None.

    Examples
    --------
    >>> import cv2, numpy as np
    >>> noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)
    >>> whole = cv2.imencode(".jpg", noise)[1].tobytes()
    >>> decode_jpeg(whole, cv2.IMREAD_COLOR)[1] is None
    True
    >>> cut = whole[:len(whole) * 2 // 3] + b"\\xff\\xd9"  # cut off, then "ended"
    >>> decode_jpeg(cut, cv2.IMREAD_COLOR)[1]
    'Corrupt JPEG data: premature end of data segment'
    """
    buf = np.frombuffer(data, np.uint8)
    if not _is_progressive(data):
        image = cv2.imdecode(buf, flags)
        if image is None or not _grey_corner(image):
            return image, None
    image, messages = _with_stderr(cv2.imdecode, buf, flags)
    damage = [m for m in messages if any(d in m.lower() for d in JPEG_DAMAGE)]
    return image, damage[0] if damage else None


def _is_progressive(data: bytes) -> bool:
    try:
        frame = jpeg_frame(data)
    except (struct.error, ValueError):
        return False  # no readable frame header: OpenCV decides
    return frame is not None and frame[0] in _PROGRESSIVE


def _grey_corner(image: np.ndarray) -> bool:
    """A 2 x 2 corner of exactly 128: where libjpeg's fill of missing blocks ends up
    (the last blocks are the missing ones; EXIF rotation may move them to any corner)."""
    ends = (slice(0, 2), slice(-2, None))
    return any(np.all(image[rows, cols] == 128) for rows in ends for cols in ends)


def _with_stderr(func, *args):
    """``func(*args)`` and the lines written to file descriptor 2 meanwhile.

    libjpeg writes its warnings there from C. Lines that are not libjpeg's are
    written back, so nothing another thread printed meanwhile is lost.
    """
    with _STDERR_LOCK, tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            result = func(*args)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        lines = sink.read().decode("utf-8", "replace").splitlines()
    other = [line for line in lines if not line.lower().startswith(("corrupt jpeg", "premature"))]
    if other:
        os.write(2, ("\n".join(other) + "\n").encode())
    return result, lines
