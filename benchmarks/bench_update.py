"""Continuous improvement: train on 10 images per class, add 20 more per class by update.

Caltech-101, the 30x50 split (seed 0): the first 10 training images of each class train
the first model (with the engine's row cache, as `imgrec train --cache` does); the next
20 of each class are added through :func:`imgrec_classic.update.update_model` (the fitted
mixture kept, the recorded images' rows read from the cache); a full retrain on all 30
per class (no cache) is the reference. All three are evaluated on the split's test images, each
timed on its own, nothing else running. Target: the update <= 0.5x the full retrain's
time, its accuracy within 0.3 point of the full retrain's.

``--first`` and ``--added`` change the protocol's 10 and 20.

Usage: python benchmarks/bench_update.py [--preset NAME] [--first 10] [--added 20]
[--name update]
"""

from __future__ import annotations

import argparse
import shutil
import time

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="dsift-fisher-hog-color-svm")
    parser.add_argument("--first", type=int, default=10, help="images per class at first")
    parser.add_argument("--added", type=int, default=20, help="images per class added")
    parser.add_argument("--name", default="update")
    args = parser.parse_args()
    if args.first < 1 or args.added < 1 or args.first + args.added > 30:
        parser.error("--first and --added must be >= 1 and add up to at most 30")
    X, y, X_test, y_test, _ = load_split("30x50", 0)
    old_X, old_y = first_per_class(X, y, 0, args.first)
    new_X, new_y = first_per_class(X, y, args.first, args.first + args.added)
    X, y = first_per_class(X, y, 0, args.first + args.added)
    cache = BENCH_DIR / "cache" / f"update_{args.preset}"
    shutil.rmtree(cache, ignore_errors=True)

    def score(model):
        return round(mean_class_accuracy(y_test, model.predict(X_test)), 4)

    first = configure(preset(args.preset, n_jobs=2), cache=cache)
    first, first_s = timed(lambda: first.fit(old_X, old_y))
    metadata = {"preset": args.preset, "training_data": data_manifest(old_X, old_y)}
    print(f"first model: {first_s} s", flush=True)
    result, update_s = timed(lambda: update_model(first, metadata, new_X, new_y, test_size=0,
                                                  cache=cache))
    print(f"update: {update_s} s", flush=True)
    full, full_s = timed(lambda: preset(args.preset, n_jobs=2).fit(X, y))
    print(f"full retrain: {full_s} s", flush=True)
    total = args.first + args.added
    rows = [{"model": f"{args.first} per class", "images": len(old_X), "seconds": first_s,
             "mean_class_accuracy": score(first)},
            {"model": f"+{args.added} per class by update", "images": len(X),
             "seconds": update_s, "mean_class_accuracy": score(result.model)},
            {"model": f"full retrain on {total} per class", "images": len(X),
             "seconds": full_s, "mean_class_accuracy": score(full)}]
    for row in rows:
        print(row, flush=True)
    shutil.rmtree(cache, ignore_errors=True)
    print("wrote", write_result(args.name, {"rows": rows, "preset": args.preset,
                                            "first": args.first, "added": args.added,
                                            "update_over_full": round(update_s / full_s, 3)}))


if __name__ == "__main__":
    main()
