"""Continuous improvement: train on 10 images per class, add 20 more per class by update.

Caltech-101, the 30x50 split (seed 0): the first 10 training images of each class train
the first model (with a descriptor cache, as `imgrec train --cache` does); the next 20
of each class are added through :func:`imgrec_classic.update.update_model` (the fitted
mixture kept, the cached images not extracted again); a full retrain on all 30 per class
(no cache) is the reference. All three are evaluated on the split's test images, each
timed on its own, nothing else running. Target: the update <= 0.5x the full retrain's
time, its accuracy within 0.3 point of the full retrain's.

Usage: python benchmarks/bench_update.py [--preset NAME] [--name update]
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
    parser.add_argument("--name", default="update")
    args = parser.parse_args()
    X, y, X_test, y_test, _ = load_split("30x50", 0)
    old_X, old_y = first_per_class(X, y, 0, 10)
    new_X, new_y = first_per_class(X, y, 10, 30)
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
    rows = [{"model": "10 per class", "images": len(old_X), "seconds": first_s,
             "mean_class_accuracy": score(first)},
            {"model": "+20 per class by update", "images": len(X),
             "seconds": update_s, "mean_class_accuracy": score(result.model)},
            {"model": "full retrain on 30 per class", "images": len(X), "seconds": full_s,
             "mean_class_accuracy": score(full)}]
    for row in rows:
        print(row, flush=True)
    shutil.rmtree(cache, ignore_errors=True)
    print("wrote", write_result(args.name, {"rows": rows, "preset": args.preset,
                                            "update_over_full": round(update_s / full_s, 3)}))


if __name__ == "__main__":
    main()
