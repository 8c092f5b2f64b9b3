"""Shared helpers for benchmark scripts: dataset location, timing, result files."""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
DATASETS = BENCH_DIR.parent.parent / "shared" / "datasets"
RESULTS_DIR = BENCH_DIR / "results"


def require_dataset(*parts: str) -> Path:
    path = DATASETS.joinpath(*parts)
    if not path.exists():
        sys.exit(f"dataset not found: {path} (benchmarks read ../shared/datasets)")
    return path


def caltech101_paths() -> list[str]:
    """Every Caltech-101 image path, sorted; exits with a message when the dataset is absent."""
    return sorted(str(p) for p in require_dataset("caltech101").glob("*/*.jpg"))


def read_square(path, side: int, mode: str = "rgb"):
    """One image resized to ``side`` x ``side`` (area interpolation), as the speed benchmarks
    feed them: every method then sees the same pixels."""
    import cv2

    from imgrec_classic.io import read_image

    return cv2.resize(read_image(path, mode), (side, side), interpolation=cv2.INTER_AREA)


@contextmanager
def one_core():
    """Hold BLAS and OpenCV to one thread: the work of one core, as "per core" means."""
    import cv2
    from threadpoolctl import threadpool_limits

    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        cv2.setNumThreads(threads)


def best_time(func, repeat: int = 3) -> float:
    """Smallest wall time of ``repeat`` calls, in seconds (the least disturbed run)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def environment() -> dict:
    import cv2
    import numpy
    import sklearn

    import imgrec_classic

    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": "python " + shlex.join([os.path.relpath(sys.argv[0], BENCH_DIR.parent)]
                                          + sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version()},
        "versions": {"imgrec_classic": imgrec_classic.__version__, "opencv": cv2.__version__,
                     "numpy": numpy.__version__, "scikit-learn": sklearn.__version__},
    }


def write_result(name: str, figures: dict) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps({"benchmark": name, **environment(), **figures}, indent=2) + "\n")
    return path


class PeakMemory:
    """Peak resident memory of this process and its children (joblib workers), sampled.

    Use as a context manager; ``peak_mb`` holds the largest sum seen.
    """

    def __init__(self, interval: float = 0.2):
        import threading

        self.interval, self.peak_mb = interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, _tree_rss_mb(os.getpid()))
            self._stop.wait(self.interval)


def _tree_rss_mb(root: int) -> float:
    children: dict[int, list[int]] = {}
    rss: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total
