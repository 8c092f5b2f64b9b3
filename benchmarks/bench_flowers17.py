"""Oxford Flowers-17: 40 training and 40 test images per class, several random splits.

Stratified random splits by seed (the release's own split file is not in
../shared/datasets), mean per-class accuracy, every phase timed as in
``bench_caltech101.py``.

Usage: python benchmarks/bench_flowers17.py --presets dsift-fisher-svm --seeds 0 1 2
"""

from __future__ import annotations

import argparse

import numpy as np
from _common import require_dataset, write_result
from bench_caltech101 import evaluate_preset, parse_params, summarize

from imgrec_classic.pipelines import PRESETS


def load_split(seed: int, n_train: int = 40):
    root = require_dataset("flowers17")
    classes = sorted(p for p in root.iterdir() if p.is_dir())
    rng = np.random.default_rng(seed)
    parts = {"train": ([], []), "test": ([], [])}
    for label, folder in enumerate(classes):
        files = sorted(str(f) for f in folder.glob("*.jpg"))
        order = rng.permutation(len(files))
        for part, picked in (("train", order[:n_train]), ("test", order[n_train:])):
            parts[part][0].extend(files[i] for i in picked)
            parts[part][1].extend([label] * len(picked))
    return (parts["train"][0], np.array(parts["train"][1]),
            parts["test"][0], np.array(parts["test"][1]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", nargs="+", default=[p for p in PRESETS if p != "hog-svm"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--param", action="append", default=[])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--name", default="flowers17")
    args = parser.parse_args()
    params = parse_params(args.param)
    rows = [evaluate_preset(name, params, load_split(seed), args.n_jobs,
                            {"dataset": "flowers17", "seed": seed})
            for name in args.presets for seed in args.seeds]
    print("wrote", write_result(args.name, {"rows": rows, "summary": summarize(rows)}))


if __name__ == "__main__":
    main()
