"""Model files: a fitted pipeline plus the metadata needed to trust and reuse it.

The format follows the file name the user chose:

- ``*.skops``: the `skops <https://skops.readthedocs.io>`_ format (the ``[skops]``
  extra), which rebuilds only types on an explicit trusted list and refuses others.
  Loading one never runs code from the file: share models this way.
- anything else (``*.imgrec`` by convention): a short header, then a pickle. Fast
  and complete (any estimator, the torch CNNs included), but **loading a pickle runs
  code chosen by whoever wrote the file**. :func:`save_model` signs it with a secret
  key of the user's account (HMAC-SHA256, key in :func:`signing_key_path`, as Jupyter
  signs notebooks), so that files the user saved load as they are; any other pickle
  (a download, a colleague's file, a file changed since) is refused unless the
  caller says it trusts it: ``load_model(path, allow_pickle=True)``, ``--trust`` on
  the command line.

Each loader refuses a file of the other format: a pickle named ``.skops`` is not
unpickled.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import os
import pickle
import platform
import secrets
import warnings
import zipfile
from pathlib import Path

__all__ = ["ModelFileError", "ModelVersionWarning", "load_model", "save_model",
           "signing_key_path", "trusted_types", "versions"]

_MAGIC = b"IMGREC-CLASSIC-MODEL\n"
# After the magic line: "sha256-hmac:<64 hex digits>\n", the signature of the pickle
# bytes that follow (64 zeros when no key could be made). Version 1 files have none.
_SIGNATURE_TAG = b"sha256-hmac:"
_SIGNATURE_LINE = len(_SIGNATURE_TAG) + 64 + 1
_FORMAT_VERSION = 2
_CHUNK = 1 << 20


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


def signing_key_path() -> Path:
    """Where the secret key that signs this user's pickle model files lives.

    ``$IMGREC_CLASSIC_CONFIG_DIR/model-signing.key``, else
    ``$XDG_CONFIG_HOME/imgrec-classic/...``, else ``~/.config/imgrec-classic/...``.
    The key is made (readable by its owner only) the first time a model is saved;
    deleting it makes every pickle saved before need ``allow_pickle=True``.
    """
    base = os.environ.get("IMGREC_CLASSIC_CONFIG_DIR")
    if not base:
        xdg = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
        base = Path(xdg) / "imgrec-classic"
    return Path(base) / "model-signing.key"


def save_model(model, path: str | os.PathLike, **metadata) -> Path:
    """Save a fitted model with its metadata, atomically.

    Parameters
    ----------
    model : fitted estimator or Pipeline
    path : path
        ``*.skops`` writes the skops format, anything else the signed pickle
        format (see the module's notes).
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
    >>> loaded, meta = load_model(path)  # signed by this account: no trust flag needed
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
            _write_signed_pickle(payload, temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def load_model(path: str | os.PathLike, trusted: list[str] | None = None,
               allow_pickle: bool = False):
    """Load a model saved by :func:`save_model`.

    Parameters
    ----------
    path : path
        ``*.skops`` is read as skops only; any other name as the pickle format only.
    trusted : list of str, default=None
        skops files only: fully qualified type names to trust beyond
        :func:`trusted_types` (imgrec-classic's own estimators; scikit-learn and
        numpy types are trusted by skops itself). A file with other types is refused.
    allow_pickle : bool, default=False
        Pickle files only: load one that this user account did not sign (saved
        elsewhere, by someone else, or changed since). Loading a pickle runs any
        code its author put in it: pass True only for files from people you trust.

    Returns
    -------
    model : the fitted estimator
    metadata : dict

    Raises
    ------
    ModelFileError
        The file is missing, not a model file of the format its name says,
        truncated, an unsigned pickle without ``allow_pickle``, or (skops) holds
        untrusted types; its metadata is malformed.

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
    is_skops = head.startswith(b"PK\x03\x04") and zipfile.is_zipfile(path)
    if path.suffix == ".skops":
        if not is_skops:
            raise ModelFileError(
                f"{str(path)!r} is named .skops but is not a skops file"
                + (" (it is a pickle model file, which is not loaded under a .skops name: "
                   "unpickling can run code)" if head == _MAGIC else ""))
        payload = _load_skops(path, trusted)
    elif head == _MAGIC:
        payload = _load_pickle(path, allow_pickle)
    elif is_skops:
        raise ModelFileError(f"{str(path)!r} holds a skops model: name it *.skops to load it")
    else:
        raise ModelFileError(f"{str(path)!r} is not an imgrec-classic model file (save one with "
                             "imgrec_classic.persistence.save_model or `imgrec train`)")
    if not isinstance(payload, dict) or "model" not in payload or "metadata" not in payload:
        raise ModelFileError(f"{str(path)!r} does not hold a model and its metadata")
    metadata = payload["metadata"]
    if not isinstance(metadata, dict) or not isinstance(metadata.get("versions", {}), dict):
        raise ModelFileError(f"{str(path)!r} has malformed metadata: expected a dict, got "
                             f"{type(metadata).__name__}")
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


class _SigningWriter:
    """A file wrapper that feeds every byte written to an HMAC as well."""

    def __init__(self, file, mac):
        self.file, self.mac = file, mac

    def write(self, data):
        self.mac.update(data)
        return self.file.write(data)


def _signing_key(create: bool) -> bytes | None:
    """This account's signing key; made (mode 0600) when ``create`` and missing."""
    path = signing_key_path()
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        if not create:
            return None
    except (OSError, ValueError):
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made meanwhile by another process: use that one
        return _signing_key(create=False)
    except OSError as exc:
        warnings.warn(f"cannot create the model signing key {str(path)!r} ({exc.strerror}): "
                      "the model is saved unsigned and will need allow_pickle=True (--trust) "
                      "to load", UserWarning, stacklevel=4)
        return None
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())
    return key


def _write_signed_pickle(payload, path: Path) -> None:
    key = _signing_key(create=True)
    mac = hmac.new(key or b"", digestmod=hashlib.sha256)
    with open(path, "wb") as f:
        f.write(_MAGIC)
        f.write(_SIGNATURE_TAG + b"0" * 64 + b"\n")  # filled in once the bytes are known
        pickle.dump(payload, _SigningWriter(f, mac), protocol=pickle.HIGHEST_PROTOCOL)
        if key is not None:
            f.seek(len(_MAGIC) + len(_SIGNATURE_TAG))
            f.write(mac.hexdigest().encode())


def _signed_by_this_account(f, signature: bytes | None) -> bool:
    """Whether the rest of ``f`` matches ``signature`` under this account's key."""
    key = _signing_key(create=False)
    if key is None or signature is None:
        return False
    mac = hmac.new(key, digestmod=hashlib.sha256)
    while chunk := f.read(_CHUNK):
        mac.update(chunk)
    return hmac.compare_digest(mac.hexdigest().encode(), signature)


def _load_pickle(path: Path, allow_pickle: bool):
    with open(path, "rb") as f:
        f.seek(len(_MAGIC))
        line = f.read(_SIGNATURE_LINE)
        if line.startswith(_SIGNATURE_TAG) and line.endswith(b"\n"):
            start, signature = len(_MAGIC) + _SIGNATURE_LINE, line[len(_SIGNATURE_TAG):-1]
        else:  # format version 1: no signature
            start, signature = len(_MAGIC), None
        f.seek(start)
        if not allow_pickle and not _signed_by_this_account(f, signature):
            raise ModelFileError(
                f"{str(path)!r} is a pickle model file that this user account did not save "
                "(or it changed since): loading a pickle runs any code its author put in it. "
                "Load it only if you trust whoever made it: load_model(path, "
                "allow_pickle=True), or --trust on the command line. Models meant to be "
                "shared are safer as .skops files.")
        f.seek(start)
        try:
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

