"""Shared fixtures: real images from scikit-image and, when present, ../shared/datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


@pytest.fixture(autouse=True, scope="session")
def _signing_key_in_a_temporary_folder(tmp_path_factory):
    """Model files are signed with a key of the test session, not the user's own
    (subprocesses inherit it through the environment)."""
    import os

    previous = os.environ.get("IMGREC_CLASSIC_CONFIG_DIR")
    os.environ["IMGREC_CLASSIC_CONFIG_DIR"] = str(tmp_path_factory.mktemp("config"))
    yield
    if previous is None:
        del os.environ["IMGREC_CLASSIC_CONFIG_DIR"]
    else:
        os.environ["IMGREC_CLASSIC_CONFIG_DIR"] = previous


def dataset_path(*parts: str) -> Path:
    """Path inside ../shared/datasets, or skip the test when it is absent."""
    path = DATASETS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"dataset not available: {path}")
    return path


@pytest.fixture(scope="session")
def camera() -> np.ndarray:
    """scikit-image's 512x512 grayscale 'camera' photograph (shipped with the package)."""
    from skimage import data

    return data.camera()


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def caltech_paths() -> list[Path]:
    """A few Caltech-101 images of different classes and sizes."""
    root = dataset_path("caltech101")
    return [root / c / "image_0001.jpg" for c in ("Faces", "airplanes", "accordion", "ant")]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture()
def decode_counts(monkeypatch):
    """Decodes by the engine, per image source (keyed by ``id``), counted as they happen."""
    from collections import Counter

    from imgrec_classic.features import base as features_base

    counts = Counter()
    decode = features_base.load_views

    def counting(src, modes=("rgb", "gray")):
        counts[id(src)] += 1
        return decode(src, modes)

    monkeypatch.setattr(features_base, "load_views", counting)
    return counts
