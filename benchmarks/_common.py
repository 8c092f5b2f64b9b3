"""Shared helpers for benchmark scripts: dataset location, timing, result files."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
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
        "command": "python " + " ".join([os.path.relpath(sys.argv[0], BENCH_DIR.parent)]
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
