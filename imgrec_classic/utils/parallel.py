"""The library's parallel loops: batches of images to joblib workers, and the threads
that share one image's independent parts (OpenCV's thread budget)."""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

from joblib import Parallel, delayed, effective_n_jobs
from tqdm.auto import tqdm

__all__ = ["map_batches", "thread_map"]

_PREFIX = "imgrec-part"
_POOL: ThreadPoolExecutor | None = None
_BLAS = None
_POOL_LOCK = threading.Lock()


def map_batches(func, items: list, *, n_jobs=None, verbose=False, desc="images",
                batch_size: int | None = None, max_batch: int = 32, prefer: str | None = None):
    """``func(batch, start)`` over consecutive batches of ``items``, in parallel, in order.

    The one parallel loop of the library. Each call gets a list of items and the
    index of its first one, and returns a list with one result per item; results
    are yielded one item at a time, in input order, as batches finish, so a caller
    that writes them into place holds no more than the batches in flight. A single
    batch runs in this process (a served request: no worker round trip). Workers
    run OpenCV on one thread, so ``n_jobs`` workers do not oversubscribe the cores.

    Parameters
    ----------
    func : callable
        ``func(batch: list, start: int) -> list``; must pickle (it runs in joblib
        workers, local or on a dask cluster).
    items : list
    n_jobs : int, default=None
        joblib workers.
    verbose : bool, default=False
        A progress bar over items.
    desc : str, default="images"
        The bar's label.
    batch_size : int, default=None
        Items per call; ``None`` gives every worker about four batches, at most
        ``max_batch`` items each.
    max_batch : int, default=32
    prefer : {"processes", "threads"} or None, default=None
        joblib's backend hint: threads suit work that releases the GIL (OpenCV
        decoding while torch computes in the caller).

    Yields
    ------
    One result per item, in order.

    Examples
    --------
    >>> def squares(batch, start):
    ...     return [x * x for x in batch]
    >>> list(map_batches(squares, [1, 2, 3], batch_size=2))
    [1, 4, 9]
    """
    n = len(items)
    workers = effective_n_jobs(n_jobs)
    size = batch_size or max(1, min(max_batch, math.ceil(n / (4 * workers))))
    with tqdm(total=n, disable=not verbose, unit="img", desc=desc) as bar:
        if size >= n:
            out = func(items, 0)
            bar.update(n)
            yield from out
            return
        # OpenCV's thread count is process-wide: only worker processes set theirs to 1.
        single = workers > 1 and prefer != "threads"
        jobs = (delayed(_in_worker)(func, items[start:start + size], start, single)
                for start in range(0, n, size))
        for out in Parallel(n_jobs=n_jobs, return_as="generator", prefer=prefer)(jobs):
            bar.update(len(out))
            yield from out


def _in_worker(func, batch, start, single_thread):
    import cv2

    threads = cv2.getNumThreads()
    if single_thread:  # else n_jobs workers x OpenCV's threads oversubscribe the cores
        cv2.setNumThreads(1)
    try:
        return func(batch, start)
    finally:
        cv2.setNumThreads(threads)


def thread_map(func, items) -> list:
    """``[func(item) for item in items]``, on up to ``cv2.getNumThreads()`` threads.

    For the independent parts of one image's work (dense SIFT's bin sizes, halves
    of a Fisher vector's descriptors): a served request then uses the cores OpenCV
    may use, while the workers of :func:`map_batches`, which hold OpenCV to one
    thread, run the parts in turn. While parts run side by side, BLAS runs on one
    thread in each (the parts already share the cores). ``func`` should spend its
    time in code that releases the GIL (OpenCV, NumPy).

    Examples
    --------
    >>> thread_map(lambda x: x + 1, [1, 2, 3])
    [2, 3, 4]
    """
    import cv2

    items = list(items)
    threads = min(cv2.getNumThreads(), len(items))
    if threads <= 1 or threading.current_thread().name.startswith(_PREFIX):
        return [func(item) for item in items]  # parts of parts run in turn
    pool, blas = _shared()
    with blas.limit(limits=1, user_api="blas"):
        return list(pool.map(func, items))


def _shared():
    """The process's part threads and its BLAS controller, made on first use."""
    global _POOL, _BLAS
    with _POOL_LOCK:
        if _POOL is None:
            import os

            from threadpoolctl import ThreadpoolController

            _POOL = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix=_PREFIX)
            _BLAS = ThreadpoolController()
        return _POOL, _BLAS
