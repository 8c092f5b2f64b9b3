"""Gaussian-mixture posteriors of one image's descriptors: three implementations.

The Fisher-vector preset's mixture (256 Gaussians, PCA 80 + x, y) is fitted on 60
Caltech-101 images; the descriptors of 20 others, at 256x256, are then given to

* scikit-learn: ``GaussianMixture.predict_proba`` (float64), the reference;
* numpy float32: the product ``[x, x^2] . [mu / s2; -1 / (2 s2)]`` and a softmax with
  numpy's ``exp`` (an earlier version of this library's code);
* imgrec: :func:`imgrec_classic.encoding.gmm.gmm_log_posteriors` (``[1, x, x^2]`` in
  one product, OpenCV's ``exp`` after a clamp), what EM runs;
* imgrec sparse: :func:`imgrec_classic.encoding.gmm.gmm_posterior_entries`, the posteriors
  at least ``min_posterior`` (1e-4) of each descriptor's largest, renormalised, as
  triplets: what ``FisherVector`` encodes with.

Each is timed per image, one thread (BLAS and OpenCV), repeats interleaved, best of
``--repeat``; the largest difference from scikit-learn's posteriors is reported too.

Usage: python benchmarks/bench_posteriors.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
from _common import caltech101_paths, read_square, write_result
from bench_scaling import front
from threadpoolctl import threadpool_limits

from imgrec_classic.encoding.gmm import (
    gmm_log_posteriors,
    gmm_posterior_entries,
    gmm_sparse_posteriors,
    moment_rows,
)
from imgrec_classic.encoding.vocabulary import descriptor_values


def numpy_posteriors(x, weights, means, variances):
    """A float32 product of [x, x^2], softmax with numpy's exp (the numpy reference)."""
    precisions = (1 / variances).astype(np.float32)
    means = means.astype(np.float32)
    log_norm = (np.log(weights) - 0.5 * (np.log(variances).sum(1) + (means ** 2 * precisions)
                                         .sum(1) + means.shape[1] * np.log(2 * np.pi)))
    product = np.vstack([(means * precisions).T, -0.5 * precisions.T]).astype(np.float32)
    log_p = np.hstack([x, x * x]) @ product
    log_p += log_norm.astype(np.float32)
    log_p -= log_p.max(axis=1, keepdims=True)
    q = np.exp(log_p, out=log_p)
    q /= q.sum(axis=1, keepdims=True)
    return q


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--name", default="posteriors")
    args = parser.parse_args()
    images = [read_square(p, 256) for p in caltech101_paths()[::60][:80]]
    model = front("dsift-fisher-svm").fit(images[:60])
    _, extractor, fisher = model[0].branches[0]
    found = extractor.transform(images[60:])
    features = [fisher._features(descriptor_values(found[i]), found.positions_of(i))
                for i in range(len(found))]
    gmm = fisher.gmm_
    parts = (gmm.weights_, gmm.means_, gmm.covariances_)
    methods = {
        "scikit-learn predict_proba (float64)": lambda x: gmm.predict_proba(x),
        "numpy float32, numpy exp": lambda x: numpy_posteriors(x, *parts),
        "imgrec gmm_log_posteriors (OpenCV exp)":
            lambda x: gmm_log_posteriors(moment_rows(x), *parts)[0],
        "imgrec gmm_posterior_entries (sparse, min_posterior 1e-4)":
            lambda x: gmm_posterior_entries(moment_rows(x), *parts),
    }
    # The triplets compared as the dense matrix they stand for.
    dense = {**methods, "imgrec gmm_posterior_entries (sparse, min_posterior 1e-4)":
             lambda x: gmm_sparse_posteriors(moment_rows(x), *parts).toarray()}
    best = dict.fromkeys(methods, np.inf)
    cv2.setNumThreads(1)
    with threadpool_limits(1):
        for _ in range(args.repeat):
            for name, func in methods.items():
                start = time.perf_counter()
                for x in features:
                    func(x)
                best[name] = min(best[name], time.perf_counter() - start)
    reference = [gmm.predict_proba(x) for x in features]
    rows = []
    for name, func in dense.items():
        error = max(float(np.abs(func(x) - r).max()) for x, r in zip(features, reference,
                                                                       strict=True))
        rows.append({"method": name, "ms_per_image": round(1000 * best[name] / len(features), 1),
                     "max_abs_difference_from_sklearn": float(f"{error:.2g}")})
        print(rows[-1], flush=True)
    print("wrote", write_result(args.name, {
        "rows": rows, "images": len(features),
        "descriptors_per_image": round(float(np.mean([len(x) for x in features]))),
        "gaussians": len(gmm.weights_), "dimensions": gmm.means_.shape[1]}))


if __name__ == "__main__":
    main()
