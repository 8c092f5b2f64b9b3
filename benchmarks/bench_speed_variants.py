"""Speed of a preset's variants: one-image latency and per-core throughput of its front.

The front is the preset's steps before its kernel (extraction and encoding, where
nearly all of a prediction's time goes; the linearised SVM after it is one small
product). Each variant is the preset with ``--variant`` parameters, fitted on 200
Caltech-101 images (``--fit-images``), then timed on others:

* latency: one 256x256 image at a time, as ``imgrec serve`` sees a request on one
  worker (BLAS and OpenCV keep their default threads), median and p90 over
  ``--images`` images after a warm-up;
* throughput: 200 images resized to 300x300 in one process and one thread
  (BLAS and OpenCV held to one thread), images/s per core, as bench_scaling.py
  measures it.

Accuracy of the same variants comes from bench_caltech101.py with the same
``--param`` values (see RESULTS.md).

Usage:
    python benchmarks/bench_speed_variants.py \
        --variant "" --variant features__sift__step=6 \
        --variant features__sift__step=8
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import caltech101_paths, one_core, read_square, write_result
from bench_caltech101 import parse_params
from bench_scaling import front

from imgrec_classic.io import read_image


def ms_each(transform, images) -> np.ndarray:
    transform(images[:1])
    times = []
    for image in images:
        start = time.perf_counter()
        transform([image])
        times.append(1000 * (time.perf_counter() - start))
    return np.array(times)


def measure(name: str, params: dict, paths: list[str], n_latency: int, n_fit: int) -> dict:
    model = front(name).set_params(**params)
    model.fit([read_image(p) for p in paths[:n_fit]])
    others = paths[n_fit:]
    small = [read_square(p, 256) for p in others[:n_latency]]
    latency = ms_each(model.transform, small)
    images = [read_square(p, 300) for p in others[::max(1, len(others) // 200)][:200]]
    with one_core():
        model.transform(images[:4])
        start = time.perf_counter()
        model.transform(images)
        per_core = len(images) / (time.perf_counter() - start)
    row = {"preset": name, "params": params,
           "latency_256_p50_ms": round(float(np.median(latency)), 1),
           "latency_256_p90_ms": round(float(np.percentile(latency, 90)), 1),
           "images_per_s_per_core_300": round(per_core, 1)}
    print(row, flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="dsift-fisher-hog-color-svm")
    parser.add_argument("--variant", action="append", default=None,
                        help="space-separated k=v parameters; '' is the preset unchanged")
    parser.add_argument("--images", type=int, default=40, help="latency: images timed")
    parser.add_argument("--fit-images", type=int, default=200)
    parser.add_argument("--name", default="speed_variants")
    args = parser.parse_args()
    # Every 7th image: many classes among the fitting and the timed images alike.
    paths = caltech101_paths()[::7]
    rows = [measure(args.preset, parse_params(v.split()), paths, args.images, args.fit_images)
            for v in (args.variant or [""])]
    print("wrote", write_result(args.name, {"rows": rows}))


if __name__ == "__main__":
    main()
