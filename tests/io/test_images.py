import io
import pickle

import cv2
import numpy as np
import pytest
from PIL import Image

from imgrec_classic.io import ImageDecodeError, read_image


@pytest.fixture
def bgr_image():
    """A 6x8 image whose left half is pure red and right half pure blue (in RGB terms)."""
    image = np.zeros((6, 8, 3), np.uint8)
    image[:, :4, 2] = 255  # OpenCV writes BGR: channel 2 is red
    image[:, 4:, 0] = 255
    return image


def _encode(image, ext):
    ok, buf = cv2.imencode(ext, image)
    assert ok
    return buf.tobytes()


def test_rgb_order_from_path_bytes_and_file(tmp_path, bgr_image):
    path = tmp_path / "two.png"
    cv2.imwrite(str(path), bgr_image)
    data = path.read_bytes()
    for src in (path, str(path), data, bytearray(data), memoryview(data), io.BytesIO(data)):
        image = read_image(src)
        assert image.shape == (6, 8, 3) and image.dtype == np.uint8
        np.testing.assert_array_equal(image[0, 0], [255, 0, 0])
        np.testing.assert_array_equal(image[0, -1], [0, 0, 255])


def test_gray_mode_uses_luma(bgr_image):
    gray = read_image(_encode(bgr_image, ".png"), mode="gray")
    assert gray.shape == (6, 8)
    assert abs(int(gray[0, 0]) - round(0.299 * 255)) <= 1
    assert abs(int(gray[0, -1]) - round(0.114 * 255)) <= 1


def test_grayscale_file_becomes_three_channels():
    gray = np.arange(48, dtype=np.uint8).reshape(6, 8)
    image = read_image(_encode(gray, ".png"))
    assert image.shape == (6, 8, 3)
    np.testing.assert_array_equal(image[..., 1], gray)
    np.testing.assert_array_equal(read_image(_encode(gray, ".png"), mode="gray"), gray)


def test_alpha_is_dropped(bgr_image):
    bgra = np.dstack([bgr_image, np.full((6, 8), 7, np.uint8)])
    image = read_image(_encode(bgra, ".png"))
    assert image.shape == (6, 8, 3)
    np.testing.assert_array_equal(image[0, 0], [255, 0, 0])


def test_16_bit_png_is_scaled_to_8_bits():
    deep = np.full((4, 4), 65535, np.uint16)
    deep[0, 0] = 256 * 100
    image = read_image(_encode(deep, ".png"), mode="gray")
    assert image.dtype == np.uint8
    assert image[0, 0] == 100 and image[1, 1] == 255


def test_palette_png(tmp_path):
    picture = Image.new("P", (5, 3))
    picture.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    picture.putpixel((4, 2), 1)
    path = tmp_path / "palette.png"
    picture.save(path)
    image = read_image(path)
    np.testing.assert_array_equal(image[0, 0], [255, 0, 0])
    np.testing.assert_array_equal(image[2, 4], [0, 255, 0])


def test_jpeg_round_trip_is_close(astronaut):
    data = _encode(cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR), ".jpg")
    decoded = read_image(data)
    assert np.abs(decoded.astype(int) - astronaut).mean() < 5


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp", ".bmp", ".tif"])
def test_truncated_file_raises(tmp_path, astronaut, ext):
    path = tmp_path / f"cut{ext}"
    data = _encode(astronaut, ext)
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageDecodeError, match="cut"):
        read_image(path)


@pytest.mark.parametrize(
    "content, reason",
    [(b"", "empty"), (b"hello, this is text\n" * 10, "not an image"),
     (b"<html><body>404</body></html>", "not an image")],
)
def test_bad_files_raise_and_name_the_file(tmp_path, content, reason):
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageDecodeError, match=reason) as info:
        read_image(path)
    assert "photo.jpg" in str(info.value)
    assert info.value.source.endswith("photo.jpg'")


def test_missing_file_and_directory_raise(tmp_path):
    with pytest.raises(ImageDecodeError, match="nope.png"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(ImageDecodeError, match=str(tmp_path.name)):
        read_image(tmp_path)


def test_text_mode_file_object_raises(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("abc")
    with open(path) as fh, pytest.raises(ImageDecodeError, match="binary"):
        read_image(fh)


def test_decode_error_survives_pickling(tmp_path):
    try:
        read_image(b"junk")
    except ImageDecodeError as exc:
        copy = pickle.loads(pickle.dumps(exc))
    assert isinstance(copy, ImageDecodeError)
    assert str(copy) == "cannot decode image <4 bytes>: not an image, or a corrupt or truncated one"


@pytest.mark.parametrize(
    "array, expected",
    [(np.ones((2, 2)), 255), (np.full((2, 2), 0.5, np.float32), 128),
     (np.ones((2, 2), bool), 255), (np.full((2, 2), 512, np.uint16), 2),
     (np.full((2, 2, 1), 9, np.uint8), 9), (np.full((2, 2), 300, np.int32), 255)],
)
def test_arrays_are_converted(array, expected):
    image = read_image(array, mode="gray")
    assert image.dtype == np.uint8 and image.shape == (2, 2)
    assert (image == expected).all()


def test_array_input_is_copied_and_rgba_array_loses_alpha():
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 0] = 200
    image = read_image(rgba)
    assert image.shape == (2, 2, 3) and (image[..., 0] == 200).all()
    gray = np.zeros((3, 3), np.uint8)
    out = read_image(gray, mode="gray")
    out[0, 0] = 1
    assert gray[0, 0] == 0


@pytest.mark.parametrize(
    "array", [np.zeros((2, 2, 2)), np.zeros(5), np.zeros((0, 3)), np.full((2, 2), np.nan),
              np.zeros((2, 2), complex)])
def test_bad_arrays_raise(array):
    with pytest.raises(ImageDecodeError):
        read_image(array)


def test_bad_arguments():
    with pytest.raises(TypeError, match="path, bytes"):
        read_image(12)
    with pytest.raises(ValueError, match="mode"):
        read_image(np.zeros((2, 2)), mode="bgr")


def test_caltech_image_decodes(caltech_paths):
    for path in caltech_paths:
        image = read_image(path)
        assert image.ndim == 3 and image.shape[2] == 3 and min(image.shape[:2]) > 50


# -- safety: pixel budget, EXIF orientation, JPEG ends, special files, float files -------------

@pytest.mark.parametrize("ext", [".png", ".jpg", ".gif", ".bmp", ".webp", ".tif", ".ppm", ".pgm"])
def test_header_sizes_match_pillow(ext, astronaut):
    from imgrec_classic.io.header import image_size

    image = astronaut[:90, :130]
    if ext in (".gif",):
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="GIF")
        data = buf.getvalue()
    else:
        data = _encode(image if ext != ".pgm" else image[..., 0], ext)
    assert image_size(data) == Image.open(io.BytesIO(data)).size == (130, 90)
    assert image_size(b"not an image") is None


def _png_declaring(width, height):
    import struct
    import zlib

    chunk = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = b"IDAT" + zlib.compress(b"\0" * 64)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk
            + struct.pack(">I", zlib.crc32(chunk)) + struct.pack(">I", len(idat) - 4) + idat
            + struct.pack(">I", zlib.crc32(idat)))


def test_pixel_budget_is_checked_before_decoding():
    import tracemalloc

    bomb = _png_declaring(32768, 32768)  # would take 1 GB (grey) to decode
    tracemalloc.start()
    with pytest.raises(ImageDecodeError, match=r"32768 x 32768 pixels .* exceed the budget"):
        read_image(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10 * 2**20
    small = _encode(np.zeros((40, 50), np.uint8), ".png")
    with pytest.raises(ImageDecodeError, match="budget of 0.001 megapixels"):
        read_image(small, max_pixels=1000)
    assert read_image(small, max_pixels=2000).shape == (40, 50, 3)
    assert read_image(small, max_pixels=None).shape == (40, 50, 3)


def _jpeg_with_orientation(image, orientation):
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(image).save(buf, format="JPEG", quality=95, exif=exif)
    return buf.getvalue()


def test_exif_orientation_is_applied_and_can_be_turned_off():
    from PIL import ImageOps

    image = np.zeros((40, 60, 3), np.uint8)
    image[:10, :20] = (255, 0, 0)  # a red block in the top-left corner
    for orientation in range(1, 9):
        data = _jpeg_with_orientation(image, orientation)
        expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
        got = read_image(data)
        assert got.shape == expected.shape
        assert np.abs(got.astype(int) - expected).mean() < 2
    sideways = _jpeg_with_orientation(image, 6)
    assert read_image(sideways).shape == (60, 40, 3)  # upright: as a phone shows it
    assert read_image(sideways, exif_orientation=False).shape == (40, 60, 3)


def test_jpeg_with_trailing_bytes_decodes_and_cut_ones_do_not(astronaut):
    data = _encode(astronaut, ".jpg")
    trailing = read_image(data + b"\0\1\2\3" * 512)  # 2 KB after the end marker
    np.testing.assert_array_equal(trailing, read_image(data))
    with pytest.raises(ImageDecodeError, match="truncated JPEG"):
        read_image(data[: len(data) // 2])


@pytest.mark.parametrize("progressive", [False, True])
def test_cut_jpeg_with_an_end_marker_appended_is_refused(astronaut, progressive):
    ok, buf = cv2.imencode(".jpg", astronaut[:, :, ::-1],
                           [cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)])
    data = buf.tobytes()
    with pytest.raises(ImageDecodeError, match="premature end of data segment"):
        read_image(data[: len(data) * 2 // 3] + b"\xff\xd9")  # OpenCV fills it in grey
    np.testing.assert_array_equal(read_image(data), cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1])


def test_progressive_jpegs_decode_alike_from_many_threads(astronaut):
    from concurrent.futures import ThreadPoolExecutor

    ok, buf = cv2.imencode(".jpg", astronaut, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    expected = read_image(buf.tobytes())
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(read_image, [buf.tobytes()] * 16))
    assert all(np.array_equal(g, expected) for g in got)


def test_a_whole_jpeg_with_exact_grey_corners_decodes():
    image = np.full((48, 64, 3), 128, np.uint8)  # what the fill of missing data looks like
    image[16:32, 16:48] = (200, 30, 90)
    got = read_image(_encode(image, ".jpg"))
    assert got.shape == (48, 64, 3) and np.all(got[-2:, -2:] == 128)


def test_fifos_and_devices_are_refused_without_blocking(tmp_path):
    import os
    import threading

    fifo = tmp_path / "x.jpg"
    os.mkfifo(fifo)
    outcome = []

    def read():
        try:
            read_image(fifo)
        except ImageDecodeError as exc:
            outcome.append(exc.reason)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(5)
    assert outcome and "not a regular file" in outcome[0]
    zero = tmp_path / "zero.jpg"
    zero.symlink_to("/dev/zero")
    with pytest.raises(ImageDecodeError, match="not a regular file"):
        read_image(zero)


def test_float_files_scale_by_their_range_and_float_arrays_must_be_in_0_1(tmp_path):
    ramp = np.linspace(0, 1000, 64 * 64, dtype=np.float32).reshape(64, 64)
    path = tmp_path / "ramp.tif"
    assert cv2.imwrite(str(path), ramp)
    got = read_image(path, mode="gray")
    assert got.min() == 0 and got.max() == 255  # not saturated to 255 everywhere
    assert 120 <= got[32, 32] <= 135
    with pytest.raises(ImageDecodeError, match=r"span \[0, 1000\].*\[0, 1\]"):
        read_image(ramp)
