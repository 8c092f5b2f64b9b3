"""imgrec update: the encoder reused, only new images extracted, old and new compared."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from imgrec_classic.cli import main
from imgrec_classic.datasets import load_opencv_digits
from imgrec_classic.persistence import load_model


def _write(root, digits, classes, per_class, offset):
    for d in classes:
        (root / f"d{d}").mkdir(parents=True, exist_ok=True)
        picked = np.flatnonzero(digits.target == d)[offset:offset + per_class]
        for i, k in enumerate(picked):
            image = cv2.resize(digits.images[k], (40, 40))
            cv2.imwrite(str(root / f"d{d}" / f"{offset + i}.png"), image)
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    digits = load_opencv_digits()
    base = tmp_path_factory.mktemp("update")
    first = _write(base / "first", digits, range(3), 12, 0)
    new = _write(base / "new", digits, range(4), 25, 100)  # 25 more of each, and a class d3
    model = base / "m.imgrec"
    code = main(["train", str(first), "--preset", "dsift-bovw-chi2svm", "--param",
                 "features__sift__sizes=[4]", "--param", "features__sift__max_side=null",
                 "--param", "features__sift_encoding__n_words=16", "--param",
                 "features__sift_encoding__pyramid=[1]", "--cache", str(base / "cache"),
                 "-o", str(model), "--quiet"])
    assert code == 0
    return base, model, new


def test_train_records_the_data_manifest(trained):
    base, model, _ = trained
    _, meta = load_model(model)
    assert len(meta["training_data"]) + len(meta["held_out"]) == 36
    entry = meta["training_data"][0]
    assert set(entry) == {"path", "label", "sha256"} and len(entry["sha256"]) == 64
    assert meta["cache"] == str(base / "cache")


def test_saved_models_leave_the_cache_to_the_metadata(trained, capsys):
    base, model, new = trained
    fitted, _ = load_model(model)
    assert fitted.get_params()["features__cache"] is None
    before = sorted((base / "cache").rglob("*"))
    assert before  # training filled it
    images = [str(p) for p in sorted((new / "d3").glob("*.png"))[:5]]
    assert main(["predict", str(model), *images, "--quiet"]) == 0
    assert sorted((base / "cache").rglob("*")) == before  # labelling caches nothing


def test_update_keeps_the_encoder_and_extracts_only_new_images(trained, monkeypatch, capsys):
    from imgrec_classic.encoding import vocabulary
    from imgrec_classic.features.dense_sift import DenseSIFT

    base, model, new = trained
    fits, extracted = [], []
    real_fit, real_extract = vocabulary.Vocabulary.fit, DenseSIFT._extract
    monkeypatch.setattr(vocabulary.Vocabulary, "fit",
                        lambda self, *a, **k: fits.append(1) or real_fit(self, *a, **k))
    monkeypatch.setattr(DenseSIFT, "_extract",
                        lambda self, *a, **k: extracted.append(1) or real_extract(self, *a, **k))
    out = base / "m2.imgrec"
    code = main(["update", str(model), str(new), "-o", str(out), "--quiet"])
    assert code == 0
    assert fits == []  # the vocabulary was not learned again
    _, old_meta = load_model(model)
    # Each new image extracted once (for training, or for the first model that evaluates
    # it); the recorded training and held-out images all came from the cache.
    assert len(extracted) == 100
    printed = capsys.readouterr().out
    assert "| mean class accuracy |" in printed
    new_model, meta = load_model(out)
    assert new_model.get_params()["features__cache"] is None
    assert meta["cache"] == old_meta["cache"]
    assert meta["parent"] and len(meta["parent"]) == 64
    assert len(meta["training_data"]) == len(old_meta["training_data"]) + 80
    assert list(new_model.classes_) == ["d0", "d1", "d2", "d3"]  # learned the new class
    assert meta["metrics"]["mean_class_accuracy"] > 0.5
    json.dumps(meta)  # plain JSON


def test_refit_encoder_learns_the_vocabulary_again(trained, monkeypatch):
    from imgrec_classic.encoding import vocabulary

    base, model, new = trained
    fits = []
    real_fit = vocabulary.Vocabulary.fit
    monkeypatch.setattr(vocabulary.Vocabulary, "fit",
                        lambda self, *a, **k: fits.append(1) or real_fit(self, *a, **k))
    code = main(["update", str(model), str(new), "-o", str(base / "m3.imgrec"), "--quiet",
                 "--refit-encoder"])
    assert code == 0 and fits


def test_promote_if_better_withholds_a_worse_model(trained, tmp_path):
    digits = load_opencv_digits()
    base, model, _ = trained
    # mislabelled new images: d0 images filed as d1 and the reverse
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    _write(tmp_path / "tmp", digits, range(2), 30, 200)
    (tmp_path / "tmp" / "d0").rename(wrong / "d1")
    (tmp_path / "tmp" / "d1").rename(wrong / "d0")
    out = tmp_path / "worse.imgrec"
    code = main(["update", str(model), str(wrong), "-o", str(out), "--quiet",
                 "--promote-if-better", "--test-size", "0"])
    assert code == 4 and not out.exists()


def test_changed_training_files_are_refused_before_any_work(trained, tmp_path, capsys):
    import shutil

    base, model, new = trained
    copy = tmp_path / "m.imgrec"
    shutil.copy(model, copy)
    _, meta = load_model(model)
    victim = Path(meta["training_data"][0]["path"])
    original = victim.read_bytes()
    try:
        victim.write_bytes(original + b"\0")
        assert main(["update", str(copy), str(new), "-o", str(tmp_path / "x.imgrec")]) == 1
        assert "changed" in capsys.readouterr().err
    finally:
        victim.write_bytes(original)


def test_update_model_keeps_the_label_type(tmp_path):
    from imgrec_classic.pipelines import preset
    from imgrec_classic.update import data_manifest, update_model

    digits = load_opencv_digits()
    root = _write(tmp_path, digits, range(2), 16, 0)
    paths = sorted(str(p) for p in root.glob("*/*.png"))
    labels = np.array([int(p.split("/")[-2][1:]) for p in paths])  # numpy ints
    model = preset("hog-svm", features__hog__image_shape=(24, 24)).fit(paths[::2], labels[::2])
    metadata = {"training_data": data_manifest(paths[::2], labels[::2])}
    result = update_model(model, metadata, paths[1::2], labels[1::2], test_size=0)
    assert result.model.predict(paths[:2]).dtype.kind == "i"
    json.dumps(result.metadata)


def test_rows_kept_by_the_service_spare_the_update_every_new_image(trained, tmp_path,
                                                                    monkeypatch):
    import shutil

    pytest.importorskip("fastapi")
    pytest.importorskip("httpx2")
    from fastapi.testclient import TestClient

    from imgrec_classic.features.dense_sift import DenseSIFT
    from imgrec_classic.serve import create_app
    from imgrec_classic.update import update_model

    base, model_path, new = trained
    model, meta = load_model(model_path)
    import hashlib

    cache = shutil.copytree(base / "cache", tmp_path / "cache")  # the module's stays as it is
    fb = tmp_path / "fb"
    images = sorted((new / "d3").glob("*.png"))[:4] + sorted((new / "d0").glob("*.png"))[:2]
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in images}
    for entry in cache.rglob("*.npz"):  # rows other tests of this module may have cached
        if entry.stem in digests:
            entry.unlink()
    before = len(list(cache.rglob("*.npz")))
    with TestClient(create_app(model, meta, feedback_dir=fb, row_cache=cache)) as client:
        answers = []
        for path in images:
            r = client.post("/predict", files={"file": (path.name, path.read_bytes(),
                                                        "image/png")})
            answers.append(r.json()["predictions"][0])
        given = [client.post("/feedback", data={"id": a["id"], "label": path.parent.name})
                 for a, path in zip(answers[:5], images, strict=False)]
        assert [g.json()["rows_cached"] for g in given] == [True] * 5
        # the same bytes uploaded as a file find the prediction's rows too
        again = client.post("/feedback", files={"file": ("x.png", images[5].read_bytes(),
                                                          "image/png")}, data={"label": "d0"})
        assert again.json()["rows_cached"] is True
        unseen = sorted((new / "d1").glob("*.png"))[0].read_bytes()
        other = client.post("/feedback", files={"file": ("u.png", unseen, "image/png")},
                            data={"label": "d1"})
        assert other.json()["rows_cached"] is False
    after = list(cache.rglob("*.npz"))
    assert len(after) == before + 6 and digests <= {e.stem for e in after}  # one per image
    stored = [str(p) for p in sorted(fb.glob("*/*.png")) if p.read_bytes() != unseen]
    labels = [Path(p).parent.name for p in stored]
    extracted = []
    real = DenseSIFT._extract
    monkeypatch.setattr(DenseSIFT, "_extract",
                        lambda self, *a, **k: extracted.append(1) or real(self, *a, **k))
    result = update_model(model, meta, stored, labels, test_size=0, cache=cache)
    assert extracted == []  # recorded images and fed-back ones: all rows from the cache
    assert "d3" in result.model.classes_
    # the kept rows are the ones the files themselves give
    np.testing.assert_allclose(model[0].set_params(cache=str(cache)).transform(stored),
                               model[0].set_params(cache=None).transform(stored), rtol=1e-5,
                               atol=1e-6)


def test_row_cache_needs_feedback_and_an_image_encoder(trained, tmp_path):
    pytest.importorskip("fastapi")
    from sklearn.linear_model import LogisticRegression

    from imgrec_classic.serve import create_app

    model, meta = load_model(trained[1])
    with pytest.raises(ValueError, match="feedback_dir"):
        create_app(model, meta, row_cache=tmp_path)
    plain = LogisticRegression().fit([[0.0], [1.0]], ["a", "b"])
    with pytest.raises(ValueError, match="ImageEncoder"):
        create_app(plain, feedback_dir=tmp_path / "fb", row_cache=tmp_path)
