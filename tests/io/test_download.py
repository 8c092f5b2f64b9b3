"""download_images against a local fault-injecting HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from imgrec_classic.io import read_image
from imgrec_classic.io.download import download_images, read_url_list


def _png(seed: int) -> bytes:
    image = np.random.default_rng(seed).integers(0, 256, (24, 32, 3), np.uint8)
    return cv2.imencode(".png", image)[1].tobytes()


def _jpeg(seed: int) -> bytes:
    image = np.random.default_rng(seed).integers(0, 256, (24, 32, 3), np.uint8)
    return cv2.imencode(".jpg", image)[1].tobytes()


IMAGES = {f"/img/{i}.png": _png(i) for i in range(6)}
IMAGES["/img/photo.jpg"] = _jpeg(7)
IMAGES["/img/copy.png"] = IMAGES["/img/0.png"]
HTML = b"<html><body>Not found, but 200</body></html>"


class FaultyHandler(BaseHTTPRequestHandler):
    hits: Counter  # set per server
    stall: float = 3.0

    def log_message(self, *args):  # keep test output quiet
        pass

    def _send(self, body: bytes, kind: str = "image/png", status: int = 200,
              length: int | None = None, headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: C901 - one branch per injected fault
        path = self.path
        self.hits[path] += 1
        n = self.hits[path]
        if path in IMAGES:
            kind = "image/jpeg" if path.endswith(".jpg") else "image/png"
            self._send(IMAGES[path], kind)
        elif path == "/flaky.png":  # 500, then success
            if n == 1:
                self._send(b"oops", "text/plain", 500)
            else:
                self._send(_png(10))
        elif path == "/busy.png":  # 503 with Retry-After, then success
            if n == 1:
                self._send(b"busy", "text/plain", 503, headers={"Retry-After": "1"})
            else:
                self._send(_png(11))
        elif path == "/always500.png":
            self._send(b"down", "text/plain", 500)
        elif path == "/stall.png":  # headers never come within the timeout
            time.sleep(self.stall)
            self._send(_png(12))
        elif path == "/truncated.png":  # promises more bytes than it sends, every time
            body = _png(13)
            self._send(body[: len(body) // 2], length=len(body))
            self.close_connection = True
        elif path == "/truncated-once.png":  # breaks off midway once, then complete
            body = _png(14)
            if n == 1:
                self._send(body[: len(body) // 2], length=len(body))
                self.close_connection = True
            else:
                self._send(body)
        elif path == "/page.jpg":  # HTML served with an HTML content type
            self._send(HTML, "text/html; charset=utf-8")
        elif path == "/lying.jpg":  # HTML served as an image
            self._send(HTML, "image/jpeg")
        elif path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/redirect.png":
            self.send_response(301)
            self.send_header("Location", "/img/1.png")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/big.png":  # announced too large
            self._send(b"\0" * 50_000, length=50_000)
        elif path == "/big-unannounced.png":  # no Content-Length, too large
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(b"\x89PNG" + b"\0" * 50_000)
            self.close_connection = True
        elif path == "/trickle.png":  # a byte every 0.2 s: each read within the timeout
            body = _png(15)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for i in range(len(body)):
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass  # the client gave up
        elif path == "/huge-header.png":  # a tiny PNG declaring 40000 x 40000 pixels
            self._send(_png_declaring(40000, 40000))
        elif path.startswith("/slow/"):  # one image per second: lets a test kill a run midway
            time.sleep(0.3)
            self._send(_png(100 + int(path.split("/")[-1].split(".")[0])))
        else:
            self._send(b"missing", "text/plain", 404)


def _png_declaring(width, height):
    import struct
    import zlib

    chunk = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk
            + struct.pack(">I", zlib.crc32(chunk)))


@pytest.fixture()
def server():
    handler = type("Handler", (FaultyHandler,), {"hits": Counter()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler.hits
    httpd.shutdown()
    httpd.server_close()


def _download(urls, dest, **kwargs):
    options = dict(timeout=(2.0, 1.0), retries=2, backoff_factor=0.05, max_bytes=20_000,
                   n_workers=4, verbose=False)
    return download_images(urls, dest, **{**options, **kwargs})


def _manifest(dest: Path) -> list[dict]:
    return [json.loads(line) for line in (dest / "manifest.jsonl").read_text().splitlines()]


def _assert_clean(dest: Path):
    """Every kept file decodes, and no temporary or partial file remains."""
    files = [p for p in dest.rglob("*") if p.is_file() and p.name != "manifest.jsonl"]
    assert not [p for p in files if p.suffix == ".part"]
    for p in files:
        read_image(p)
    return files


def test_good_images_are_saved_by_content_hash(server, tmp_path):
    base, _ = server
    urls = [base + p for p in ("/img/1.png", "/img/2.png", "/img/photo.jpg", "/redirect.png")]
    records = _download(urls, tmp_path)
    # The redirect leads to 1.png's bytes: whichever of the two finishes first is saved,
    # the other is its duplicate (downloads finish in any order).
    assert [r.status for r in records[1:3]] == ["ok", "ok"]
    assert sorted([records[0].status, records[3].status]) == ["duplicate", "ok"]
    assert records[2].path.endswith(".jpg") and records[0].path.endswith(".png")
    assert records[3].path == records[0].path and records[3].sha256 == records[0].sha256
    for r, url in zip(records, urls, strict=True):
        assert r.url == url
        data = Path(r.path).read_bytes()
        assert len(data) == r.bytes
        assert Path(r.path).name.startswith(r.sha256[:16])
    assert len(_assert_clean(tmp_path)) == 3
    assert [m["url"] for m in _manifest(tmp_path)] != [] and len(_manifest(tmp_path)) == 4


def test_duplicates_by_content_are_kept_once(server, tmp_path):
    base, _ = server
    records = _download([base + "/img/0.png", base + "/img/copy.png"], tmp_path)
    statuses = sorted(r.status for r in records)
    assert statuses == ["duplicate", "ok"]
    assert records[0].path == records[1].path
    assert len(_assert_clean(tmp_path)) == 1


@pytest.mark.parametrize("path, fragment", [
    ("/missing.png", "HTTP 404"),
    ("/always500.png", "HTTP 500"),
    ("/stall.png", "Timeout"),
    ("/truncated.png", "interrupted"),
    ("/page.jpg", "Content-Type text/html"),
    ("/lying.jpg", "does not decode"),
    ("/loop", "redirect"),
    ("/big.png", "too large"),
    ("/big-unannounced.png", "too large"),
])
def test_faults_fail_cleanly(server, tmp_path, path, fragment):
    base, _ = server
    (record,) = _download([base + path], tmp_path)
    assert record.status == "failed"
    assert fragment in record.error
    assert record.path is None
    assert _assert_clean(tmp_path) == []
    (line,) = _manifest(tmp_path)
    assert line["status"] == "failed" and fragment in line["error"]


@pytest.mark.parametrize("path", ["/flaky.png", "/busy.png", "/truncated-once.png"])
def test_transient_faults_are_retried(server, tmp_path, path):
    base, hits = server
    (record,) = _download([base + path], tmp_path)
    assert record.status == "ok", record.error
    assert hits[path] == 2
    assert len(_assert_clean(tmp_path)) == 1


def test_retry_after_is_respected(server, tmp_path):
    base, _ = server
    start = time.perf_counter()
    (record,) = _download([base + "/busy.png"], tmp_path)
    assert record.status == "ok"
    assert time.perf_counter() - start >= 0.9  # the server asked for 1 s


def test_labels_write_subfolders_and_rerun_skips(server, tmp_path):
    base, hits = server
    csv = tmp_path / "urls.csv"
    csv.write_text(f"url,label\n{base}/img/1.png,cat\n{base}/img/2.png,dog\n"
                   f"{base}/img/3.png,../evil\n{base}/missing.png,cat\n")
    pairs = read_url_list(csv)
    assert pairs[0] == (f"{base}/img/1.png", "cat")
    dest = tmp_path / "out"
    records = _download(pairs, dest)
    assert Path(records[0].path).parent == dest / "cat"
    assert Path(records[1].path).parent == dest / "dog"
    assert Path(records[2].path).resolve().is_relative_to(dest.resolve())
    assert records[3].status == "failed"
    before = hits.copy()
    again = _download(pairs, dest)
    assert [r.status for r in again] == [r.status for r in records]
    # finished URLs are not fetched again; the failed one is retried
    assert hits["/img/1.png"] == before["/img/1.png"]
    assert hits["/missing.png"] == before["/missing.png"] + 1


def test_killed_run_resumes_without_partial_files(server, tmp_path):
    base, hits = server
    urls = [f"{base}/slow/{i}.png" for i in range(12)]
    script = ("import sys, json; from imgrec_classic.io.download import download_images; "
              "download_images(json.loads(sys.argv[1]), sys.argv[2], n_workers=1, "
              "verbose=False)")
    proc = subprocess.Popen([sys.executable, "-c", script, json.dumps(urls), str(tmp_path)])
    manifest = tmp_path / "manifest.jsonl"
    deadline = time.time() + 60
    while time.time() < deadline:
        if manifest.exists() and len(manifest.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    finished = len(_manifest(tmp_path))
    assert 3 <= finished < len(urls), "the run should have been killed midway"
    fetched_before = sum(hits.values())
    records = _download(urls, tmp_path)
    assert [r.status for r in records] == ["ok"] * len(urls)
    assert len(_assert_clean(tmp_path)) == len(urls)
    # only the unfinished URLs were fetched again
    assert sum(hits.values()) - fetched_before <= len(urls) - finished + 1
    assert {m["url"] for m in _manifest(tmp_path)} == set(urls)


def test_leftover_partial_files_are_removed(server, tmp_path):
    base, _ = server
    (tmp_path / "tmpabc.part").write_bytes(b"half an image")
    _download([base + "/img/4.png"], tmp_path)
    assert not list(tmp_path.glob("*.part"))


def test_torn_manifest_line_is_ignored(server, tmp_path):
    base, _ = server
    (tmp_path / "manifest.jsonl").write_text('{"url": "http://x/1.png", "sta')
    (record,) = _download([base + "/img/5.png"], tmp_path)
    assert record.status == "ok"


def test_a_trickling_server_hits_the_deadline(server, tmp_path):
    base, _ = server
    start = time.perf_counter()
    (record,) = _download([base + "/trickle.png"], tmp_path, deadline=1.5)
    assert record.status == "failed" and "deadline" in record.error
    assert time.perf_counter() - start < 4
    _assert_clean(tmp_path)


def test_pixel_budget_applies_to_downloads(server, tmp_path):
    base, _ = server
    (record,) = _download([base + "/huge-header.png"], tmp_path)
    assert record.status == "failed" and "megapixels" in record.error


def test_long_reserved_and_colliding_labels(server, tmp_path):
    base, _ = server
    labels = ["x" * 300, "猫" * 100, "manifest.jsonl", "a\0b", "a_b", "CON", "a/b"]
    urls = [f"{base}/img/{i}.png" for i in range(6)] + [f"{base}/img/photo.jpg"]
    pairs = list(zip(urls, labels, strict=True))
    records = _download(pairs, tmp_path)
    assert [r.status for r in records] == ["ok"] * len(labels), [r.error for r in records]
    folders = [Path(r.path).parent for r in records]
    assert len(set(folders)) == len(labels)  # no two labels share a folder
    for folder in folders:
        assert folder.parent == tmp_path and len(folder.name.encode()) <= 120
    assert (tmp_path / "manifest.jsonl").is_file()
    assert folders[4].name == "a_b"  # a label that needs no change keeps its name
    assert not list(tmp_path.rglob("*.part"))


def test_manifest_paths_are_relative_and_resume_from_another_folder(server, tmp_path,
                                                                   monkeypatch):
    base, hits = server
    dest = tmp_path / "images"
    monkeypatch.chdir(tmp_path)
    first = _download([(base + "/img/1.png", "cat")], "images")
    assert _manifest(dest)[0]["path"] == f"cat/{Path(first[0].path).name}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    again = _download([(base + "/img/1.png", "cat")], dest)
    assert again[0].status == "ok" and Path(again[0].path).exists()
    assert hits["/img/1.png"] == 1  # not fetched a second time
    assert len(_manifest(dest)) == 1  # nor logged twice
