"""Serving: latency and throughput of `imgrec serve` under load, and batch throughput.

Models trained on the Caltech-101 30-train split: HOG + SVM, the best preset
(Fisher vectors + HOG + colour), its Fisher vectors alone (linear SVMs holding
explicit weights) and the pretrained CNN preset, each saved as `imgrec train` does;
they are cached in benchmarks/models/. For each, `imgrec serve` runs in its own
process (one uvicorn worker) on 127.0.0.1 and a bounded load generator posts
256x256 JPEGs of test images: first one request at a time (latency p50/p99), then
``--concurrency`` clients for ``--seconds`` (requests/s, errors). Batch throughput
is ``model.predict`` on 200 test images through the library with n_jobs=2.

With ``--soak``: a bounded mixed soak of the HOG + SVM server instead (``--seconds``,
``--concurrency`` client threads): about 90 % good 256x256 JPEGs and 10 % bad requests
(an oversize body, a non-image, a truncated JPEG, a PNG header declaring 1.6 gigapixels,
a client that stops sending halfway), while another thread polls ``/health``. It
reports the answers by status (no 5xx expected; every bad request a 4xx or 503),
``/health`` p50 / p99 under that load, the server's RSS at start and end, and good
requests/s.

Usage: python benchmarks/bench_serve.py [--seconds 60] [--concurrency 4]
       [--models PRESET ...] [--param k=v ...] [--name serve]
       python benchmarks/bench_serve.py --soak [--seconds 60] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import requests
from _common import BENCH_DIR, write_result
from bench_caltech101 import load_split, parse_params

from imgrec_classic.persistence import load_model, save_model
from imgrec_classic.pipelines import preset

MODELS = {"hog-svm": "HOG + SVM",
          "dsift-fisher-hog-color-svm": "best Caltech-101 preset (Fisher vectors + HOG + colour)",
          "dsift-fisher-svm": "Fisher vectors alone",
          "cnn-svm": "pretrained CNN (EfficientNet-Lite0 embedding + linear SVM)"}


def trained_model(name: str, params: dict | None = None) -> Path:
    params = params or {}
    suffix = "".join(f"_{k.rsplit('__', 1)[-1]}{v}" for k, v in sorted(params.items()))
    path = BENCH_DIR / "models" / f"caltech101_{name}{suffix}.imgrec"
    if not path.exists():
        X, y, *_ = load_split("30x50", 0)
        start = time.perf_counter()
        model = preset(name, n_jobs=2, **params).fit(X, y)
        path.parent.mkdir(exist_ok=True)
        save_model(model, path, preset=name, params=params,
                   fit_seconds=round(time.perf_counter() - start, 1))
    return path


def jpeg_bodies(n: int = 50) -> list[bytes]:
    _, _, X_test, _, _ = load_split("30x50", 0)
    picked = np.random.default_rng(0).choice(len(X_test), n, replace=False)
    return [cv2.imencode(".jpg", cv2.resize(cv2.imread(X_test[i]), (256, 256)))[1].tobytes()
            for i in picked]


def start_server(model: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "imgrec_classic.cli", "serve", str(model),
                             "--port", str(port), "--quiet"], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def load(url: str, bodies: list[bytes], seconds: float, concurrency: int) -> dict:
    latencies, errors = [], []
    stop = time.perf_counter() + seconds

    def client(k):
        session = requests.Session()
        i = k
        while time.perf_counter() < stop:
            body = bodies[i % len(bodies)]
            i += concurrency
            t = time.perf_counter()
            try:
                r = session.post(url + "/predict", files={"files": ("x.jpg", body, "image/jpeg")},
                                 timeout=30)
                ok = r.status_code == 200
            except requests.RequestException:
                ok = False
            (latencies if ok else errors).append(time.perf_counter() - t)

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    ms = 1000 * np.array(latencies)
    return {"requests": len(latencies), "errors": len(errors),
            "requests_per_s": round(len(latencies) / elapsed, 2),
            "p50_ms": round(float(np.percentile(ms, 50)), 1) if len(ms) else None,
            "p99_ms": round(float(np.percentile(ms, 99)), 1) if len(ms) else None}


def bad_requests(good: bytes) -> dict:
    """name -> a function sending one bad request to url, returning its status (or 0)."""
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", 40000, 40000, 8, 0, 0, 0, 0)
    bomb = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + ihdr
            + struct.pack(">I", zlib.crc32(ihdr)))

    def post(body, kind="image/jpeg"):
        def send(url, session):
            r = session.post(url + "/predict", files={"files": ("x", body, kind)}, timeout=60)
            return r.status_code
        return send

    def slow_body(url, session):
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=60) as s:
            s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                      b"Content-Type: multipart/form-data; boundary=zz\r\n\r\n--zz\r\n")
            answer = s.recv(4096)  # the server's read timeout ends it
        return int(answer.split()[1]) if answer.startswith(b"HTTP/") else 0

    return {"oversize": post(b"\xff\xd8" + b"\0" * (11 * 2**20)),
            "not an image": post(b"hello " * 100, "image/png"),
            "truncated": post(good[: len(good) // 2]),
            "bomb header": post(bomb, "image/png"),
            "slow body": slow_body}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def soak(url: str, pid: int, bodies: list[bytes], seconds: float, concurrency: int) -> dict:
    bad = bad_requests(bodies[0])
    slow_body = bad.pop("slow body")  # held for the server's read timeout: its own thread
    names = list(bad)
    statuses = {"good": Counter(), "bad": Counter()}
    by_kind, health_ms = Counter(), []
    stop = time.perf_counter() + seconds
    lock = threading.Lock()

    def client(k):
        session, i = requests.Session(), k
        while time.perf_counter() < stop:
            i += 1
            if i % 10 == 0:  # one request in ten is bad, in turn
                name = names[(i // 10) % len(names)]
                try:
                    status = bad[name](url, session)
                except (requests.RequestException, OSError):
                    status = 0  # closed on us: counted, not a 5xx
                with lock:
                    statuses["bad"][status] += 1
                    by_kind[f"{name} {status}"] += 1
                continue
            try:
                r = session.post(url + "/predict", timeout=60, files={
                    "files": ("x.jpg", bodies[i % len(bodies)], "image/jpeg")})
                status = r.status_code
            except requests.RequestException:
                status = 0
            with lock:
                statuses["good"][status] += 1
            if status == 503:  # a polite client waits as it is told
                time.sleep(float(r.headers.get("Retry-After", 1)))

    def health():
        session = requests.Session()
        while time.perf_counter() < stop:
            t = time.perf_counter()
            session.get(url + "/health", timeout=30)
            health_ms.append(1000 * (time.perf_counter() - t))
            time.sleep(0.2)

    def slowloris():
        while time.perf_counter() < stop:
            try:
                status = slow_body(url, None)
            except OSError:
                status = 0
            with lock:
                statuses["bad"][status] += 1
                by_kind[f"slow body {status}"] += 1

    rss_start = rss_mb(pid)
    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(concurrency)]
    threads += [threading.Thread(target=health), threading.Thread(target=slowloris)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    all_statuses = statuses["good"] + statuses["bad"]
    return {"seconds": round(elapsed, 1), "clients": concurrency,
            "good_200": statuses["good"][200], "good_other": dict(
                (str(k), v) for k, v in statuses["good"].items() if k != 200),
            "bad_by_kind_and_status": dict(sorted(by_kind.items())),
            "answers_5xx": sum(v for k, v in all_statuses.items() if k >= 500 and k != 503),
            "good_requests_per_s": round(statuses["good"][200] / elapsed, 1),
            "health_p50_ms": round(float(np.percentile(health_ms, 50)), 1),
            "health_p99_ms": round(float(np.percentile(health_ms, 99)), 1),
            "rss_start_mb": rss_start, "rss_end_mb": rss_mb(pid)}


def batch_throughput(model_path: Path) -> float:
    model, _ = load_model(model_path)
    _, _, X_test, _, _ = load_split("30x50", 0)
    # Every step's and every union branch's workers (a union runs its branches in turn).
    model.set_params(**{k: 2 for k in model.get_params() if k.endswith("n_jobs")})
    images = X_test[:200]
    model.predict(X_test[200:208])  # start the workers: not part of the throughput
    start = time.perf_counter()
    model.predict(images)
    return len(images) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--latency-seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--param", action="append", default=[],
                        help="k=v preset parameter for every model, e.g. "
                             "features__sift__step=8")
    parser.add_argument("--name", default=None, help="result name (serve, or serve_soak)")
    parser.add_argument("--soak", action="store_true", help="the mixed good/bad soak")
    args = parser.parse_args()
    bodies = jpeg_bodies()
    params = parse_params(args.param)
    if args.soak:
        proc, url = start_server(trained_model("hog-svm", params))
        try:
            load(url, bodies[:5], 3, 1)  # warm-up
            row = soak(url, proc.pid, bodies, args.seconds, args.concurrency)
        finally:
            proc.terminate()
            proc.wait(10)
        print(row, flush=True)
        print("wrote", write_result(args.name or "serve_soak", {"rows": [row]}))
        return
    rows = []
    for name in args.models:
        path = trained_model(name, params)
        proc, url = start_server(path)
        try:
            load(url, bodies[:5], 3, 1)  # warm-up
            single = load(url, bodies, args.latency_seconds, 1)
            loaded = load(url, bodies, args.seconds, args.concurrency)
        finally:
            proc.terminate()
            proc.wait(10)
        row = {"model": MODELS[name], "preset": name, "params": params,
               "model_file_mb": round(path.stat().st_size / 2**20, 1),
               "p50_ms": single["p50_ms"], "p99_ms": single["p99_ms"],
               "requests_per_s_1_client": single["requests_per_s"],
               f"requests_per_s_{args.concurrency}_clients": loaded["requests_per_s"],
               f"p99_ms_{args.concurrency}_clients": loaded["p99_ms"],
               "requests": single["requests"] + loaded["requests"],
               "errors": single["errors"] + loaded["errors"],
               "batch_images_per_s": round(batch_throughput(path), 1)}
        print(row, flush=True)
        rows.append(row)
    print("wrote", write_result(args.name or "serve", {"rows": rows, "image": "256x256 JPEG",
                                            "load_seconds": args.seconds,
                                            "concurrency": args.concurrency}))


if __name__ == "__main__":
    main()
