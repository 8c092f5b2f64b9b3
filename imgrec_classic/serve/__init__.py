"""Serving a saved model over HTTP (the ``[serve]`` extra: FastAPI and uvicorn)."""

from __future__ import annotations

import os
from typing import Literal

__all__ = ["create_app", "feedback_row_cache", "run"]


def create_app(*args, **kwargs):
    from .app import create_app as _create_app

    return _create_app(*args, **kwargs)


create_app.__doc__ = "Build the FastAPI app; see :func:`imgrec_classic.serve.app.create_app`."


def feedback_row_cache(metadata: dict, feedback_dir: str | os.PathLike | None,
                       row_cache: str | os.PathLike | Literal[False] | None = None):
    """The row cache a service writes feedback rows to, or None.

    Parameters
    ----------
    metadata : dict
        The saved model's metadata; ``metadata["cache"]`` is the row cache it was
        trained with, if any.
    feedback_dir : path or None
        Where the service stores feedback; without it no rows are written.
    row_cache : path, False or None, default=None
        A folder to use; False for none; None for the model's own cache, when
        ``feedback_dir`` is given and that folder exists on this machine.

    Returns
    -------
    path or None

    Examples
    --------
    >>> feedback_row_cache({"cache": "/nowhere"}, "feedback/") is None
    True
    >>> feedback_row_cache({}, "feedback/", "rows/")
    'rows/'
    """
    if row_cache is False:
        return None
    if row_cache is not None:
        return row_cache
    recorded = metadata.get("cache")
    if feedback_dir is not None and recorded and os.path.isdir(recorded):
        return recorded
    return None


def run(model_path: str | os.PathLike, host: str = "127.0.0.1", port: int = 8000,
        max_mb: float = 10.0, allow_pickle: bool = False, token: str | None = None,
        max_connections: int = 64, read_timeout: float = 20.0, quiet: bool = False,
        feedback_dir: str | os.PathLike | None = None,
        row_cache: str | os.PathLike | Literal[False] | None = None) -> None:
    """Load a model file and serve it with uvicorn (one worker process).

    ``allow_pickle`` is :func:`~imgrec_classic.persistence.load_model`'s: True only
    for a pickle model file from someone you trust. ``token``, ``read_timeout``,
    ``feedback_dir``, ``row_cache``: see :func:`~imgrec_classic.serve.app.create_app`
    (feedback entries record the model file's SHA-256); ``row_cache=None`` takes the
    row cache the model was trained with when ``feedback_dir`` is set and that
    folder exists here, False keeps no rows. Beyond ``max_connections`` open
    connections uvicorn answers 503. One log line per request on stderr unless
    ``quiet``.

    Raises
    ------
    OSError
        When ``host:port`` cannot be listened on (in use, not an address of this
        machine), before the model is loaded.
    """
    import hashlib
    import logging
    import socket

    from sklearn.pipeline import Pipeline

    from .._compat import optional_import
    from ..persistence import load_model
    from ..pipelines import configure

    uvicorn = optional_import("uvicorn", "serve")
    try:  # a busy port is reported now, not after "serving on ..."
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    model, metadata = load_model(model_path, allow_pickle=allow_pickle)
    if isinstance(model, Pipeline):  # a row cache would keep an entry per request
        configure(model, cache=False)
    with open(model_path, "rb") as f:
        model_id = hashlib.file_digest(f, "sha256").hexdigest()
    row_cache = feedback_row_cache(metadata, feedback_dir, row_cache)
    app = create_app(model, metadata, max_bytes=int(max_mb * 2**20), token=token,
                     read_timeout=read_timeout, feedback_dir=feedback_dir, model_id=model_id,
                     row_cache=row_cache)
    if row_cache and not quiet:
        print(f"rows of images given as feedback go to the row cache {row_cache}", flush=True)
    if not quiet:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger = logging.getLogger("imgrec_classic.serve")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    print(f"serving {model_path} on http://{host}:{port}/ (Ctrl+C to stop)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_keep_alive=5,
                limit_concurrency=max_connections)
