"""Dense SIFT speed: OpenCV SIFT on a grid vs imgrec-classic vs VLFeat (cyvlfeat).

Side by side in one run, on Caltech-101 images resized to 256x256 and 512x512
(grayscale, decoded beforehand so that only descriptor computation is timed),
one thread each (``cv2.setNumThreads(1)``; VLFeat's dsift is single-threaded):

(a) ``cv2.SIFT.compute`` on the grid keypoints,
(b) ``imgrec_classic.features.dense_sift``,
(c) ``cyvlfeat.sift.dsift(step=4, size=8, fast=True)`` when importable.

All at step 4 and bin size 8, and once more for the multi-scale PHOW setting
(sizes 4, 6, 8, 10) against ``cyvlfeat.sift.phow``. Also reports how closely
(b) agrees with (a) on the same points.

Usage: python benchmarks/bench_dense_sift.py [--n-images 40]
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np
from _common import best_time, require_dataset, write_result

from imgrec_classic.features import dense_sift
from imgrec_classic.features.dense_sift import dense_grid
from imgrec_classic.io import read_image

STEP, SIZE, PHOW_SIZES = 4, 8, (4, 6, 8, 10)


def load_images(n_images: int, side: int) -> list[np.ndarray]:
    root = require_dataset("caltech101")
    classes = sorted(p for p in root.iterdir() if p.is_dir())
    paths = [sorted(c.glob("*.jpg"))[0] for c in classes][:n_images]
    return [cv2.resize(read_image(p, "gray"), (side, side), interpolation=cv2.INTER_AREA)
            for p in paths]


def opencv_grid(images, step=STEP, size=SIZE):
    sift = cv2.SIFT_create()
    out = []
    for image in images:
        xs, ys = dense_grid(image.shape, step, size)
        # KeyPoint.size is a diameter; OpenCV's spatial bin is 1.5 x size wide.
        keypoints = [cv2.KeyPoint(float(x), float(y), size / 1.5, 0) for y in ys for x in xs]
        out.append(sift.compute(image, keypoints)[1])
    return out


def ours(images, sizes=(SIZE,)):
    return [dense_sift(image, STEP, sizes)[2] for image in images]


def vlfeat_dsift(images):
    from cyvlfeat.sift import dsift

    return [dsift(image.astype(np.float32) / 255, step=STEP, size=SIZE, fast=True)[1]
            for image in images]


def vlfeat_phow(images):
    from cyvlfeat.sift import phow

    return [phow(image.astype(np.float32) / 255, sizes=list(PHOW_SIZES), step=STEP, fast=True,
                 color="gray")[1] for image in images]


def agreement(images):
    """Median per-descriptor correlation and nearest-neighbour rate of (b) vs (a)."""
    corr, nn = [], []
    for image in images[:10]:
        positions, _, mine = dense_sift(image, STEP, (SIZE,), magnif=SIZE / 1.6)
        keypoints = [cv2.KeyPoint(float(x), float(y), SIZE / 1.5, 0) for x, y in positions]
        ref = cv2.SIFT_create().compute(image, keypoints)[1]
        ref = ref / np.maximum(np.linalg.norm(ref, axis=1, keepdims=True), 1e-12)
        # Flat patches (blank backgrounds) are all alike: leave them out of both figures.
        ok = (ref.std(axis=1) > 0) & (mine.std(axis=1) > 0)
        mine, ref = mine[ok], ref[ok]
        corr += [np.corrcoef(a, b)[0, 1] for a, b in zip(mine, ref, strict=True)]
        d2 = -2 * mine @ ref.T + (ref ** 2).sum(1)
        nn.append((d2.argmin(axis=1) == np.arange(len(mine))).mean())
    return float(np.median(corr)), float(np.mean(nn))


def measure(methods, images, repeat):
    """Rows of figures per method; repeats interleave the methods so that a slow
    spell of a shared machine hits them all alike, and the best repeat counts."""
    best = dict.fromkeys(methods, float("inf"))
    for _ in range(repeat):
        for name, func in methods.items():
            best[name] = min(best[name], best_time(lambda f=func: f(images), 1))
    rows = []
    for name, func in methods.items():
        n_desc = sum(len(d) for d in func(images[:4])) / 4
        ms = 1000 * best[name] / len(images)
        rows.append({"method": name, "ms_per_image": round(ms, 2),
                     "descriptors_per_image": round(n_desc),
                     "descriptors_per_s": round(n_desc / ms * 1000)})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-images", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    try:
        import cyvlfeat.sift  # noqa: F401
        have_vlfeat = True
    except ImportError:
        have_vlfeat = False
        print("cyvlfeat is not importable: skipping VLFeat (apt-get install libvlfeat-dev; "
              "pip install --no-build-isolation cyvlfeat==0.7.1)")
    rows = []
    for side in (256, 512):
        images = load_images(args.n_images, side)
        methods = {"(a) OpenCV SIFT on grid": opencv_grid, "(b) imgrec dense_sift": ours}
        if have_vlfeat:
            methods["(c) VLFeat dsift fast"] = vlfeat_dsift
        methods["(b) imgrec dense_sift PHOW 4-10"] = lambda ims: ours(ims, PHOW_SIZES)
        if have_vlfeat:
            methods["(c) VLFeat phow fast 4-10"] = vlfeat_phow
        for row in measure(methods, images, args.repeat):
            rows.append({"image_side": side, **row})
            print(rows[-1], flush=True)
    corr, nn = agreement(load_images(10, 256))
    print(f"agreement with OpenCV on the same points: median correlation {corr:.4f}, "
          f"nearest-neighbour rate {nn:.4f}")
    path = write_result("dense_sift", {
        "n_images": args.n_images, "step": STEP, "size": SIZE, "threads": 1, "rows": rows,
        "agreement_with_opencv": {"median_correlation": corr, "nn_match_rate": nn}})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
