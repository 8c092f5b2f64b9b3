"""Flip augmentation on Caltech-101: the best preset with and without mirrored training images.

Each training image is added once more, mirrored left-right (``Augmenter(flip=1.0)`` with
every other change off), as VLFeat's recipes do; test images are untouched. Runs the
15-train and 30-train splits, with and without, and times every phase as
bench_caltech101.py does.

Usage: python benchmarks/bench_augmentation.py [--preset dsift-fisher-svm] [--splits 15x15 30x50]
"""

from __future__ import annotations

import argparse

from _common import write_result
from bench_caltech101 import evaluate_preset, load_split, parse_params

from imgrec_classic.preprocessing import Augmenter

MIRROR = Augmenter(n_augmented=1, flip=1.0, max_rotation=0, crop_scale=(1, 1), brightness=0,
                   contrast=0, color_shift=0, random_state=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="dsift-fisher-svm")
    parser.add_argument("--splits", nargs="+", default=["15x15", "30x50"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--param", action="append", default=[])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=["none", "mirrored"],
                        choices=["none", "mirrored"],
                        help="which runs (a baseline may come from another result file)")
    parser.add_argument("--name", default="caltech101_flip_augmentation")
    args = parser.parse_args()
    params = parse_params(args.param)
    rows = []
    for split in args.splits:
        X_train, y_train, X_test, y_test, _ = load_split(split, args.seed)
        for flipped in [v == "mirrored" for v in args.variants]:
            X, y = MIRROR.fit_resample(X_train, y_train) if flipped else (X_train, y_train)
            rows.append(evaluate_preset(args.preset, params, (X, y, X_test, y_test), args.n_jobs,
                                        {"split": split, "seed": args.seed,
                                         "augmentation": "mirrored copies" if flipped
                                         else "none"}))
    print("wrote", write_result(args.name, {"rows": rows}))


if __name__ == "__main__":
    main()
