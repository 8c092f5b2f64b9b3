"""Per-request cost of a saved model in process: union branches, classifier, whole predict.

One 256x256 Caltech-101 test image at a time (20 images, after one warm-up call), as
``imgrec serve`` sees a request, without HTTP. Prints milliseconds per image: each union
branch, the Fisher-vector encoder's stages (dense SIFT, projection, posteriors, pooling,
normalisation) when the model has one, the classifier alone and the whole ``predict``.
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
from imgrec_classic.encoding.base import _one_image
from imgrec_classic.encoding.vocabulary import descriptor_values
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
    """Time each stage of extracting and encoding one image, in the encoder's order."""
    extractor = clone(extractor).set_params(n_jobs=1)
    found = stage("dense SIFT", extractor.fit_transform, [([image],) for image in images])
    ones = [_one_image(d, 0) for d in found]
    projected = stage("projection", encoder._features,
                      [(descriptor_values(d), d.positions) for d in ones])
    print(f"  ({sum(map(len, projected)) / len(projected):,.0f} descriptors per image)")
    cells = stage("sort by cell", encoder._by_cell,
                  [(p, d.positions) for p, d in zip(projected, ones, strict=True)])
    states = stage("posteriors", encoder._prepare, [(values,) for values, _ in cells])
    pooled = stage("pooling", encoder._pool_pyramid,
                   [(s, c) for s, (_, c) in zip(states, cells, strict=True)])
    stage("normalisation", encoder._normalize_cells, [(p,) for p in pooled])


def profile(model, images) -> None:
    single = [([image],) for image in images]
    for name, extractor, encoder in model[0].branches:
        calls = [([image],) for image in images]
        print(f"branch {name}: extraction {ms_per_call(extractor.extract_images, calls):.1f} ms")
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
