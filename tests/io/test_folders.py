"""load_image_folder with messy folders; read_idx on hand-made and real IDX files."""

from __future__ import annotations

import gzip

import cv2
import numpy as np
import pytest

from imgrec_classic.io import ImageDecodeError
from imgrec_classic.io.folders import load_image_folder, read_idx


def _write(path, seed=0, ext=".png"):
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.random.default_rng(seed).integers(0, 256, (16, 20, 3), np.uint8)
    path.write_bytes(cv2.imencode(ext, image)[1].tobytes())


@pytest.fixture()
def messy(tmp_path):
    _write(tmp_path / "cat" / "a.png")
    _write(tmp_path / "cat" / "nested" / "deeper" / "b.JPG", 1, ".jpg")
    _write(tmp_path / "dog" / "c.jpg", 2, ".jpg")
    (tmp_path / "dog" / "empty.png").write_bytes(b"")
    jpeg = cv2.imencode(".jpg", np.full((64, 64, 3), 90, np.uint8))[1].tobytes()
    (tmp_path / "dog" / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (tmp_path / "dog" / "text.jpg").write_text("this is not a picture")
    (tmp_path / "dog" / "readme.txt").write_text("notes")
    (tmp_path / "dog" / ".DS_Store").write_bytes(b"\0\1")
    _write(tmp_path / ".hidden" / "x.png")
    _write(tmp_path / "stray.png")
    (tmp_path / "empty_class").mkdir()
    return tmp_path


def test_skip_lists_every_bad_file_with_a_reason(messy):
    data = load_image_folder(messy, on_error="skip")
    assert data.target_names == ["cat", "dog", "empty_class"]
    names = [p.split("/")[-1] for p in data.images]
    assert names == ["a.png", "b.JPG", "c.jpg"]
    assert data.target.tolist() == [0, 0, 1]
    reasons = {p.split("/")[-1]: r for p, r in data.skipped}
    assert set(reasons) == {"empty.png", "truncated.jpg", "text.jpg", "readme.txt", "stray.png"}
    assert "cannot decode" in reasons["truncated.jpg"]
    assert "cannot decode" in reasons["empty.png"]
    assert "extension" in reasons["readme.txt"]
    assert "class folder" in reasons["stray.png"]


def test_raise_names_the_bad_file(messy):
    with pytest.raises(ImageDecodeError, match=r"(empty|truncated|text)\.(png|jpg)"):
        load_image_folder(messy)


def test_without_validation_files_are_listed_by_extension(messy):
    data = load_image_folder(messy, validate=False)
    assert len(data.images) == 6  # the three bad images are not opened


def test_extensions_filter(messy):
    data = load_image_folder(messy, extensions=["png"], on_error="skip")
    assert [p.split("/")[-1] for p in data.images] == ["a.png"]


def test_missing_and_empty_roots(tmp_path):
    with pytest.raises(NotADirectoryError):
        load_image_folder(tmp_path / "nope")
    (tmp_path / "only").mkdir()
    with pytest.raises(ValueError, match="no images"):
        load_image_folder(tmp_path)
    with pytest.raises(ValueError, match="on_error"):
        load_image_folder(tmp_path, on_error="ignore")


def _idx(array: np.ndarray, code: int) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        n.to_bytes(4, "big") for n in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype, code", [(np.uint8, 0x08), (np.int16, 0x0B),
                                         (np.int32, 0x0C), (np.float32, 0x0D)])
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trip(tmp_path, dtype, code, compress):
    array = (np.arange(24).reshape(2, 3, 4) * 3).astype(dtype)
    data = _idx(array, code)
    path = tmp_path / ("x.idx.gz" if compress else "x.idx")
    path.write_bytes(gzip.compress(data) if compress else data)
    out = read_idx(path)
    np.testing.assert_array_equal(out, array)
    assert out.dtype == np.dtype(dtype)


def test_read_idx_rejects_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01")
    with pytest.raises(ValueError, match="magic"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(_idx(np.arange(10, dtype=np.uint8), 0x08)[:-3])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "short")


def test_unreadable_subfolders_are_reported(tmp_path, monkeypatch):
    import os

    for label in ("cat", "dog"):
        (tmp_path / label / "inner").mkdir(parents=True)
        cv2.imwrite(str(tmp_path / label / "a.png"), np.zeros((8, 8), np.uint8))
    locked = tmp_path / "dog" / "inner"
    scandir = os.scandir

    def refusing(path="."):  # what a folder without read permission does (even to root)
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    data = load_image_folder(tmp_path, on_error="skip")
    assert (str(locked), "cannot list folder: Permission denied") in data.skipped
    assert len(data.images) == 2
    with pytest.raises(PermissionError, match="inner"):
        load_image_folder(tmp_path)


def test_a_fifo_in_a_class_folder_is_skipped_with_a_reason(tmp_path):
    import os

    for label in ("cat", "dog"):
        (tmp_path / label).mkdir()
        cv2.imwrite(str(tmp_path / label / "a.png"), np.zeros((8, 8), np.uint8))
    os.mkfifo(tmp_path / "dog" / "pipe.jpg")
    data = load_image_folder(tmp_path, on_error="skip")
    assert len(data.images) == 2
    assert any("pipe.jpg" in p and "not a regular file" in r for p, r in data.skipped)


def test_list_images_walks_a_folder_by_extension(tmp_path):
    from imgrec_classic.io.folders import list_images

    (tmp_path / "a" / ".hidden").mkdir(parents=True)
    for name in ("z.png", "a/b.JPEG", "a/notes.txt", "a/.c.png", "a/.hidden/d.png"):
        (tmp_path / name).write_bytes(b"")
    assert list_images(tmp_path) == [str(tmp_path / "a" / "b.JPEG"), str(tmp_path / "z.png")]
    assert list_images(tmp_path, extensions=["png"]) == [str(tmp_path / "z.png")]
    with pytest.raises(NotADirectoryError, match="not a folder"):
        list_images(tmp_path / "z.png")
