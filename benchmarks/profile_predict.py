"""Per-request cost of a saved model in process: union branches, classifier, whole predict.

One 256x256 Caltech-101 test image at a time (20 images, after one warm-up call), as
``imgrec serve`` sees a request, without HTTP. Prints milliseconds per image: each union
branch, the Fisher-vector encoder's stages (dense SIFT, PCA and moments, posteriors,
pooling, normalisation) when the model has one, the classifier alone and the whole ``predict``.
``--one-thread`` holds BLAS and OpenCV to one thread: the work one core does per request.

Usage (models trained by bench_serve.py):
    python benchmarks/profile_predict.py \
        benchmarks/models/caltech101_dsift-fisher-hog-color-svm.imgrec [--one-thread]
"""

from __future__ import annotations

import argparse
import time
from contextlib import nullcontext

import cv2
from bench_caltech101 import load_split
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from imgrec_classic.encoding import FisherVector
from imgrec_classic.encoding.gmm import gmm_posterior_entries
from imgrec_classic.encoding.vocabulary import descriptor_values
from imgrec_classic.features.base import decode_and_extract
from imgrec_classic.io import read_image
from imgrec_classic.persistence import load_model


def ms_per_call(func, calls: list[tuple]) -> float:
    """Mean milliseconds of ``func(*args)`` over ``calls``, after one warm-up call."""
    func(*calls[0])
    start = time.perf_counter()
    for args in calls:
        func(*args)
    return 1000 * (time.perf_counter() - start) / len(calls)


def stage(label: str, func, calls: list[tuple]) -> list:
    """Print the time of one stage and return its outputs, the next stage's inputs."""
    print(f"  {label}: {ms_per_call(func, calls):.1f} ms")
    return [func(*args) for args in calls]


def fisher_stages(extractor, encoder: FisherVector, images) -> None:
    """Time each stage of extracting and encoding one image, as ``encode`` runs them
    (with the default pyramid and ``min_posterior``; the pooling is the rest of
    ``_pool_fine`` once the moments and posteriors are counted)."""
    extractor = clone(extractor).set_params(n_jobs=1)
    found = stage("dense SIFT", extract, [(extractor, image) for image in images])
    inputs = [(descriptor_values(d), d.positions) for d in found]
    print(f"  ({sum(len(v) for v, _ in inputs) / len(inputs):,.0f} descriptors per image)")
    moments = stage("PCA and moments", encoder._moments, inputs)
    parts = encoder.gmm_.weights_, encoder.gmm_.means_, encoder.gmm_.covariances_
    posteriors = ms_per_call(lambda m: gmm_posterior_entries(m, *parts), [(m,) for m in moments])
    print(f"  posteriors: {posteriors:.1f} ms")
    calls = [(v, p, encoder._finest_cells(p)) for v, p in inputs]
    whole = ms_per_call(encoder._pool_fine, calls)
    print(f"  pooling: {whole - posteriors - ms_per_call(encoder._moments, inputs):.1f} ms")
    pooled = [encoder._sum_levels(encoder._pool_fine(*c)) for c in calls]
    stage("normalisation", encoder._normalize_cells, [(p,) for p in pooled])


def extract(extractor, image):
    """One image's result of one extractor, decoded as the engine does it."""
    return decode_and_extract([extractor], [image])[0][0]


def profile(model, images) -> None:
    single = [([image],) for image in images]
    for name, extractor, encoder in model[0].branches:
        calls = [(extractor, image) for image in images]
        print(f"branch {name}: extraction {ms_per_call(extract, calls):.1f} ms")
        if isinstance(encoder, FisherVector):
            fisher_stages(extractor, encoder, images)
    codes = [(model[:-1].transform(*args),) for args in single]
    print(f"classifier alone: {ms_per_call(model[-1].predict, codes):.1f} ms")
    print(f"predict: {ms_per_call(model.predict, single):.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--one-thread", action="store_true")
    args = parser.parse_args()
    model, _ = load_model(args.model)
    _, _, X_test, _, _ = load_split("30x50", 0)
    images = [cv2.resize(read_image(p), (256, 256)) for p in X_test[:args.images]]
    if args.one_thread:
        cv2.setNumThreads(1)
    with threadpool_limits(1) if args.one_thread else nullcontext():
        profile(model, images)


if __name__ == "__main__":
    main()
