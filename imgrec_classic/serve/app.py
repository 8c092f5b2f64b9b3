"""The HTTP API: a thin FastAPI shell over :func:`imgrec_classic.predict.predict_top_k`."""


import json
import threading
from importlib import resources
from typing import Annotated

import numpy as np

from .._compat import optional_import
from ..io.images import ImageDecodeError, read_image
from ..predict import predict_top_k

__all__ = ["create_app"]

_ACCEPTED = ("image/", "application/octet-stream")


def create_app(model, metadata: dict | None = None, max_bytes: int = 10 * 2**20,
               max_files: int = 32, top_k: int = 5):
    """Build the FastAPI application serving ``model``.

    Routes: ``POST /predict`` (multipart field ``files``, one image or several),
    ``GET /health``, ``GET /model`` (the model's metadata) and ``GET /`` (a web page
    to try it). Bad uploads get a 4xx JSON ``{"detail": ...}`` and the server goes
    on serving; prediction runs in a worker thread, outside the event loop.

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

    Returns
    -------
    app : fastapi.FastAPI
    """
    fastapi = optional_import("fastapi", "serve")
    from fastapi import File, HTTPException, Request, UploadFile
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import HTMLResponse, JSONResponse

    app = fastapi.FastAPI(title="imgrec-classic", version=(metadata or {}).get(
        "versions", {}).get("imgrec_classic", "unknown"))
    app.state.model, app.state.metadata = model, _json_safe(metadata or {})
    # Estimators are not guaranteed thread-safe: one prediction at a time per process.
    lock = threading.Lock()
    page = resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_bytes + 64 * 1024:
            return JSONResponse({"detail": f"request body over the {max_bytes} byte limit"},
                                status_code=413)
        return await call_next(request)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "classes": len(getattr(model, "classes_", ()))}

    @app.get("/model")
    def model_info() -> dict:
        return app.state.metadata

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return page

    @app.post("/predict")
    async def predict(files: Annotated[list[UploadFile], File()]) -> dict:
        if len(files) > max_files:
            raise HTTPException(413, f"at most {max_files} images per request")
        images = []
        for upload in files:
            data = await upload.read(max_bytes + 1)
            images.append(_check_upload(upload, data, max_bytes, HTTPException))

        def run():
            with lock:
                return predict_top_k(model, images, k=top_k)

        results = await run_in_threadpool(run)
        return {"predictions": [{"filename": f.filename, **r}
                                for f, r in zip(files, results, strict=True)]}

    return app


def _check_upload(upload, data: bytes, max_bytes: int, http_error) -> np.ndarray:
    name = upload.filename or "upload"
    if len(data) > max_bytes:
        raise http_error(413, f"{name}: file over the {max_bytes} byte limit")
    kind = (upload.content_type or "").lower()
    if kind and not kind.startswith(_ACCEPTED):
        raise http_error(415, f"{name}: content type {kind} is not an image")
    try:
        return read_image(data)
    except ImageDecodeError as exc:
        raise http_error(422, f"{name}: {exc.reason}") from None


def _json_safe(value):
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item")
                                 else str(v)))
