"""Serving a saved model over HTTP (the ``[serve]`` extra: FastAPI and uvicorn)."""

from __future__ import annotations

import os

__all__ = ["create_app", "run"]


def create_app(*args, **kwargs):
    from .app import create_app as _create_app

    return _create_app(*args, **kwargs)


create_app.__doc__ = "Build the FastAPI app; see :func:`imgrec_classic.serve.app.create_app`."


def run(model_path: str | os.PathLike, host: str = "127.0.0.1", port: int = 8000,
        max_mb: float = 10.0) -> None:
    """Load a model file and serve it with uvicorn (one worker process)."""
    from .._compat import optional_import
    from ..persistence import load_model

    uvicorn = optional_import("uvicorn", "serve")
    model, metadata = load_model(model_path)
    app = create_app(model, metadata, max_bytes=int(max_mb * 2**20))
    print(f"serving {model_path} on http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
