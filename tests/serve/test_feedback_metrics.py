"""POST /feedback (atomic, deduplicated, checked labels, concurrent bursts) and GET /metrics."""

from __future__ import annotations

import json
import threading

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("prometheus_client")
pytest.importorskip("httpx2")
from fastapi.testclient import TestClient  # noqa: E402

from imgrec_classic.persistence import load_model  # noqa: E402
from imgrec_classic.serve import create_app  # noqa: E402
from imgrec_classic.serve.feedback import FeedbackStore  # noqa: E402


@pytest.fixture()
def feedback_client(digit_model_path, tmp_path):
    model, metadata = load_model(digit_model_path)
    app = create_app(model, metadata, feedback_dir=tmp_path / "fb", model_id="abc123")
    with TestClient(app) as client:
        yield client, tmp_path / "fb"


def _log(root):
    return [json.loads(line) for line in (root / "feedback.jsonl").read_text().splitlines()]


def test_feedback_by_file_and_by_prediction_id(feedback_client, digit_png):
    client, root = feedback_client
    assert client.get("/health").json()["feedback"] is True
    r = client.post("/feedback", files={"file": ("x.png", digit_png, "image/png")},
                    data={"label": "three"})
    assert r.status_code == 200 and r.json()["status"] == "stored"
    stored = list((root / "three").iterdir())
    assert len(stored) == 1 and stored[0].suffix == ".png"
    assert stored[0].read_bytes() == digit_png
    again = client.post("/feedback", files={"file": ("y.png", digit_png, "image/png")},
                        data={"label": "three"})
    assert again.json()["status"] == "duplicate" and len(list((root / "three").iterdir())) == 1
    # by the id of a prediction: the entry records what the model said
    p = client.post("/predict", files=[("files", ("a.png", digit_png, "image/png"))]).json()
    pid = p["predictions"][0]["id"]
    r = client.post("/feedback", data={"id": pid, "label": "eight"})
    assert r.status_code == 200
    log = _log(root)
    assert [e["label"] for e in log] == ["three", "eight"]
    assert log[1]["predicted"] == "three" and log[1]["model"] == "abc123"
    assert client.post("/feedback", data={"id": "nope", "label": "x"}).status_code == 404


@pytest.mark.parametrize("label", ["../evil", "a/b", ".hidden", "", "x" * 300, "feedback.jsonl",
                                   "CON"])
def test_bad_labels_are_refused(feedback_client, digit_png, label):
    client, root = feedback_client
    r = client.post("/feedback", files={"file": ("x.png", digit_png, "image/png")},
                    data={"label": label})
    assert r.status_code == 422
    assert not [p for p in root.rglob("*") if p.is_file()]


def test_not_an_image_is_refused(feedback_client):
    client, root = feedback_client
    r = client.post("/feedback", files={"file": ("x.png", b"hello", "image/png")},
                    data={"label": "three"})
    assert r.status_code == 422 and not (root / "three").exists()


def test_a_concurrent_burst_is_stored_once_and_nothing_partial(tmp_path, digit_png):
    store = FeedbackStore(tmp_path)
    images = [digit_png, digit_png + b"\0"]  # two distinct byte strings, each sent 8 times
    results = []

    def send(data):
        results.append(store.add(data, "three", ".png")["status"])

    threads = [threading.Thread(target=send, args=(images[i % 2],)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results).count("stored") == 2 and results.count("duplicate") == 14
    files = sorted(p.name for p in (tmp_path / "three").iterdir())
    assert len(files) == 2 and not [f for f in files if f.endswith(".part")]
    assert len(_log(tmp_path)) == 2


def test_metrics_in_prometheus_text(digit_model_path, digit_png):
    from prometheus_client.parser import text_string_to_metric_families

    model, metadata = load_model(digit_model_path)
    with TestClient(create_app(model, metadata)) as client:
        for _ in range(3):
            client.post("/predict", files=[("files", ("a.png", digit_png, "image/png"))])
        client.post("/predict", files=[("files", ("b.png", b"junk", "image/png"))])
        client.get("/nowhere")
        r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(r.text) for s in family.samples}
    assert samples[("imgrec_requests_total", (("path", "/predict"), ("status", "200")))] == 3
    assert samples[("imgrec_requests_total", (("path", "/predict"), ("status", "422")))] == 1
    assert samples[("imgrec_requests_total", (("path", "other"), ("status", "404")))] == 1
    assert samples[("imgrec_predictions_total", (("label", "three"),))] == 3
    assert samples[("imgrec_request_seconds_count", (("path", "/predict"),))] == 4
    assert 0 < samples[("imgrec_top_score_mean", ())] <= 1


def test_the_served_row_cache_defaults_to_the_trained_one_when_it_is_here(tmp_path):
    from imgrec_classic.serve import feedback_row_cache

    here = str(tmp_path)
    assert feedback_row_cache({"cache": here}, "fb") == here
    assert feedback_row_cache({"cache": here}, None) is None  # no feedback, no rows
    assert feedback_row_cache({"cache": here}, "fb", False) is None
    assert feedback_row_cache({"cache": str(tmp_path / "gone")}, "fb") is None
    assert feedback_row_cache({}, "fb", "other") == "other"


def test_codes_are_kept_for_the_latest_predictions_only(tmp_path):
    import numpy as np

    store = FeedbackStore(tmp_path, remember=4, remember_codes=2)
    ids = [store.remember(bytes([i]), ".png", "three", {"hog": np.full(3, i)}) for i in range(3)]
    assert store.codes(ids[0]) is None  # beyond remember_codes, though its bytes are kept
    assert store.recall(ids[0])[2] == "three"
    assert [int(store.codes(i)["hog"][0]) for i in ids[1:]] == [1, 2]
