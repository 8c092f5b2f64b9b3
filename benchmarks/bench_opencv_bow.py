"""The PHOW recipe built from OpenCV's own BOW classes, on the Caltech-101 split.

OpenCV's ``SIFT.compute`` on the same dense multi-scale grid as the
``dsift-bovw-chi2svm`` preset, ``BOWKMeansTrainer`` for the vocabulary and
``BOWImgDescriptorExtractor`` for the histograms (in ``cv2.xfeatures2d`` on
OpenCV 5), then the preset's own chi2 map and SVM; each spatial pyramid cell is
one ``compute`` call on that cell's keypoints. For accuracy and time side
by side with ``bench_caltech101.py``.

Usage: python benchmarks/bench_opencv_bow.py --split 15x15
"""

from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np
from _common import PeakMemory, write_result
from bench_caltech101 import load_split, mean_class_accuracy
from joblib import Parallel, delayed

from imgrec_classic._compat import cv2_attribute
from imgrec_classic.encoding.pyramid import pyramid_cells
from imgrec_classic.features.base import resize_max_side
from imgrec_classic.features.dense_sift import dense_grid
from imgrec_classic.io import read_image
from imgrec_classic.pipelines import preset

STEP, SIZES, N_WORDS, PYRAMID, MAX_SIDE = 4, (4, 6, 8, 10), 600, (2, 4), 480


def grid_keypoints(shape):
    xs, ys = dense_grid(shape, STEP, max(SIZES))
    # OpenCV's spatial bin is 1.5 x KeyPoint.size wide: size = bin / 1.5.
    return [cv2.KeyPoint(float(x), float(y), s / 1.5) for s in SIZES for y in ys for x in xs]


def load(path):
    return resize_max_side(read_image(path, "gray"), MAX_SIDE)


def sift_descriptors(paths):
    cv2.setNumThreads(1)
    sift = cv2.SIFT_create()
    return [sift.compute(image, grid_keypoints(image.shape))[1] for image in map(load, paths)]


def histograms(paths, vocabulary):
    cv2.setNumThreads(1)
    extractor = cv2_attribute("BOWImgDescriptorExtractor")(
        cv2.SIFT_create(), cv2.BFMatcher(cv2.NORM_L2))
    extractor.setVocabulary(vocabulary)
    out = []
    for image in map(load, paths):
        keypoints = grid_keypoints(image.shape)
        xy = np.array([k.pt for k in keypoints]) / [image.shape[1], image.shape[0]]
        # OpenCV's Python binding hides the per-word keypoint lists, so each pyramid
        # cell is a separate compute() on that cell's keypoints (SIFT runs per level).
        counts = []
        for cell in pyramid_cells(xy, PYRAMID):
            hist = extractor.compute(image, [keypoints[i] for i in cell]) if len(cell) else None
            counts.append(np.zeros(N_WORDS) if hist is None else hist.ravel() * len(cell))
        levels = np.split(np.stack(counts), np.cumsum([n * n for n in PYRAMID])[:-1])
        out.append(np.concatenate([lv.ravel() / max(lv.sum(), 1) / len(levels)
                                   for lv in levels]))
    return np.array(out, np.float32)


def chunks(items, n):
    return [items[i::n] for i in range(n)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", default="30x50", choices=["30x50", "15x15"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--vocabulary-images", type=int, default=100)
    args = parser.parse_args()
    X_train, y_train, X_test, y_test, _ = load_split(args.split, args.seed)
    times = {}
    with PeakMemory() as memory:
        start = time.perf_counter()
        rng = np.random.default_rng(0)
        sample = list(rng.choice(X_train, args.vocabulary_images, replace=False))
        blocks = Parallel(args.n_jobs)(delayed(sift_descriptors)(c)
                                       for c in chunks(sample, args.n_jobs))
        values = np.vstack([d for b in blocks for d in b])
        values = values[rng.choice(len(values), min(len(values), 100_000), replace=False)]
        trainer = cv2_attribute("BOWKMeansTrainer")(
            N_WORDS, (cv2.TERM_CRITERIA_MAX_ITER + cv2.TERM_CRITERIA_EPS, 20, 1e-3), 1,
            cv2.KMEANS_PP_CENTERS)
        vocabulary = trainer.cluster(np.ascontiguousarray(values, np.float32))
        times["encoder_fit"] = time.perf_counter() - start

        def encode(paths):
            t = time.perf_counter()
            parts = Parallel(args.n_jobs)(delayed(histograms)(c, vocabulary)
                                          for c in np.array_split(paths, 4 * args.n_jobs))
            return np.vstack(parts), time.perf_counter() - t

        codes, times["extract_encode_train"] = encode(X_train)
        head = preset("dsift-bovw-chi2svm")[2:]
        t = time.perf_counter()
        head.fit(codes, y_train)
        times["classifier_fit"] = time.perf_counter() - t
        test_codes, times["extract_encode_test"] = encode(X_test)
        t = time.perf_counter()
        predicted = head.predict(test_codes)
        times["predict"] = time.perf_counter() - t
        times["total"] = time.perf_counter() - start
    row = {"recipe": "OpenCV SIFT grid + BOWKMeansTrainer + BOWImgDescriptorExtractor",
           "split": args.split, "seed": args.seed,
           "mean_class_accuracy": mean_class_accuracy(y_test, predicted),
           "seconds": {k: round(v, 1) for k, v in times.items()},
           "peak_memory_mb": round(memory.peak_mb)}
    print(json.dumps(row))
    print("wrote", write_result(f"opencv_bow_{args.split}", {"rows": [row]}))


if __name__ == "__main__":
    main()
