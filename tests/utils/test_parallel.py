"""The parallel loops: batches to workers, and the threads of one image's parts."""

import threading

import cv2
import numpy as np
import pytest
from threadpoolctl import threadpool_info

from imgrec_classic.encoding import FisherVector
from imgrec_classic.features import DenseSIFT
from imgrec_classic.utils.parallel import map_batches, thread_map


@pytest.fixture
def opencv_threads():
    before = cv2.getNumThreads()
    yield cv2.setNumThreads
    cv2.setNumThreads(before)


def _blas_threads():
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_thread_map_keeps_order_uses_threads_and_restores_blas(opencv_threads):
    opencv_threads(2)
    before = _blas_threads()
    seen = []

    def part(x):
        seen.append((threading.current_thread().name, _blas_threads()))
        return x * x

    assert thread_map(part, range(6)) == [0, 1, 4, 9, 16, 25]
    assert any(name.startswith("imgrec-part") for name, _ in seen)
    assert all(blas == [1] * len(before) for _, blas in seen)  # parts share the cores
    assert _blas_threads() == before


def test_thread_map_runs_in_turn_on_one_opencv_thread_and_inside_a_part(opencv_threads):
    opencv_threads(1)
    names = []
    thread_map(lambda x: names.append(threading.current_thread().name), range(3))
    assert set(names) == {threading.current_thread().name}
    opencv_threads(2)
    inner = thread_map(lambda x: thread_map(lambda y: threading.current_thread().name,
                                            range(2)), range(2))
    assert all(len(set(names)) == 1 for names in inner)  # parts of parts: no nesting


def test_threaded_parts_give_the_single_thread_results(opencv_threads):
    rng = np.random.default_rng(0)
    images = list(rng.integers(0, 256, (4, 160, 160), np.uint8))
    extractor = DenseSIFT(step=3, sizes=(4, 6, 8), root=True, contrast_threshold=0.005)
    encoder = FisherVector(n_components=8, pca_components=16, pyramid=(1, 2),
                           random_state=0).fit(extractor.fit_transform(images))
    results = {}
    for threads in (1, 2):
        opencv_threads(threads)
        found = [extractor.extract_images([im])[0] for im in images]
        results[threads] = found, [encoder.encode(d) for d in found]
    assert min(len(d.values) for d in results[1][0]) >= 2048  # the Fisher halves run
    for a, b in zip(results[1][0], results[2][0], strict=True):
        np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_allclose(results[1][1], results[2][1], atol=1e-5)


def test_map_batches_keeps_order_across_workers():
    out = list(map_batches(lambda batch, start: [(start + i, x) for i, x in enumerate(batch)],
                           list("abcdefg"), n_jobs=2, batch_size=2, prefer="threads"))
    assert out == list(enumerate("abcdefg"))
