"""Decoding images from paths, bytes, file objects or arrays into RGB uint8 arrays.

Every public function of imgrec-classic sees images in RGB order; BGR exists only
inside OpenCV calls.
"""

from __future__ import annotations

import os
import stat
from typing import IO, Literal

import cv2
import numpy as np

from .header import image_size
from .jpeg import decode_jpeg, jpeg_structure_error

__all__ = ["MAX_PIXELS", "ImageDecodeError", "ImageSource", "check_pixel_budget",
           "describe_source", "read_image", "read_views"]

ImageSource = str | os.PathLike | bytes | bytearray | memoryview | IO[bytes] | np.ndarray

#: Default pixel budget of a decoded image: 100 megapixels, well above any camera's
#: photo, far below the 4 GB that a 1 MB PNG declaring 32768 x 32768 would take.
MAX_PIXELS = 100_000_000

_JPEG_SOI = b"\xff\xd8"


class ImageDecodeError(ValueError):
    """Raised when an input cannot be decoded as an image.

    The message names the source (a path, or a short description of in-memory
    input) and the reason, so a failure deep in a long run points at the file.
    """

    def __init__(self, source: object, reason: str):
        self.source = describe_source(source)
        self.reason = reason
        super().__init__(f"cannot decode image {self.source}: {reason}")

    def __reduce__(self):
        # joblib re-raises worker exceptions in the parent: keep them picklable.
        return (_rebuild_decode_error, (self.source, self.reason))


def _rebuild_decode_error(source, reason):
    err = ImageDecodeError.__new__(ImageDecodeError)
    err.source, err.reason = source, reason
    ValueError.__init__(err, f"cannot decode image {source}: {reason}")
    return err


def describe_source(src: object) -> str:
    """Short human-readable name of an image source, for messages."""
    if isinstance(src, (str, os.PathLike)):
        return repr(os.fspath(src))
    if isinstance(src, (bytes, bytearray, memoryview)):
        return f"<{len(src)} bytes>"
    describe = getattr(src, "describe", None)
    if callable(describe):  # a source that names itself (a recorded preprocessing chain)
        return describe()
    if isinstance(src, np.ndarray):
        return f"<array shape={src.shape} dtype={src.dtype}>"
    name = getattr(src, "name", None)
    return repr(name) if isinstance(name, str) else f"<{type(src).__name__}>"


def read_image(src: ImageSource, mode: Literal["rgb", "gray"] = "rgb", *,
               max_pixels: int | None = MAX_PIXELS, exif_orientation: bool = True) -> np.ndarray:
    """Read one image as a uint8 array in RGB order (or grayscale).

    Parameters
    ----------
    src : str, os.PathLike, bytes, binary file object or ndarray
        A path to an image file, the encoded bytes of one, an open binary file,
        or an already decoded array. Arrays of shape (H, W), (H, W, 1), (H, W, 3)
        or (H, W, 4) are taken to be grayscale, RGB or RGBA; uint16 arrays are
        scaled to 8 bits, float arrays must lie in [0, 1], bool arrays map to
        {0, 255}. Paths must name regular files (not FIFOs or devices).
    mode : {"rgb", "gray"}, default="rgb"
        ``"rgb"`` returns (H, W, 3); ``"gray"`` returns (H, W) using the
        ITU-R BT.601 luma weights, as OpenCV does.
    max_pixels : int or None, default=MAX_PIXELS
        Refuse an encoded image whose header declares more pixels than this,
        before decoding it (JPEG, PNG, GIF, BMP, WebP, TIFF and PNM headers are
        read; other formats have OpenCV's bound of 2**30 only). None: no budget.
    exif_orientation : bool, default=True
        Turn JPEGs upright as their EXIF orientation says (phone photos), as
        OpenCV's and PIL's readers do.

    Returns
    -------
    image : ndarray of shape (H, W, 3) or (H, W), dtype uint8
        A new array; the input is never modified. Alpha is dropped, 16-bit
        images are scaled down to 8 bits, palette images are expanded, float
        images decoded from a file are scaled by their range when it leaves [0, 1].

    Raises
    ------
    ImageDecodeError
        If the file is missing, unreadable, not a regular file, empty, truncated,
        over the pixel budget or not an image, or the array has an unsupported
        shape, dtype or range. The message names the source.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.io import read_image
    >>> read_image(np.zeros((4, 5), dtype=np.uint8)).shape
    (4, 5, 3)
    >>> read_image(np.zeros((4, 5, 3)), mode="gray").dtype
    dtype('uint8')
    """
    return read_views(src, (mode,), max_pixels=max_pixels,
                      exif_orientation=exif_orientation)[mode]


def read_views(src: ImageSource, modes=("rgb", "gray"), *, max_pixels: int | None = MAX_PIXELS,
               exif_orientation: bool = True) -> dict[str, np.ndarray]:
    """Decode one image once and return it in each of ``modes``.

    The engine's decode: branches that work on colour and on grey share one
    decoding of the file. Each view equals ``read_image(src, mode)``.

    Parameters
    ----------
    src : str, os.PathLike, bytes, binary file object or ndarray
        As for :func:`read_image`.
    modes : sequence of {"rgb", "gray"}, default=("rgb", "gray")
    max_pixels, exif_orientation
        As for :func:`read_image`.

    Returns
    -------
    dict of str to ndarray
        Mode -> uint8 image, (H, W, 3) or (H, W).

    Examples
    --------
    >>> import numpy as np
    >>> views = read_views(np.zeros((4, 5, 3), np.uint8))
    >>> views["rgb"].shape, views["gray"].shape
    ((4, 5, 3), (4, 5))
    """
    for mode in modes:
        if mode not in ("rgb", "gray"):
            raise ValueError(f"mode must be 'rgb' or 'gray', got {mode!r}")
    if isinstance(src, np.ndarray):
        image, bgr = _array_to_uint8(src, src, from_file=False), False
    else:
        image, bgr = _decode(_read_bytes(src), src, max_pixels, exif_orientation), True
    return {mode: _to_mode(image, mode, bgr=bgr) for mode in modes}


def _read_bytes(src: object) -> bytes:
    if isinstance(src, (str, os.PathLike)):
        try:
            # Non-blocking open: a FIFO named x.jpg would otherwise block here forever.
            fd = os.open(src, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            raise ImageDecodeError(src, exc.strerror or str(exc)) from exc
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ImageDecodeError(src, "not a regular file (a FIFO, device or folder)")
        with os.fdopen(fd, "rb") as fh:
            try:
                return fh.read()
            except OSError as exc:
                raise ImageDecodeError(src, exc.strerror or str(exc)) from exc
    if isinstance(src, (bytes, bytearray, memoryview)):
        return bytes(src)
    if hasattr(src, "read"):
        try:
            data = src.read()
        except OSError as exc:
            raise ImageDecodeError(src, str(exc)) from exc
        if not isinstance(data, (bytes, bytearray)):
            raise ImageDecodeError(src, "file object must be opened in binary mode")
        return bytes(data)
    raise TypeError(
        "an image must be a path, bytes, a binary file object or an ndarray, "
        f"got {type(src).__name__}"
    )


def check_pixel_budget(data: bytes, src: object, max_pixels: int | None) -> None:
    """Raise :class:`ImageDecodeError` when the header declares more than ``max_pixels``."""
    size = image_size(data) if max_pixels is not None else None
    if size is not None and size[0] * size[1] > max_pixels:
        w, h = size
        raise ImageDecodeError(src, f"{w} x {h} pixels ({w * h / 1e6:.0f} megapixels) exceed "
                                    f"the budget of {max_pixels / 1e6:g} megapixels "
                                    "(max_pixels)")


def _decode(data: bytes, src: object, max_pixels: int | None,
            exif_orientation: bool) -> np.ndarray:
    if not data:
        raise ImageDecodeError(src, "the file is empty (0 bytes)")
    check_pixel_budget(data, src, max_pixels)
    flags = cv2.IMREAD_UNCHANGED  # keeps alpha and 16 bits; ignores EXIF orientation
    damage = None
    try:
        if data.startswith(_JPEG_SOI):
            # OpenCV returns a partial picture for a cut-off JPEG instead of failing.
            structure = jpeg_structure_error(data)
            if structure is not None:
                raise ImageDecodeError(src, structure)
            # JPEGs have no alpha: the colour reader applies EXIF orientation (and
            # converts CMYK properly).
            flags = cv2.IMREAD_COLOR | (0 if exif_orientation else cv2.IMREAD_IGNORE_ORIENTATION)
            image, damage = decode_jpeg(data, flags)
        else:
            image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    except cv2.error as exc:
        raise ImageDecodeError(src, f"OpenCV failed: {exc}") from exc
    if damage is not None:
        raise ImageDecodeError(src, f"corrupt or cut-off JPEG (the decoder reports: {damage})")
    if image is None or image.size == 0:
        raise ImageDecodeError(src, "not an image, or a corrupt or truncated one")
    return _array_to_uint8(image, src, from_file=True)


def _array_to_uint8(image: np.ndarray, src: object, from_file: bool) -> np.ndarray:
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ImageDecodeError(src, f"unsupported image shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ImageDecodeError(src, f"empty image of shape {image.shape}")
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.bool_:
        return image.astype(np.uint8) * 255
    if image.dtype == np.uint16:
        return (image >> 8).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        if not np.isfinite(image).all():
            raise ImageDecodeError(src, "float image contains NaN or infinity")
        lo, hi = float(image.min()), float(image.max())
        if lo < 0 or hi > 1:
            if not from_file:
                raise ImageDecodeError(src, f"float image values span [{lo:g}, {hi:g}]: float "
                                            "images must lie in [0, 1] (divide 0-255 values "
                                            "by 255, or pass uint8)")
            # A float TIFF or HDR file has no fixed range: its own range maps to 0-255.
            image = (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)
        return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
    if np.issubdtype(image.dtype, np.integer):
        return np.clip(image, 0, 255).astype(np.uint8)
    raise ImageDecodeError(src, f"unsupported dtype {image.dtype}")


_GRAY = {False: {3: cv2.COLOR_RGB2GRAY, 4: cv2.COLOR_RGBA2GRAY},
         True: {3: cv2.COLOR_BGR2GRAY, 4: cv2.COLOR_BGRA2GRAY}}
_RGB = {False: {3: None, 4: cv2.COLOR_RGBA2RGB},
        True: {3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGB}}


def _to_mode(image: np.ndarray, mode: str, bgr: bool) -> np.ndarray:
    if image.ndim == 2:
        return image.copy() if mode == "gray" else cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    code = (_GRAY if mode == "gray" else _RGB)[bgr][image.shape[2]]
    image = np.ascontiguousarray(image)
    return image.copy() if code is None else cv2.cvtColor(image, code)
