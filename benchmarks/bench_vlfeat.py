"""VLFeat's own Caltech-101 recipes, run through cyvlfeat on this machine, beside ours.

PHOW (``phow_caltech101.m``): images at most 480 pixels high, ``vl_phow`` (fast,
step 3, bin sizes 4-10, contrast threshold 0.005), 600 words by Elkan k-means on
100,000 descriptors of 30 training images, word quantisation, 2x2 + 4x4 spatial
histograms normalised to unit mass, the chi2 homogeneous kernel map with gamma
1/2, and a linear SVM with C = 10. The recipe quantises with a kd-tree (at most
50 comparisons); through cyvlfeat that is ``kmeans_quantize(algorithm="ANN")``,
which here costs about 20 us per descriptor (0.4 s per Caltech-101 image, ten times
the descriptor extraction), so by default the words come from an exact BLAS search
(scikit-learn's ``pairwise_distances_argmin``); ``--quantizer ann`` restores it.
Fisher vectors: ``vl_phow`` at step 4, PCA to 80, a 256-Gaussian ``vl_gmm``,
improved ``vl_fisher`` on 1x1 + 2x2 cells, linear SVM with C = 10.

cyvlfeat wraps neither ``vl_homkermap`` nor ``vl_svmtrain``: the kernel map is
the square root then scikit-learn's ``AdditiveChi2Sampler`` (the chi2 map of the
square-rooted histograms is the gamma-1/2 map), and the SVM is the one-vs-rest
linear SVM of our presets, so the two columns differ only in features and
encoding. Images are processed by 2 joblib workers, as in bench_caltech101.py.

Usage: python benchmarks/bench_vlfeat.py [--recipes phow fisher] [--split 30x50] [--quantizer ann]
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
from _common import PeakMemory, write_result
from bench_caltech101 import load_split, mean_class_accuracy
from joblib import Parallel, delayed
from sklearn.decomposition import PCA
from sklearn.kernel_approximation import AdditiveChi2Sampler
from sklearn.metrics import pairwise_distances_argmin
from sklearn.pipeline import make_pipeline

from imgrec_classic.io import read_image
from imgrec_classic.svm import GramLinearSVC

SIZES = (4, 6, 8, 10)


def standardize(path) -> np.ndarray:
    """``standarizeImage``: single precision in [0, 1], at most 480 rows."""
    image = read_image(path, "gray").astype(np.float32) / 255
    if image.shape[0] > 480:
        width = round(image.shape[1] * 480 / image.shape[0])
        image = cv2.resize(image, (width, 480), interpolation=cv2.INTER_AREA)
    return image


def phow(path, step: int):
    """Positions normalised to [0, 1) as (x, y), and descriptors (n, 128) float32."""
    from cyvlfeat.sift import phow as vl_phow

    image = standardize(path)
    frames, descriptors = vl_phow(image, sizes=SIZES, step=step, fast=True,
                                  float_descriptors=True)
    # cyvlfeat frames are (y, x, contrast, size), zero-based.
    xy = frames[:, [1, 0]] / np.float32([image.shape[1], image.shape[0]])
    return np.minimum(xy, 1 - 1e-6).astype(np.float32), descriptors.astype(np.float32)


def cells_of(xy: np.ndarray, n: int) -> np.ndarray:
    cell = np.minimum((xy * n).astype(int), n - 1)
    return cell[:, 1] * n + cell[:, 0]


def phow_histogram(path, vocabulary, quantizer="exact"):
    xy, descriptors = phow(path, 3)
    if quantizer == "ann":
        from cyvlfeat.kmeans import kmeans_quantize

        words = kmeans_quantize(descriptors, vocabulary, algorithm="ANN",
                                max_num_comparisons=50)
    else:
        words = pairwise_distances_argmin(descriptors, vocabulary)
    hist = np.concatenate([np.bincount(cells_of(xy, n) * len(vocabulary) + words,
                                       minlength=n * n * len(vocabulary)) for n in (2, 4)])
    # Square-rooted: the chi2 map of these is the gamma-1/2 homogeneous map.
    return np.sqrt(hist / max(hist.sum(), 1)).astype(np.float32)


def fisher_code(path, pca, gmm):
    from cyvlfeat.fisher import fisher

    xy, descriptors = phow(path, 4)
    x = pca.transform(descriptors).astype(np.float32)
    means, covariances, priors = gmm
    parts = [fisher(x, means, covariances, priors, improved=True)]
    cells = cells_of(xy, 2)
    for c in range(4):
        rows = x[cells == c]
        parts.append(fisher(rows, means, covariances, priors, improved=True) if len(rows)
                     else np.zeros(2 * means.size, np.float32))
    return np.concatenate(parts).astype(np.float32) / np.sqrt(5)


def sample_descriptors(paths, step, n_images, n_descriptors, rng):
    picked = rng.choice(len(paths), n_images, replace=False)
    blocks = Parallel(n_jobs=2)(delayed(phow)(paths[i], step) for i in picked)
    values = np.concatenate([d for _, d in blocks])
    return values[rng.choice(len(values), min(n_descriptors, len(values)), replace=False)]


def fit_phow(X_train, rng, quantizer="exact"):
    from cyvlfeat.kmeans import kmeans

    sample = sample_descriptors(X_train, 3, 30, 100_000, rng)
    vocabulary = kmeans(sample, 600, algorithm="ELKAN", max_num_iterations=50)
    return lambda paths: np.vstack(Parallel(n_jobs=2, batch_size=16)(
        delayed(phow_histogram)(p, vocabulary, quantizer) for p in paths))


def fit_fisher(X_train, rng, quantizer=None):
    from cyvlfeat.gmm import gmm

    sample = sample_descriptors(X_train, 4, 200, 256_000, rng)
    pca = PCA(80, random_state=0).fit(sample)
    means, covariances, priors, *_ = gmm(pca.transform(sample).astype(np.float32), 256,
                                         max_num_iterations=100)
    model = (means.astype(np.float32), covariances.astype(np.float32),
             priors.astype(np.float32))
    return lambda paths: np.vstack(Parallel(n_jobs=2, batch_size=16)(
        delayed(fisher_code)(p, pca, model) for p in paths))


def classifier(recipe):
    tail = [GramLinearSVC(C=10)]  # W'x at test, as VLFeat
    if recipe == "phow":
        return make_pipeline(AdditiveChi2Sampler(sample_steps=2), *tail)
    return make_pipeline(*tail)


def run(recipe, split, seed, quantizer="exact"):
    X_train, y_train, X_test, y_test, _ = load_split(split, seed)
    rng = np.random.default_rng(seed)
    times = {}
    with PeakMemory() as memory:
        t = time.perf_counter()
        encode = {"phow": fit_phow, "fisher": fit_fisher}[recipe](X_train, rng, quantizer)
        times["encoder_fit"] = time.perf_counter() - t
        t = time.perf_counter()
        codes = encode(X_train)
        times["extract_encode_train"] = time.perf_counter() - t
        t = time.perf_counter()
        model = classifier(recipe).fit(codes, y_train)
        times["classifier_fit"] = time.perf_counter() - t
        t = time.perf_counter()
        test = encode(X_test)
        times["extract_encode_test"] = time.perf_counter() - t
        t = time.perf_counter()
        predicted = model.predict(test)
        times["predict"] = time.perf_counter() - t
    times["total"] = sum(times.values())
    words = f", {quantizer} quantisation" if recipe == "phow" else ""
    row = {"recipe": f"VLFeat {recipe} (cyvlfeat{words})", "split": split, "seed": seed,
           "mean_class_accuracy": mean_class_accuracy(y_test, predicted),
           "seconds": {k: round(v, 1) for k, v in times.items()},
           "peak_memory_mb": memory.peak_mb, "n_features": int(codes.shape[1])}
    print(row, flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipes", nargs="+", default=["phow", "fisher"],
                        choices=["phow", "fisher"])
    parser.add_argument("--split", default="30x50")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quantizer", default="exact", choices=["exact", "ann"])
    parser.add_argument("--name", default="vlfeat_caltech101")
    args = parser.parse_args()
    rows = [run(recipe, args.split, args.seed, args.quantizer) for recipe in args.recipes]
    print("wrote", write_result(args.name, {"rows": rows}))


if __name__ == "__main__":
    main()
