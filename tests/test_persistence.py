"""save_model / load_model: round trips, metadata, version warnings, bad files, skops."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from imgrec_classic import persistence
from imgrec_classic.datasets import load_opencv_digits
from imgrec_classic.persistence import (
    ModelFileError,
    ModelVersionWarning,
    load_model,
    save_model,
)
from imgrec_classic.pipelines import preset


@pytest.fixture(scope="module")
def digits():
    d = load_opencv_digits()
    return d.images[::10], d.target[::10], d.images[1::25]


@pytest.fixture(scope="module")
def hog_model(digits):
    X, y, _ = digits
    return preset("hog-svm", features__hog__image_shape=(24, 24)).fit(X, y)


@pytest.fixture(scope="module")
def bovw_model(digits):
    X, y, _ = digits
    return preset("dsift-bovw-chi2svm", features__sift__step=4, features__sift__sizes=(4,),
                  features__sift__max_side=None, features__sift_encoding__n_words=20,
                  features__sift_encoding__pyramid=(1,)).fit(X, y)


@pytest.mark.parametrize("suffix", [".imgrec", ".skops"])
@pytest.mark.parametrize("name", ["hog_model", "bovw_model"])
def test_round_trip_predicts_the_same(request, tmp_path, digits, suffix, name):
    model = request.getfixturevalue(name)
    path = save_model(model, tmp_path / f"model{suffix}", preset="x", metrics={"accuracy": 0.5})
    loaded, meta = load_model(path)
    np.testing.assert_array_equal(loaded.predict(digits[2]), model.predict(digits[2]))
    assert meta["preset"] == "x" and meta["metrics"]["accuracy"] == 0.5
    assert meta["classes"] == list(range(10))
    assert meta["versions"] == persistence.versions()
    assert "saved_at" in meta
    assert not list(tmp_path.glob(".*tmp"))  # atomic write left no temporary file


def test_version_mismatch_warns(tmp_path, hog_model, monkeypatch):
    path = save_model(hog_model, tmp_path / "m.imgrec")
    real = persistence.versions()
    monkeypatch.setattr(persistence, "versions",
                        lambda: {**real, "scikit-learn": "0.0.1", "numpy": "9.9"})
    with pytest.warns(ModelVersionWarning, match=r"scikit-learn .* \(now 0\.0\.1\)"):
        load_model(path)


def test_same_versions_do_not_warn(tmp_path, hog_model):
    path = save_model(hog_model, tmp_path / "m.imgrec")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(path)


@pytest.mark.parametrize("content", [b"", b"hello world", pickle.dumps({"model": 1}),
                                     b"PK\x03\x04garbage"])
def test_not_a_model_file(tmp_path, content):
    path = tmp_path / "x.imgrec"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="not an imgrec-classic model"):
        load_model(path)


def test_truncated_and_missing_files(tmp_path, hog_model):
    path = save_model(hog_model, tmp_path / "m.imgrec")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="damaged"):
        load_model(path)
    with pytest.raises(ModelFileError, match="cannot read"):
        load_model(tmp_path / "missing.imgrec")


class Custom(BaseEstimator):
    """A type skops has never heard of, standing for anything a stranger could put in a file."""

    def __init__(self, value=1):
        self.value = value


def test_skops_refuses_untrusted_types(tmp_path):
    path = save_model(Custom(3), tmp_path / "m.skops")
    with pytest.raises(ModelFileError, match=r"not trusted.*Custom"):
        load_model(path)
    loaded, _ = load_model(path, trusted=[f"{__name__}.Custom"])
    assert loaded.value == 3
