"""The on-disk descriptor cache: hits skip extraction, keys follow content and parameters."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from imgrec_classic.encoding import BagOfVisualWords
from imgrec_classic.features import HOG, DenseSIFT
from imgrec_classic.preprocessing import Resize
from imgrec_classic.utils.estimator_checks import assert_same_output


@pytest.fixture()
def files(tmp_path, astronaut, camera):
    paths = []
    for i, image in enumerate([astronaut[::2, ::2], camera[::2, ::2], astronaut[100:300, :250]]):
        path = tmp_path / f"img{i}.png"
        cv2.imwrite(str(path), image)
        paths.append(str(path))
    return paths


def _forbid_extraction(monkeypatch, cls):
    def fail(*args, **kwargs):
        raise AssertionError("extraction ran despite a cache hit")

    monkeypatch.setattr(cls, "_extract", fail)


@pytest.mark.parametrize("extractor", [DenseSIFT(step=8, n_jobs=1), HOG(n_jobs=1)],
                         ids=["DenseSIFT", "HOG"])
def test_second_run_reads_the_cache(files, tmp_path, monkeypatch, extractor):
    cache = tmp_path / "cache"
    first = extractor.set_params(cache=str(cache)).fit_transform(files)
    assert len(list(cache.rglob("*.npz"))) == len(files)
    _forbid_extraction(monkeypatch, type(extractor))
    assert_same_output(extractor.fit_transform(files), first)


def test_key_is_content_not_name_and_params_matter(files, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    DenseSIFT(step=8, cache=str(cache), n_jobs=1).fit_transform(files)
    renamed = tmp_path / "renamed.png"
    shutil.copy(files[0], renamed)
    _forbid_extraction(monkeypatch, DenseSIFT)
    DenseSIFT(step=8, cache=str(cache), n_jobs=1, verbose=True).fit_transform([str(renamed)])
    with pytest.raises(AssertionError, match="despite"):
        DenseSIFT(step=6, cache=str(cache), n_jobs=1).fit_transform([str(renamed)])


def test_changed_file_is_a_miss(files, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    DenseSIFT(step=8, cache=str(cache), n_jobs=1).fit_transform(files[:1])
    cv2.imwrite(files[0], np.zeros((40, 40), np.uint8))
    _forbid_extraction(monkeypatch, DenseSIFT)
    with pytest.raises(AssertionError, match="despite"):
        DenseSIFT(step=8, cache=str(cache), n_jobs=1).fit_transform(files[:1])


def test_damaged_entry_is_recomputed(files, tmp_path):
    cache = tmp_path / "cache"
    first = DenseSIFT(step=8, cache=str(cache), n_jobs=1).fit_transform(files)
    for entry in cache.rglob("*.npz"):
        entry.write_bytes(b"garbage")
    again = DenseSIFT(step=8, cache=str(cache), n_jobs=1).fit_transform(files)
    assert_same_output(again, first)


def test_the_engine_and_preprocessing_use_the_cache(files, tmp_path, monkeypatch):
    from imgrec_classic.compose import ImageEncoder

    cache = tmp_path / "cache"
    pending = Resize(max_side=64).fit_transform(files)

    def encoder():
        return ImageEncoder([("sift", DenseSIFT(step=8, cache=str(cache)),
                              BagOfVisualWords(n_words=5, random_state=0))])

    codes = encoder().fit_transform(pending)
    _forbid_extraction(monkeypatch, DenseSIFT)
    np.testing.assert_array_equal(encoder().fit_transform(pending), codes)


def test_parallel_workers_share_the_cache(files, tmp_path):
    cache = tmp_path / "cache"
    one = DenseSIFT(step=8, cache=str(cache), n_jobs=2).fit_transform(files * 4)
    assert len(list(cache.rglob("*.npz"))) == len(files)
    assert not list(cache.rglob("*.tmp"))
    assert_same_output(DenseSIFT(step=8, n_jobs=1).fit_transform(files * 4), one)
