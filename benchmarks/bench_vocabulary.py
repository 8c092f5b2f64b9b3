"""Vocabulary learning and word assignment, compared in one run.

1,000 words learned from 200,000 dense SIFT descriptors of Caltech-101 images with
scikit-learn's MiniBatchKMeans (our default), scikit-learn's KMeans (Lloyd), and
faiss when installed: time and inertia (sum of squared distances to the nearest word,
on the same sample). Then nearest-word assignment throughput (descriptors/s, one
thread) of our blocked float32 product and our approximate :class:`WordIndex` (learned on
the other 150,000 descriptors; queries are unseen) against scikit-learn's
``pairwise_distances_argmin`` and faiss's flat index.

Usage: python benchmarks/bench_vocabulary.py
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _common import caltech101_paths, write_result
from threadpoolctl import threadpool_limits

from imgrec_classic.encoding import Vocabulary, WordIndex, nearest_words
from imgrec_classic.features import DenseSIFT


def sample(n: int) -> np.ndarray:
    paths = caltech101_paths()[::20]
    d = DenseSIFT(step=4, sizes=(4, 6, 8, 10), n_jobs=2).fit_transform(paths)
    rng = np.random.default_rng(0)
    return d.values[rng.choice(d.n_descriptors, min(n, d.n_descriptors), replace=False)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, default=1000)
    parser.add_argument("--descriptors", type=int, default=200_000)
    parser.add_argument("--name", default="vocabulary")
    args = parser.parse_args()
    X = sample(args.descriptors)
    rows = []
    algorithms = ["minibatch", "kmeans"]
    try:
        import faiss  # noqa: F401

        algorithms.append("faiss")
    except ImportError:
        print("faiss not installed: skipped")
    for algorithm in algorithms:
        start = time.perf_counter()
        vocab = Vocabulary(args.words, algorithm=algorithm, max_descriptors=len(X),
                           random_state=0).fit(X)
        seconds = time.perf_counter() - start
        rows.append({"task": f"learn {args.words} words", "method": algorithm,
                     "seconds": round(seconds, 1), "inertia_per_descriptor":
                     round(vocab.inertia_ / len(X), 5), "threads": os.cpu_count()})
        print(rows[-1], flush=True)
    centers = vocab.cluster_centers_
    queries = X[:50_000]
    from sklearn.metrics import pairwise_distances_argmin

    word_index = WordIndex(centers, X[50_000:], nearest_words(X[50_000:], centers)[0][:, 0])
    methods = {"imgrec nearest_words (blocked float32 product)":
               lambda: nearest_words(queries, centers),
               f"imgrec WordIndex (approximate, {word_index.mean_candidates:.0f} candidates)":
               lambda: word_index.query(queries),
               "scikit-learn pairwise_distances_argmin":
               lambda: pairwise_distances_argmin(queries, centers)}
    if "faiss" in algorithms:
        import faiss

        index = faiss.IndexFlatL2(centers.shape[1])
        index.add(centers)
        methods["faiss IndexFlatL2"] = lambda: index.search(queries, 1)
    reference = nearest_words(queries, centers)[0][:, 0]
    with threadpool_limits(1):
        for name, run in methods.items():
            run()
            start = time.perf_counter()
            out = run()
            seconds = time.perf_counter() - start
            words = out[1][:, 0] if name.startswith("faiss") else (
                out[0][:, 0] if isinstance(out, tuple) else out)
            rows.append({"task": f"assign to {args.words} words", "method": name,
                         "seconds": round(seconds, 3),
                         "descriptors_per_s": round(len(queries) / seconds),
                         "agreement_with_ours": float(np.mean(words == reference)),
                         "threads": 1})
            print(rows[-1], flush=True)
    print("wrote", write_result(args.name, {"rows": rows, "n_descriptors": len(X)}))


if __name__ == "__main__":
    main()
