"""Continuous improvement: train on 10 images per class, add 20 more per class by update.

Caltech-101, a 30x50 split (``--split``, default 0): the first 10 training images of each
class train the first model (with the engine's row cache, as ``imgrec train --cache``
does); the next 20 of each class are added through
:func:`imgrec_classic.update.update_model` (the fitted mixture kept, the recorded images'
rows read from the cache) in two ways:

- from a folder: the update decodes and encodes the new images;
- through the service: the first model is served (``create_app`` with ``feedback_dir``
  and ``row_cache``, in process), each new image is predicted and then given its label
  by ``POST /feedback`` with the prediction's id, as a user correcting or confirming the
  model would; the service writes the rows it computed for the prediction to the row
  cache, and the update learns from the feedback folder. The serving time is the
  deployment's work (predictions it answers anyway) and is reported beside, not counted
  in the update.

A full retrain on all 30 per class (no cache) is the reference (``--retrain-seeds``: more
of them, each drawing the mixture's sample with another seed). All models are
evaluated on the split's test images, each step timed on its own, nothing else
running. Target: the update <= 0.5x the full retrain's time, its accuracy within 0.3
point of the full retrain's.

``--first`` and ``--added`` change the protocol's 10 and 20.

Usage: python benchmarks/bench_update.py [--preset NAME] [--split 0] [--first 10]
[--added 20] [--no-service] [--retrain-seeds 1 2] [--name update]
"""

from __future__ import annotations

import argparse
import copy
import shutil
import time
from pathlib import Path

import numpy as np
from _common import BENCH_DIR, write_result
from bench_caltech101 import load_split, mean_class_accuracy

from imgrec_classic.pipelines import configure, preset
from imgrec_classic.update import data_manifest, update_model


def first_per_class(paths, labels, start, stop):
    keep = [i for c in dict.fromkeys(labels)
            for i in np.flatnonzero(labels == c)[start:stop]]
    return [paths[i] for i in keep], labels[keep]


def timed(func):
    start = time.perf_counter()
    out = func()
    return out, round(time.perf_counter() - start, 1)


def through_service(model, images, labels, feedback_dir, row_cache):
    """Each image predicted by the served model, then labelled by feedback on its id."""
    from fastapi.testclient import TestClient

    from imgrec_classic.serve import create_app

    served = configure(copy.deepcopy(model), cache=False)
    cached = 0
    with TestClient(create_app(served, feedback_dir=feedback_dir, row_cache=row_cache)) as client:
        for path, label in zip(images, labels, strict=True):
            data = Path(path).read_bytes()
            answer = client.post("/predict", files={"file": (Path(path).name, data)})
            prediction = answer.json()["predictions"][0]
            given = client.post("/feedback", data={"id": prediction["id"],
                                                   "label": str(label)})
            cached += given.json()["rows_cached"]
    stored = sorted(p for p in Path(feedback_dir).glob("*/*") if p.is_file())
    # Folder names are strings; the split's labels are class numbers.
    kind = np.asarray(labels).dtype
    return [str(p) for p in stored], np.array([p.parent.name for p in stored]).astype(kind), \
        cached


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="dsift-fisher-hog-color-svm")
    parser.add_argument("--split", type=int, default=0, help="seed of the 30x50 split")
    parser.add_argument("--first", type=int, default=10, help="images per class at first")
    parser.add_argument("--added", type=int, default=20, help="images per class added")
    parser.add_argument("--no-service", action="store_true",
                        help="only the update from a folder")
    parser.add_argument("--retrain-seeds", type=int, nargs="*", default=[],
                        help="more full retrains, with these seeds of the Fisher vectors' "
                        "mixture sample: the spread of the reference")
    parser.add_argument("--name", default="update")
    args = parser.parse_args()
    if args.first < 1 or args.added < 1 or args.first + args.added > 30:
        parser.error("--first and --added must be >= 1 and add up to at most 30")
    X, y, X_test, y_test, _ = load_split("30x50", args.split)
    old_X, old_y = first_per_class(X, y, 0, args.first)
    new_X, new_y = first_per_class(X, y, args.first, args.first + args.added)
    X, y = first_per_class(X, y, 0, args.first + args.added)
    work = BENCH_DIR / "cache" / f"update_{args.preset}"
    shutil.rmtree(work, ignore_errors=True)
    cache, service_cache, feedback = work / "rows", work / "service_rows", work / "feedback"

    first = configure(preset(args.preset, n_jobs=2), cache=cache)
    first, first_s = timed(lambda: first.fit(old_X, old_y))
    metadata = {"preset": args.preset, "training_data": data_manifest(old_X, old_y)}
    print(f"first model: {first_s} s", flush=True)
    if not args.no_service:  # the service starts from the first model's rows only
        shutil.copytree(cache, service_cache)
    result, update_s = timed(lambda: update_model(first, metadata, new_X, new_y, test_size=0,
                                                  cache=cache))
    print(f"update from a folder: {update_s} s", flush=True)
    models = [(f"{args.first} per class", len(old_X), first_s, first),
              (f"+{args.added} per class by update (folder)", len(X), update_s, result.model)]
    extra = {}
    if not args.no_service:
        (fed_X, fed_y, cached), serve_s = timed(lambda: through_service(
            first, new_X, new_y, feedback, service_cache))
        print(f"served and fed back {len(new_X)} images: {serve_s} s "
              f"({cached} with rows kept)", flush=True)
        served, served_s = timed(lambda: update_model(first, metadata, fed_X, fed_y,
                                                      test_size=0, cache=service_cache))
        print(f"update from the service's feedback: {served_s} s", flush=True)
        models.append((f"+{args.added} per class by update (service feedback)",
                       len(old_X) + len(fed_X),
                       served_s, served.model))
        extra = {"serving_seconds": serve_s, "rows_kept": int(cached),
                 "service_update_over_full": None}
    full, full_s = timed(lambda: preset(args.preset, n_jobs=2).fit(X, y))
    print(f"full retrain: {full_s} s", flush=True)
    models.append((f"full retrain on {args.first + args.added} per class", len(X), full_s,
                   full))
    retrains = []
    for seed in args.retrain_seeds:
        other, other_s = timed(lambda seed=seed: preset(
            args.preset, n_jobs=2, features__sift_encoding__random_state=seed).fit(X, y))
        retrains.append(other)
        models.append((f"full retrain, mixture seed {seed}", len(X), other_s, other))
    rows = []
    for name, n, seconds, model in models:
        # The kept encoders share the test images' rows through the cache: one encoding.
        fresh = model is full or any(model is other for other in retrains)
        scored = model if fresh else configure(copy.deepcopy(model), cache=cache)
        accuracy = mean_class_accuracy(y_test, scored.predict(X_test))
        rows.append({"model": name, "images": n, "seconds": seconds,
                     "mean_class_accuracy": round(accuracy, 4)})
        print(rows[-1], flush=True)
    shutil.rmtree(work, ignore_errors=True)
    if extra:
        extra["service_update_over_full"] = round(rows[2]["seconds"] / full_s, 3)
    print("wrote", write_result(args.name, {"rows": rows, "preset": args.preset,
                                            "split": args.split, "first": args.first,
                                            "added": args.added,
                                            "update_over_full": round(update_s / full_s, 3),
                                            **extra}))


if __name__ == "__main__":
    main()
