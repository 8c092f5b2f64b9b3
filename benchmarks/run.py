"""Run one named benchmark, then regenerate RESULTS.md's tables and the figures.

Usage:
    python benchmarks/run.py --list
    python benchmarks/run.py caltech101 [extra arguments for the script]

Each benchmark writes ``benchmarks/results/NAME.json`` (figures, versions, machine,
command, date); ``report.py`` then rewrites the matching table of RESULTS.md.
"""

from __future__ import annotations

import subprocess
import sys

from _common import BENCH_DIR

#: name -> the script and its arguments (the ones behind the figures of RESULTS.md).
BENCHMARKS = {
    "dense_sift": ["bench_dense_sift.py"],
    "caltech101": ["bench_caltech101.py", "--presets", "dsift-bovw-chi2svm", "dsift-fisher-svm",
                   "--split", "30x50", "--name", "caltech101_30x50_seed0"],
    "caltech101_fusion": ["bench_caltech101.py", "--presets", "dsift-fisher-hog-color-svm",
                          "--split", "30x50", "--seeds", "0", "--name", "engine_fusion_new"],
    "caltech101_fusion_step6": ["bench_caltech101.py", "--presets", "dsift-fisher-hog-color-svm",
                                "--split", "30x50", "--param", "features__sift__step=6",
                                "--name", "caltech101_30x50_fusion_step6"],
    "caltech101_fusion_step8": ["bench_caltech101.py", "--presets", "dsift-fisher-hog-color-svm",
                                "--split", "30x50", "--param", "features__sift__step=8",
                                "--name", "caltech101_30x50_fusion_step8"],
    "speed_variants": ["bench_speed_variants.py", "--variant", "", "--variant",
                       "features__sift__step=6", "--variant",
                       "features__sift__step=8"],
    "posteriors": ["bench_posteriors.py"],
    "fusion_weights": ["bench_fusion_weights.py", "--dataset", "caltech101"],
    "fusion_weights_flowers17": ["bench_fusion_weights.py", "--dataset", "flowers17", "--seeds",
                                 "0", "1", "2", "--hog", "0.1", "0.3", "1", "--color", "0.1",
                                 "0.3", "1", "3", "--name", "fusion_weights_flowers17"],
    "caltech101_all_presets": ["bench_caltech101.py", "--split", "15x15",
                               "--name", "caltech101_15x15_presets"],
    "flowers17": ["bench_flowers17.py", "--presets", "dsift-fisher-svm", "--seeds", "0", "1",
                  "2"],
    "opencv_bow": ["bench_opencv_bow.py", "--split", "15x15"],
    "fashion_mnist": ["bench_fashion_mnist.py"],
    "caltech101_cnn": ["bench_cnn.py", "--dataset", "caltech101"],
    "flowers17_cnn": ["bench_cnn.py", "--dataset", "flowers17", "--budget", "300"],
    "flowers17_color": ["bench_flowers17.py", "--presets", "dsift-fisher-color-svm", "--seeds",
                        "0", "1", "2", "--name", "flowers17_color"],
    "vlfeat": ["bench_vlfeat.py"],
    "augmentation": ["bench_augmentation.py", "--splits", "15x15"],
    "augmentation_30": ["bench_augmentation.py", "--splits", "30x50", "--variants", "mirrored",
                        "--name", "caltech101_flip_augmentation_30"],
    "serve": ["bench_serve.py"],
    "scaling": ["bench_scaling.py"],
    "vocabulary": ["bench_vocabulary.py"],
    "uiuc_cars": ["bench_uiuc_cars.py"],
    "robustness_fashion_mnist": ["bench_robustness.py", "--dataset", "fashion_mnist"],
    "robustness_flowers17": ["bench_robustness.py", "--dataset", "flowers17", "--severities",
                             "1", "3", "5", "--test-per-class", "10", "--black-box-images",
                             "20", "--queries", "50"],
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "--list"):
        print(__doc__)
        for name, command in BENCHMARKS.items():
            print(f"  {name:<24} python benchmarks/{' '.join(command)}")
        return 0
    name, extra = argv[0], argv[1:]
    if name not in BENCHMARKS:
        print(f"unknown benchmark {name!r}; --list shows them", file=sys.stderr)
        return 2
    script, *args = BENCHMARKS[name]
    code = subprocess.call([sys.executable, str(BENCH_DIR / script), *args, *extra],
                           cwd=BENCH_DIR.parent)
    if code != 0:
        return code
    return subprocess.call([sys.executable, str(BENCH_DIR / "report.py")], cwd=BENCH_DIR.parent)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
