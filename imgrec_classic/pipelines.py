"""Named pipelines: the classical recipes, ready to fit on a list of images.

Every preset is a scikit-learn ``Pipeline`` whose first step, ``features``, is an
:class:`~imgrec_classic.compose.ImageEncoder` of named branches (``sift``,
``orb``, ``hog``, ``color``, ``cnn``, ``cnn_local``), then where the recipe has
them ``power`` (a normaliser), ``map`` (an explicit or precomputed kernel map), and
last ``classifier``. One knob has one name in every preset that has it:
``features__sift__step`` (the dense SIFT grid), ``features__sift_encoding__n_components``
(its Fisher vectors' Gaussians), ``features__cnn__input_size``;
``GridSearchCV(model, {"classifier__C": [1, 10]})`` works as with any pipeline.
"""

from __future__ import annotations

from collections.abc import Callable

from sklearn.ensemble import RandomForestClassifier
from sklearn.kernel_approximation import AdditiveChi2Sampler
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer
from sklearn.svm import SVC, LinearSVC

from .compose import ImageEncoder
from .encoding import VLAD, BagOfVisualWords, FisherVector, Hellinger, PowerNormalizer
from .features import HOG, ORB, SIFT, ColorHistogram, DenseSIFT, PretrainedCNN
from .kernels import PrecomputedKernel
from .svm import GramLinearSVC

__all__ = ["PRESETS", "configure", "preset", "preset_params"]


def _linear_svm(C: float) -> list:
    # Few images, very long vectors: a linear SVM through the Gram matrix (one BLAS
    # product) trains far faster than a primal solver on the raw vectors.
    # One-vs-rest: 5 points better than libsvm's one-vs-one on Caltech-101 (15 train).
    return [("classifier", GramLinearSVC(C=C))]


def _phow(step: int = 3, root: bool = False) -> DenseSIFT:
    return DenseSIFT(step=step, sizes=(4, 6, 8, 10), contrast_threshold=0.005, max_side=480,
                     root=root)


def _encoder(*branches, **params) -> tuple[str, ImageEncoder]:
    return ("features", ImageEncoder(list(branches), **params))


def _sift_bovw_svm():
    return [_encoder(("sift", SIFT(max_side=480),
                      BagOfVisualWords(n_words=1000, pyramid=(1, 2), random_state=0))),
            ("map", PrecomputedKernel("chi2")),
            ("classifier", SVC(kernel="precomputed", C=10))]


def _orb_bovw_rf():
    return [_encoder(("orb", ORB(n_features=1000, max_side=480),
                      BagOfVisualWords(n_words=500, pyramid=(1, 2), random_state=0))),
            ("classifier", RandomForestClassifier(n_estimators=500, random_state=0))]


def _hog_svm():
    return [_encoder(("hog", HOG(image_shape=(64, 64)), None)),
            ("classifier", SVC(C=10, gamma="scale"))]


def _dsift_bovw_chi2svm():
    # Step 4 rather than VLFeat's 3: 74.3 % on Caltech-101 (30 train) in 164 s, against
    # 74.0 % in 232 s at step 3 (same code, same split); 1000 words at step 4: 74.8 %, 186 s.
    # PCA to 64 halves the word-assignment arithmetic at no cost in accuracy
    # (67.8 % vs 67.5 % on Caltech-101, 15 train); VLFeat learns its words
    # from 30 images, 100 is as good as 500 here and 15 s faster.
    # Approximate word search (a WordIndex, as VLFeat uses a kd-tree): 67.8 % as
    # with the exact search on Caltech-101 (15 train), in 150 s instead of 219 s.
    words = BagOfVisualWords(n_words=600, pyramid=(2, 4), pca_components=64,
                             search="approximate", max_images=100, random_state=0)
    return [_encoder(("sift", _phow(step=4), words)),
            # Square root, then the chi2 map: like VLFeat's homogeneous map with gamma 0.5;
            # +1 point over the plain chi2 map on Caltech-101 (15 train).
            ("power", PowerNormalizer(alpha=0.5, norm=None)),
            ("map", AdditiveChi2Sampler(sample_steps=2)),
            *_linear_svm(C=10)]


def _fisher_branch(step: int = 4) -> tuple:
    # Step 4 (half the descriptors of step 3), RootSIFT and positions appended to the
    # descriptors (Sanchez et al. 2012): 71.1 % on Caltech-101 at 15 train.
    return ("sift", _phow(step=step, root=True),
            FisherVector(n_components=256, pca_components=80, pyramid=(1, 2),
                         spatial_augment=True, max_images=200, random_state=0))


def _dsift_fisher_svm():
    return [_encoder(_fisher_branch()), *_linear_svm(C=10)]


def _dsift_fisher_color_svm():
    # Flowers differ by colour as much as by shape: Fisher vectors of dense RootSIFT
    # beside Hellinger-mapped HSV histograms of 2x2 cells, one linear SVM on both.
    color = ("color", ColorHistogram(bins=(16, 4, 4), grid=(2, 2), max_side=480), Hellinger())
    return [_encoder(_fisher_branch(), color), *_linear_svm(C=10)]


def _dsift_fisher_hog_color_svm():
    # Every branch has unit norm, so a linear SVM on the weighted concatenation is
    # one on the kernel sum(w_b K_b) with w = weight ** 2. HOG of a 128x128 resize
    # sees the global shape the orderless Fisher vectors miss; the weights (0.5, 0.05)
    # were picked by 3-fold cross-validation on the Caltech-101 training images
    # (30 per class, split seed 0; benchmarks/bench_fusion_weights.py): 80.5 % on its
    # test images, against 78.3 % for the Fisher vectors alone.
    return [_encoder(*_fusion_branches(),
                     weights={"sift": 1.0, "hog": 0.5 ** 0.5, "color": 0.05 ** 0.5}),
            *_linear_svm(C=10)]


def _fusion_branches() -> list:
    # HOG and colour make up for a sparser grid: at step 5 (two thirds of step 4's
    # descriptors) the fusion scores 80.1 / 80.4 % on Caltech-101 splits 0 / 1, against
    # 80.5 / 80.3 % at step 4, for 1.2-1.55x the images per core (hosts differ).
    hog = HOG(image_shape=(128, 128), pixels_per_cell=(16, 16), orientations=18,
              signed_gradient=True)
    color = ColorHistogram(bins=(8, 4, 4), grid=(4, 4), max_side=480)
    return [_fisher_branch(step=5), ("hog", hog, Hellinger()), ("color", color, Hellinger())]


# The hybrid chooses its branches' kernel weights by 3-fold cross-validation on the
# user's training images: from the embedding alone, one branch at a time, each the
# value of its grid that scores best, or left out (``ImageEncoder.weight_grid``).
# The grid spans what the searches chose on Caltech-101 and Flowers-17 training images,
# steps of about 3x apart (benchmarks/bench_transfer.py). The fallback weights, for
# classes with fewer than 3 training images, are Caltech-101's choice (split 0).
_HYBRID_GRID = {"sift": [0.1, 0.3, 1.0, 3.0], "hog": [0.05, 0.15, 0.5, 1.5, 4.5],
                "color": [0.01, 0.03, 0.1, 0.3], "cnn_local": [0.3, 1.0, 3.0]}
_HYBRID_WEIGHTS = {"sift": 1.0, "hog": 1.5, "color": 0.1, "cnn": 1.0, "cnn_local": 1.0}

# Where the deep local descriptors come from: the 112-channel map after stage 5
# (stride 16) of the whole image, its longer side at 224 px. On a Flowers-17 split
# (benchmarks/bench_cnn_local.py) it costs a fraction of the other layers and sizes
# (25 s for 1,360 images against 82-353 s) and does as well as any beside the global
# embedding (97.4 %); a second scale (336 px) adds 0.5 point there for 3.3x the time.
_CNN_LOCAL = {"layer": "stage5", "input_size": 224, "resize": "keep"}


def _cnn_branch() -> tuple:
    # The network's own embedding (pooled head, 224 px centre crop), unit L2 norm.
    return ("cnn", PretrainedCNN(), Normalizer())


def _cnn_svm():
    # What a practitioner tries first: a frozen ImageNet network and a linear SVM
    # (liblinear's squared hinge, C=1, as in the transfer-learning literature).
    return [_encoder(_cnn_branch()), ("classifier", LinearSVC(C=1))]


def _cnn_local_branch() -> tuple:
    # Deep filter banks (Cimpoi et al. 2015): the cells of a convolutional map as local
    # descriptors, Fisher-encoded like dense SIFT.
    return ("cnn_local", PretrainedCNN(output="local", **_CNN_LOCAL),
            FisherVector(n_components=64, pca_components=64, max_images=500, random_state=0))


def _cnn_fisher_svm():
    return [_encoder(_cnn_local_branch()), *_linear_svm(C=10)]


def _hybrid_svm():
    # Classical branches beside deep ones, one linear SVM on the weighted concatenation
    # of unit-norm branches (a sum of kernels, as in the fusion preset); multipliers w
    # are kernel weights w ** 2.
    every = {b[0]: b for b in [*_fusion_branches(), _cnn_branch(), _cnn_local_branch()]}
    return [_encoder(*(every[name] for name in _HYBRID_WEIGHTS),
                     weights={name: w ** 0.5 for name, w in _HYBRID_WEIGHTS.items()},
                     weight_grid={name: [v ** 0.5 for v in values]
                                  for name, values in _HYBRID_GRID.items()}),
            *_linear_svm(C=10)]


def _dsift_vlad_svm():
    return [_encoder(("sift", _phow(), VLAD(n_words=64, pyramid=(1, 2), random_state=0))),
            *_linear_svm(C=10)]


_BUILDERS: dict[str, tuple[Callable[[], list], str]] = {
    "sift-bovw-svm": (_sift_bovw_svm, "SIFT keypoints, 1000-word BoVW on a 1x1+2x2 pyramid, "
                      "chi2-kernel SVM"),
    "orb-bovw-rf": (_orb_bovw_rf, "ORB keypoints, 500-word BoVW on a 1x1+2x2 pyramid, "
                    "random forest"),
    "hog-svm": (_hog_svm, "HOG of a 64x64 resize, RBF-kernel SVM"),
    "dsift-bovw-chi2svm": (_dsift_bovw_chi2svm, "PHOW: multi-scale dense SIFT (step 4), 600 words "
                           "(approximate search), 2x2+4x4 pyramid, square root + chi2 map, "
                           "linear SVM (VLFeat's recipe)"),
    "dsift-fisher-svm": (_dsift_fisher_svm, "multi-scale dense RootSIFT, PCA 80 + x, y, "
                         "256-Gaussian Fisher vectors, 1x1+2x2 pyramid, linear SVM"),
    "dsift-fisher-color-svm": (_dsift_fisher_color_svm, "the dsift-fisher-svm Fisher vectors "
                               "beside HSV colour histograms (2x2 cells, Hellinger map), "
                               "linear SVM"),
    "dsift-fisher-hog-color-svm": (_dsift_fisher_hog_color_svm, "the dsift-fisher-svm Fisher "
                                   "vectors (grid step 5) beside HOG of a 128x128 resize and "
                                   "HSV colour histograms (4x4 cells), weighted, linear SVM; "
                                   "the best on Caltech-101"),
    "cnn-svm": (_cnn_svm, "frozen EfficientNet-Lite0 (ImageNet) embedding of a 224 px centre "
                "crop, L2, linear SVM; needs the [cnn] extra"),
    "cnn-fisher-svm": (_cnn_fisher_svm, "cells of EfficientNet-Lite0's stride-16 feature map "
                       "(stage 5, 224 px) as local descriptors, PCA 64, 64-Gaussian Fisher "
                       "vectors, linear SVM; needs the [cnn] extra"),
    "hybrid-svm": (_hybrid_svm, "the fusion preset's dense-SIFT Fisher vectors, HOG and "
                   "colour beside the frozen EfficientNet-Lite0 embedding and the Fisher "
                   "vectors of its local features, weights chosen by cross-validation on "
                   "the training images, linear SVM; needs the [cnn] extra"),
    "dsift-vlad-svm": (_dsift_vlad_svm, "multi-scale dense SIFT, 64-word VLAD, 1x1+2x2 "
                       "pyramid, linear SVM"),
}

#: Preset name -> one-line description.
PRESETS: dict[str, str] = {name: text for name, (_, text) in _BUILDERS.items()}


def preset(name: str, **params) -> Pipeline:
    """Build a named pipeline.

    Parameters
    ----------
    name : str
        One of :data:`PRESETS`.
    **params
        ``step__param`` overrides passed to ``Pipeline.set_params``, e.g.
        ``features__sift_encoding__n_words=1000`` (:func:`preset_params` lists them);
        ``n_jobs`` sets the workers of the image loop (and of a classifier that has
        them) and ``verbose=True`` turns on the progress bars of every pass.

    Returns
    -------
    Pipeline
        Unfitted; ``fit`` takes a list of images (paths, bytes or arrays) and labels.

    Examples
    --------
    >>> from imgrec_classic.pipelines import preset
    >>> model = preset("dsift-bovw-chi2svm", features__sift_encoding__n_words=300, n_jobs=2)
    >>> [name for name, _ in model.steps]
    ['features', 'power', 'map', 'classifier']
    >>> model.get_params()["features__sift_encoding__n_words"]
    300
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    pipeline = configure(Pipeline(_BUILDERS[name][0]()), n_jobs=params.pop("n_jobs", None),
                         verbose=params.pop("verbose", None))
    try:
        return pipeline.set_params(**params)
    except ValueError as exc:
        raise ValueError(_unknown_param_message(name, params, pipeline, exc)) from None


def configure(pipeline: Pipeline, n_jobs: int | None = None, verbose: bool | None = None,
              cache=None) -> Pipeline:
    """Set the workers, progress bars and descriptor cache of a preset's pipeline, in place.

    Works on a fitted one too (a loaded model): neither changes what it computes.

    Parameters
    ----------
    pipeline : Pipeline
        As :func:`preset` builds it.
    n_jobs : int or None, default=None
        Workers of the image loop and of any step that has them; None leaves them.
    verbose : bool or None, default=None
        Progress bars of every pass, the vocabulary and mixture fits included;
        None leaves them.
    cache : path, None or False, default=None
        Folder of the image encoder's encoded rows (its ``cache``): an image these
        fitted encoders have seen is not decoded again; None leaves it, False turns
        it off (a served or watched model would otherwise write one entry per
        request or frame). (Each extractor's own ``cache`` keeps descriptors instead,
        for refitting encoders.)

    Returns
    -------
    pipeline : Pipeline

    Examples
    --------
    >>> model = configure(preset("hog-svm"), n_jobs=2)
    >>> model.get_params()["features__n_jobs"]
    2
    """
    for _, step in pipeline.steps:
        # The image loop's workers do every branch's work: the extractors' and
        # encoders' own n_jobs stay unused inside it.
        if n_jobs is not None and "n_jobs" in step.get_params(deep=False):
            step.set_params(n_jobs=n_jobs)
        if verbose is not None and isinstance(step, ImageEncoder):
            step.set_params(verbose=verbose)
            for _, _, encoder in step.branches:  # their fits (k-means, EM) report too
                if encoder is not None and "verbose" in encoder.get_params(deep=False):
                    encoder.set_params(verbose=verbose)
        if cache is not None and isinstance(step, ImageEncoder):
            step.set_params(cache=None if cache is False else str(cache))
    return pipeline


def preset_params(name: str) -> dict:
    """The tunable parameters of a preset and their defaults.

    Every step's and branch's own parameters, as ``preset(name, **{key: value})``
    takes them; the estimators themselves are left out.

    Examples
    --------
    >>> preset_params("hog-svm")["features__hog__orientations"]
    9
    """
    model = preset(name)
    return {key: value for key, value in model.get_params(deep=True).items()
            if "__" in key and not _holds_estimators(value)
            and key.rsplit("__", 1)[-1] not in ("n_jobs", "verbose")}


def _holds_estimators(value) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_holds_estimators(v) for v in value)
    return hasattr(value, "get_params")


def _unknown_param_message(name: str, params: dict, pipeline: Pipeline, exc) -> str:
    import difflib

    every = [k for k in pipeline.get_params(deep=True) if "__" in k]
    unknown = [k for k in params if k not in every]
    if not unknown:
        return str(exc)
    parts = []
    for key in unknown:
        close = difflib.get_close_matches(key, every, n=3, cutoff=0.5)
        parts.append(f"{key!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
    return (f"unknown parameter {', '.join(parts)} for preset {name!r}; "
            f"`imgrec presets {name}` lists its parameters")
