"""Memory and time against the number of images: the best Caltech-101 preset, streaming.

Extract + encode (vocabulary/GMM fitted once on the first 1,000 images) 1k, 2k, 4k
and 8k Caltech-101 images (the 6,055 images repeated when needed), with peak RSS of
the process tree and wall time. Peak memory beyond the output matrix should stay
flat and time should grow linearly.

Usage: python benchmarks/bench_scaling.py [--sizes 1000 2000 4000 8000]
"""

from __future__ import annotations

import argparse
import time

from _common import DATASETS, PeakMemory, require_dataset, write_result

from imgrec_classic.pipelines import preset


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 8000])
    parser.add_argument("--preset", default="dsift-fisher-svm")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--name", default="scaling")
    args = parser.parse_args()
    require_dataset("caltech101")
    paths = sorted(str(p) for p in (DATASETS / "caltech101").glob("*/*.jpg"))
    model = preset(args.preset, n_jobs=args.n_jobs)
    features, encoder = model.named_steps["features"], model.named_steps["encoding"]
    encoder.fit(features.fit_transform(paths[:1000]))
    rows = []
    for size in args.sizes:
        images = (paths * (size // len(paths) + 1))[:size]
        with PeakMemory() as memory:
            start = time.perf_counter()
            codes = encoder.transform(features.transform(images))
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
