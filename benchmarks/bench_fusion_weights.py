"""Branch weights of the fusion preset, picked by cross-validation on the training images.

``dsift-fisher-hog-color-svm`` concatenates unit-norm branches (Fisher vectors, HOG,
colour histograms) scaled by ``sqrt(w)``, so its linear SVM works on the kernel
``K = sum_b w_b K_b``. Each branch is fitted and applied once, its train and test
kernels are kept, and every weight pair of a small grid is scored by 3-fold
cross-validation on the training images (the one-vs-rest SVM of the preset on the
summed kernel) and, for the record, on the test images. The weights to use are the
ones with the best cross-validation score: the test column is not used to choose.

Usage:
    python benchmarks/bench_fusion_weights.py --dataset caltech101
    python benchmarks/bench_fusion_weights.py --dataset flowers17 --seeds 0 1 2 \
        --color 0.1 0.3 1 3
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np
from _common import write_result
from bench_caltech101 import load_split as caltech_split
from bench_caltech101 import mean_class_accuracy
from bench_flowers17 import load_split as flowers_split
from joblib import Parallel, delayed
from sklearn.model_selection import StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import SVC

from imgrec_classic.compose import ImageEncoder
from imgrec_classic.pipelines import preset

PRESET = "dsift-fisher-hog-color-svm"


def branch_kernels(X_train, y_train, X_test, n_jobs):
    """Per branch of the preset's union: (train x train, test x train) linear kernels."""
    union = preset(PRESET, n_jobs=n_jobs)["features"]
    kernels, seconds = {}, {}
    for branch_spec in union.branches:
        name = branch_spec[0]
        branch = ImageEncoder([branch_spec], n_jobs=n_jobs)
        start = time.perf_counter()
        A = branch.fit_transform(X_train, y_train)
        B = branch.transform(X_test)
        seconds[name] = round(time.perf_counter() - start, 1)
        kernels[name] = (A @ A.T).astype(np.float64), (B @ A.T).astype(np.float64)
        print(json.dumps({"branch": name, "dims": A.shape[1], "seconds": seconds[name]}),
              flush=True)
    return kernels, seconds


def svm_score(K_fit, y_fit, K_eval, y_eval, C):
    model = OneVsRestClassifier(SVC(kernel="precomputed", C=C)).fit(K_fit, y_fit)
    return mean_class_accuracy(y_eval, model.predict(K_eval))


def score_weights(kernels, weights, y_train, y_test, C, folds=3):
    """Cross-validated (training images) and test accuracy of one weighting, in %."""
    K = sum(w * kernels[b][0] for b, w in weights.items())
    K_test = sum(w * kernels[b][1] for b, w in weights.items())
    cv = [svm_score(K[np.ix_(a, a)], y_train[a], K[np.ix_(b, a)], y_train[b], C)
          for a, b in StratifiedKFold(folds, shuffle=True, random_state=0).split(K, y_train)]
    return {"hog_weight": weights.get("hog", 0.0), "color_weight": weights.get("color", 0.0),
            "cv_accuracy_pct": round(100 * float(np.mean(cv)), 2),
            "test_accuracy_pct": round(100 * svm_score(K, y_train, K_test, y_test, C), 2)}


def run_split(data, args, meta):
    """Rows of one split: the Fisher vectors alone, then every weighting of the grid."""
    X_train, y_train, X_test, y_test = data
    kernels, seconds = branch_kernels(X_train, y_train, X_test, args.n_jobs)
    if args.save_kernels:  # for trying other combinations later without re-extracting
        args.save_kernels.mkdir(parents=True, exist_ok=True)
        np.savez(args.save_kernels / f"{meta['dataset']}_seed{meta['seed']}.npz",
                 y_train=y_train, y_test=y_test,
                 **{f"{b}_{part}": k for b, ks in kernels.items()
                    for part, k in zip(("train", "test"), ks, strict=True)})
    grid = [{"sift": 1.0}] + [{"sift": 1.0, "hog": h, "color": c}
                              for h, c in itertools.product(args.hog, args.color)]
    scores = Parallel(n_jobs=args.n_jobs)(
        delayed(score_weights)(kernels, w, y_train, y_test, args.C) for w in grid)
    best = max(scores[1:], key=lambda s: s["cv_accuracy_pct"])
    rows = [{**meta, **s, "chosen": s is best} for s in scores]
    for row in rows:
        print(json.dumps(row), flush=True)
    return rows, {**meta, **seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=["caltech101", "flowers17"], default="caltech101")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--hog", type=float, nargs="+", default=[0.1, 0.3, 0.5])
    parser.add_argument("--color", type=float, nargs="+", default=[0.02, 0.05, 0.1, 0.2])
    parser.add_argument("--C", type=float, default=10)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--name", default=None)
    parser.add_argument("--save-kernels", type=Path, default=None,
                        help="folder for each split's branch kernels (.npz)")
    args = parser.parse_args()
    rows, seconds = [], []
    for seed in args.seeds:
        if args.dataset == "caltech101":
            X_train, y_train, X_test, y_test, _ = caltech_split("30x50", seed)
            data = X_train, y_train, X_test, y_test
        else:
            data = flowers_split(seed)
        split_rows, split_seconds = run_split(data, args, {"dataset": args.dataset,
                                                           "seed": seed})
        rows += split_rows
        seconds.append(split_seconds)
        chosen = next(r for r in split_rows if r["chosen"])
        print(f"seed {seed}: chosen hog {chosen['hog_weight']} colour {chosen['color_weight']}"
              f", cv {chosen['cv_accuracy_pct']} %, test {chosen['test_accuracy_pct']} %")
    name = args.name or f"fusion_weights_{args.dataset}"
    print("wrote", write_result(name, {"rows": rows, "branch_seconds": seconds}))


if __name__ == "__main__":
    main()
