"""The CNN baseline trained from scratch on Caltech-101 (30 train) or Flowers-17 (40 / 40).

Same splits, same metric (mean per-class accuracy) and the same row layout as
bench_caltech101.py / bench_flowers17.py, so RESULTS.md puts the classical presets and
the CNN side by side; adds the model file size and predict time per image.

Usage: python benchmarks/bench_cnn.py --dataset caltech101 [--budget 600]
"""

from __future__ import annotations

import argparse
import pickle
import time

import numpy as np
from _common import PeakMemory, write_result
from bench_caltech101 import load_split as caltech_split
from bench_caltech101 import mean_class_accuracy
from bench_flowers17 import load_split as flowers_split

from imgrec_classic.baselines import CNNClassifier


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=["caltech101", "flowers17"], default="caltech101")
    parser.add_argument("--budget", type=float, default=600, help="training seconds")
    parser.add_argument("--input-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default=None)
    args = parser.parse_args()
    if args.dataset == "caltech101":
        X_train, y_train, X_test, y_test, _ = caltech_split("30x50", args.seed)
    else:
        X_train, y_train, X_test, y_test = flowers_split(args.seed)
    clf = CNNClassifier(input_size=args.input_size, channels=(32, 64, 128, 256), hidden=256,
                        dropout=0.4, epochs=200, batch_size=64, patience=15,
                        max_time=args.budget, n_threads=2, random_state=args.seed,
                        verbose=True)
    with PeakMemory() as memory:
        start = time.perf_counter()
        clf.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        predicted = clf.predict(X_test)
        predict_seconds = time.perf_counter() - start
    row = {"preset": f"CNN from scratch ({args.input_size}x{args.input_size}, 4 blocks)",
           "params": {}, "dataset": args.dataset, "seed": args.seed,
           "n_train": len(X_train), "n_test": len(X_test),
           "mean_class_accuracy": mean_class_accuracy(y_test, predicted),
           "accuracy": float(np.mean(predicted == y_test)),
           "seconds": {"classifier_fit": round(fit_seconds, 1),
                       "predict": round(predict_seconds, 1),
                       "total": round(fit_seconds + predict_seconds, 1)},
           "predict_ms_per_image": round(1000 * predict_seconds / len(X_test), 2),
           "model_mb": round(len(pickle.dumps(clf)) / 2**20, 1),
           "epochs": len(clf.history_), "best_epoch": clf.best_epoch_,
           "stop_reason": clf.stop_reason_, "parameters": clf.n_parameters_,
           "peak_memory_mb": round(memory.peak_mb)}
    print(row, flush=True)
    name = args.name or f"{args.dataset}_cnn"
    print("wrote", write_result(name, {"rows": [row], "history": clf.history_}))


if __name__ == "__main__":
    main()
