"""UIUC cars: HOG sliding-window car detection, scored with the dataset's own rule.

Trains SlidingWindowDetector on TrainImages (550 cars, 500 non-cars, 100x40) and tests
on the single-scale set (170 images, 200 cars) and the multi-scale set (108 images,
139 cars). A detection is correct when its top-left corner (and, multi-scale, its
width) lies inside the ellipse(oid) centred on a true car with axes 25 % of the car's
size; one detection per car, the rest are false positives (Agarwal & Roth's
Evaluator). Reports the recall-precision curve (figure), the F-measure at the equal
error rate, and images/s.

Usage: python benchmarks/bench_uiuc_cars.py
"""

from __future__ import annotations

import argparse
import re
import time

import numpy as np
from _common import BENCH_DIR, require_dataset, write_result

from imgrec_classic.detection import SlidingWindowDetector
from imgrec_classic.features import HOG
from imgrec_classic.io import read_image

WINDOW = (40, 100)


def read_truth(path) -> dict[int, list[tuple[int, ...]]]:
    truth = {}
    for line in path.read_text().splitlines():
        if ":" not in line:
            continue
        index, rest = line.split(":", 1)
        truth[int(index)] = [tuple(int(v) for v in m.split(","))
                             for m in re.findall(r"\(([-\d,\s]+)\)", rest)]
    return truth


def label_detections(detections, truths, multiscale: bool):
    """TP (1) / FP (0) for each detection of one image, matched greedily by score."""
    used, labels = set(), []
    for box in detections:
        x1, y1, width = box[0], box[1], box[2] - box[0]
        hit = None
        for k, true in enumerate(truths):
            if k in used:
                continue
            i, j = true[0], true[1]
            w_true = true[2] if multiscale else WINDOW[1]
            h_true = w_true * WINDOW[0] / WINDOW[1]
            d = ((y1 - i) / (0.25 * h_true)) ** 2 + ((x1 - j) / (0.25 * w_true)) ** 2
            if multiscale:
                d += ((width - w_true) / (0.25 * w_true)) ** 2
            if d <= 1:
                hit = k
                break
        if hit is not None:
            used.add(hit)
        labels.append(hit is not None)
    return labels


def curve(results, truth, multiscale):
    scores, labels = [], []
    for index, (boxes, s) in results.items():
        labels += label_detections(boxes, truth.get(index, []), multiscale)
        scores += list(s)
    order = np.argsort(-np.asarray(scores), kind="stable")
    tp = np.cumsum(np.asarray(labels, float)[order])
    fp = np.cumsum(1 - np.asarray(labels, float)[order])
    n_true = sum(len(v) for v in truth.values())
    recall, precision = tp / n_true, tp / np.maximum(tp + fp, 1)
    eer = int(np.argmin(np.abs(recall - precision)))
    f = 2 * recall * precision / np.maximum(recall + precision, 1e-12)
    return recall, precision, {"recall_at_eer": float(recall[eer]),
                               "precision_at_eer": float(precision[eer]),
                               "f_at_eer": float(f[eer]), "best_f": float(f.max()),
                               "threshold_at_eer": float(np.asarray(scores)[order][eer])}


def evaluate(detector, folder, truth, multiscale, n_jobs):
    paths = {int(p.stem.split("-")[1]): p for p in folder.glob("test-*.pgm")}
    indices = sorted(paths)
    images = [read_image(paths[i], mode="gray") for i in indices]
    start = time.perf_counter()
    found = detector.detect_many(images)
    seconds = time.perf_counter() - start
    results = dict(zip(indices, found, strict=True))
    recall, precision, figures = curve(results, truth, multiscale)
    figures["images_per_s"] = round(len(images) / seconds, 2)
    figures["n_images"] = len(images)
    return recall, precision, figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--name", default="uiuc_cars")
    args = parser.parse_args()
    root = require_dataset("uiuc_cars")
    train = root / "TrainImages"
    positives = sorted(train.glob("pos-*.pgm"))
    negatives = sorted(train.glob("neg-*.pgm"))
    common = dict(window=WINDOW, feature=HOG(pixels_per_cell=(4, 4)), stride=4,
                  threshold=-1.0, nms_iou=0.2, hard_negative_rounds=2, random_state=0,
                  n_jobs=args.n_jobs)
    start = time.perf_counter()
    detector = SlidingWindowDetector(**common, scales=(1.0,)).fit(positives, negatives)
    fit_seconds = time.perf_counter() - start
    rows, curves = [], {}
    sets = [("single-scale", "TestImages", "trueLocations.txt", False, dict(scales=(1.0,))),
            ("multi-scale", "TestImages_Scale", "trueLocations_Scale.txt", True,
             dict(scales=None, max_scale=1.25, scale_step=1.1))]
    for name, folder, truth_file, multiscale, params in sets:
        detector.set_params(**params)
        recall, precision, figures = evaluate(detector, root / folder,
                                              read_truth(root / truth_file), multiscale,
                                              args.n_jobs)
        curves[name] = (recall, precision)
        rows.append({"test set": name, **figures, "fit_seconds": round(fit_seconds, 1),
                     "hard_negatives": detector.hard_negatives_})
        print(rows[-1], flush=True)
    plot(curves)
    print("wrote", write_result(args.name, {"rows": rows}))


def plot(curves):
    from imgrec_classic.evaluation.plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, (recall, precision) in curves.items():
        ax.plot(1 - precision, recall, label=name)
    ax.set_xlabel("1 - precision")
    ax.set_ylabel("recall")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.grid(True, alpha=0.3)
    ax.legend()
    ax.set_title("UIUC cars: HOG + linear SVM")
    fig.tight_layout()
    (BENCH_DIR / "figures").mkdir(exist_ok=True)
    fig.savefig(BENCH_DIR / "figures" / "uiuc_cars_recall_precision.png", dpi=120)


if __name__ == "__main__":
    main()
