"""Compare the classical presets on a folder of labelled images.

A short story: the same images, every named pipeline, one table of mean
per-class accuracy and time. Give it a folder with one subfolder of images per
class (default: COIL-20 from ../shared/datasets when present):

    python examples/compare_presets.py [DATA_DIR] [--per-class 12]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from imgrec_classic.pipelines import PRESETS, preset

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "coil20"
_SMALL_FISHER = {"n_components": 32, "pca_components": 32}
SMALLER = {**{name: {f"features__sift_encoding__{k}": v for k, v in _SMALL_FISHER.items()}
              for name in ("dsift-fisher-svm", "dsift-fisher-color-svm",
                           "dsift-fisher-hog-color-svm")},
           "dsift-bovw-chi2svm": {"features__sift_encoding__n_words": 200},
           "sift-bovw-svm": {"features__sift_encoding__n_words": 200},
           "orb-bovw-rf": {"features__orb_encoding__n_words": 200}}


def folder_images(root: Path, per_class: int):
    classes = sorted(p for p in root.iterdir() if p.is_dir())
    paths, labels = [], []
    for label, folder in enumerate(classes):
        files = sorted(f for f in folder.iterdir() if f.suffix.lower() in {".png", ".jpg",
                                                                          ".jpeg", ".pgm"})
        picked = files[:: max(1, len(files) // per_class)][:per_class]
        paths += picked
        labels += [label] * len(picked)
    return paths, np.array(labels), [c.name for c in classes]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--per-class", type=int, default=12)
    args = parser.parse_args()
    paths, y, classes = folder_images(args.data_dir, args.per_class)
    X_train, X_test, y_train, y_test = train_test_split(paths, y, test_size=0.5, stratify=y,
                                                        random_state=0)
    print(f"{len(classes)} classes, {len(X_train)} training and {len(X_test)} test images\n")
    print(f"{'preset':<28} {'accuracy':>9} {'seconds':>8}")
    for name in PRESETS:
        start = time.perf_counter()
        model = preset(name, n_jobs=2, **SMALLER.get(name, {})).fit(X_train, y_train)
        accuracy = balanced_accuracy_score(y_test, model.predict(X_test))
        print(f"{name:<28} {accuracy:>9.3f} {time.perf_counter() - start:>8.1f}")


if __name__ == "__main__":
    main()
