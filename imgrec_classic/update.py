"""Improving a saved model as new labelled images arrive, reusing what it learned.

:func:`update_model` retrains on the model's recorded training images plus new ones:
the fitted vocabulary or mixture is kept (unless ``refit_encoder``), so only the
classifier is learned again, and with the image encoder's row cache (``imgrec train
--cache``) only the new images are extracted and encoded. The old and the new
model are evaluated on the same held-out images, and the new metadata records its
lineage: the parent model's hash and the data manifest (every training and held-out
file with its SHA-256).
"""

from __future__ import annotations

import copy
import hashlib
import os
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch

from .evaluation import evaluate
from .pipelines import configure

__all__ = ["data_manifest", "file_sha256", "update_model"]


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def data_manifest(paths, labels) -> list[dict]:
    """``[{"path", "label", "sha256"}, ...]``: images by absolute path and content.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "a.png"
    >>> _ = f.write_bytes(b"x")
    >>> data_manifest([f], ["cat"])[0]["sha256"][:8]
    '2d711642'
    """
    # Labels keep their type (a numpy integer becomes an int): the new model predicts
    # what the old one did.
    return [{"path": str(Path(p).resolve()),
             "label": label.item() if hasattr(label, "item") else label,
             "sha256": file_sha256(p)} for p, label in zip(paths, labels, strict=True)]


def update_model(model, metadata: dict, new_images, new_labels, *, refit_encoder: bool = False,
                 test_size: float = 0.2, random_state=0, cache=None, parent: str | None = None,
                 verbose: bool = False) -> Bunch:
    """Retrain ``model`` on its recorded training images plus new ones.

    Parameters
    ----------
    model : fitted Pipeline
        As saved by ``imgrec train`` (its metadata records ``training_data``).
    metadata : dict
        The model's metadata; ``training_data`` (and ``held_out``, if any) are data
        manifests (:func:`data_manifest`). Their files must still hold the same bytes.
    new_images, new_labels : sequences of paths and labels
        New classes are welcome: the classifier learns them.
    refit_encoder : bool, default=False
        Learn the vocabulary or mixture again from all the images (a full retrain)
        instead of keeping the fitted one.
    test_size : float, default=0.2
        Share of the new images held out (stratified where every class has two);
        they join the model's recorded held-out images to compare the two models.
    random_state : int, default=0
    cache : path, default=None
        The image encoder's row cache (see :func:`~imgrec_classic.pipelines.configure`):
        images the kept encoders have encoded are not decoded again. Default: the one
        recorded in ``metadata``.
    parent : str, default=None
        The SHA-256 of the old model's file, recorded as the new one's parent.
    verbose : bool, default=False

    Returns
    -------
    Bunch
        ``model`` (the new one, without the row cache, which ``metadata`` records),
        ``metadata`` (for :func:`save_model`), ``old_report``
        and ``new_report`` (:class:`~imgrec_classic.evaluation.Report` on the same
        held-out images, or None without any), ``held_out`` (the manifest).

    Raises
    ------
    ValueError
        Before any work: no recorded training data, training files missing or
        changed, no new images.
    """
    recorded = metadata.get("training_data")
    if not recorded:
        raise ValueError("the model's metadata records no training images (`imgrec train` "
                         "records them): nothing to add the new images to")
    _check_unchanged(list(recorded) + list(metadata.get("held_out") or []))
    new_images, new_labels = [str(p) for p in new_images], list(new_labels)
    if not new_images:
        raise ValueError("no new images to learn from")
    new_train, new_held = _split(new_images, new_labels, test_size, random_state)
    train = list(recorded) + data_manifest(*new_train)
    held_out = list(metadata.get("held_out") or []) + data_manifest(*new_held)
    images, labels = [e["path"] for e in train], np.asarray([e["label"] for e in train])
    cache = cache if cache is not None else metadata.get("cache")
    new_model = _retrained(model, images, labels, refit_encoder, cache, verbose)
    old_report = new_report = None
    if held_out:
        test, y_test = [e["path"] for e in held_out], [e["label"] for e in held_out]
        # With the encoder kept, the two models share the held-out images' rows: the
        # row cache encodes each image once for both.
        old = model if cache is None else configure(copy.deepcopy(model), cache=cache)
        old_report, new_report = evaluate(old, test, y_test), evaluate(new_model, test, y_test)
    new_metadata = {**{k: v for k, v in metadata.items()
                       if k not in ("versions", "saved_at", "classes", "format_version")},
                    "parent": parent, "training_data": train, "held_out": held_out,
                    "n_train": len(train), "cache": None if cache is None else str(cache),
                    "refit_encoder": refit_encoder,
                    "metrics": None if new_report is None else new_report.to_dict()}
    if isinstance(new_model, Pipeline):  # the metadata records the cache, not the model
        configure(new_model, cache=False)
    return Bunch(model=new_model, metadata=new_metadata, old_report=old_report,
                 new_report=new_report, held_out=held_out)


def _check_unchanged(manifest: list[dict]) -> None:
    bad = []
    for entry in manifest:
        path = entry["path"]
        if not os.path.isfile(path):
            bad.append(f"{path} (missing)")
        elif file_sha256(path) != entry["sha256"]:
            bad.append(f"{path} (changed)")
    if bad:
        raise ValueError(f"{len(bad)} recorded image(s) are missing or changed since the model "
                         f"was trained: {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}")


def _split(images, labels, test_size, random_state):
    if test_size <= 0:
        return (images, labels), ([], [])
    from sklearn.model_selection import train_test_split

    counts = np.unique(labels, return_counts=True)[1]
    stratify = labels if counts.min() >= 2 and len(images) * test_size >= len(counts) else None
    a, b, ya, yb = train_test_split(images, labels, test_size=test_size, stratify=stratify,
                                    random_state=random_state)
    return (a, ya), (b, yb)


def _retrained(model, images, labels, refit_encoder, cache, verbose):
    if refit_encoder or not isinstance(model, Pipeline) or len(model) < 2:
        new = clone(model)
        if isinstance(new, Pipeline):
            configure(new, cache=cache)
        return new.fit(images, labels)
    new = configure(copy.deepcopy(model), cache=cache)  # fitted encoders and weights kept
    if verbose:
        configure(new, verbose=True)
    X = new[:-1].transform(images)
    name, classifier = new.steps[-1]
    new.steps[-1] = (name, clone(classifier).fit(X, labels))
    return new
