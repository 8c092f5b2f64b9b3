"""Model files: a fitted pipeline plus the metadata needed to trust and reuse it.

Two formats:

- ``.imgrec`` (default): a short header, then a pickle. Fast and complete (any
  estimator, the CNN included), but **loading a pickle runs code chosen by whoever
  wrote the file**: load only your own models or models from people you trust.
- ``.skops``: the `skops <https://skops.readthedocs.io>`_ format, which rebuilds
  only types on an explicit trusted list and refuses others. Use it for models
  shared between people. It does not support the torch CNN.
"""

from __future__ import annotations

import datetime as _dt
import os
import pickle
import platform
import warnings
import zipfile
from pathlib import Path

__all__ = ["ModelFileError", "ModelVersionWarning", "load_model", "save_model",
           "trusted_types", "versions"]

_MAGIC = b"IMGREC-CLASSIC-MODEL\n"
_FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """The file is not a model file of this library, or cannot be read as one."""


class ModelVersionWarning(UserWarning):
    """The model was saved with other versions of the libraries it depends on."""


def versions() -> dict[str, str]:
    """Versions of the libraries a saved model depends on."""
    import cv2
    import numpy
    import sklearn

    from . import __version__

    return {"imgrec_classic": __version__, "scikit-learn": sklearn.__version__,
            "numpy": numpy.__version__, "opencv": cv2.__version__,
            "python": platform.python_version()}


def save_model(model, path: str | os.PathLike, **metadata) -> Path:
    """Save a fitted model with its metadata, atomically.

    Parameters
    ----------
    model : fitted estimator or Pipeline
    path : path
        ``*.skops`` writes the skops format, anything else the pickle format.
    **metadata
        Anything JSON-like to keep with the model: ``preset``, ``params``,
        ``target_names``, ``metrics``... Library versions, the save date and the
        classes (``classes_``) are added.

    Returns
    -------
    path : Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.dummy import DummyClassifier
    >>> model = DummyClassifier().fit([[0], [1]], ["cat", "dog"])
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.imgrec"
    >>> _ = save_model(model, path, preset="none")
    >>> loaded, meta = load_model(path)
    >>> meta["preset"], meta["classes"]
    ('none', ['cat', 'dog'])
    """
    path = Path(path)
    classes = getattr(model, "classes_", None)
    meta = {"format_version": _FORMAT_VERSION, "versions": versions(),
            "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "classes": None if classes is None else [_plain(c) for c in classes],
            **metadata}
    payload = {"metadata": meta, "model": model}
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if path.suffix == ".skops":
            skops_io = _skops()
            skops_io.dump(payload, temp)
        else:
            with open(temp, "wb") as f:
                f.write(_MAGIC)
                pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def load_model(path: str | os.PathLike, trusted: list[str] | None = None):
    """Load a model saved by :func:`save_model`.

    Parameters
    ----------
    path : path
    trusted : list of str, default=None
        skops files only: fully qualified type names to trust beyond
        :func:`trusted_types` (imgrec-classic's own estimators; scikit-learn and
        numpy types are trusted by skops itself). A file with other types is refused.

    Returns
    -------
    model : the fitted estimator
    metadata : dict

    Raises
    ------
    ModelFileError
        The file is missing, not a model file, truncated, or (skops) holds
        untrusted types.

    Warns
    -----
    ModelVersionWarning
        When it was saved under other versions of imgrec-classic, scikit-learn,
        numpy or OpenCV: predictions may differ or fail.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(len(_MAGIC))
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {str(path)!r}: {exc.strerror}") from exc
    if head == _MAGIC:
        payload = _load_pickle(path)
    elif head.startswith(b"PK\x03\x04") and zipfile.is_zipfile(path):
        payload = _load_skops(path, trusted)
    else:
        raise ModelFileError(f"{str(path)!r} is not an imgrec-classic model file (save one with "
                             "imgrec_classic.persistence.save_model or `imgrec train`)")
    if not isinstance(payload, dict) or "model" not in payload or "metadata" not in payload:
        raise ModelFileError(f"{str(path)!r} does not hold a model and its metadata")
    metadata = payload["metadata"]
    _check_versions(metadata.get("versions", {}), path)
    return payload["model"], metadata


def trusted_types() -> list[str]:
    """The imgrec-classic types a skops model file may contain."""
    from . import baselines, compose, encoding, features, kernels, preprocessing, svm
    from .encoding.vocabulary import Vocabulary
    from .preprocessing.pending import PendingImage

    names = set()
    for module in (compose, encoding, features, kernels, preprocessing, svm):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type):
                names.add(f"{obj.__module__}.{obj.__qualname__}")
    names |= {f"{c.__module__}.{c.__qualname__}" for c in (Vocabulary, PendingImage)}
    # The fitted trees of a random forest (orb-bovw-rf): arrays of split thresholds and
    # node links that skops rebuilds without running code, but does not list itself.
    names.add("sklearn.tree._tree.Tree")
    names.discard(f"{baselines.__name__}.cnn.CNNClassifier")
    return sorted(names)


def _load_pickle(path: Path):
    try:
        with open(path, "rb") as f:
            f.seek(len(_MAGIC))
            return pickle.load(f)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError,
            TypeError, ValueError) as exc:
        raise ModelFileError(f"model file {str(path)!r} is damaged or was written by an "
                             f"incompatible version: {type(exc).__name__}: {exc}") from exc


def _load_skops(path: Path, trusted):
    skops_io = _skops()
    allowed = set(trusted_types()) | set(trusted or ())
    try:
        untrusted = set(skops_io.get_untrusted_types(file=path)) - allowed
        if untrusted:
            raise ModelFileError(
                f"{str(path)!r} contains types that are not trusted: {sorted(untrusted)}; "
                "pass trusted=[...] only if you trust whoever wrote the file")
        return skops_io.load(path, trusted=sorted(allowed))
    except ModelFileError:
        raise
    except Exception as exc:  # skops raises many kinds on a damaged file
        raise ModelFileError(f"cannot load skops model {str(path)!r}: {exc}") from exc


def _check_versions(saved: dict, path: Path) -> None:
    current = versions()
    differ = [f"{name} {saved[name]} (now {current[name]})"
              for name in ("imgrec_classic", "scikit-learn", "numpy", "opencv")
              if name in saved and saved[name] != current[name]]
    if differ:
        warnings.warn(f"model {str(path)!r} was saved with {', '.join(differ)}: predictions may "
                      "differ or fail; retrain it to be safe", ModelVersionWarning, stacklevel=3)


def _skops():
    from ._compat import optional_import

    return optional_import("skops.io", "skops")


def _plain(value):
    """A numpy scalar as the Python value JSON understands."""
    return value.item() if hasattr(value, "item") else value

