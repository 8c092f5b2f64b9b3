"""Labelled image folders (``root/<class>/.../image.jpg``) and MNIST-style IDX files."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import numpy as np
from sklearn.utils import Bunch
from tqdm.auto import tqdm

from .images import MAX_PIXELS, ImageDecodeError, read_image

__all__ = ["IMAGE_EXTENSIONS", "list_images", "load_image_folder", "read_idx"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".pgm",
                    ".ppm", ".pbm")


def load_image_folder(root: str | os.PathLike, extensions: Iterable[str] = IMAGE_EXTENSIONS,
                      on_error: Literal["raise", "skip"] = "raise", validate: bool = True,
                      n_workers: int = 4, verbose: bool = False,
                      max_pixels: int | None = MAX_PIXELS) -> Bunch:
    """List a folder of labelled images: one sub-folder per class.

    Every file under ``root/<class>/`` (at any depth) whose extension is in
    ``extensions`` belongs to ``<class>``. Hidden files and folders (names starting
    with ``.``) are ignored; other files, and files directly in ``root``, are
    listed in ``skipped`` with the reason.

    Parameters
    ----------
    root : path
    extensions : iterable of str, default=IMAGE_EXTENSIONS
        Accepted file extensions, case-insensitive, with the dot.
    on_error : {"raise", "skip"}, default="raise"
        What an undecodable (corrupt, empty, truncated, not an image, over the
        pixel budget, not a regular file) file does: raise
        :class:`~imgrec_classic.io.ImageDecodeError` naming it, or go to
        ``skipped`` with the reason. A folder that cannot be listed raises
        ``PermissionError`` (or the ``OSError`` met) or goes to ``skipped``.
    validate : bool, default=True
        Decode every image once to find bad files now rather than deep in a long
        run. ``False`` lists files by extension only (fast on huge folders).
    n_workers : int, default=4
        Threads decoding images during validation (OpenCV releases the GIL).
    verbose : bool, default=False
        Progress bar during validation.
    max_pixels : int or None, default=MAX_PIXELS
        Pixel budget of each image during validation, as in
        :func:`~imgrec_classic.io.read_image`.

    Returns
    -------
    data : Bunch
        ``images`` (list of str paths, sorted by class then path), ``target``
        (int64 array), ``target_names`` (sorted class names), ``skipped`` (list of
        ``(path, reason)``), ``root``.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, cv2
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for label in ("cat", "dog"):
    ...     (root / label).mkdir()
    ...     _ = cv2.imwrite(str(root / label / "a.png"), np.zeros((8, 8), np.uint8))
    >>> _ = (root / "dog" / "notes.txt").write_text("not an image")
    >>> data = load_image_folder(root)
    >>> data.target_names, data.target.tolist(), len(data.skipped)
    (['cat', 'dog'], [0, 1], 1)
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"image folder {str(root)!r} does not exist or is not a folder")
    accepted = _accepted(extensions)
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    images, target, skipped = [], [], []
    for path in sorted(p for p in root.iterdir() if p.is_file() and not p.name.startswith(".")):
        skipped.append((str(path), "not inside a class folder"))
    for label, name in enumerate(classes):
        files, unreadable = _files(root / name)
        if unreadable and on_error == "raise":
            raise unreadable[0]
        skipped += [(exc.filename, f"cannot list folder: {exc.strerror}") for exc in unreadable]
        for path in files:
            if path.suffix.lower() in accepted:
                images.append(str(path))
                target.append(label)
            else:
                skipped.append((str(path), f"extension {path.suffix or '(none)'} not accepted"))
    if validate:
        bad = _undecodable(images, n_workers, verbose, max_pixels)
        if bad and on_error == "raise":
            raise next(iter(bad.values()))
        skipped += [(p, f"cannot decode: {err.reason}") for p, err in bad.items()]
        keep = [i for i, p in enumerate(images) if p not in bad]
        images, target = [images[i] for i in keep], [target[i] for i in keep]
    if not images:
        raise ValueError(f"no images found in {str(root)!r} (expected root/<class>/<image> "
                         f"with extensions {sorted(accepted)})")
    return Bunch(images=images, target=np.asarray(target, np.int64), target_names=classes,
                 skipped=skipped, root=str(root))


def list_images(folder: str | os.PathLike,
                extensions: Iterable[str] = IMAGE_EXTENSIONS) -> list[str]:
    """The image files below ``folder``, at any depth, sorted by path.

    A file is an image by its extension (case-insensitive); hidden files and
    folders (names starting with ``.``) are left out.

    Parameters
    ----------
    folder : path
    extensions : iterable of str, default=IMAGE_EXTENSIONS

    Returns
    -------
    list of str

    Raises
    ------
    NotADirectoryError
        ``folder`` is not a folder.
    OSError
        A folder below it cannot be listed (e.g. ``PermissionError``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "b").mkdir()
    >>> for name in ("b/2.JPG", "1.png", "notes.txt", ".hidden.png"):
    ...     _ = (root / name).write_bytes(b"")
    >>> [pathlib.Path(p).relative_to(root).as_posix() for p in list_images(root)]
    ['1.png', 'b/2.JPG']
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{str(folder)!r} does not exist or is not a folder")
    accepted = _accepted(extensions)
    files, unreadable = _files(folder)
    if unreadable:
        raise unreadable[0]
    return [str(p) for p in files if p.suffix.lower() in accepted]


def _accepted(extensions: Iterable[str]) -> set[str]:
    """Extensions lower-cased, each with its dot."""
    return {e.lower() if e.startswith(".") else f".{e.lower()}" for e in extensions}


def _files(folder: Path) -> tuple[list[Path], list[OSError]]:
    """Every non-hidden file below ``folder``, in sorted order, and the folders that
    could not be listed (os.walk would drop them silently)."""
    found, unreadable = [], []
    for dirpath, dirnames, filenames in os.walk(folder, onerror=unreadable.append):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [Path(dirpath) / f for f in sorted(filenames) if not f.startswith(".")]
    return sorted(found), unreadable


def _undecodable(paths: list[str], n_workers: int, verbose: bool,
                 max_pixels: int | None) -> dict[str, ImageDecodeError]:
    def check(path):
        try:
            read_image(path, mode="gray", max_pixels=max_pixels)
        except ImageDecodeError as exc:
            return path, exc
        return path, None

    with ThreadPoolExecutor(max(1, n_workers)) as pool:
        results = list(tqdm(pool.map(check, paths), total=len(paths), disable=not verbose,
                            unit="img", desc="checking images"))
    return {path: err for path, err in results if err is not None}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST / Fashion-MNIST format), gzip-compressed or not.

    Returns
    -------
    array : ndarray
        Shape and dtype from the file's header, e.g. (60000, 28, 28) uint8 images
        or (60000,) uint8 labels.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "labels-idx1-ubyte"
    >>> _ = f.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 9]))
    >>> read_idx(f).tolist()
    [7, 2, 9]
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    types = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in types:
        raise ValueError(f"{str(path)!r} is not an IDX file (bad magic number)")
    dtype, ndim = np.dtype(types[data[2]]), data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = offset + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{str(path)!r} is truncated or padded: {len(data)} bytes, "
                         f"header says {expected}")
    return np.frombuffer(data, dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))
