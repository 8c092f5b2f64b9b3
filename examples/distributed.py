"""Extract and encode on a dask.distributed cluster, unchanged code (the ``[dask]`` extra).

Every joblib-parallel step of imgrec-classic (feature extraction, encoding, the vocabulary
sample) runs on the cluster under ``joblib.parallel_config(backend="dask")``; images are
decoded on the workers, so they must see the same paths (a shared file system).

Run: python examples/distributed.py [SCHEDULER_ADDRESS] [IMAGE_FOLDER]
Without an address a LocalCluster with two workers is started on this machine.
"""

import sys
import time

from dask.distributed import Client, LocalCluster
from joblib import parallel_config

from imgrec_classic.datasets import load_image_folder, load_opencv_digits
from imgrec_classic.pipelines import preset

address = sys.argv[1] if len(sys.argv) > 1 else None
client = Client(address) if address else Client(LocalCluster(n_workers=2, threads_per_worker=1))
print(client)

if len(sys.argv) > 2:
    data = load_image_folder(sys.argv[2])
    images, labels = data.images, data.target
else:  # the embedded digits, upsampled so dense SIFT has room
    import cv2

    digits = load_opencv_digits()
    images = [cv2.resize(im, (40, 40)) for im in digits.images[::5]]
    labels = digits.target[::5]

model = preset("dsift-bovw-chi2svm", n_jobs=-1, features__step=4, features__sizes=(4, 6),
               encoding__n_words=200, encoding__pyramid=(1, 2), encoding__pca_components=None)
start = time.perf_counter()
with parallel_config(backend="dask"):
    model.fit(images[::2], labels[::2])
    accuracy = model.score(images[1::2], labels[1::2])
print(f"accuracy {accuracy:.4f} in {time.perf_counter() - start:.1f} s on "
      f"{len(client.scheduler_info()['workers'])} workers")
client.close()
