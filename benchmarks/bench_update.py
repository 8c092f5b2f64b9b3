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

A full retrain on all 30 per class (no cache) is the reference. All models are
evaluated on the split's test images, each step timed on its own, nothing else
running. Target: the update <= 0.5x the full retrain's time, its accuracy within 0.3
point of the full retrain's.

The kept mixture and the retrain's are fitted to different random samples of
descriptors, and the sample alone moves a model's accuracy by about as much as the
target allows. ``--seeds`` runs the protocol once per seed of that sample (the first
model and its retrain drawing with the same seed; the service's route with the first
seed only, its rows being the folder route's) and reports the mean gap.

``--first`` and ``--added`` change the protocol's 10 and 20.

Usage: python benchmarks/bench_update.py [--preset NAME] [--split 0] [--first 10]
[--added 20] [--no-service] [--seeds 0 1 2] [--name update]
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


def mixture_seed(name: str, seed: int, cache=None):
    """The preset with its Fisher-vector mixture sampled with ``seed`` (unchanged for
    presets without that branch)."""
    model = preset(name, n_jobs=2)
    if "features__sift_encoding__random_state" in model.get_params():
        model.set_params(features__sift_encoding__random_state=seed)
    return configure(model, cache=cache) if cache is not None else model


def one_seed(args, seed, data, work, service):
    """The protocol with one mixture seed: first model, update(s), full retrain, scored."""
    X, y, old_X, old_y, new_X, new_y, X_test, y_test = data
    shutil.rmtree(work, ignore_errors=True)
    cache, service_cache, feedback = work / "rows", work / "service_rows", work / "feedback"
    first, first_s = timed(lambda: mixture_seed(args.preset, seed, cache).fit(old_X, old_y))
    metadata = {"preset": args.preset, "training_data": data_manifest(old_X, old_y)}
    print(f"seed {seed}: first model {first_s} s", flush=True)
    if service:  # the service starts from the first model's rows only
        shutil.copytree(cache, service_cache)
    result, update_s = timed(lambda: update_model(first, metadata, new_X, new_y, test_size=0,
                                                  cache=cache))
    print(f"seed {seed}: update from a folder {update_s} s", flush=True)
    models = [(f"{args.first} per class", len(old_X), first_s, first),
              (f"+{args.added} per class by update (folder)", len(X), update_s, result.model)]
    extra = {}
    if service:
        (fed_X, fed_y, cached), serve_s = timed(lambda: through_service(
            first, new_X, new_y, feedback, service_cache))
        print(f"seed {seed}: served and fed back {len(new_X)} images: {serve_s} s "
              f"({cached} with rows kept)", flush=True)
        served, served_s = timed(lambda: update_model(first, metadata, fed_X, fed_y,
                                                      test_size=0, cache=service_cache))
        print(f"seed {seed}: update from the service's feedback {served_s} s", flush=True)
        models.append((f"+{args.added} per class by update (service feedback)",
                       len(old_X) + len(fed_X), served_s, served.model))
        extra = {"serving_seconds": serve_s, "rows_kept": int(cached),
                 "service_update_seconds": served_s}
    full, full_s = timed(lambda: mixture_seed(args.preset, seed).fit(X, y))
    print(f"seed {seed}: full retrain {full_s} s", flush=True)
    models.append((f"full retrain on {args.first + args.added} per class", len(X), full_s,
                   full))
    rows = []
    for name, n, seconds, model in models:
        # The kept encoders share the test images' rows through the cache: one encoding.
        scored = model if model is full else configure(copy.deepcopy(model), cache=cache)
        accuracy = mean_class_accuracy(y_test, scored.predict(X_test))
        rows.append({"model": name, "mixture seed": seed, "images": n, "seconds": seconds,
                     "mean_class_accuracy": round(accuracy, 4)})
        print(rows[-1], flush=True)
    shutil.rmtree(work, ignore_errors=True)
    return rows, {"update_seconds": update_s, "full_seconds": full_s, **extra}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="dsift-fisher-hog-color-svm")
    parser.add_argument("--split", type=int, default=0, help="seed of the 30x50 split")
    parser.add_argument("--first", type=int, default=10, help="images per class at first")
    parser.add_argument("--added", type=int, default=20, help="images per class added")
    parser.add_argument("--no-service", action="store_true",
                        help="only the update from a folder")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="seeds of the Fisher vectors' mixture sample: the protocol "
                        "runs once per seed (the service's route with the first only)")
    parser.add_argument("--name", default="update")
    args = parser.parse_args()
    if args.first < 1 or args.added < 1 or args.first + args.added > 30:
        parser.error("--first and --added must be >= 1 and add up to at most 30")
    X, y, X_test, y_test, _ = load_split("30x50", args.split)
    data = (*first_per_class(X, y, 0, args.first + args.added),
            *first_per_class(X, y, 0, args.first),
            *first_per_class(X, y, args.first, args.first + args.added), X_test, y_test)
    work = BENCH_DIR / "cache" / f"update_{args.preset}"
    rows, times = [], []
    for i, seed in enumerate(args.seeds):
        seed_rows, seed_times = one_seed(args, seed, data, work,
                                         service=not args.no_service and i == 0)
        rows += seed_rows
        times.append(seed_times)
    accuracy = {name: np.mean([r["mean_class_accuracy"] for r in rows if r["model"] == name])
                for name in dict.fromkeys(r["model"] for r in rows)}
    update, full = (f"+{args.added} per class by update (folder)",
                    f"full retrain on {args.first + args.added} per class")
    summary = {"update_over_full": round(times[0]["update_seconds"]
                                         / times[0]["full_seconds"], 3),
               "mean_accuracy": {k: round(float(v), 4) for k, v in accuracy.items()},
               "mean_update_minus_full_points": round(float(100 * (accuracy[update]
                                                             - accuracy[full])), 2)}
    if "service_update_seconds" in times[0]:
        summary |= {"serving_seconds": times[0]["serving_seconds"],
                    "rows_kept": times[0]["rows_kept"],
                    "service_update_over_full": round(times[0]["service_update_seconds"]
                                                      / times[0]["full_seconds"], 3)}
    print(summary)
    print("wrote", write_result(args.name, {"rows": rows, "preset": args.preset,
                                            "split": args.split, "first": args.first,
                                            "added": args.added, "seeds": args.seeds,
                                            **summary}))


if __name__ == "__main__":
    main()
