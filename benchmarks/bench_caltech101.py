"""Caltech-101 with the standard protocol, for every preset.

30 training and up to 50 test images per class over the 102 folders (or 15/15),
on the fixed splits in ../shared/datasets/splits/ that the VLFeat reference
figures used; mean per-class accuracy; wall time split into encoder fit
(vocabulary / GMM), extract+encode of the training and test images, classifier
fit (a linear-kernel SVM then becomes explicit weights, as ``imgrec train`` does)
and predict; peak memory of the process tree.

Usage:
    python benchmarks/bench_caltech101.py --presets dsift-bovw-chi2svm --split 30x50 --seeds 0
    python benchmarks/bench_caltech101.py --presets dsift-fisher-svm \
        --param features__sift_encoding__n_components=128
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from _common import DATASETS, PeakMemory, require_dataset, write_result
from sklearn.metrics import confusion_matrix

from imgrec_classic.pipelines import PRESETS, preset


def load_split(name: str, seed: int):
    path = require_dataset("splits", f"caltech101_{name}_seed{seed}.json")
    split = json.loads(path.read_text())
    root = DATASETS / split["root"]
    def paths(rows):
        return [str(root / p) for p, _ in rows], np.array([c for _, c in rows])
    return (*paths(split["train"]), *paths(split["test"]), split["classes"])


def mean_class_accuracy(y_true, y_pred) -> float:
    cm = confusion_matrix(y_true, y_pred)
    return float(np.mean(cm.diagonal() / np.maximum(cm.sum(axis=1), 1)))


def parse_params(items):
    params = {}
    for item in items:
        key, value = item.split("=", 1)
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
        if isinstance(params[key], list):
            params[key] = tuple(params[key])
    return params


def run(name, params, split, seed, n_jobs):
    X_train, y_train, X_test, y_test, _ = load_split(split, seed)
    return evaluate_preset(name, params, (X_train, y_train, X_test, y_test), n_jobs,
                           {"split": split, "seed": seed})


def evaluate_preset(name, params, data, n_jobs, meta):
    """Fit preset ``name`` on the training part of ``data``, time each phase, score the test."""
    X_train, y_train, X_test, y_test = data
    model = preset(name, n_jobs=n_jobs, **params)
    features, head = model[0], model[1:]
    times = {}
    with PeakMemory() as memory:
        start = time.perf_counter()
        if features.weight_grid is None:  # the sampled pass and the encoders' fits, alone
            features.fit(X_train)
            times["encoder_fit"] = time.perf_counter() - start
            t = time.perf_counter()
            codes = features.transform(X_train)
        else:  # the weight search needs the training rows: fit_transform does both
            t = time.perf_counter()
            codes = features.fit_transform(X_train, y_train)
        times["extract_encode_train"] = time.perf_counter() - t
        t = time.perf_counter()
        head = head.fit(codes, y_train)
        times["classifier_fit"] = time.perf_counter() - t
        t = time.perf_counter()
        test_codes = features.transform(X_test)
        times["extract_encode_test"] = time.perf_counter() - t
        t = time.perf_counter()
        predicted = head.predict(test_codes)
        times["predict"] = time.perf_counter() - t
        times["total"] = time.perf_counter() - start
    row = {"preset": name, "params": {k: str(v) for k, v in params.items()}, **meta,
           "n_train": len(X_train), "n_test": len(X_test),
           "mean_class_accuracy": mean_class_accuracy(y_test, predicted),
           "accuracy": float(np.mean(predicted == y_test)),
           "seconds": {k: round(v, 1) for k, v in times.items()},
           "peak_memory_mb": round(memory.peak_mb), "n_features": int(codes.shape[1])}
    print(json.dumps(row), flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", nargs="+", default=[p for p in PRESETS if p != "hog-svm"])
    parser.add_argument("--split", default="30x50", choices=["30x50", "15x15"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--param", action="append", default=[],
                        help="step__param=value override, e.g. "
                        "features__sift_encoding__n_words=1000")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--name", default="caltech101", help="result file name")
    args = parser.parse_args()
    params = parse_params(args.param)
    rows = [run(name, params, args.split, seed, args.n_jobs)
            for name in args.presets for seed in args.seeds]
    print("wrote", write_result(args.name, {"rows": rows, "summary": summarize(rows)}))


def summarize(rows):
    """Mean and standard deviation of accuracy and time per preset, printed and returned."""
    summary = {}
    for name in dict.fromkeys(r["preset"] for r in rows):
        acc = [r["mean_class_accuracy"] for r in rows if r["preset"] == name]
        total = [r["seconds"]["total"] for r in rows if r["preset"] == name]
        summary[name] = {"mean": float(np.mean(acc)), "std": float(np.std(acc)),
                         "mean_total_seconds": float(np.mean(total))}
        print(f"{name}: {100 * np.mean(acc):.1f} +- {100 * np.std(acc):.1f} % mean per-class "
              f"accuracy, {np.mean(total):.0f} s")
    return summary


if __name__ == "__main__":
    main()
