"""The HTTP API: a thin FastAPI shell over :func:`imgrec_classic.predict.predict_top_k`."""


import asyncio
import hmac
import json
import logging
import threading
import time
from importlib import resources
from typing import Annotated

import numpy as np

from .._compat import optional_import
from ..io.header import image_extension
from ..io.images import MAX_PIXELS, ImageDecodeError, read_image
from ..predict import predict_top_k
from .feedback import FeedbackStore
from .metrics import ServiceMetrics

__all__ = ["create_app"]

_ACCEPTED = ("image/", "application/octet-stream")
# Metadata keys that name places on the server's disk: not shown by GET /model.
_LOCAL_KEYS = {"data_dir", "path", "model_path", "cache"}
_ROUTES = {"/", "/predict", "/health", "/model", "/metrics", "/feedback"}
log = logging.getLogger("imgrec_classic.serve")


def create_app(model, metadata: dict | None = None, max_bytes: int = 10 * 2**20,
               max_files: int = 32, top_k: int = 5, max_pixels: int | None = MAX_PIXELS,
               max_in_flight: int = 4, max_queue: int = 32, read_timeout: float = 30.0,
               token: str | None = None, feedback_dir=None, model_id: str | None = None,
               row_cache=None):
    """Build the FastAPI application serving ``model``.

    Routes: ``POST /predict`` (multipart field ``files`` or ``file``, one image or
    several), ``GET /health``, ``GET /model`` (the model's metadata, without
    paths of the server's disk), ``GET /metrics`` (Prometheus text: requests by
    path and status, latency histogram, predictions by label, mean top score of
    the last 200 predictions), ``GET /`` (a web page to try it) and, with
    ``feedback_dir``, ``POST /feedback``: multipart ``file`` and ``label``, or
    ``id`` (of an earlier prediction: each ``/predict`` entry then has one) and
    ``label``; the image goes to ``feedback_dir/<label>/<sha256>.<ext>`` (see
    :class:`~imgrec_classic.serve.feedback.FeedbackStore`).

    Every answer of ``/predict`` has one entry per file, in order:
    ``{"file": name, "label", "score_kind", "top": [{"label", "score"}...]}``, or
    ``{"file": name, "error": reason, "status": code}`` for a file that cannot be
    used; the request answers 200 when at least one file was predicted, else the
    first file's 4xx. ``imgrec predict --json`` prints the same entries.

    Safety: the body limit is enforced on the bytes received (chunked or not);
    decoding and prediction run in worker threads, at most ``max_in_flight``
    requests at once and at most ``max_queue`` waiting for their turn (others get
    503 with ``Retry-After``: the queue is bounded); a client that sends
    nothing for ``read_timeout`` seconds gets 408. The server has no
    authentication unless ``token`` is set: keep it on 127.0.0.1 or behind your own
    proxy.

    Parameters
    ----------
    model : fitted estimator with ``classes_``
    metadata : dict, default=None
        Shown by ``GET /model`` (as saved by :func:`~imgrec_classic.persistence.save_model`).
    max_bytes : int, default=10 MiB
        Largest request body and largest file accepted (413 beyond).
    max_files : int, default=32
        Images per request.
    top_k : int, default=5
    max_pixels : int or None, default=MAX_PIXELS
        Pixel budget of each image, checked from its header before decoding.
    max_in_flight : int, default=4
        Requests decoding or predicting at once.
    max_queue : int, default=32
        Requests waiting for one of those slots; more get 503.
    read_timeout : float, default=30
        Seconds a client may stay silent while sending its request.
    token : str, default=None
        When set, ``/predict``, ``/feedback``, ``/model`` and ``/metrics`` need the
        header ``Authorization: Bearer <token>`` (401 otherwise).
    feedback_dir : path, default=None
        Where ``POST /feedback`` stores labelled images; None: no such route.
    model_id : str, default=None
        Recorded with each feedback entry (``imgrec serve`` passes the model
        file's SHA-256).
    row_cache : path, default=None
        With ``feedback_dir``: the model's row cache (``imgrec train --cache``).
        The service keeps the encoded rows of its recent predictions, and an image
        given as feedback has them written there, under its file's content key, so
        ``imgrec update`` on ``feedback_dir`` does not decode or encode it again:
        the prediction paid for it. Needs a pipeline whose first step is an
        :class:`~imgrec_classic.compose.ImageEncoder` (every preset).

    Returns
    -------
    app : fastapi.FastAPI
    """
    encoder = _row_encoder(model, row_cache, feedback_dir)
    fastapi = optional_import("fastapi", "serve")
    from fastapi import File, HTTPException, Request, UploadFile
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import HTMLResponse, JSONResponse

    app = fastapi.FastAPI(title="imgrec-classic", version=(metadata or {}).get(
        "versions", {}).get("imgrec_classic", "unknown"))
    public = {k: v for k, v in _json_safe(metadata or {}).items() if k not in _LOCAL_KEYS}
    app.state.model, app.state.metadata = model, public
    # Estimators are not guaranteed thread-safe: one prediction at a time per process.
    lock = threading.Lock()
    in_flight, queue = asyncio.Semaphore(max_in_flight), {"waiting": 0}
    page = resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")
    metrics = ServiceMetrics()
    store = None if feedback_dir is None else FeedbackStore(feedback_dir, model_id)
    app.state.metrics, app.state.feedback = metrics, store
    app.add_middleware(_Limits, max_bytes=max_bytes + 64 * 1024, read_timeout=read_timeout,
                       on_answer=lambda path, status, seconds: metrics.answered(
                           path if path in _ROUTES else "other", status, seconds))

    def check_token(request: Request) -> None:
        given = request.headers.get("authorization", "")
        if token is not None and not hmac.compare_digest(given.encode(),
                                                         f"Bearer {token}".encode()):
            raise HTTPException(401, "missing or wrong token (Authorization: Bearer ...)")

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "classes": len(getattr(model, "classes_", ())),
                "feedback": store is not None}

    @app.get("/metrics")
    def metrics_text(request: Request):
        from fastapi.responses import Response

        check_token(request)
        content, kind = metrics.exposition()
        return Response(content, media_type=kind)

    @app.get("/model")
    def model_info(request: Request) -> dict:
        check_token(request)
        return app.state.metadata

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page

    @app.post("/predict")
    async def predict(request: Request,
                      files: Annotated[list[UploadFile] | None, File()] = None,
                      file: Annotated[list[UploadFile] | None, File()] = None):
        check_token(request)
        uploads = (files or []) + (file or [])
        if not uploads:
            raise HTTPException(422, "no image: send multipart/form-data with the field "
                                     "'files' (or 'file'), e.g. curl -F files=@cat.jpg")
        if len(uploads) > max_files:
            raise HTTPException(413, f"at most {max_files} images per request")
        if in_flight.locked() and queue["waiting"] >= max_queue:
            return JSONResponse({"detail": "busy: too many requests in progress"},
                                status_code=503, headers={"Retry-After": "1"})
        queue["waiting"] += 1
        try:
            await in_flight.acquire()
        finally:
            queue["waiting"] -= 1
        try:
            blobs = [await upload.read(max_bytes + 1) for upload in uploads]
            entries = await run_in_threadpool(
                _decode_and_predict, model, lock, uploads, blobs, max_bytes, max_pixels, top_k,
                encoder is not None)
        finally:
            in_flight.release()
        for entry, data in zip(entries, blobs, strict=True):
            if "error" in entry:
                continue
            metrics.predicted(entry["label"], entry["top"][0]["score"] if entry["top"] else None)
            codes = entry.pop("codes", None)
            if store is not None:  # feedback may name this prediction by its id
                entry["id"] = store.remember(data, image_extension(data), entry["label"], codes)
        if all("error" in e for e in entries):
            first = entries[0]
            return JSONResponse({"detail": f"{first['file']}: {first['error']}",
                                 "predictions": entries}, status_code=first["status"])
        return {"predictions": entries}

    if store is not None:
        from fastapi import Form

        @app.post("/feedback")
        async def feedback(request: Request, label: Annotated[str, Form()],
                           file: Annotated[UploadFile | None, File()] = None,
                           id: Annotated[str | None, Form()] = None):  # noqa: A002
            check_token(request)
            try:
                label = store.check_label(label)
            except ValueError as exc:
                raise HTTPException(422, str(exc)) from None
            if id is not None:
                try:
                    data, ext, predicted = store.recall(id)
                except KeyError:
                    raise HTTPException(404, f"no recent prediction with id {id!r}") from None
            elif file is not None:
                data, predicted = await file.read(max_bytes + 1), None
                try:
                    await run_in_threadpool(_check_upload, file, data, max_bytes, max_pixels)
                except _UploadError as exc:
                    raise HTTPException(exc.status, exc.reason) from None
                ext = image_extension(data)
            else:
                raise HTTPException(422, "send the image as multipart 'file', or the 'id' of "
                                         "an earlier prediction, with its 'label'")
            return await run_in_threadpool(_store_feedback, store, encoder, row_cache, data,
                                           label, ext, predicted)

    return app


def _row_encoder(model, row_cache, feedback_dir):
    """The image encoder whose rows the service keeps for feedback, or None."""
    if row_cache is None:
        return None
    from sklearn.pipeline import Pipeline

    from ..compose import ImageEncoder

    if feedback_dir is None:
        raise ValueError("row_cache keeps rows for feedback: it needs feedback_dir")
    if not (isinstance(model, Pipeline) and len(model) > 1
            and isinstance(model[0], ImageEncoder)):
        raise ValueError("row_cache needs a pipeline whose first step is an ImageEncoder "
                         f"(every preset), got {type(model).__name__}")
    return model[0]


def _store_feedback(store, encoder, row_cache, data, label, ext, predicted) -> dict:
    """Store a labelled image and, when the service kept its rows, cache them."""
    entry = store.add(data, label, ext, predicted)
    if encoder is not None:
        codes = store.codes(entry["sha256"])
        if codes is not None:
            encoder.cache_codes(row_cache, codes, entry["sha256"])
        entry["rows_cached"] = codes is not None
    return entry


def _predict(model, images, top_k, keep_codes) -> list:
    """``predict_top_k``, each entry with its image's encoded rows when asked."""
    if not keep_codes:
        return predict_top_k(model, images, k=top_k)
    rows, codes = model[0].transform_with_codes(images)
    rest = model[-1] if len(model) == 2 else model[1:]
    results = predict_top_k(rest, rows, k=top_k)
    return [{**result, "codes": kept} for result, kept in zip(results, codes, strict=True)]


def _decode_and_predict(model, lock, uploads, blobs, max_bytes, max_pixels, top_k,
                        keep_codes=False) -> list:
    """One entry per upload (worker thread): decoded here, predicted together."""
    entries, images, where = [], [], []
    for upload, data in zip(uploads, blobs, strict=True):
        name = upload.filename or "upload"
        try:
            images.append(_check_upload(upload, data, max_bytes, max_pixels))
            where.append(len(entries))
            entries.append({"file": name})
        except _UploadError as exc:
            entries.append({"file": name, "error": exc.reason, "status": exc.status})
    if images:
        with lock:
            results = _predict(model, images, top_k, keep_codes)
        for i, result in zip(where, results, strict=True):
            entries[i].update(result)
    return entries


class _UploadError(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def _check_upload(upload, data: bytes, max_bytes: int, max_pixels) -> np.ndarray:
    if len(data) > max_bytes:
        raise _UploadError(413, f"file over the {max_bytes} byte limit")
    kind = (upload.content_type or "").lower()
    if kind and not kind.startswith(_ACCEPTED):
        raise _UploadError(415, f"content type {kind} is not an image")
    try:
        return read_image(data, max_pixels=max_pixels)
    except ImageDecodeError as exc:
        raise _UploadError(422, exc.reason) from None


class _Limits:
    """ASGI middleware: body size counted on the bytes received, silent clients
    timed out, and one log line per request.

    Exceptions raised in ``receive`` are turned into a 400 by FastAPI's body
    parsing, so the limit is remembered and the answer replaced on its way out.
    """

    def __init__(self, app, max_bytes: int, read_timeout: float, on_answer=None):
        self.app, self.max_bytes, self.read_timeout = app, max_bytes, read_timeout
        self.on_answer = on_answer

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, state = time.perf_counter(), {"received": 0, "refused": None, "status": 0}
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            state["refused"] = 413
            await self._refuse(send, state)
        else:
            await self._serve(scope, receive, send, state)
        seconds = time.perf_counter() - start
        log.info("%s %s %d %.1f ms", scope.get("method"), scope.get("path"), state["status"],
                 1000 * seconds)
        if self.on_answer is not None:
            self.on_answer(scope.get("path", ""), state["status"], seconds)

    async def _serve(self, scope, receive, send, state):
        async def limited_receive():
            try:
                message = await asyncio.wait_for(receive(), self.read_timeout)
            except asyncio.TimeoutError:
                state["refused"] = 408
                raise _Refused from None
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_bytes:
                    state["refused"] = 413
                    raise _Refused
            return message

        async def checked_send(message):
            if state["refused"] is not None:
                if message["type"] == "http.response.start":
                    await self._refuse(send, state)
                return
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, limited_receive, checked_send)
        except _Refused:
            await self._refuse(send, state)

    async def _refuse(self, send, state):
        if state["status"]:  # already answered
            return
        status = state["refused"]
        detail = (f"request body over the {self.max_bytes} byte limit" if status == 413
                  else f"request not received within {self.read_timeout:g} s")
        body = json.dumps({"detail": detail}).encode()
        state["status"] = status
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class _Refused(Exception):
    pass


def _json_safe(value):
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item")
                                 else str(v)))
