"""Image dimensions read from a file's header, before anything is decoded.

A 1 MB PNG can declare 32768 x 32768 pixels and take 4 GB to decode: the pixel
budget of :func:`~imgrec_classic.io.read_image` is checked against these
dimensions first. OpenCV has no header-only call, so the common formats' headers
are read here (each is a few fixed fields); for any other format the size is
unknown and OpenCV's own bound (2**30 pixels) is the only one.
"""

from __future__ import annotations

import struct

__all__ = ["image_extension", "image_size", "jpeg_frame"]

# JPEG start-of-frame markers (baseline, progressive, lossless...): not DHT, JPG, DAC.
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` that the header of an encoded image declares.

    Parameters
    ----------
    data : bytes
        The start of the file at least (the whole file for JPEGs with large
        metadata blocks before the frame header).

    Returns
    -------
    (int, int) or None
        None when the format is not one of JPEG, PNG, GIF, BMP, WebP, TIFF and
        PNM, or the header is cut short.

    Examples
    --------
    >>> import cv2, numpy as np
    >>> ok, png = cv2.imencode(".png", np.zeros((3, 5), np.uint8))
    >>> image_size(png.tobytes())
    (5, 3)
    """
    for parse in (_png, _jpeg, _gif, _bmp, _webp, _tiff, _pnm):
        try:
            size = parse(data)
        except (struct.error, IndexError, ValueError):
            return None
        if size is not None:
            return size
    return None


_SIGNATURES = [(b"\xff\xd8\xff", ".jpg"), (b"\x89PNG\r\n\x1a\n", ".png"), (b"GIF8", ".gif"),
               (b"BM", ".bmp"), (b"II*\x00", ".tif"), (b"MM\x00*", ".tif")]


def image_extension(data: bytes) -> str:
    r"""The file extension of the format the bytes' signature says (``.img`` if none).

    Examples
    --------
    >>> image_extension(b"\x89PNG\r\n\x1a\n..."), image_extension(b"hello")
    ('.png', '.img')
    """
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return next((ext for magic, ext in _SIGNATURES if data.startswith(magic)), ".img")


def _png(data):
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    return None


def jpeg_frame(data: bytes) -> tuple[int, int, int] | None:
    """``(marker, width, height)`` of a JPEG's frame header (its first SOFn), or None.

    ``marker`` tells the coding: 0xC2, 0xC6, 0xCA and 0xCE are progressive.

    Examples
    --------
    >>> import cv2, numpy as np
    >>> ok, jpg = cv2.imencode(".jpg", np.zeros((3, 5), np.uint8))
    >>> jpeg_frame(jpg.tobytes())
    (192, 5, 3)
    """
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            raise ValueError("not a marker")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return marker, width, height
        if marker == 0xD9 or marker == 0xDA:  # end, or scan data before any frame
            return None
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    return None


def _jpeg(data):
    frame = jpeg_frame(data)
    return None if frame is None else frame[1:]


def _gif(data):
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return struct.unpack("<HH", data[6:10])
    return None


def _bmp(data):
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(width), abs(height)  # negative height: rows stored top-down
    return None


def _webp(data):
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        w, h = data[24:27], data[27:30]
        return int.from_bytes(w, "little") + 1, int.from_bytes(h, "little") + 1
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        w, h = struct.unpack("<HH", data[26:30])
        return w & 0x3FFF, h & 0x3FFF
    return None


def _tiff(data):
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or struct.unpack(order + "H", data[2:4])[0] != 42:
        return None
    ifd = struct.unpack(order + "I", data[4:8])[0]
    (count,) = struct.unpack(order + "H", data[ifd:ifd + 2])
    found = {}
    for k in range(count):
        entry = data[ifd + 2 + 12 * k: ifd + 14 + 12 * k]
        tag, kind = struct.unpack(order + "HH", entry[:4])
        if tag in (256, 257):  # ImageWidth, ImageLength: SHORT (3) or LONG (4)
            fmt = order + ("H" if kind == 3 else "I")
            found[tag] = struct.unpack(fmt, entry[8:8 + struct.calcsize(fmt)])[0]
    return (found[256], found[257]) if len(found) == 2 else None


def _pnm(data):
    if len(data) < 2 or data[0:1] != b"P" or data[1:2] not in b"123456":
        return None
    tokens, i = [], 2
    while len(tokens) < 2 and i < min(len(data), 4096):
        if data[i:i + 1] == b"#":  # comment to the end of the line
            i = data.index(b"\n", i)
        elif data[i:i + 1].isspace():
            i += 1
        else:
            j = i
            while j < len(data) and not data[j:j + 1].isspace():
                j += 1
            tokens.append(int(data[i:j]))
            i = j
    return (tokens[0], tokens[1]) if len(tokens) == 2 else None
