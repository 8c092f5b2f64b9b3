"""Real time: `imgrec watch` on a 640x480 video made from Caltech-101 test images.

The video (written here with cv2.VideoWriter, MJPG, 30 frames/s, each of 60 test images
held for 5 frames: 10 s) is watched by each model in real time, as from a camera:
the newest frame is classified when the model is free, the others dropped. Models are
those of bench_serve.py (trained on the Caltech-101 30-train split, cached in
benchmarks/models/). Reported from `imgrec watch`'s summary line: frames classified per
second, latency p50 / p99, frames dropped; and the share of classified frames whose label
is the frame's true class.

Usage: python benchmarks/bench_watch.py [--models PRESET ...] [--workers 2] [--name watch]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import cv2
import numpy as np
from _common import BENCH_DIR, write_result
from bench_caltech101 import load_split
from bench_serve import trained_model

MODELS = ["hog-svm", "dsift-bovw-chi2svm", "dsift-fisher-hog-color-svm", "cnn-svm"]
HOLD = 5  # frames per image


def make_video(path, n_images: int = 60, fps: int = 30):
    """The video and the true label of each of its frames."""
    _, _, X_test, y_test, _ = load_split("30x50", 0)
    picked = np.random.default_rng(0).choice(len(X_test), n_images, replace=False)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480))
    labels = []
    for i in picked:
        frame = cv2.resize(cv2.imread(X_test[i]), (640, 480), interpolation=cv2.INTER_AREA)
        for _ in range(HOLD):
            writer.write(frame)
            labels.append(str(y_test[i]))
    writer.release()
    return labels


def watch(model_path, video, labels, workers: int) -> dict:
    result = subprocess.run([sys.executable, "-m", "imgrec_classic.cli", "watch", str(model_path),
                             str(video), "--quiet", "--workers", str(workers)],
                            capture_output=True, text=True, check=True)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    frames, summary = lines[:-1], lines[-1]["summary"]
    right = np.mean([f["label"] == labels[f["frame"]] for f in frames]) if frames else 0.0
    return {**summary, "right_share": round(float(right), 3)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--workers", type=int, default=2, help="imgrec watch --workers")
    parser.add_argument("--name", default="watch")
    args = parser.parse_args()
    video = BENCH_DIR / "models" / "caltech101_watch.avi"
    video.parent.mkdir(exist_ok=True)
    labels = make_video(video)
    rows = []
    for name in args.models:
        row = {"preset": name, "workers": args.workers,
               **watch(trained_model(name), video, labels, args.workers)}
        print(row, flush=True)
        rows.append(row)
    print("wrote", write_result(args.name, {"rows": rows, "video": "640x480 MJPG, 30 frames/s, "
                                            f"{len(labels)} frames"}))


if __name__ == "__main__":
    main()
