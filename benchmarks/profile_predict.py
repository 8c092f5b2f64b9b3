"""Per-request cost of a saved model, in process: each union branch, then the whole predict.

One 256x256 Caltech-101 test image at a time (20 images, after one warm-up call), as
``imgrec serve`` sees a request, without HTTP. Prints milliseconds per image.

Usage (models trained by bench_serve.py):
    python benchmarks/profile_predict.py \
        benchmarks/models/caltech101_dsift-fisher-hog-color-svm.imgrec
"""

from __future__ import annotations

import argparse
import time

import cv2
from bench_caltech101 import load_split
from sklearn.pipeline import FeatureUnion

from imgrec_classic.io import read_image
from imgrec_classic.persistence import load_model


def ms_per_call(func, images) -> float:
    func([images[0]])
    start = time.perf_counter()
    for image in images:
        func([image])
    return 1000 * (time.perf_counter() - start) / len(images)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("--images", type=int, default=20)
    args = parser.parse_args()
    model, _ = load_model(args.model)
    _, _, X_test, _, _ = load_split("30x50", 0)
    images = [cv2.resize(read_image(p), (256, 256)) for p in X_test[:args.images]]
    features = model[0]
    if isinstance(features, FeatureUnion):
        for name, branch in features.transformer_list:
            print(f"branch {name}: {ms_per_call(branch.transform, images):.1f} ms")
    print(f"predict: {ms_per_call(model.predict, images):.1f} ms")


if __name__ == "__main__":
    main()
