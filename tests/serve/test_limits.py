"""The hardened server on a real socket (127.0.0.1): body limits on the bytes received,
slow clients, off-loop prediction, overload, tokens."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import numpy as np
import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from imgrec_classic.serve import create_app  # noqa: E402


class SlowModel:
    """Predicts 'a' after sleeping: stands for a heavy model (or an image bomb)."""

    classes_ = np.array(["a", "b"])

    def __init__(self, seconds):
        self.seconds = seconds

    def predict_proba(self, X):
        time.sleep(self.seconds)
        return np.tile([0.9, 0.1], (len(X), 1))

    def predict(self, X):
        return self.classes_[np.zeros(len(X), int)]


@pytest.fixture()
def serve():
    """Start create_app(...) under uvicorn on a free port; yields the port."""
    servers = []

    def start(model, **kwargs):
        config = uvicorn.Config(create_app(model, {"data_dir": "/secret/photos", "preset": "x"},
                                           **kwargs),
                                host="127.0.0.1", port=0, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.time() + 10
        while not (server.started and server.servers) and time.time() < deadline:
            time.sleep(0.02)
        servers.append((server, thread))
        return server.servers[0].sockets[0].getsockname()[1]

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(5)


def _multipart(data: bytes, name="files", filename="x.png"):
    boundary = "imgrecboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: image/png\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def _post(port, body, boundary, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("POST", "/predict", body=body, headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", **(headers or {})})
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def test_chunked_oversize_upload_is_refused_without_reading_it_all(serve, digit_png):
    port = serve(SlowModel(0), max_bytes=50_000)
    sent = 0

    def chunks():
        nonlocal sent
        head, _ = _multipart(b"")
        yield head[:-len("\r\n--imgrecboundary--\r\n")]
        for _ in range(300 * 16):  # up to 300 MiB, never all taken
            sent += 65536
            yield b"\0" * 65536

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    status = None
    try:
        conn.request("POST", "/predict", body=chunks(), encode_chunked=True, headers={
            "Content-Type": "multipart/form-data; boundary=imgrecboundary"})
        status = conn.getresponse().status
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed while we were still sending
    assert sent < 20 * 2**20, sent
    if status is not None:
        assert status == 413


def test_health_answers_while_a_slow_prediction_runs(serve, digit_png):
    port = serve(SlowModel(3))
    body, boundary = _multipart(digit_png)
    slow = threading.Thread(target=_post, args=(port, body, boundary))
    slow.start()
    time.sleep(0.3)
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/health")
    assert conn.getresponse().status == 200
    assert time.perf_counter() - start < 1.0
    slow.join()


def test_overload_answers_503_with_retry_after(serve, digit_png):
    port = serve(SlowModel(1.5), max_in_flight=1, max_queue=0)
    body, boundary = _multipart(digit_png)
    first = threading.Thread(target=_post, args=(port, body, boundary))
    first.start()
    time.sleep(0.4)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("POST", "/predict", body=body,
                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    response = conn.getresponse()
    assert response.status == 503 and response.getheader("Retry-After") == "1"
    first.join()


def test_a_silent_client_gets_408(serve):
    port = serve(SlowModel(0), read_timeout=0.5)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                  b"Content-Type: multipart/form-data; boundary=zz\r\n\r\n--zz")
        start = time.perf_counter()
        answer = s.recv(4096)
        assert b" 408 " in answer.split(b"\r\n")[0]
        assert time.perf_counter() - start < 3


def test_token_and_no_local_paths(serve, digit_png):
    port = serve(SlowModel(0), token="s3cret")
    body, boundary = _multipart(digit_png, name="file")  # 'file' works as well as 'files'
    assert _post(port, body, boundary)[0] == 401
    status, answer = _post(port, body, boundary, {"Authorization": "Bearer s3cret"})
    assert status == 200 and answer["predictions"][0]["label"] == "a"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/model", headers={"Authorization": "Bearer s3cret"})
    meta = json.loads(conn.getresponse().read())
    assert meta == {"preset": "x"}  # data_dir, a path of the server's disk, is not shown
    conn.request("GET", "/health")
    assert conn.getresponse().status == 200  # health needs no token
