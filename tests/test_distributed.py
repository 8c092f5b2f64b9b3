"""Extraction and encoding under joblib's dask backend on a LocalCluster: same results."""

from __future__ import annotations

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from joblib import parallel_config  # noqa: E402

from imgrec_classic.compose import ImageEncoder  # noqa: E402
from imgrec_classic.encoding import BagOfVisualWords  # noqa: E402
from imgrec_classic.features import HOG, DenseSIFT  # noqa: E402
from imgrec_classic.utils.estimator_checks import assert_same_output  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (64 + 8 * i, 80), np.uint8) for i in range(12)]


def test_extraction_and_encoding_match_n_jobs_1(client, images):
    reference_d = DenseSIFT(step=8, n_jobs=1).fit_transform(images)
    reference_h = HOG(n_jobs=1).fit_transform(images)

    def engine(n_jobs):
        return ImageEncoder([("sift", DenseSIFT(step=8), BagOfVisualWords(n_words=6,
                                                                         random_state=0)),
                             ("hog", HOG(), None)], n_jobs=n_jobs, batch_size=2)

    reference_c = engine(1).fit_transform(images)
    with distributed.get_task_stream(client) as tasks, parallel_config(backend="dask", n_jobs=2):
        d = DenseSIFT(step=8, n_jobs=2).fit_transform(images)
        h = HOG(n_jobs=2).fit_transform(images)
        codes = engine(2).fit_transform(images)
    assert_same_output(d, reference_d)
    assert_same_output(h, reference_h)
    np.testing.assert_array_equal(codes, reference_c)
    assert len(tasks.data) >= 4  # the batches really ran as tasks on the cluster
    assert {t["worker"] for t in tasks.data} <= set(client.scheduler_info()["workers"])
