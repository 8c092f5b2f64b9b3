"""Extract and encode on a dask.distributed cluster, unchanged code (the ``[dask]`` extra).

Every joblib-parallel step of imgrec-classic (feature extraction, encoding, the vocabulary
sample) runs on the cluster under ``joblib.parallel_config(backend="dask")``; images are
decoded on the workers, so they must see the same paths (a shared file system).

Run: python examples/distributed.py [SCHEDULER_ADDRESS] [IMAGE_FOLDER]
Without an address a LocalCluster with two workers is started on this machine.
"""

import sys
import time
from pathlib import Path

# This file shares its name with the ``distributed`` package: without this line,
# ``import dask.distributed`` would find this script (its folder comes first on the path).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

import dask  # noqa: E402
from dask.distributed import Client, LocalCluster  # noqa: E402
from joblib import parallel_config  # noqa: E402

from imgrec_classic.datasets import load_image_folder, load_opencv_digits  # noqa: E402
from imgrec_classic.pipelines import preset  # noqa: E402


def local_cluster() -> LocalCluster:
    # dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which turns every large
    # temporary array into a fresh mmap: extraction and encoding run 1.7x slower here
    # (benchmarks/RESULTS.md, "Throughput"). Start your own workers without it too.
    env = dask.config.get("distributed.nanny.pre-spawn-environ")
    dask.config.set({"distributed.nanny.pre-spawn-environ":
                     {k: v for k, v in env.items() if k != "MALLOC_TRIM_THRESHOLD_"}})
    return LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)


def load(folder: str | None):
    if folder:
        data = load_image_folder(folder)
        return data.images, data.target
    import cv2

    digits = load_opencv_digits()  # embedded; upsampled so dense SIFT has room
    return [cv2.resize(im, (40, 40)) for im in digits.images[::5]], digits.target[::5]


def main():
    address = sys.argv[1] if len(sys.argv) > 1 else None
    images, labels = load(sys.argv[2] if len(sys.argv) > 2 else None)
    model = preset("dsift-bovw-chi2svm", n_jobs=-1, features__sift__step=4,
                   features__sift__sizes=(4, 6), features__sift_encoding__n_words=200,
                   features__sift_encoding__pyramid=(1, 2),
                   features__sift_encoding__pca_components=None)
    with Client(address or local_cluster()) as client:
        print(client)
        start = time.perf_counter()
        with parallel_config(backend="dask"):
            model.fit(images[::2], labels[::2])
            accuracy = model.score(images[1::2], labels[1::2])
        print(f"accuracy {accuracy:.4f} in {time.perf_counter() - start:.1f} s on "
              f"{len(client.scheduler_info()['workers'])} workers")


if __name__ == "__main__":  # the workers of a local cluster import this file again
    main()
